#!/usr/bin/env bash
# tests/soak/haproxy.sh - restarts behind a load balancer lose no request
# (issue 17). HAProxy on loopback in front of two instances, health checks
# on --health /healthz every 100 ms; while `ab -k -n 20000 -c 20` runs
# through HAProxy (again and again, until the restarts are done), each
# instance is restarted twice with SIGTERM and --lameduck 3: the instance
# fails its health check, HAProxy takes it out, it keeps serving what still
# comes for 3 s, then stops gracefully and is started again on its port.
#
#   SHS_BIN          the binary, default ./simple-http-server (built by make)
#   SOAK_LAMEDUCK    seconds of lame duck, default 3; 0 runs the same
#                    restarts without --lameduck (today's figure, to compare)
#   SOAK_RESTARTS    restarts of each instance, default 2
#   SOAK_HAPROXY     the haproxy binary, default /usr/sbin/haproxy
#   SOAK_ARGS        more arguments for each instance (e.g. "--workers 2")
#   SOAK_RETRY       1 (default): HAProxy retries and redispatches what an
#                    instance could not take (retries 3, option redispatch,
#                    retry-on conn-failure empty-response response-timeout);
#                    0: no retries, so only the lame duck keeps requests
#                    from failing (SOAK_LAMEDUCK=0 SOAK_RETRY=0 shows the
#                    loss the lame duck prevents)
#
# Passes (exit 0) when every ab batch reports 0 failed requests and 0
# non-2xx responses, and every request of every batch completed. Prints a
# Markdown summary and writes it to tests/soak/out/haproxy/results.md (out/
# is not committed). Loopback only, free ports chosen by the kernel; every
# process this script starts is stopped by PID when it exits, however it
# exits; nothing is killed by name. Bounded: each ab batch is limited to
# 120 s, each wait has a deadline, the whole run to about 2 minutes.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/tests/soak/out/haproxy
BIN=${SHS_BIN:-$REPO/simple-http-server}
LAMEDUCK=${SOAK_LAMEDUCK:-3}
RESTARTS=${SOAK_RESTARTS:-2}
HAPROXY=${SOAK_HAPROXY:-/usr/sbin/haproxy}
RETRY=${SOAK_RETRY:-1}
START=$SECONDS
export LC_ALL=C

log() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() {
	printf 'soak: %s\n' "$*" >&2
	exit 2
}

[ -x "$BIN" ] || die "$BIN is not built (run make first)"
[ -x "$HAPROXY" ] || die "no haproxy at $HAPROXY (apt-get install haproxy)"
command -v ab >/dev/null || die "no ab (apt-get install apache2-utils)"
command -v curl >/dev/null || die "no curl"
[[ $LAMEDUCK =~ ^[0-9]+$ ]] || die "SOAK_LAMEDUCK must be a whole number of seconds"
[[ $RESTARTS =~ ^[1-9][0-9]*$ ]] || die "SOAK_RESTARTS must be a positive integer"
[[ $RETRY =~ ^[01]$ ]] || die "SOAK_RETRY must be 0 or 1"
if [ "$RETRY" = 1 ]; then
	RETRY_CFG='retries 3
	option redispatch 1
	retry-on conn-failure empty-response response-timeout'
else
	RETRY_CFG='retries 0'
fi

rm -rf "$OUT"
mkdir -p "$OUT/root"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 >"$OUT/root/file.txt"

# Free loopback ports: the kernel picks them, we release them at once. An
# instance must come back on the same port, so --port 0 cannot be used.
read -r P_A P_B P_FE P_ST < <(python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])
')

PIDS=() # every process started here, stopped by PID on exit
HA_PID=
AB_PID=
cleanup() {
	for p in "${PIDS[@]}" $HA_PID $AB_PID; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT

declare -A INST_PID
start_instance() { # name port
	local name=$1 port=$2 out=$OUT/$1.out
	local args=(--top-dir "$OUT/root" --port "$port" --health /healthz)
	[ "$LAMEDUCK" -gt 0 ] && args+=(--lameduck "$LAMEDUCK")
	# shellcheck disable=SC2206 # split on purpose
	args+=(${SOAK_ARGS:-})
	"$BIN" "${args[@]}" >"$out" 2>>"$OUT/$name.log" &
	INST_PID[$name]=$!
	PIDS+=($!)
	local deadline=$((SECONDS + 10))
	until grep -q "^serving .* on http://127.0.0.1:$port/" "$out" 2>/dev/null; do
		kill -0 "${INST_PID[$name]}" 2>/dev/null || die "$name did not start: $(tail -3 "$OUT/$name.log")"
		[ $SECONDS -lt $deadline ] || die "$name did not start within 10 s"
		sleep 0.05
	done
}

# HAProxy's view of a server: UP, DOWN, ... (the status column of its CSV).
server_status() { # name
	{ curl -s --max-time 2 "http://127.0.0.1:$P_ST/stats;csv" || true; } |
		awk -F, -v s="$1" '$1 == "be" && $2 == s { print $18 }'
}
# Sessions HAProxy has sent to a server so far (stot, column 8).
server_sessions() { # name
	{ curl -s --max-time 2 "http://127.0.0.1:$P_ST/stats;csv" || true; } |
		awk -F, -v s="$1" '$1 == "be" && $2 == s { print $8 + 0 }'
}
# Until HAProxy has sent N more sessions to the server: it serves under the
# load (again), observed rather than assumed after a fixed sleep.
serve_some() { # name n secs
	local deadline=$((SECONDS + $3)) start now
	start=$(server_sessions "$1")
	while :; do
		now=$(server_sessions "$1")
		[ "${now:-0}" -ge $((${start:-0} + $2)) ] && return 0
		[ $SECONDS -lt $deadline ] || die "$1 got $((${now:-0} - ${start:-0})) sessions in $3 s, expected $2"
		sleep 0.05
	done
}
wait_status() { # name want secs
	local deadline=$((SECONDS + $3)) st
	while :; do
		st=$(server_status "$1")
		case $st in "$2"*) return 0 ;; esac
		[ $SECONDS -lt $deadline ] || die "$1 is '$st' in HAProxy after $3 s, expected $2"
		sleep 0.05
	done
}

cat >"$OUT/haproxy.cfg" <<EOF
global
	maxconn 2000
	# Errors and state changes to out/haproxy/haproxy.log (-db: stdout).
	log stdout format raw local0

defaults
	mode http
	log global
	option httplog
	option dontlog-normal
	timeout connect 1s
	timeout client 30s
	timeout server 30s
	timeout http-keep-alive 10s
	# Without it a check times out after "inter" (100 ms): on a loaded
	# machine the instance left serving everything would flap DOWN too.
	timeout check 2s
	# SOAK_RETRY=1: a request the chosen instance could not take (refused,
	# reset, closed before an answer) goes to the other one: GET is
	# idempotent.
	$RETRY_CFG

frontend fe
	bind 127.0.0.1:$P_FE
	default_backend be

backend be
	balance roundrobin
	option httpchk
	http-check send meth GET uri /healthz
	http-check expect status 200
	# Out after 2 failed checks (~200 ms), back after 2 good ones.
	default-server inter 100ms fall 2 rise 2
	server a 127.0.0.1:$P_A check
	server b 127.0.0.1:$P_B check

listen stats
	bind 127.0.0.1:$P_ST
	stats enable
	stats uri /stats
EOF
"$HAPROXY" -c -q -f "$OUT/haproxy.cfg" || die "haproxy rejects $OUT/haproxy.cfg"

log "instances on $P_A and $P_B (lame duck ${LAMEDUCK}s), HAProxy on $P_FE"
start_instance a "$P_A"
start_instance b "$P_B"
"$HAPROXY" -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
HA_PID=$!
wait_status a UP 10
wait_status b UP 10
curl -sf --max-time 2 "http://127.0.0.1:$P_FE/file.txt" | cmp -s - "$OUT/root/file.txt" ||
	die "HAProxy does not serve the file"

# ab in batches until the restarts are done (one batch is over in a few
# seconds; the restarts take about 5 s each).
touch "$OUT/restarting"
(
	b=0
	while [ -e "$OUT/restarting" ] || [ $b -eq 0 ]; do
		b=$((b + 1))
		timeout 120 ab -k -n 20000 -c 20 -s 10 "http://127.0.0.1:$P_FE/file.txt" \
			>"$OUT/ab-$b.txt" 2>&1 || echo "ab batch $b exited $?" >>"$OUT/ab-errors.txt"
	done
) &
AB_PID=$!

restart() { # name port
	local name=$1 port=$2 pid=${INST_PID[$1]} t0=$SECONDS
	log "restart $name: SIGTERM to $pid"
	kill -TERM "$pid"
	wait_status "$name" DOWN 5
	log "restart $name: HAProxy has it DOWN after $((SECONDS - t0)) s"
	local deadline=$((SECONDS + LAMEDUCK + 15))
	while kill -0 "$pid" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || die "$name did not stop"
		sleep 0.05
	done
	wait "$pid" || die "$name exited with status $?"
	log "restart $name: stopped after $((SECONDS - t0)) s; starting again"
	start_instance "$name" "$port"
	wait_status "$name" UP 10
	log "restart $name: UP again"
}

serve_some a 200 10
serve_some b 200 10
for i in $(seq "$RESTARTS"); do
	restart a "$P_A"
	serve_some a 200 10
	restart b "$P_B"
	serve_some b 200 10
done
rm -f "$OUT/restarting"
wait "$AB_PID"
AB_PID=

# ---- the figures ----
total=0 complete=0 failed=0 non2xx=0 batches=0 ok=1
rows=""
for f in $(ls "$OUT"/ab-*.txt | sort -t- -k2 -n); do
	batches=$((batches + 1))
	c=$(awk '/^Complete requests:/ { print $3 }' "$f")
	fl=$(awk '/^Failed requests:/ { print $3 }' "$f")
	nx=$(awk '/^Non-2xx responses:/ { print $3 }' "$f")
	detail=$(grep -E '^ +\(Connect:' "$f" | tr -s ' ' || true)
	c=${c:-0} fl=${fl:-missing} nx=${nx:-0}
	total=$((total + 20000))
	complete=$((complete + c))
	[ "$fl" = missing ] && ok=0 || failed=$((failed + fl))
	non2xx=$((non2xx + nx))
	rows+="| $batches | $c | $fl | $nx | ${detail:-} |"$'\n'
done
[ "$failed" -eq 0 ] && [ "$non2xx" -eq 0 ] && [ "$complete" -eq "$total" ] || ok=0
[ -e "$OUT/ab-errors.txt" ] && ok=0

{
	echo "## HAProxy in front of two instances: $RESTARTS restarts each," \
		"lame duck ${LAMEDUCK} s, HAProxy retries $([ "$RETRY" = 1 ] && echo on || echo off)${SOAK_ARGS:+, $SOAK_ARGS}"
	echo
	echo "$("$HAPROXY" -v | head -1)"
	echo
	echo "| ab batch (-k -n 20000 -c 20) | complete | failed | non-2xx | failure kinds |"
	echo "|---|---|---|---|---|"
	printf '%s' "$rows"
	echo
	echo "Total: $complete of $total requests complete, $failed failed, $non2xx non-2xx," \
		"over $((RESTARTS * 2)) restarts in $((SECONDS - START)) s."
	[ -e "$OUT/ab-errors.txt" ] && cat "$OUT/ab-errors.txt"
	[ $ok -eq 1 ] && echo "PASS" || echo "FAIL"
} | tee "$OUT/results.md"
[ $ok -eq 1 ]
