#!/usr/bin/env bash
# tests/bench/rules.sh - the cost of _redirects on a request no rule matches
# (issue 15: with 1,000 rules, within 10 % of no rules). `make bench` runs
# it as the part "rules" (BENCH_ONLY=rules runs only this, ~1 min); it also
# runs alone: bash tests/bench/rules.sh.
#
# Two instances of our server on the same files, pinned to CPU 0: "none"
# without --rules, "rules" with --rules and a _redirects of 1,000 rules
# (500 exact paths, 400 patterns with placeholders under 400 first
# segments, 90 splats, 10 patterns starting with a placeholder, which every
# request walks). wrk -t1 -c50 on /hello.txt (matched by none) from CPU 1,
# BENCH_ROUNDS rounds alternating the two; the figure is server CPU time per
# request (schedstat), median of the rounds, and the ratio rules / none.
# Writes tests/bench/out/rules.md. Servers are stopped by PID at exit.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/tests/bench/out
BIN=${SHS_BIN:-$REPO/simple-http-server}
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
export LC_ALL=C

die() {
	printf 'bench rules: %s\n' "$*" >&2
	exit 1
}
[ -x "$BIN" ] || die "$BIN not built (run make)"
command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
LOAD_CPU=1
[ "$(nproc)" -ge 2 ] || LOAD_CPU=0

ROOT=$OUT/rules-root
mkdir -p "$ROOT" "$OUT/logs"
printf 'Hello world!\n' >"$ROOT/hello.txt"
{
	echo "# 1,000 rules, none of which matches /hello.txt"
	for i in $(seq 1 500); do echo "/old/page-$i.html /new/page-$i.html 301"; done
	for i in $(seq 1 400); do echo "/section-$i/:slug /s$i/:slug 302"; done
	for i in $(seq 1 90); do echo "/archive-$i/* /a$i/:splat 301"; done
	for i in $(seq 1 10); do echo "/:lang/legacy-$i/* /:lang/l$i/:splat 302"; done
} >"$ROOT/_redirects"

declare -A PID=() PORT=()
cleanup() {
	for n in "${!PID[@]}"; do
		kill -TERM "${PID[$n]}" 2>/dev/null || true
		wait "${PID[$n]}" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME FLAGS...: our server on port 0, its port from the startup line.
start() {
	local name=$1 log=$OUT/logs/rules-$1.log
	shift
	taskset -c 0 "$BIN" --top-dir "$ROOT" --port 0 --no-access-log "$@" >"$log.out" 2>"$log" &
	PID[$name]=$!
	for _ in $(seq 100); do
		PORT[$name]=$(sed -n 's|^serving .* on http://127.0.0.1:\([0-9]*\)/$|\1|p' "$log.out")
		[ -z "${PORT[$name]}" ] || return 0
		sleep 0.05
	done
	die "$name did not start (see $log)"
}
start none
start rules --rules
grep -q '_redirects: 1000 rules$' "$OUT/logs/rules-rules.log" ||
	die "the rules server did not load 1000 rules: $(cat "$OUT/logs/rules-rules.log")"

cpu_ns() {
	local t=0 s c
	for s in /proc/"$1"/task/*/schedstat; do
		read -r c _ <"$s" 2>/dev/null && t=$((t + c))
	done
	echo "$t"
}
cat >"$OUT/rules-report.lua" <<'EOF'
done = function(s)
  local e = s.errors
  io.write(string.format("BENCH requests=%d errors=%d\n", s.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

declare -A CPU=() RATE=()
for r in $(seq "$ROUNDS"); do
	for name in none rules; do
		lf=$OUT/logs/rules-wrk-$name-$r.log
		t0=$(cpu_ns "${PID[$name]}")
		timeout -k 5 $((SECS + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c50 -d"${SECS}s" \
			-s "$OUT/rules-report.lua" "http://127.0.0.1:${PORT[$name]}/hello.txt" >"$lf" 2>&1 ||
			true
		t1=$(cpu_ns "${PID[$name]}")
		kill -0 "${PID[$name]}" 2>/dev/null || die "$name exited (see $OUT/logs/rules-$name.log)"
		req=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$lf")
		errs=$(sed -n 's/^BENCH .*errors=\([0-9]*\)/\1/p' "$lf")
		# A run with errors or no requests at all (wrk starved on a busy
		# machine) is left out and said so, not averaged in.
		if [ "${errs:-1}" != 0 ] || [ "${req:-0}" -eq 0 ]; then
			printf '[rules] round %d %-5s left out: %s requests, %s errors (%s)\n' "$r" "$name" \
				"${req:-?}" "${errs:-?}" "$lf"
			continue
		fi
		us=$(awk "BEGIN { printf \"%.3f\", ($t1 - $t0) / 1000 / $req }")
		CPU[$name]+="$us "
		RATE[$name]+="$(awk "BEGIN { printf \"%.0f\", $req / $SECS }") "
		printf '[rules] round %d %-5s %s us/req, %s req/s\n' "$r" "$name" "$us" \
			"$(awk "BEGIN { printf \"%.0f\", $req / $SECS }")"
		sleep 0.5
	done
done

[ -n "${CPU[none]:-}" ] && [ -n "${CPU[rules]:-}" ] || die "no usable round (see $OUT/logs)"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
none=$(median <<<"${CPU[none]}")
rules=$(median <<<"${CPU[rules]}")
ratio=$(awk "BEGIN { printf \"%.3f\", $rules / $none }")
verdict=$(awk "BEGIN { print ($ratio <= 1.10) ? \"within 10 %\" : \"MORE than 10 % slower\" }")
{
	echo "# _redirects: a request no rule matches, 1,000 rules vs none"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg);"
	echo "wrk -t1 -c50 -d${SECS}s on /hello.txt, $ROUNDS rounds alternating, median."
	echo
	echo "| server | CPU µs/req (rounds) | req/s (rounds) |"
	echo "|---|---:|---:|"
	echo "| no rules | $none (${CPU[none]% }) | ${RATE[none]% } |"
	echo "| 1,000 rules | $rules (${CPU[rules]% }) | ${RATE[rules]% } |"
	echo
	echo "Ratio rules / none: **$ratio** ($verdict)."
} >"$OUT/rules.md"
cat "$OUT/rules.md"
