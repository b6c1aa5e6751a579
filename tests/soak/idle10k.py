#!/usr/bin/env python3
"""Idle-connection memory: start the server with room for N clients, open N
keep-alive connections on 127.0.0.1, let each fetch one small file, keep them
all open, and report the server's resident memory before and after.

    python3 tests/soak/idle10k.py [./simple-http-server] [N=10000]

Bounded: at most N connections, each with a 10 s timeout; the server is
started on port 0 and stopped by its PID."""
import os, re, resource, signal, socket, subprocess, sys, tempfile

binary = sys.argv[1] if len(sys.argv) > 1 else "./simple-http-server"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
if hard < n + 64:
    sys.exit(f"open file limit {hard} is too low for {n} connections")

root = tempfile.mkdtemp(prefix="shs-idle-")
with open(os.path.join(root, "hello.txt"), "w") as f:
    f.write("Hello world!\n")
srv = subprocess.Popen([binary, "--top-dir", root, "--port", "0", "--no-access-log",
                        "--max-connections", str(n + 100), "--idle-timeout", "120"],
                       stdout=subprocess.PIPE, text=True)
try:
    port = int(re.search(r":(\d+)/$", srv.stdout.readline().strip()).group(1))

    def rss():
        with open(f"/proc/{srv.pid}/status") as f:
            return int(next(l for l in f if l.startswith("VmRSS")).split()[1])

    before = rss()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
        socks.append(s)
    for s in socks:
        data = b""
        while not data.endswith(b"Hello world!\n"):
            chunk = s.recv(4096)
            if not chunk:
                sys.exit("connection closed early")
            data += chunk
    after = rss()
    print(f"{n} idle keep-alive connections: RSS {before} KiB before, {after} KiB with "
          f"them open ({after / 1024:.1f} MiB, {(after - before) / n:.1f} KiB each)")
    for s in socks:
        s.close()
finally:
    srv.send_signal(signal.SIGTERM)
    srv.wait(timeout=10)
    os.unlink(os.path.join(root, "hello.txt"))
    os.rmdir(root)
