#!/usr/bin/env bash
# tests/soak/upgrade.sh - issue 16: on-line binary upgrades under load lose
# nothing. For each server mode (one process, --workers 2, --daemon, a
# socket passed by systemd-socket-activate) and each
# load (`ab -n N -c C`, then `ab -k -n N -c C`): UPGRADES upgrades in a row
# (SIGUSR2), each to a rebuilt binary whose Server: header says another
# version (a copy of the build with "simple-http-server/0.1.0" patched to
# ".../up-NN", renamed over the path the server was started from). Before
# each upgrade a BIG_MIB download starts (rate-limited, so the old
# generation must finish it while draining). Passes when ab reports every
# request complete, 0 failed, 0 non-2xx and no connection error, the
# Server: version seen by curl switches to each new one, every download
# has the right SHA-256, and every generation but the last exited. ab runs
# again and again (each run -n N) until the last upgrade is done, so every
# upgrade happens under load however fast the machine is; every run must
# be complete and clean. Each run also starts with a failed upgrade (the
# binary at the path replaced by one that exits 2): the old generation must
# log why, keep its pidfile and go on serving, with ab running.
#
# Loopback only, bounded: every wait has a deadline, the servers are
# stopped by PID (the last generation's, from its pidfile) however the
# script exits; nothing is killed by name.
#
#   SHS_BIN    the binary, default ./simple-http-server (run make first)
#   N C        ab requests and concurrency (default 200000 and 50)
#   UPGRADES   upgrades per run (default 10)
#   BIG_MIB    size of the download (default 200); RATE its curl
#              --limit-rate (default 200M)
#   MODES      "single workers daemon socket" (default all four; socket
#              needs systemd-socket-activate)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${SHS_BIN:-$PWD/simple-http-server}
N=${N:-200000}
C=${C:-50}
UPGRADES=${UPGRADES:-10}
BIG_MIB=${BIG_MIB:-200}
RATE=${RATE:-200M}
MODES=${MODES:-single workers daemon socket}
command -v ab >/dev/null || { echo "upgrade.sh: needs ab (apt-get install apache2-utils)"; exit 2; }
[ -x "$BIN" ] || { echo "upgrade.sh: no $BIN (run make)"; exit 2; }

OUT=$(mktemp -d /tmp/shs-upgrade-soak.XXXXXX)
PIDFILE=$OUT/shs.pid
first_pid=
cleanup() {
	local p
	p=$(cat "$PIDFILE" 2>/dev/null || true)
	[ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
	[ -n "$first_pid" ] && kill -TERM "$first_pid" 2>/dev/null || true
	for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$OUT"
}
trap cleanup EXIT

mkdir -p "$OUT/www" "$OUT/bin"
printf 'hello, upgrade\n' > "$OUT/www/index.html"
head -c $((BIG_MIB << 20)) /dev/urandom > "$OUT/www/big.bin"
BIG_SHA=$(sha256sum < "$OUT/www/big.bin" | cut -d' ' -f1)
# The versions: same length as 0.1.0, so the patch moves nothing.
for i in $(seq 0 "$UPGRADES"); do
	v=$(printf 'up-%02d' "$i")
	LC_ALL=C perl -0777 -pe "s{simple-http-server/0\\.1\\.0}{simple-http-server/$v}g" \
		< "$BIN" > "$OUT/bin/shs-$v"
	chmod 755 "$OUT/bin/shs-$v"
	grep -qa "simple-http-server/$v" "$OUT/bin/shs-$v" || { echo "patching $v failed"; exit 2; }
done
SHS=$OUT/bin/simple-http-server

# until DEADLINE_S CMD...: polls CMD every 50 ms; 1 if it never succeeds.
until_ok() {
	local end=$((SECONDS + $1)); shift
	while ! "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}
pid_is_not() { local p; p=$(cat "$PIDFILE" 2>/dev/null || true); [ -n "$p" ] && [ "$p" != "$1" ]; }
version_is() {
	curl -s -o /dev/null -D - "http://127.0.0.1:$PORT/" | tr -d '\r' |
		grep -qx "Server: simple-http-server/$1"
}
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ]; }

fail=0
report=()
# A free loopback port for systemd-socket-activate to bind.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The upgrade that fails: the path holds a program that exits 2. The old
# generation logs why and keeps serving; the pidfile does not move.
failed_upgrade() { # mode label, pid
	printf '#!/bin/sh\necho "simple-http-server: soak: refusing to start" >&2\nexit 2\n' > "$SHS.tmp"
	chmod 755 "$SHS.tmp" && mv "$SHS.tmp" "$SHS"
	kill -USR2 "$2"
	if ! until_ok 30 grep -q 'upgrade failed: .*exited with status 2.*still serving' "$OUT/err.log"; then
		echo "$1: the failed upgrade was not logged"; fail=1
	fi
	[ "$(cat "$PIDFILE")" = "$2" ] || { echo "$1: the pidfile moved on a failed upgrade"; fail=1; }
	kill -0 "$2" 2>/dev/null || { echo "$1: the old generation died on a failed upgrade"; fail=1; }
	version_is up-00 || { echo "$1: not serving after a failed upgrade"; fail=1; }
}

run() { # mode (single|workers|daemon|socket), ab flags ("" or -k)
	local mode=$1 k=$2 extra=() pre=()
	[ "$mode" = workers ] && extra=(--workers 2)
	[ "$mode" = daemon ] && extra=(--daemon)
	if [ "$mode" = socket ]; then
		command -v systemd-socket-activate >/dev/null ||
			{ echo "socket ab$k: skipped (no systemd-socket-activate)"; report+=("socket ab$k: skipped"); return; }
		pre=(systemd-socket-activate -l "127.0.0.1:$(free_port)")
	fi
	rm -f "$PIDFILE" "$OUT"/dl-* "$OUT/err.log"
	# Anything of an earlier run still there would be a bug (listed, not killed).
	if pgrep -f "$OUT/bin/" >/dev/null; then
		echo "$mode ab$k: processes of an earlier run still running:"; ps -o pid,ppid,stat,args -p "$(pgrep -d, -f "$OUT/bin/")"; fail=1
	fi
	cp "$OUT/bin/shs-up-00" "$SHS.tmp" && mv "$SHS.tmp" "$SHS"
	local out="$OUT/stdout-$mode$k"
	"${pre[@]}" "$SHS" --top-dir "$OUT/www" --port 0 --pidfile "$PIDFILE" --no-access-log \
		--error-log "$OUT/err.log" "${extra[@]}" > "$out" 2>&1 &
	first_pid=$!
	if [ "$mode" = socket ]; then
		# systemd-socket-activate starts the server at the first connection.
		local sp
		until_ok 15 grep -aq 'Listening on 127.0.0.1:' "$out" || { echo "socket: not listening"; cat "$out"; exit 1; }
		sp=$(grep -ao -m1 'Listening on 127.0.0.1:[0-9]*' "$out" | sed 's|.*:||')
		curl -s -o /dev/null "http://127.0.0.1:$sp/" || true
	fi
	until_ok 15 grep -aq ' on http://127.0.0.1:[0-9]*/' "$out" || { echo "no startup line"; cat "$out"; exit 1; }
	PORT=$(grep -ao -m1 ' on http://127.0.0.1:[0-9]*/' "$out" | sed 's|.*:\([0-9]*\)/$|\1|')
	[ -n "$PORT" ] || { echo "$mode ab$k: no port in the startup line"; od -c "$out" | head; exit 1; }
	until_ok 15 test -s "$PIDFILE"
	rm -f "$OUT"/ab.* "$OUT/stop"
	# -r: a receive error is counted (Failed requests), not the end of the run.
	(
		r=0
		while [ $r -eq 0 ] || [ ! -e "$OUT/stop" ]; do
			r=$((r + 1))
			ab $k -r -n "$N" -c "$C" "http://127.0.0.1:$PORT/" > "$OUT/ab.$r.out" 2> "$OUT/ab.$r.err" || true
			grep -q '^Complete requests:' "$OUT/ab.$r.out" || break # ab itself failed
		done
	) &
	local ab_pid=$! t0=$SECONDS switched=0 during=0 pids=()
	sleep 1 # ab under way
	failed_upgrade "$mode ab$k" "$(cat "$PIDFILE")"
	for i in $(seq 1 "$UPGRADES"); do
		local v old
		v=$(printf 'up-%02d' "$i")
		old=$(cat "$PIDFILE")
		pids+=("$old")
		( curl -s --limit-rate "$RATE" "http://127.0.0.1:$PORT/big.bin" | sha256sum |
			cut -d' ' -f1 > "$OUT/dl-$i" ) &
		sleep 0.3 # the download under way
		cp "$OUT/bin/shs-$v" "$SHS.tmp" && mv "$SHS.tmp" "$SHS"
		kill -USR2 "$old"
		if ! until_ok 30 pid_is_not "$old"; then
			echo "$mode ab$k: upgrade $i: the pidfile did not move"; fail=1; break
		fi
		kill -0 "$ab_pid" 2>/dev/null && during=$((during + 1))
		until_ok 10 version_is "$v" && switched=$((switched + 1))
	done
	touch "$OUT/stop"
	wait "$ab_pid" || true
	local secs=$((SECONDS - t0))
	for p in "${pids[@]}"; do until_ok 90 gone "$p" || { echo "generation $p still running"; fail=1; }; done
	wait # the downloads
	local bad_dl=0
	for i in $(seq 1 "$UPGRADES"); do
		[ "$(cat "$OUT/dl-$i" 2>/dev/null)" = "$BIG_SHA" ] || bad_dl=$((bad_dl + 1))
	done
	# Summed over the runs; a run without its summary counts as N failed.
	local runs=0 complete=0 failed=0 non2xx=0 errs=0 f
	for f in "$OUT"/ab.*.out; do
		runs=$((runs + 1))
		local c x n
		c=$(awk '/^Complete requests:/ {print $3}' "$f")
		x=$(awk '/^Failed requests:/ {print $3}' "$f")
		n=$(awk '/^Non-2xx responses:/ {print $3}' "$f")
		[ -n "$c" ] || { c=0; x=$N; }
		complete=$((complete + c)) failed=$((failed + ${x:-0})) non2xx=$((non2xx + ${n:-0}))
		errs=$((errs + $(grep -ciE 'error|refused|reset|timed out|apr_' "${f%.out}.err" || true)))
	done
	local line="$mode ab$k: $UPGRADES upgrades ($during during ab), versions switched $switched/$UPGRADES, $runs ab run(s): complete $complete/$((runs * N)), failed $failed, non-2xx $non2xx, connection errors $errs, downloads with a bad SHA-256 $bad_dl/$UPGRADES, ${secs}s"
	echo "$line"
	report+=("$line")
	if [ "$complete" != $((runs * N)) ] || [ "$failed" != 0 ] || [ "$non2xx" != 0 ] ||
		[ "$errs" != 0 ] || [ "$bad_dl" != 0 ] || [ "$switched" != "$UPGRADES" ]; then
		fail=1
		cat "$OUT"/ab.*.err | grep -iE 'error|refused|reset|timed out|apr_' | head -5 | sed 's/^/  ab: /' || true
		grep -h -A8 '^Failed requests' "$OUT"/ab.*.out | head -20 | sed 's/^/  ab: /' || true
	fi
	if grep -E 'error|warning' "$OUT/err.log" | grep -v -e 'running as root' -e 'upgrade failed: .* exited with status 2' |
		head -5 | sed 's/^/  log: /' | grep .; then
		fail=1
	fi
	local last
	last=$(cat "$PIDFILE")
	kill -TERM "$last"
	until_ok 30 gone "$last" || { echo "last generation $last did not stop"; fail=1; }
	wait "$first_pid" 2>/dev/null || true
	first_pid=
}

for mode in $MODES; do
	run "$mode" ""
	run "$mode" -k
done
echo "== upgrade soak: N=$N C=$C UPGRADES=$UPGRADES BIG=${BIG_MIB}MiB RATE=$RATE"
printf '%s\n' "${report[@]}"
[ "$fail" = 0 ] && echo "PASS" || { echo "FAIL"; exit 1; }
