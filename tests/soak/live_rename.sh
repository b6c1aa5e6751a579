#!/usr/bin/env bash
# tests/soak/live_rename.sh - issue 11 item 1: --live under directory renames.
#
# Starts the ASan build with --live on a small tree and renames a directory
# (with a subdirectory in it) back and forth ROUNDS times with mv, as an
# editor or a build tool would; every 1000 round trips it checks that the
# server still answers and that the inotify watches it holds stay bounded
# (one per live directory: /proc/PID/fdinfo of its inotify fd lists each).
# At the end: no AddressSanitizer/UBSan report in the server's stderr, the
# server answers, and SIGTERM gives exit status 0.
#
#   make BUILD=build-asan BIN=build-asan/simple-http-server \
#        CFLAGS="-O1 -g" SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
#   bash tests/soak/live_rename.sh
#
#   SHS_BIN          the binary, default build-asan/simple-http-server
#   SOAK_ROUNDS      round trips (mv d e; mv e d), default 20000
#   SOAK_LIVE_SECS   time limit for the renames, default 600
#
# Only 127.0.0.1, only its own temporary directory; the server is stopped
# by PID however the script exits. Exit 0 = pass, 1 = fail, 2 = cannot start.
set -euo pipefail

cd "$(dirname "$0")/../.."
BIN=${SHS_BIN:-$PWD/build-asan/simple-http-server}
ROUNDS=${SOAK_ROUNDS:-20000}
LIMIT=${SOAK_LIVE_SECS:-600}
START=$SECONDS
export LC_ALL=C
# A report makes the server exit at once and non-zero.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

log() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() {
	printf 'live_rename: %s\n' "$*" >&2
	exit 2
}
fail() {
	printf 'live_rename: FAIL: %s\n' "$*"
	[ -f "$tmp/server.log" ] && tail -n 40 "$tmp/server.log" >&2
	exit 1
}

[ -x "$BIN" ] || die "$BIN is not built (see the top of this script)"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "SOAK_ROUNDS must be a positive integer"
[[ $LIMIT =~ ^[1-9][0-9]*$ ]] || die "SOAK_LIVE_SECS must be a positive integer"
command -v curl >/dev/null || die "curl is not installed"

tmp=$(mktemp -d /tmp/shs-live-rename-XXXXXX)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

root=$tmp/root
mkdir -p "$root/d/sub" "$root/other"
printf '<!doctype html>\n<body><p>soak</p></body>\n' >"$root/index.html"
printf 'inside\n' >"$root/d/sub/x.txt"
dirs=4 # root, d, d/sub, other

# --cache-size 0: the only inotify fd is --live's.
"$BIN" --live --cache-size 0 --port 0 --top-dir "$root" >"$tmp/stdout" 2>"$tmp/server.log" &
pid=$!
port=""
for _ in $(seq 200); do
	line=$(head -n 1 "$tmp/stdout")
	if [[ $line =~ ^serving\ .*\ on\ http://127\.0\.0\.1:([0-9]+)/$ ]]; then
		port=${BASH_REMATCH[1]}
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ] || die "no startup line from $BIN (got '$(head -n 1 "$tmp/stdout")')"
log "server pid $pid on port $port; $ROUNDS round trips"

inotify_fd() {
	local f
	for f in /proc/"$pid"/fd/*; do
		if [ "$(readlink "$f" 2>/dev/null)" = "anon_inode:inotify" ]; then
			basename "$f"
			return 0
		fi
	done
	return 1
}
ifd=$(inotify_fd) || fail "the server has no inotify fd"

watches() {
	grep -c '^inotify wd:' "/proc/$pid/fdinfo/$ifd" || true
}

answers() {
	local body
	body=$(curl -sS --max-time 10 "http://127.0.0.1:$port/d/sub/x.txt" 2>&1) || return 1
	[ "$body" = inside ]
}

max_watches=0
for ((i = 1; i <= ROUNDS; i++)); do
	mv "$root/d" "$root/e"
	mv "$root/e" "$root/d"
	if ((i % 1000 == 0 || i == ROUNDS)); then
		kill -0 "$pid" 2>/dev/null || fail "the server died after $i round trips"
		answers || fail "no right answer after $i round trips"
		w=$(watches)
		((w > max_watches)) && max_watches=$w
		log "$i round trips: $w inotify watches"
	fi
	((SECONDS - START < LIMIT)) || fail "only $i of $ROUNDS round trips in $LIMIT s"
done

# Once the last events are applied, the watches are exactly the live
# directories.
answers || fail "no right answer after the renames"
for _ in $(seq 100); do
	w=$(watches)
	[ "$w" -eq "$dirs" ] && break
	sleep 0.1
done
[ "$w" -eq "$dirs" ] || fail "$w inotify watches at the end, $dirs directories"
# Between renames a moment with both the old and the new watch is fine.
((max_watches <= 2 * dirs)) || fail "up to $max_watches inotify watches for $dirs directories"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/server.log"; then
	fail "sanitizer report in the server log"
fi
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
printf 'live_rename: PASS: %d round trips in %d s, at most %d watches for %d directories\n' \
	"$ROUNDS" $((SECONDS - START)) "$max_watches" "$dirs"
