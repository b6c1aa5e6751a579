#!/usr/bin/env bash
# tests/soak/flaky.sh - is the suite flaky under load? Builds once, then runs
# `make test` N times in a row while a background loop runs `make asan`
# again and again beside it (the 2-core machine then has both cores busy),
# and records every run.
#
#   tests/soak/flaky.sh [N]      N runs of `make test`, default 20
#
#   FLAKY_MAX_SECS   no new run starts after this many seconds (default 3600);
#                    the summary then says how many runs really happened
#   FLAKY_RUN_SECS   one `make test` is stopped after this long (default 600)
#   FLAKY_ASAN       0: no `make asan` beside the runs (default 1)
#
# Runs in the repository it belongs to; everything goes to build/flaky/:
#   runs.log         one line per run: number, seconds, result, failures
#   run-K.log        the whole output of run K
#   asan-K.log       the whole output of the K-th `make asan` beside them
# Prints "N passed, M failed" and the distinct failing tests (with counts).
# Exits 0 if every run passed, 1 if one failed, 2 if it could not start.
#
# The asan loop runs in its own session; when the runs end, every process
# of that session is stopped by PID (the servers the harness starts die with
# their test process); nothing is killed by name. Loopback only.
set -uo pipefail

cd "$(dirname "$0")/../.."
N=${1:-20}
MAX_SECS=${FLAKY_MAX_SECS:-3600}
RUN_SECS=${FLAKY_RUN_SECS:-600}
WITH_ASAN=${FLAKY_ASAN:-1}
OUT=build/flaky
export LC_ALL=C

case $N in '' | *[!0-9]*) echo "flaky: N must be a number" >&2; exit 2 ;; esac

make -j2 all build/check_runner >/dev/null || { echo "flaky: build failed" >&2; exit 2; }
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$OUT/runs.log"
START=$SECONDS
log() { printf '[%5ds] %s\n' $((SECONDS - START)) "$*" | tee -a "$OUT/runs.log"; }

ASAN_SID=
# Every process of the asan loop's session, by PID: `timeout` and Check's
# forked tests make their own process groups, but not their own session.
session_pids() { ps -o pid= -s "$ASAN_SID" 2>/dev/null; }
stop_asan() {
	[ -n "$ASAN_SID" ] || return 0
	touch "$OUT/asan.stop"
	session_pids | xargs -r kill -TERM 2>/dev/null
	for _ in $(seq 50); do
		[ -n "$(session_pids)" ] || break
		sleep 0.2
	done
	session_pids | xargs -r kill -KILL 2>/dev/null
	wait 2>/dev/null
	ASAN_SID=
}
trap 'stop_asan' EXIT
trap 'exit 130' INT TERM

if [ "$WITH_ASAN" = 1 ]; then
	# setsid: the loop gets its own session, so it (make, timeout, the
	# runner, its forked tests) can be found and stopped by that one id.
	setsid bash -c '
		k=0
		while [ ! -e "$1/asan.stop" ]; do
			k=$((k + 1))
			t0=$SECONDS
			timeout -k 10 "$2" make asan >"$1/asan-$k.log" 2>&1
			rc=$?
			[ -e "$1/asan.stop" ] && break
			bad=$(grep -E "^[^ :]+\.c:[0-9]+:[FE]:" "$1/asan-$k.log" |
				awk -F: "{ print \$1 \":\" \$4 \":\" \$5 }" | sort -u | tr "\n" " ")
			echo "asan $k: rc=$rc in $((SECONDS - t0)) s $bad" >>"$1/asan.log"
		done' flaky-asan "$PWD/$OUT" "$MAX_SECS" &
	ASAN_SID=$(ps -o sid= -p $! | tr -d ' ')
	if [ "$ASAN_SID" != $! ] || [ "$ASAN_SID" = "$(ps -o sid= -p $$ | tr -d ' ')" ]; then
		echo "flaky: the asan loop did not get its own session" >&2
		kill $! 2>/dev/null
		ASAN_SID=
		exit 2
	fi
	log "asan loop started (session $ASAN_SID)"
fi

pass=0
fail=0
for i in $(seq "$N"); do
	if [ $((SECONDS - START)) -ge "$MAX_SECS" ]; then
		log "time is up after $((i - 1)) runs (FLAKY_MAX_SECS=$MAX_SECS)"
		break
	fi
	t0=$SECONDS
	timeout -k 10 "$RUN_SECS" make test >"$OUT/run-$i.log" 2>&1
	rc=$?
	# Check prints a failure as FILE:LINE:F|E:TCASE:TEST:ITER: message.
	bad=$(grep -E '^[^ :]+\.c:[0-9]+:[FE]:' "$OUT/run-$i.log" |
		awk -F: '{ print $1 ":" $4 ":" $5 }' | sort -u | tr '\n' ' ')
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		log "run $i: pass in $((SECONDS - t0)) s"
	else
		fail=$((fail + 1))
		[ "$rc" = 124 ] && bad="$bad(timed out after $RUN_SECS s)"
		[ -n "$bad" ] || bad="(rc=$rc; see run-$i.log)"
		log "run $i: FAIL rc=$rc in $((SECONDS - t0)) s: $bad"
		grep -E '^[^ :]+\.c:[0-9]+:[FE]:' "$OUT/run-$i.log" >>"$OUT/failures.log"
	fi
done
stop_asan

echo
echo "== $((pass + fail)) runs of make test in $((SECONDS - START)) s" \
	"$([ "$WITH_ASAN" = 1 ] && echo "beside make asan")"
[ -s "$OUT/asan.log" ] && sed 's/^/   /' "$OUT/asan.log"
echo "$pass passed, $fail failed"
if [ -s "$OUT/failures.log" ]; then
	echo "distinct failing tests (count, file:tcase:test):"
	awk -F: '{ print $1 ":" $4 ":" $5 }' "$OUT/failures.log" | sort | uniq -c | sort -rn
fi
[ "$fail" = 0 ]
