#!/usr/bin/env bash
# tests/bench/run.sh - simple-http-server against a floor server, nginx,
# lighttpd and h2o, side by side on loopback (see tests/bench/README.md).
#
# Every server is pinned to CPU 0 and every load generator to CPU 1. The
# primary figure is server CPU time per request: the CPU time of the server's
# threads (and live children) from /proc/PID/task/*/schedstat, in ns, before
# and after a bounded load run, divided by
# the requests the load generator completed. Each scenario runs BENCH_ROUNDS
# times, alternating servers (A B C ... A B C ...), and the median is kept.
#
#   BENCH_SECONDS  length of each timed (wrk) run, default 5
#   BENCH_ROUNDS   rounds per scenario, default 3
#   BENCH_ONLY     run only these parts (space-separated): scenario names
#                  (wrk-c50-13B ab-c50-13B ...), workers, siege, strace,
#                  idle; default all
#   BENCH_IDLE_N   connection counts of the idle part, default "10000 19000"
#   SHS_BIN        our binary, default ./simple-http-server
#
# Writes tests/bench/out/results.md (and raw.tsv, logs/). Servers are stopped
# by PID on exit; nothing is ever killed by name.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$PWD
BENCH=$REPO/tests/bench
OUT=$BENCH/out
BIN=${SHS_BIN:-$REPO/simple-http-server}
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
ONLY=${BENCH_ONLY:-}
START=$SECONDS
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C

# wanted PART: is PART selected by BENCH_ONLY (or is everything)?
wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
log() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*"; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
calc() { awk "BEGIN { printf \"%s\", ($*) }"; }

[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
[ -x "$BIN" ] || die "$BIN not built (run make bench)"
# BENCH_ONLY=rules: the _redirects part alone needs no peers.
[ "$ONLY" != rules ] || exec bash "$BENCH/rules.sh"

# ---- what runs at exit: stop every server and strace we started, by PID ----
declare -A PID=() PORT=() WHY=()
STRACE_PID=
POLICY_CREATED=
# stop NAME: SIGTERM to the server we started as NAME, SIGKILL after 5 s.
stop() {
	local pid=${PID[$1]:-}
	[ -n "$pid" ] || return 0
	unset "PID[$1]"
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local name
	if [ -n "$STRACE_PID" ] && kill -0 "$STRACE_PID" 2>/dev/null; then
		kill -INT "$STRACE_PID" 2>/dev/null || true
		wait "$STRACE_PID" 2>/dev/null || true
	fi
	for name in "${!PID[@]}"; do stop "$name"; done
	[ -z "$POLICY_CREATED" ] || rm -f /usr/sbin/policy-rc.d
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. tools from Debian ----
need=()
want() { # command package
	have "$1" || dpkg -s "$2" >/dev/null 2>&1 || need+=("$2")
}
want nginx nginx-light
want lighttpd lighttpd
want h2o h2o
want wrk wrk
want ab apache2-utils
want siege siege
want strace strace
want taskset util-linux
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Packaged servers must not start their system service (port 80) here.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		POLICY_CREATED=1
	fi
	apt-get update -qq || log "apt-get update failed"
	if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >"$REPO/.bench-apt.log" 2>&1; then
		# One package that is not there must not cost the others.
		for p in "${need[@]}"; do
			apt-get install -y -qq --no-install-recommends "$p" >>"$REPO/.bench-apt.log" 2>&1 ||
				log "could not install $p"
		done
	fi
	rm -f "$REPO/.bench-apt.log"
	[ -z "$POLICY_CREATED" ] || rm -f /usr/sbin/policy-rc.d
	POLICY_CREATED=
fi
for t in wrk ab taskset; do have "$t" || die "$t is missing"; done

# Load generators and servers need a descriptor per connection (wrk -c1000).
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ]; then ulimit -n 65536; else ulimit -n "$hard"; fi
[ "$(ulimit -n)" -ge 4096 ] || log "warning: ulimit -n is $(ulimit -n); -c1000 may fail"

SRV_CPU=0
LOAD_CPU=1
if [ "$(nproc)" -lt 2 ]; then
	log "warning: one CPU only; server and load generator share it"
	LOAD_CPU=0
fi

# ---- 2. floor server, document root, configs ----
rm -rf "$OUT/logs" "$OUT/nginx" "$OUT/idle-nginx" "$OUT/raw.tsv"
mkdir -p "$OUT/logs" "$OUT/root" "$OUT/nginx"
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$OUT/floor" "$BENCH/floor.c"

mkfile() { # name bytes
	local f=$OUT/root/$1
	[ -f "$f" ] && [ "$(stat -c %s "$f")" = "$2" ] && return 0
	head -c "$2" /dev/urandom >"$f"
}
printf 'Hello world!\n' >"$OUT/root/hello.txt"
mkfile 1KiB.bin 1024
mkfile 13KiB.bin 13312
mkfile 1MiB.bin 1048576
mkfile 13MiB.bin 13631488

# A free port below the ephemeral range, so no client socket can hold it.
USED=" "
pick_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		case $USED in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED+="$p "
			echo "$p"
			return
		fi
	done
}

# Status code of GET PATH on PORT, or nothing.
http_status() (
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
	IFS=' ' read -r -t 2 _ code _ <&3 || true
	echo "${code:-}"
)

# start NAME PORT COMMAND...: run it on CPU 0 and wait until it answers 200.
start() {
	local name=$1 port=$2
	shift 2
	taskset -c "$SRV_CPU" "$@" >"$OUT/logs/$name.out" 2>&1 &
	PID[$name]=$!
	PORT[$name]=$port
	for _ in $(seq 50); do
		if ! kill -0 "${PID[$name]}" 2>/dev/null; then
			wait "${PID[$name]}" 2>/dev/null || true
			unset "PID[$name]"
			WHY[$name]="exited at startup: $(tail -n 2 "$OUT/logs/$name.out" | tr '\n' ' ')"
			log "$name unavailable: ${WHY[$name]}"
			return 1
		fi
		if [ "$(http_status "$port" /hello.txt 2>/dev/null)" = 200 ]; then
			log "$name up on port $port (pid ${PID[$name]})"
			return 0
		fi
		sleep 0.1
	done
	WHY[$name]="did not answer 200 on /hello.txt within 5 s"
	log "$name unavailable: ${WHY[$name]}"
	kill -TERM "${PID[$name]}" 2>/dev/null || true
	wait "${PID[$name]}" 2>/dev/null || true
	unset "PID[$name]"
	return 1
}

# The peers' configurations. CONNS is the connection limit, NOFILE the
# open-file limit they set themselves, IDLE (seconds; empty: their default)
# the keep-alive idle timeout. The load scenarios use 4096 connections and
# the default timeouts; the idle part (section 4b) raises both.
start_nginx() { # NAME PORT CONNS NOFILE [IDLE]
	local d=$OUT/$1 ka=
	[ -z "${5:-}" ] || ka="
    keepalive_timeout ${5}s;"
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<EOF
# One process: master_process off makes the worker the only process.
worker_processes 1;
master_process off;
daemon off;
pid $d/nginx.pid;
error_log $OUT/logs/$1.error.log warn;
worker_rlimit_nofile $4;
events { worker_connections $3; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=1000;
    keepalive_requests 100000;$ka
    client_body_temp_path $d/body;
    types { text/plain txt; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$2;
        root $OUT/root;
    }
}
EOF
	start "$1" "$2" nginx -p "$d" -e "$OUT/logs/$1.error.log" -c "$d/nginx.conf"
}

start_lighttpd() { # NAME PORT CONNS NOFILE [IDLE]
	local ka=
	[ -z "${5:-}" ] || ka="
server.max-keep-alive-idle = $5"
	# Default config otherwise; max-fds/max-connections give it room for
	# -c1000 (the same 4096 connections as ours, nginx and h2o), and the
	# keep-alive request limit matches nginx's keepalive_requests.
	cat >"$OUT/$1.conf" <<EOF
server.document-root = "$OUT/root"
server.bind = "127.0.0.1"
server.port = $2
server.errorlog = "$OUT/logs/$1.error.log"
server.max-fds = $4
server.max-connections = $3
server.max-keep-alive-requests = 100000$ka
mimetype.assign = (".txt" => "text/plain", "" => "application/octet-stream")
EOF
	start "$1" "$2" lighttpd -D -f "$OUT/$1.conf"
}

start_h2o() { # NAME PORT CONNS [IDLE]
	local ka=
	[ -z "${4:-}" ] || ka="
http1-request-timeout: $4"
	cat >"$OUT/$1.conf" <<EOF
num-threads: 1
max-connections: $3$ka
user: root
error-log: $OUT/logs/$1.error.log
pid-file: $OUT/$1.pid
listen:
  host: 127.0.0.1
  port: $2
hosts:
  default:
    paths:
      /:
        file.dir: $OUT/root
EOF
	start "$1" "$2" h2o -c "$OUT/$1.conf"
}

SERVERS=()
p=$(pick_port)
start ours "$p" "$BIN" --top-dir "$OUT/root" --port "$p" --no-access-log -q && SERVERS+=(ours)
[ -n "${PID[ours]:-}" ] || die "our server did not start: ${WHY[ours]}"

p=$(pick_port)
start floor "$p" "$OUT/floor" "$p" && SERVERS+=(floor)

if have nginx; then
	start_nginx nginx "$(pick_port)" 4096 16384 && SERVERS+=(nginx)
else
	WHY[nginx]="not installed (nginx-light)"
fi
if have lighttpd; then
	start_lighttpd lighttpd "$(pick_port)" 4096 16384 && SERVERS+=(lighttpd)
else
	WHY[lighttpd]="not installed"
fi
if have h2o; then
	start_h2o h2o "$(pick_port)" 4096 && SERVERS+=(h2o)
else
	WHY[h2o]="not installed"
fi
log "servers: ${SERVERS[*]}"

# ---- 3. measuring ----
# CPU time of PID's threads and its live descendants, in nanoseconds: the
# first field of /proc/PID/task/TID/schedstat. utime+stime in /proc/PID/stat
# count whole clock ticks (10 ms), too coarse for a 20000-request ab run
# (0.5 µs a request per tick).
cpu_ns() {
	local t=0 s c
	for s in /proc/"$1"/task/*/schedstat; do
		read -r c _ <"$s" 2>/dev/null && t=$((t + c))
	done
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		t=$((t + $(cpu_ns "$c")))
	done
	echo "$t"
}

cat >"$OUT/report.lua" <<'EOF'
done = function(s)
  local e = s.errors
  io.write(string.format("BENCH requests=%d bytes=%d duration_us=%d errors=%d\n",
    s.requests, s.bytes, s.duration,
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

printf 'scenario\tserver\tround\trequests\tseconds\treq_per_s\tmib_per_s\tcpu_us_per_req\terrors\n' \
	>"$OUT/raw.tsv"
declare -A RATE=() MIBS=() CPU=() ERRS=() RUNS=()

# record SCEN NAME ROUND REQUESTS SECONDS BYTES ERRORS CPU_NS
record() {
	local k="$1|$2" rate mib cpu
	rate=$(calc "$4 / $5")
	mib=$(calc "$6 / $5 / 1048576")
	cpu=$(calc "$4 > 0 ? $8 / 1000 / $4 : 0")
	RATE[$k]+="$rate "
	MIBS[$k]+="$mib "
	CPU[$k]+="$cpu "
	ERRS[$k]=$((${ERRS[$k]:-0} + $7))
	RUNS[$k]=$((${RUNS[$k]:-0} + 1))
	printf '%s\t%s\t%s\t%s\t%s\t%.0f\t%.1f\t%.2f\t%s\n' "$1" "$2" "$3" "$4" "$5" \
		"$rate" "$mib" "$cpu" "$7" >>"$OUT/raw.tsv"
	if [ "$1" = wrk-c10-13MiB ]; then
		log "  $2: $(printf '%.1f' "$mib") MiB/s, $(printf '%.2f' "$cpu") us/req, errors $7"
	else
		log "  $2: $(printf '%.0f' "$rate") req/s, $(printf '%.2f' "$cpu") us/req, errors $7"
	fi
}

failed() { # SCEN NAME ROUND LOGFILE
	ERRS["$1|$2"]=$((${ERRS["$1|$2"]:-0} + 1))
	log "  $2: run failed, see $4"
}

# run_wrk SCEN NAME ROUND CONNS PATH
run_wrk() {
	local lf="$OUT/logs/$1-$2-$3.log" t0 t1 line rc=0
	t0=$(cpu_ns "${PID[$2]}")
	timeout -k 5 $((SECS + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c"$4" -d"${SECS}s" \
		--timeout 5s -s "$OUT/report.lua" "http://127.0.0.1:${PORT[$2]}$5" >"$lf" 2>&1 || rc=$?
	t1=$(cpu_ns "${PID[$2]}")
	line=$(grep '^BENCH ' "$lf" || true)
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		failed "$1" "$2" "$3" "$lf"
		return
	fi
	local req bytes us errs
	req=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
	bytes=$(sed 's/.*bytes=\([0-9]*\).*/\1/' <<<"$line")
	us=$(sed 's/.*duration_us=\([0-9]*\).*/\1/' <<<"$line")
	errs=$(sed 's/.*errors=\([0-9]*\).*/\1/' <<<"$line")
	record "$1" "$2" "$3" "$req" "$(calc "$us / 1000000")" "$bytes" "$errs" $((t1 - t0))
}

# run_ab SCEN NAME ROUND REQUESTS CONC [-k]
run_ab() {
	local lf="$OUT/logs/$1-$2-$3.log" t0 t1 rc=0 ka=()
	[ -z "${6:-}" ] || ka=("$6")
	t0=$(cpu_ns "${PID[$2]}")
	timeout -k 5 120 taskset -c "$LOAD_CPU" ab -q -r -s 10 "${ka[@]}" -n "$4" -c "$5" \
		"http://127.0.0.1:${PORT[$2]}/hello.txt" >"$lf" 2>&1 || rc=$?
	t1=$(cpu_ns "${PID[$2]}")
	local ndone fail non2xx secs bytes
	ndone=$(awk '/^Complete requests:/ { print $3 }' "$lf")
	fail=$(awk '/^Failed requests:/ { print $3 }' "$lf")
	non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$lf")
	secs=$(awk '/^Time taken for tests:/ { print $5 }' "$lf")
	bytes=$(awk '/^Total transferred:/ { print $3 }' "$lf")
	if [ $rc -ne 0 ] || [ -z "$ndone" ] || [ -z "$secs" ]; then
		failed "$1" "$2" "$3" "$lf"
		return
	fi
	record "$1" "$2" "$3" "$ndone" "$secs" "${bytes:-0}" $((${fail:-0} + ${non2xx:-0})) $((t1 - t0))
}

# ---- 4. scenarios ----
SMALL=("${SERVERS[@]}")
LARGE=()
for s in "${SERVERS[@]}"; do [ "$s" = floor ] || LARGE+=("$s"); done
est=$(((2 * ${#SMALL[@]} + 2 * ${#LARGE[@]}) * ROUNDS * (SECS + 1) + 2 * ${#SMALL[@]} * ROUNDS * 3 + 12 * ${#SMALL[@]} + 8 * ${#SMALL[@]}))
log "about $((est / 60 + 1)) min of load runs ahead ($SECS s x $ROUNDS rounds)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

SCENARIOS=(wrk-c50-13B wrk-c50-13KiB wrk-c1000-13B ab-c50-13B ab-k-c50-13B wrk-c10-13MiB)
declare -A TITLE=(
	[wrk-c50-13B]="wrk -t1 -c50, 13 B, keep-alive"
	[wrk-c50-13KiB]="wrk -t1 -c50, 13 KiB, keep-alive"
	[wrk-c1000-13B]="wrk -t1 -c1000, 13 B, keep-alive"
	[ab-c50-13B]="ab -n 20000 -c 50, 13 B, new connection per request"
	[ab-k-c50-13B]="ab -k -n 20000 -c 50, 13 B, keep-alive"
	[wrk-c10-13MiB]="wrk -t1 -c10, 13 MiB (MiB/s)"
)
for scen in "${SCENARIOS[@]}"; do
	wanted "$scen" || continue
	case $scen in *KiB | *MiB) list=("${LARGE[@]}") ;; *) list=("${SMALL[@]}") ;; esac
	for r in $(seq "$ROUNDS"); do
		log "${TITLE[$scen]}: round $r/$ROUNDS"
		for s in "${list[@]}"; do
			case $scen in
			wrk-c50-13B) run_wrk "$scen" "$s" "$r" 50 /hello.txt ;;
			wrk-c50-13KiB) run_wrk "$scen" "$s" "$r" 50 /13KiB.bin ;;
			wrk-c1000-13B) run_wrk "$scen" "$s" "$r" 1000 /hello.txt ;;
			ab-c50-13B) run_ab "$scen" "$s" "$r" 20000 50 ;;
			ab-k-c50-13B) run_ab "$scen" "$s" "$r" 20000 50 -k ;;
			wrk-c10-13MiB) run_wrk "$scen" "$s" "$r" 10 /13MiB.bin ;;
			esac
			sleep 0.5
		done
	done
done

# 1 vs 2 workers (--workers): neither server nor load generator pinned, wrk
# with two threads. On a 2-core machine the load generator competes with
# the workers for the same cores, so this shows what a second worker buys
# here, not on a machine with cores to spare.
declare -A WRATE=() WCPU=()
ALLCPU=0-$(($(nproc) - 1))
# run_free KIND NAME: one unpinned run; records rate and CPU per request.
run_free() {
	local lf="$OUT/logs/workers-$1-$2-$r.log" t0 t1 rc=0 req secs
	t0=$(cpu_ns "${PID[$2]}")
	if [ "$1" = keep-alive ]; then
		timeout -k 5 $((SECS + 30)) wrk -t2 -c100 -d"${SECS}s" --timeout 5s -s "$OUT/report.lua" \
			"http://127.0.0.1:${PORT[$2]}/hello.txt" >"$lf" 2>&1 || rc=$?
		req=$(sed -n 's/^BENCH requests=\([0-9]*\).*duration_us=\([0-9]*\).*/\1/p' "$lf")
		secs=$(sed -n 's/^BENCH .*duration_us=\([0-9]*\).*/\1/p' "$lf")
		[ -z "$secs" ] || secs=$(calc "$secs / 1000000")
	else
		timeout -k 5 120 ab -q -r -s 10 -n 20000 -c 50 "http://127.0.0.1:${PORT[$2]}/hello.txt" \
			>"$lf" 2>&1 || rc=$?
		req=$(awk '/^Complete requests:/ { print $3 }' "$lf")
		secs=$(awk '/^Time taken for tests:/ { print $5 }' "$lf")
	fi
	t1=$(cpu_ns "${PID[$2]}")
	if [ $rc -ne 0 ] || [ -z "$req" ] || [ -z "$secs" ] || [ "$req" = 0 ]; then
		log "  $2 $1: failed (see $lf)"
		return
	fi
	WRATE[$1|$2]+="$(calc "$req / $secs") "
	WCPU[$1|$2]+="$(calc "($t1 - $t0) / 1000 / $req") "
	log "  $2 $1: $(calc "$req / $secs" | xargs printf '%.0f') req/s, $(calc "($t1 - $t0) / 1000 / $req" | xargs printf '%.2f') us/req"
}
WORKERS_RUN=
if wanted workers; then
	for nwk in 1 2; do
		p=$(pick_port)
		SRV_CPU=$ALLCPU start "ours-w$nwk" "$p" "$BIN" --top-dir "$OUT/root" --port "$p" \
			--no-access-log -q --workers "$nwk" || true
	done
	if [ -n "${PID[ours-w1]:-}" ] && [ -n "${PID[ours-w2]:-}" ]; then
		WORKERS_RUN=1
		for r in $(seq "$ROUNDS"); do
			log "1 vs 2 workers: round $r/$ROUNDS"
			for kind in keep-alive new-connection; do
				for nwk in 1 2; do
					run_free "$kind" "ours-w$nwk"
					sleep 0.5
				done
			done
		done
	fi
fi

# siege availability: once per server, bounded by -t10S.
declare -A SIEGE=()
if ! wanted siege; then
	log "siege not selected (BENCH_ONLY)"
elif have siege; then
	cat >"$OUT/siegerc" <<'EOF'
verbose = false
quiet = false
json_output = false
show-logfile = false
logging = false
parser = false
protocol = HTTP/1.1
connection = close
limit = 1000
EOF
	for s in "${SMALL[@]}"; do
		log "siege -b -c100 -t10S, 13 B: $s"
		lf="$OUT/logs/siege-$s.log"
		rc=0
		t0=$(cpu_ns "${PID[$s]}")
		HOME="$OUT" SIEGERC="$OUT/siegerc" timeout -k 5 40 taskset -c "$LOAD_CPU" \
			siege -R "$OUT/siegerc" -b -c100 -t10S "http://127.0.0.1:${PORT[$s]}/hello.txt" \
			>"$lf" 2>&1 || rc=$?
		t1=$(cpu_ns "${PID[$s]}")
		avail=$(awk -F'[:%]' '/Availability/ { gsub(/[ \t]/, "", $2); print $2 }' "$lf")
		trans=$(awk '/^Transactions:/ { print $2 }' "$lf")
		failt=$(awk '/^Failed transactions:/ { print $3 }' "$lf")
		rate=$(awk -F: '/^Transaction rate:/ { split($2, a, " "); print a[1] }' "$lf")
		if [ -z "$avail" ] || [ -z "$trans" ]; then
			SIEGE[$s]="| $s | failed (rc $rc, see logs/siege-$s.log) | | | | |"
			log "  $s: siege failed (rc $rc)"
		else
			cpu=$(calc "$trans > 0 ? $((t1 - t0)) / 1000 / $trans : 0")
			SIEGE[$s]="| $s | $avail % | $trans | ${failt:-?} | ${rate:-?} | $(printf '%.2f' "$cpu") |"
			log "  $s: availability $avail %, $trans transactions, $(printf '%.2f' "$cpu") us/trans"
		fi
		sleep 0.5
	done
else
	log "siege not installed: skipping availability"
fi

# Syscalls per keep-alive request: strace -c over a fixed ab -k run.
declare -A SYSC=()
if ! wanted strace; then
	log "strace not selected (BENCH_ONLY)"
elif have strace; then
	for s in "${SMALL[@]}"; do
		log "strace -c -f during ab -k -n 5000 -c 10: $s"
		sf="$OUT/logs/strace-$s.txt"
		strace -c -f -p "${PID[$s]}" -o "$sf" 2>"$OUT/logs/strace-$s.err" &
		STRACE_PID=$!
		ok=
		for _ in $(seq 50); do
			if awk '/^TracerPid:/ { exit !($2 != 0) }' "/proc/${PID[$s]}/status"; then
				ok=1
				break
			fi
			sleep 0.1
		done
		sleep 0.5 # the other threads of the process, if any
		rc=0
		[ -n "$ok" ] && timeout -k 5 120 taskset -c "$LOAD_CPU" ab -q -r -s 10 -k -n 5000 -c 10 \
			"http://127.0.0.1:${PORT[$s]}/hello.txt" >"$OUT/logs/strace-ab-$s.log" 2>&1 || rc=$?
		kill -INT "$STRACE_PID" 2>/dev/null || true
		wait "$STRACE_PID" 2>/dev/null || true
		STRACE_PID=
		ndone=$(awk '/^Complete requests:/ { print $3 }' "$OUT/logs/strace-ab-$s.log" 2>/dev/null || true)
		total=$(awk '$NF == "total" { print $4 }' "$sf" 2>/dev/null || true)
		if [ -z "$ok" ] || [ $rc -ne 0 ] || [ -z "$total" ] || [ "${ndone:-0}" != 5000 ]; then
			SYSC[$s]="| $s | failed (see logs/strace-$s.*) | |"
			log "  $s: strace run failed"
			continue
		fi
		top=$(awk '$1 ~ /^[0-9.]+$/ && $NF != "total" && NF >= 5 { print $4, $NF }' "$sf" |
			sort -rn | awk 'NR <= 6' |
			awk '$1 >= 25 { printf "%s%s %.2f", (NR > 1 ? ", " : ""), $2, $1 / 5000 }')
		SYSC[$s]="| $s | $(calc "$total / 5000" | xargs printf '%.2f') | $top |"
		log "  $s: $(calc "$total / 5000" | xargs printf '%.2f') syscalls/req ($top)"
	done
else
	log "strace not installed: skipping syscalls"
fi

# ---- 4b. idle keep-alive memory ----
# For each N of BENCH_IDLE_N and each server: a fresh instance (the
# configuration above, one worker, but room for 20,000 connections and a
# 600 s keep-alive idle timeout, so none is closed while the others connect),
# measured by tests/soak/idle.py --port --pid, then stopped. A fresh one
# each time: memory a server kept from an earlier run would hide the cost
# of the next. idle.py prints the RSS per connection, then checks that
# every connection answers a second request.
declare -A IDLE=() IDLEWHY=()
IDLE_NS=${BENCH_IDLE_N:-10000 19000}
IDLE_SERVERS=()
if ! wanted idle; then
	log "idle not selected (BENCH_ONLY)"
elif ! have python3; then
	log "python3 missing: skipping idle keep-alive memory"
else
	nofile=$(ulimit -n) # the hard limit, raised above
	for s in ours nginx lighttpd h2o; do
		if [ "$s" = ours ] || [[ " ${SERVERS[*]} " == *" $s "* ]]; then IDLE_SERVERS+=("$s"); fi
	done
	for n in $IDLE_NS; do
		for s in "${IDLE_SERVERS[@]}"; do
			name=idle-$s
			p=$(pick_port)
			log "idle keep-alive memory, $n connections: $s"
			rc=0
			case $s in
			ours) start "$name" "$p" "$BIN" --top-dir "$OUT/root" --port "$p" --no-access-log -q \
				--max-connections 20000 --idle-timeout 600 ;;
			# nginx closes idle keep-alive connections ("worker_connections
			# are not enough, reusing connections") once fewer than 1/16 of
			# its connections are free: 21,500 keeps 20,000 clear of that.
			# More than its open-file limit, which only earns a warning.
			nginx) start_nginx "$name" "$p" 21500 "$nofile" 600 ;;
			lighttpd) start_lighttpd "$name" "$p" 20000 "$nofile" 600 ;;
			h2o) start_h2o "$name" "$p" 20000 600 ;;
			esac || rc=$?
			if [ $rc -ne 0 ]; then
				IDLEWHY[$n|$s]="did not start: ${WHY[$name]:-?}"
				continue
			fi
			lf=$OUT/logs/idle-$s-$n.log
			timeout -k 5 420 taskset -c "$LOAD_CPU" python3 "$REPO/tests/soak/idle.py" \
				--port "$p" --pid "${PID[$name]}" --n "$n" --answer-timeout 10 --deadline 30 \
				--timeout 400 >"$lf" 2>&1 || rc=$?
			stop "$name"
			sed 's/^/    /' "$lf"
			m=$(sed -n 's/^\([0-9]*\) connections: \([0-9]*\) bytes per connection (RSS before \([0-9]*\) KiB, after \([0-9]*\) KiB).*/\1 \2 \3 \4/p' "$lf")
			a2=$(sed -n 's/^second request: \([0-9]*\)\/[0-9]* answered.*slowest \([0-9]*\) ms.*/\1 \2/p' "$lf")
			if [ -z "$m" ]; then
				IDLEWHY[$n|$s]="idle.py failed (rc $rc), see logs/idle-$s-$n.log"
				continue
			fi
			read -r held bpc before after <<<"$m"
			read -r ans slow <<<"${a2:-- -}"
			IDLE[$n|$s]="| $s | $n | $bpc | $before → $after | $held | $ans | $slow ms |"
			if [ $rc -ne 0 ]; then
				why=$(grep -m1 '^FAIL' "$lf" | sed 's/^FAIL: //' || true)
				# lighttpd states its own cap in its error log.
				cap=$(grep -h -m1 "can't have more connections" "$OUT/logs/$name.error.log" 2>/dev/null |
					sed 's/.*) //' || true)
				[ "$held" = "$n" ] || why="held $held of $n: $why"
				IDLEWHY[$n|$s]="${why:-rc $rc}${cap:+ (its error log: $cap)}"
			fi
		done
	done
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 5. report ----
median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{ a[NR] = $1 } END {
	if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2];
	else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { # ours this -> ours/this with two decimals, or -
	if [ -z "$1" ] || [ -z "$2" ] || [ "$(calc "$2 == 0")" = 1 ]; then echo -; else calc "$1 / $2" | xargs printf '%.2f'; fi
}
PEERS=(nginx lighttpd h2o)
version() {
	case $1 in
	ours) "$BIN" --version 2>&1 | sed -n 1p ;;
	floor) echo "tests/bench/floor.c" ;;
	nginx) nginx -v 2>&1 | sed 's/^nginx version: //' ;;
	lighttpd) lighttpd -v 2>&1 | sed -n '1s/ - .*//p' ;;
	h2o) h2o --version 2>&1 | sed -n 1p ;;
	esac || true
}

{
	echo "# simple-http-server benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
	echo "- load average before/after: $LOAD_BEFORE / $LOAD_AFTER (other work on the machine shows up here)"
	echo "- servers pinned to CPU $SRV_CPU, load generators to CPU $LOAD_CPU; loopback; $SECS s per wrk run; median of $ROUNDS rounds"
	for s in "${SERVERS[@]}"; do echo "- $s: $(version "$s")"; done
	for s in floor nginx lighttpd h2o; do
		[ -z "${WHY[$s]:-}" ] || echo "- **$s unavailable**: ${WHY[$s]}"
	done
	echo
	echo "CPU = server CPU time (sum of /proc/PID/task/*/schedstat) per request, µs."
	echo "ours/x: for req/s > 1 means we serve more; for CPU < 1 means we use less."
	echo
	echo "## Headline: server CPU µs per request, ours / floor and ours / best peer"
	echo
	echo "| scenario | ours | floor | best peer | ours/floor | ours/best peer |"
	echo "|---|---:|---:|---:|---:|---:|"
	for scen in "${SCENARIOS[@]}"; do
		wanted "$scen" || continue
		o=$(median <<<"${CPU[$scen|ours]:-}")
		fl=$(median <<<"${CPU[$scen|floor]:-}")
		best='' bestn=''
		for p in "${PEERS[@]}"; do
			v=$(median <<<"${CPU[$scen|$p]:-}")
			[ -n "$v" ] || continue
			if [ -z "$best" ] || [ "$(calc "$v < $best")" = 1 ]; then
				best=$v
				bestn=$p
			fi
		done
		printf '| %s | %s | %s | %s | %s | %s |\n' "${TITLE[$scen]}" \
			"$([ -n "$o" ] && printf '%.2f' "$o" || echo -)" \
			"$([ -n "$fl" ] && printf '%.2f' "$fl" || echo -)" \
			"$([ -n "$best" ] && printf '%.2f (%s)' "$best" "$bestn" || echo -)" \
			"$(ratio "$o" "$fl")" "$(ratio "$o" "$best")"
	done
	for scen in "${SCENARIOS[@]}"; do
		wanted "$scen" || continue
		echo
		echo "## ${TITLE[$scen]}"
		echo
		unit="req/s"
		[ "$scen" != wrk-c10-13MiB ] || unit="MiB/s"
		echo "| server | $unit | CPU µs/req | ours/x $unit | ours/x CPU | errors | runs |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		if [ "$scen" = wrk-c10-13MiB ]; then
			orate=$(median <<<"${MIBS[$scen|ours]:-}")
		else
			orate=$(median <<<"${RATE[$scen|ours]:-}")
		fi
		ocpu=$(median <<<"${CPU[$scen|ours]:-}")
		for s in "${SERVERS[@]}"; do
			k="$scen|$s"
			[ -n "${RUNS[$k]:-}${ERRS[$k]:-}" ] || continue
			if [ "$scen" = wrk-c10-13MiB ]; then
				rate=$(median <<<"${MIBS[$k]:-}")
			else
				rate=$(median <<<"${RATE[$k]:-}")
			fi
			cpu=$(median <<<"${CPU[$k]:-}")
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$s" \
				"$([ -n "$rate" ] && printf '%.0f' "$rate" || echo -)" \
				"$([ -n "$cpu" ] && printf '%.2f' "$cpu" || echo -)" \
				"$(ratio "$orate" "$rate")" "$(ratio "$ocpu" "$cpu")" \
				"${ERRS[$k]:-0}" "${RUNS[$k]:-0}/$ROUNDS"
		done
	done
	if [ -n "$WORKERS_RUN" ]; then
		echo
		echo "## 1 vs 2 workers (--workers), nothing pinned, 13 B"
		echo
		echo "wrk -t2 -c100 (keep-alive) and ab -n 20000 -c 50 (new connection per request);"
		echo "CPU counts the master and every worker. Both cores are shared with the load generator."
		echo
		echo "| load | workers | req/s | CPU µs/req | req/s vs 1 worker |"
		echo "|---|---:|---:|---:|---:|"
		for kind in keep-alive new-connection; do
			one=$(median <<<"${WRATE[$kind|ours-w1]:-}")
			for nwk in 1 2; do
				rate=$(median <<<"${WRATE[$kind|ours-w$nwk]:-}")
				cpu=$(median <<<"${WCPU[$kind|ours-w$nwk]:-}")
				printf '| %s | %s | %s | %s | %s |\n' "$kind" "$nwk" \
					"$([ -n "$rate" ] && printf '%.0f' "$rate" || echo -)" \
					"$([ -n "$cpu" ] && printf '%.2f' "$cpu" || echo -)" \
					"$(ratio "$rate" "$one")"
			done
		done
	fi
	echo
	echo "## siege -b -c100 -t10S, 13 B (once per server)"
	echo
	if [ ${#SIEGE[@]} -gt 0 ]; then
		echo "| server | availability | transactions | failed | trans/s | CPU µs/trans |"
		echo "|---|---:|---:|---:|---:|---:|"
		for s in "${SMALL[@]}"; do [ -z "${SIEGE[$s]:-}" ] || echo "${SIEGE[$s]}"; done
	else
		echo "not run (siege missing)"
	fi
	echo
	echo "## Syscalls per keep-alive request (strace -c -f, ab -k -n 5000 -c 10, 13 B)"
	echo
	if [ ${#SYSC[@]} -gt 0 ]; then
		echo "| server | syscalls/req | top syscalls (per request) |"
		echo "|---|---:|---|"
		for s in "${SMALL[@]}"; do [ -z "${SYSC[$s]:-}" ] || echo "${SYSC[$s]}"; done
	else
		echo "not run (strace missing)"
	fi
	if [ ${#IDLE_SERVERS[@]} -gt 0 ]; then
		echo
		echo "## Idle keep-alive memory (bytes per connection)"
		echo
		echo "N keep-alive connections that each fetched the 13 B file once and stay open:"
		echo "server RSS (with any child processes) after minus before, divided by the connections held"
		echo "(tests/soak/idle.py --port --pid). A fresh server for each N, one worker, the configuration"
		echo "above with room for 20,000 connections and a 600 s keep-alive timeout. Then every connection"
		echo "sends a second request, all at once: answered = 200 with the right body within 30 s."
		echo
		echo "| server | connections | bytes per connection | RSS before → after (KiB) | held | second request answered | slowest |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		for s in "${IDLE_SERVERS[@]}"; do
			for n in $IDLE_NS; do
				if [ -n "${IDLE[$n|$s]:-}" ]; then
					echo "${IDLE[$n|$s]}"
				else
					echo "| $s | $n | - | | | | |"
				fi
			done
		done
		for s in "${IDLE_SERVERS[@]}"; do
			for n in $IDLE_NS; do
				[ -z "${IDLEWHY[$n|$s]:-}" ] || echo "- **$s at $n**: ${IDLEWHY[$n|$s]}"
			done
		done
	fi
	echo
	echo "Total bench time: $((SECONDS - START)) s. Raw runs: tests/bench/out/raw.tsv; logs: tests/bench/out/logs/."
} >"$OUT/results.md"

# _redirects: 1,000 rules vs none on a request none matches (rules.sh).
if wanted rules; then
	log "_redirects: 1,000 rules vs none"
	rm -f "$OUT/rules.md"
	bash "$BENCH/rules.sh" >"$OUT/logs/rules.out" 2>&1 || log "rules part failed: see out/logs/rules.out"
	[ ! -f "$OUT/rules.md" ] || { echo; cat "$OUT/rules.md"; } >>"$OUT/results.md"
fi

echo
cat "$OUT/results.md"
