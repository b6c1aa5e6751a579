#!/usr/bin/env bash
# tests/soak/log_stall.sh - a log reader that stops must not stop the service
# (issue 11, item 2). Bounded: two phases of SOAK_REQUESTS requests each, every
# step under `timeout`; the server is stopped by PID at exit.
#
#   phase "pipe":   --access-log - with stdout a FIFO whose reader (cat) is
#                   stopped with SIGSTOP after the startup line;
#   phase "socket": --access-log - with stdout a unix stream socket (what
#                   journald gives a systemd unit) that is never read.
#
# In both, SOAK_REQUESTS keep-alive requests over 4 connections must all be
# answered 200 within SOAK_SECS, and the error log must report dropped lines.
#
#   SHS_BIN        the binary, default ./simple-http-server (built by make)
#   SOAK_REQUESTS  requests per phase, default 5000
#   SOAK_SECS      time allowed per phase, default 60
# Exits 0 when both phases pass, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/../.."
BIN=${SHS_BIN:-$PWD/simple-http-server}
REQUESTS=${SOAK_REQUESTS:-5000}
SECS=${SOAK_SECS:-60}
command -v python3 >/dev/null || { echo "log_stall: needs python3" >&2; exit 2; }
[ -x "$BIN" ] || { echo "log_stall: no $BIN (run make)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/shs-log-stall-XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/www"
printf 'hello, soak\n' >"$WORK/www/x.txt"

# Sends $REQUESTS requests to port $1 and checks the answers; prints a summary.
drive() {
	timeout "$SECS" python3 - "$1" "$REQUESTS" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
ua = "u" * 300
req = ("GET /x.txt HTTP/1.1\r\nHost: t\r\nUser-Agent: %s\r\n\r\n" % ua).encode()
conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
bufs = [b""] * 4
t0 = time.monotonic()
for i in range(n):
    k = i % 4
    c = conns[k]
    c.sendall(req)
    while b"\r\n\r\n" not in bufs[k] or len(bufs[k]) < bufs[k].index(b"\r\n\r\n") + 4 + 12:
        d = c.recv(65536)
        if not d:
            sys.exit("connection closed at request %d" % (i + 1))
        bufs[k] += d
    head, _, rest = bufs[k].partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        sys.exit("request %d: %r" % (i + 1, head[:40]))
    bufs[k] = rest[12:]
    # The server closes a connection after 1000 requests (keep-alive
    # limit), saying so: open a new one in its place.
    if b"\r\nConnection: close" in head:
        c.close()
        conns[k] = socket.create_connection(("127.0.0.1", port), timeout=10)
        bufs[k] = b""
dt = time.monotonic() - t0
print("%d requests in %.2f s (%.0f/s)" % (n, dt, n / dt))
PY
}

# Waits for the startup line in file $1; prints the port.
port_of() {
	local i
	for i in $(seq 1 200); do
		if grep -q '^serving .* on http://127.0.0.1:' "$1" 2>/dev/null; then
			sed -n 's|^serving .* on http://127.0.0.1:\([0-9]*\)/$|\1|p' "$1" | head -n 1
			return 0
		fi
		sleep 0.05
	done
	echo "log_stall: no startup line" >&2
	return 1
}

check_dropped() {
	local i
	for i in $(seq 1 100); do
		grep -q 'lines dropped (reader not keeping up)' "$1" && return 0
		sleep 0.1
	done
	echo "log_stall: no dropped-lines report in the error log" >&2
	return 1
}

fail=0

echo "== phase pipe: FIFO reader stopped"
mkfifo "$WORK/fifo"
# The reader copies the startup line to a file, then is stopped.
cat "$WORK/fifo" >"$WORK/pipe.out" &
CAT=$!
PIDS+=("$CAT")
"$BIN" --top-dir "$WORK/www" --port 0 --access-log - >"$WORK/fifo" 2>"$WORK/pipe.err" &
SRV=$!
PIDS+=("$SRV")
port=$(port_of "$WORK/pipe.out")
kill -STOP "$CAT"
if drive "$port" && check_dropped "$WORK/pipe.err"; then
	echo "pipe: ok ($(grep -c 'dropped' "$WORK/pipe.err") drop report(s))"
else
	echo "pipe: FAILED"; fail=1
fi
kill "$SRV"; kill -CONT "$CAT"; wait "$SRV" || true

echo "== phase socket: unix stream socket never read (journald)"
# python3 holds the socketpair, runs the server with stdout on one end and
# never reads the other; it prints the startup line it read byte by byte.
python3 - "$BIN" "$WORK" <<'PY' &
import os, socket, subprocess, sys, time
bin_, work = sys.argv[1], sys.argv[2]
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
b.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
with open(os.path.join(work, "sock.err"), "wb") as err:
    p = subprocess.Popen([bin_, "--top-dir", os.path.join(work, "www"), "--port", "0",
                          "--access-log", "-"], stdout=b.fileno(), stderr=err)
b.close()
line = b""
while not line.endswith(b"\n"):
    line += a.recv(1)
with open(os.path.join(work, "sock.out"), "wb") as f:
    f.write(line)
with open(os.path.join(work, "sock.pid"), "w") as f:
    f.write(str(p.pid))
time.sleep(float(os.environ.get("SOAK_SECS", "60")) + 30)  # hold the socket, never read
p.terminate()
p.wait()
PY
HOLDER=$!
PIDS+=("$HOLDER")
port=$(port_of "$WORK/sock.out")
if drive "$port" && check_dropped "$WORK/sock.err"; then
	echo "socket: ok ($(grep -c 'dropped' "$WORK/sock.err") drop report(s))"
else
	echo "socket: FAILED"; fail=1
fi
kill "$(cat "$WORK/sock.pid")" 2>/dev/null || true
kill "$HOLDER" 2>/dev/null || true

exit $fail
