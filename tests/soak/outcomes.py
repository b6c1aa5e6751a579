#!/usr/bin/env python3
"""Every request's outcome at high concurrency, from the client side: C
asyncio clients fetch a 13 B file for SECS seconds (keep-alive, or a new
connection per request with --new), each request with a 10 s deadline, and
the script counts answers that are right, wrong, late or cut. siege and ab
report averages (and siege -c 1000 sometimes never ends here); this says
whether any single request went unanswered.

    python3 tests/soak/outcomes.py [./simple-http-server] [C=1000] [SECS=8] [--new]

Exit 0 when every request got its 200 and body, else 1. Loopback only; the
server is started on port 0 and stopped by its PID (SIGTERM)."""
import asyncio, os, re, resource, subprocess, sys, tempfile, time

args = [a for a in sys.argv[1:] if a != "--new"]
new_conn = "--new" in sys.argv[1:]
binary = args[0] if args else "./simple-http-server"
conc = int(args[1]) if len(args) > 1 else 1000
secs = float(args[2]) if len(args) > 2 else 8.0
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

root = tempfile.mkdtemp(prefix="shs-outcomes-")
BODY = b"Hello world!\n"
with open(os.path.join(root, "x.txt"), "wb") as f:
    f.write(BODY)
srv = subprocess.Popen([binary, "--top-dir", root, "--port", "0", "--no-access-log",
                        "--max-connections", str(conc + 100)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)/", srv.stdout.readline()).group(1))
req = b"GET /x.txt HTTP/1.1\r\nHost: a\r\n" + (b"Connection: close\r\n" if new_conn else b"") + b"\r\n"
stats = {"ok": 0, "wrong": 0, "late": 0, "cut": 0}


async def client(end):
    r = w = None
    while time.monotonic() < end:
        try:
            if r is None:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            w.write(req)
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
            body = await asyncio.wait_for(r.readexactly(len(BODY)), 10)
            ok = head.startswith(b"HTTP/1.1 200 ") and body == BODY
            stats["ok" if ok else "wrong"] += 1
            if new_conn or b"\r\nConnection: close" in head:
                w.close()
                r = w = None
        except asyncio.TimeoutError:
            stats["late"] += 1
            r = w = None
        except (OSError, asyncio.IncompleteReadError):
            stats["cut"] += 1
            r = w = None


async def main():
    end = time.monotonic() + secs
    await asyncio.gather(*(client(end) for _ in range(conc)))


try:
    asyncio.run(main())
finally:
    srv.terminate()
    srv.wait(timeout=15)
print("%d clients, %s, %.0f s: %d ok, %d wrong, %d late (>10 s), %d cut" %
      (conc, "new connection per request" if new_conn else "keep-alive", secs,
       stats["ok"], stats["wrong"], stats["late"], stats["cut"]))
sys.exit(0 if stats["ok"] and not (stats["wrong"] or stats["late"] or stats["cut"]) else 1)
