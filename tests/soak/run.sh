#!/usr/bin/env bash
# tests/soak/run.sh - the seed benchmark of the original article, reproduced
# on loopback with bounded runs (see tests/soak/README.md):
#
#   siege -b -t 20S at -c 100 and -c 1000 against a 13 B, a 13 KiB and a
#   13 MiB file: availability must be 100%;
#   ab -n 2000 -c 200 against each file: 0 failed, 0 non-2xx;
#   slowhttptest in slowloris (-H) and slow-read (-X) modes: the service
#   stays available, checked by slowhttptest's own probe and by ours.
#
# A probe client fetches the 13 B file every 0.5 s during every phase.
# The server runs with its default limits and timeouts (what users get),
# on a free port, without an access log, and is stopped by PID at exit.
#
#   SHS_BIN          the binary, default ./simple-http-server (built by make)
#   SOAK_SIEGE_SECS  length of each siege run in seconds, default 20
#   SOAK_SLOW_SECS   length of each slowhttptest run, default 30
#   SOAK_SLOW_CONNS  slowhttptest connections, default 500
#
# Prints a Markdown summary and writes it to tests/soak/out/results.md
# (out/ is recreated on each run and is not committed). Exits 1 if a
# criterion failed.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/tests/soak/out
BIN=${SHS_BIN:-$REPO/simple-http-server}
SIEGE_SECS=${SOAK_SIEGE_SECS:-20}
SLOW_SECS=${SOAK_SLOW_SECS:-30}
SLOW_CONNS=${SOAK_SLOW_CONNS:-500}
START=$SECONDS
export LC_ALL=C

log() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() {
	printf 'soak: %s\n' "$*" >&2
	exit 2
}
have() { command -v "$1" >/dev/null 2>&1; }

[ -x "$BIN" ] || die "$BIN is not built (run make first)"
[[ $SIEGE_SECS =~ ^[1-9][0-9]*$ ]] || die "SOAK_SIEGE_SECS must be a positive integer"
[[ $SLOW_SECS =~ ^[1-9][0-9]*$ ]] || die "SOAK_SLOW_SECS must be a positive integer"
[[ $SLOW_CONNS =~ ^[1-9][0-9]*$ ]] || die "SOAK_SLOW_CONNS must be a positive integer"

# ---- tools, from Debian when missing ----
missing=()
have siege || missing+=(siege)
have ab || missing+=(apache2-utils)
have slowhttptest || missing+=(slowhttptest)
have curl || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	log "installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# siege -c 1000 holds 1000 sockets at once; the server raises its own limit.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
ulimit -n "$hard"
[ "$(ulimit -n)" -ge 4096 ] || die "open file limit $(ulimit -n) is too low for siege -c 1000"

# ---- the document root ----
rm -rf "$OUT"
mkdir -p "$OUT/root" "$OUT/logs"
printf 'Hello, World!' >"$OUT/root/13B.txt" # 13 bytes
head -c $((13 * 1024)) /dev/urandom >"$OUT/root/13KiB.bin"
head -c $((13 * 1024 * 1024)) /dev/urandom >"$OUT/root/13MiB.bin"
FILES=(13B.txt 13KiB.bin 13MiB.bin)

# ---- the server, and the probe, stopped by PID at exit ----
SRV_PID=
PROBE_PID=
SRV_STATUS=
stop_probe() {
	if [ -n "$PROBE_PID" ]; then
		kill "$PROBE_PID" 2>/dev/null || true
		wait "$PROBE_PID" 2>/dev/null || true
		PROBE_PID=
	fi
}
stop_server() {
	if [ -n "$SRV_PID" ]; then
		kill -TERM "$SRV_PID" 2>/dev/null || true
		set +e
		wait "$SRV_PID"
		SRV_STATUS=$?
		set -e
		SRV_PID=
	fi
}
cleanup() {
	stop_probe
	stop_server
}
trap cleanup EXIT

"$BIN" --top-dir "$OUT/root" --port 0 --no-access-log >"$OUT/logs/server.out" \
	2>"$OUT/logs/server.log" &
SRV_PID=$!
PORT=
for _ in $(seq 100); do
	PORT=$(sed -n 's|^serving .* on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$OUT/logs/server.out")
	[ -n "$PORT" ] && break
	kill -0 "$SRV_PID" 2>/dev/null || die "the server did not start: $(cat "$OUT/logs/server.log")"
	sleep 0.1
done
[ -n "$PORT" ] || die "no startup line from $BIN"
BASE=http://127.0.0.1:$PORT
log "server pid $SRV_PID on $BASE"

server_alive() { kill -0 "$SRV_PID" 2>/dev/null; }
server_fds() { find "/proc/$SRV_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
server_rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$SRV_PID/status" 2>/dev/null || echo 0; }
server_hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$SRV_PID/status" 2>/dev/null || echo 0; }

# One line per probe: "ok|fail MILLISECONDS HTTP_CODE". A probe fails on
# anything but an exact 200 with the 13 bytes within 3 s (the bound
# slowhttptest -p 3 uses for its own probe).
probe_loop() {
	while :; do
		local t0 t1 body code r=fail
		t0=$(date +%s%N)
		body=$(curl -s --max-time 3 -w '\n%{http_code}' "$BASE/13B.txt" 2>/dev/null) || true
		t1=$(date +%s%N)
		code=${body##*$'\n'}
		[ "$body" = $'Hello, World!\n200' ] && r=ok
		echo "$r $(((t1 - t0) / 1000000)) ${code:-000}"
		sleep 0.5
	done
}
start_probe() {
	probe_loop >"$OUT/logs/probe-$1.txt" &
	PROBE_PID=$!
}
# "ok/total max_ms" of a phase's probes.
probe_summary() {
	awk '{ n++; if ($1 == "ok") ok++; if ($2 > max) max = $2 }
	     END { printf "%d/%d %d\n", ok, n, max }' "$OUT/logs/probe-$1.txt"
}

FAIL=0
fail() {
	FAIL=1
	log "FAIL: $*"
}
json() { sed -n "s/.*\"$1\":[[:space:]]*\([0-9.]*\).*/\1/p" "$2" | head -n 1; }

# ---- siege ----
cat >"$OUT/siegerc" <<'EOF'
# Explicit settings, so a user's ~/.siege/siege.conf cannot change the run.
verbose = false
quiet = true
color = off
json_output = true
protocol = HTTP/1.1
connection = close
parser = false
limit = 1100
logging = false
timeout = 30
failures = 1000000
EOF

SIEGE_ROWS=()
for c in 100 1000; do
	for f in "${FILES[@]}"; do
		name=siege-c$c-$f
		log "siege -b -t ${SIEGE_SECS}S -c $c $BASE/$f"
		start_probe "$name"
		set +e
		timeout -k 10 $((SIEGE_SECS + 60)) siege -R "$OUT/siegerc" -b -t "${SIEGE_SECS}S" -c "$c" "$BASE/$f" \
			>"$OUT/logs/$name.json" 2>"$OUT/logs/$name.err"
		rc=$?
		set -e
		stop_probe
		server_alive || fail "the server died during $name"
		j=$OUT/logs/$name.json
		trans=$(json transactions "$j")
		avail=$(json availability "$j")
		failed=$(json failed_transactions "$j")
		rate=$(json transaction_rate "$j")
		tput=$(json throughput "$j")
		longest=$(json longest_transaction "$j")
		read -r pr pmax <<<"$(probe_summary "$name")"
		if [ "$rc" -ne 0 ] || [ -z "$avail" ]; then
			fail "$name: siege exit status $rc, no result (see $OUT/logs/$name.err)"
		elif [ "$avail" != 100.00 ] || [ "$failed" != 0 ]; then
			fail "$name: availability $avail%, $failed failed"
		fi
		SIEGE_ROWS+=("| $c | $f | ${trans:-?} | ${avail:-?}% | ${failed:-?} | ${rate:-?} | ${tput:-?} | ${longest:-?} | $pr | $pmax |")
	done
done

# ---- ab ----
AB_ROWS=()
for f in "${FILES[@]}"; do
	name=ab-$f
	log "ab -n 2000 -c 200 $BASE/$f"
	start_probe "$name"
	set +e
	timeout -k 10 300 ab -q -n 2000 -c 200 -s 30 "$BASE/$f" >"$OUT/logs/$name.txt" 2>&1
	rc=$?
	set -e
	stop_probe
	a=$OUT/logs/$name.txt
	complete=$(awk '/^Complete requests:/ { print $3 }' "$a")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$a")
	non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$a")
	rps=$(awk '/^Requests per second:/ { print $4 }' "$a")
	p99=$(awk '$1 == "99%" { print $2 }' "$a")
	read -r pr pmax <<<"$(probe_summary "$name")"
	if [ "$rc" -ne 0 ] || [ "${complete:-0}" != 2000 ] || [ "${failed:-x}" != 0 ] ||
		[ -n "$non2xx" ]; then
		fail "$name: exit $rc, ${complete:-?} complete, ${failed:-?} failed, ${non2xx:-0} non-2xx"
	fi
	AB_ROWS+=("| $f | ${complete:-?} | ${failed:-?} | ${non2xx:-0} | ${rps:-?} | ${p99:-?} | $pr | $pmax |")
done

# ---- slowhttptest ----
# "seconds unavailable/seconds, most connections held, the second the
# server first closed one (or -)" from slowhttptest's CSV (Seconds, Closed,
# Pending, Connected, Service Available); Service Available is 0 when its
# probe got no answer within -p seconds.
slow_csv() {
	awk -F, 'NR > 1 { n++; if ($5 == 0) down++; if ($4 > max) max = $4;
	                  if ($2 > 0 && first == "") first = $1 }
	         END { printf "%d/%d %d %s\n", down, n, max, first == "" ? "-" : first }' "$1"
}
SLOW_ROWS=()
for mode in slowloris slowread; do
	name=slowhttptest-$mode
	if [ $mode = slowloris ]; then
		args=(-H -i 10 -x 24 -t GET -u "$BASE/13KiB.bin")
		what="slowloris (-H): heads trickled every 10 s"
	else
		args=(-X -w 512 -y 1024 -n 5 -z 32 -k 3 -u "$BASE/13MiB.bin")
		what="slow read (-X): 32 B every 5 s, window 512-1024 B"
	fi
	log "slowhttptest $mode: $SLOW_CONNS connections for $SLOW_SECS s"
	start_probe "$name"
	timeout -k 10 $((SLOW_SECS + 60)) slowhttptest "${args[@]}" -c "$SLOW_CONNS" -r 200 -l "$SLOW_SECS" \
		-p 3 -g -o "$OUT/logs/$name" >"$OUT/logs/$name.txt" 2>&1 &
	slow_pid=$!
	# What the attack costs the server, halfway through.
	sleep $((SLOW_SECS / 2))
	fds_mid=$(server_fds)
	rss_mid=$(server_rss_kib)
	set +e
	wait "$slow_pid"
	rc=$?
	set -e
	stop_probe
	server_alive || fail "the server died during $name"
	exit_line=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/logs/$name.txt" | sed -n 's/^Exit status: *//p' | tail -n 1)
	if [ -f "$OUT/logs/$name.csv" ]; then
		read -r down held first_close <<<"$(slow_csv "$OUT/logs/$name.csv")"
	else
		down="?" held="?" first_close="?"
		fail "$name: no CSV report (exit $rc, see $OUT/logs/$name.txt)"
	fi
	read -r pr pmax <<<"$(probe_summary "$name")"
	[ "${down%%/*}" = 0 ] || fail "$name: slowhttptest saw the service unavailable for $down s"
	[ "${pr%%/*}" = "${pr##*/}" ] || fail "$name: our probe failed ($pr ok)"
	SLOW_ROWS+=("| $what | $SLOW_CONNS | ${exit_line:-exit $rc} | $held | $first_close | $down | $pr | $pmax | $fds_mid | $((rss_mid / 1024)) |")
done

RSS_END=$(server_rss_kib)
HWM=$(server_hwm_kib)
stop_server
[ "$SRV_STATUS" = 0 ] || fail "the server exited with status $SRV_STATUS after SIGTERM"

# ---- the summary ----
{
	echo "# Soak: the original article's seed benchmark, on loopback"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -sr)," \
		"$("$BIN" --version 2>/dev/null | head -n 1), default limits and timeouts," \
		"no access log. Load generators and server share the machine."
	echo
	echo "## siege -b -t ${SIEGE_SECS}S (a new connection per request)"
	echo
	echo "| -c | file | transactions | availability | failed | trans/s | MB/s | longest s | probe ok | probe max ms |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${SIEGE_ROWS[@]}"
	echo
	echo "## ab -n 2000 -c 200"
	echo
	echo "| file | complete | failed | non-2xx | req/s | 99% ms | probe ok | probe max ms |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${AB_ROWS[@]}"
	echo
	echo "## slowhttptest -c $SLOW_CONNS -r 200 -l $SLOW_SECS -p 3"
	echo
	echo "| mode | connections | slowhttptest exit | most held | first closed by the server at s | s unavailable | probe ok | probe max ms | server fds midway | server RSS MiB midway |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${SLOW_ROWS[@]}"
	echo
	echo "Server: RSS $((RSS_END / 1024)) MiB at the end, peak $((HWM / 1024)) MiB;" \
		"exit status ${SRV_STATUS:-?} after SIGTERM."
	echo
	if [ "$FAIL" -eq 0 ]; then
		echo "**Result: PASS** (100% availability everywhere, 0 failed, service available throughout)."
	else
		echo "**Result: FAIL** (see the lines marked FAIL in the run's output)."
	fi
} >"$OUT/results.md"
cat "$OUT/results.md"
log "done in $((SECONDS - START)) s; logs in $OUT/logs"
exit "$FAIL"
