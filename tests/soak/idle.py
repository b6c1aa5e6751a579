#!/usr/bin/env python3
"""Idle keep-alive memory and liveness: N connections that each fetched one
13 B file and stay open.

    python3 tests/soak/idle.py [BINARY] [N]          start BINARY, measure it
    python3 tests/soak/idle.py --port P --pid PID [N] measure a running server

BINARY defaults to ./simple-http-server and N to 10000. Started by us, the
server gets a temporary document root with hello.txt ("Hello world!\\n"),
--port 0, --no-access-log, --max-connections (N + 100, or --max-connections),
a long --idle-timeout and --workers K when given; it is stopped by its PID
however we exit. With --port/--pid the server must serve /hello.txt with that
body on 127.0.0.1 (or --host) and keep idle connections open long enough.

1. one warm-up connection fetches the file twice and closes; then the server's
   RSS is read: VmRSS of PID plus every descendant (the --workers children);
2. N connections, each bound to one of --sources round-robin, connect and
   fetch the file once (in batches, so the listen queue never overflows),
   spread over client processes of at most --per-process connections each,
   so no client process nears its open-file limit;
3. RSS again: prints "N connections: X bytes per connection (RSS before B
   KiB, after A KiB)";
4. every connection sends a second request, all at once; each must get the
   200 and body within --deadline seconds of its own send; prints how many
   did and how long the slowest took;
5. closes everything; exit 0 if all N connected and all N answered, 1 if
   not, 2 if the run could not start or hit the --timeout.

Client sockets use IP_BIND_ADDRESS_NO_PORT, so each source address has the
whole ephemeral port range for its connections to the one server port: about
28,000 with the default range. The default --sources is enough addresses
from 127.0.0.2 up for at most 20,000 connections each. Loopback only."""
import argparse, json, os, re, resource, select, selectors, signal, socket
import subprocess, sys, tempfile, time

BODY = b"Hello world!\n"
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h
BATCH = 200


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?", default="./simple-http-server",
                    help="server to start (ignored with --pid)")
    ap.add_argument("n", nargs="?", type=int, default=10000, help="connections (10000)")
    ap.add_argument("--n", dest="n_opt", type=int, help="connections, as an option")
    ap.add_argument("--port", type=int, help="port of a running server (with --pid)")
    ap.add_argument("--pid", type=int, help="PID of that running server")
    ap.add_argument("--host", default="127.0.0.1", help="server address (127.0.0.1)")
    ap.add_argument("--path", default="/hello.txt", help="path to fetch (/hello.txt)")
    ap.add_argument("--sources", default="auto",
                    help="comma-separated client source addresses (default: "
                    "127.0.0.2 up, one per 20,000 connections)")
    ap.add_argument("--per-process", type=int, default=10000,
                    help="connections per client process (10000)")
    ap.add_argument("--workers", type=int, help="--workers K for the server we start")
    ap.add_argument("--max-connections", type=int,
                    help="--max-connections for the server we start (N + 100)")
    ap.add_argument("--answer-timeout", type=float, default=30.0,
                    help="seconds each batch of first requests may take (30)")
    ap.add_argument("--deadline", type=float, default=60.0,
                    help="seconds each second request may take (60)")
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="seconds the whole run may take (900)")
    a = ap.parse_args()
    if a.pid is not None and a.binary.isdigit():
        a.n = int(a.binary)  # idle.py --port P --pid PID N
    if a.n_opt is not None:
        a.n = a.n_opt
    if (a.port is None) != (a.pid is None):
        ap.error("--port and --pid go together")
    if a.n < 1 or a.per_process < 1:
        ap.error("N and --per-process must be positive")
    if a.sources == "auto":
        k = (a.n + 19999) // 20000
        a.sources = [f"127.0.0.{2 + i}" for i in range(k)]
    else:
        a.sources = [s for s in a.sources.split(",") if s]
    for s in a.sources + [a.host]:
        if not re.fullmatch(r"127\.\d+\.\d+\.\d+", s):
            ap.error(f"{s}: IPv4 loopback addresses (127.x.y.z) only")
    return a


# ---- the server's memory ----
def descendants(pid):
    """pid and every live descendant, from the PPid of each /proc entry."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kib(pid):
    """VmRSS of pid and its descendants, KiB."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += int(next(l for l in f if l.startswith("VmRSS")).split()[1])
        except (OSError, StopIteration):
            pass  # gone, or a zombie
    return total


# ---- HTTP ----
def request(host, path):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def parse(buf):
    """None while incomplete, else (status, body, rest)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head)
    if not m:
        return (0, b"", b"")
    cl = re.search(r"(?im)^content-length:\s*(\d+)\s*$", head)
    n = int(cl.group(1)) if cl else 0
    if len(buf) < end + 4 + n:
        return None
    return (int(m.group(1)), buf[end + 4:end + 4 + n], buf[end + 4 + n:])


def check(res):
    st, body, rest = res
    if st != 200:
        return f"status {st}"
    if body != BODY:
        return f"body {body[:40]!r}"
    if rest:
        return f"{len(rest)} unexpected bytes after the response"
    return None


def read_response(s, deadline):
    """Read one response from blocking socket s: error text or None."""
    buf = b""
    while True:
        res = parse(buf)
        if res:
            return check(res)
        left = deadline - time.monotonic()
        if left <= 0:
            return "no answer in time"
        s.settimeout(left)
        chunk = s.recv(65536)
        if not chunk:
            return "closed by the server"
        buf += chunk


def fetch(s, req, deadline):
    """Send req on blocking socket s and read one response: error or None."""
    s.sendall(req)
    return read_response(s, deadline)


# ---- a client process ----
def send_msg(fd, obj):
    os.write(fd, (json.dumps(obj) + "\n").encode())


def client(a, first, count, port, rd, wr):
    """Connections first .. first+count-1; talks to the parent over rd/wr."""
    signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
    signal.alarm(int(a.timeout) + 30)
    req = request(a.host, a.path)
    socks, err = [], None
    t0 = time.monotonic()
    for b in range(first, first + count, BATCH):
        batch = []
        for j in range(b, min(b + BATCH, first + count)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            src = a.sources[j % len(a.sources)]
            try:
                s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                s.bind((src, 0))
                s.settimeout(a.answer_timeout)
                s.connect((a.host, port))
                s.sendall(req)
            except OSError as e:
                err = f"connection {j} from {src}: {e}"
                s.close()
                break
            batch.append(s)
        # Read the batch's answers (also after a failed connect, so that
        # the count of connections held is exact).
        deadline = time.monotonic() + a.answer_timeout
        for k, s in enumerate(batch):
            try:
                e = read_response(s, deadline)
            except OSError as ex:
                e = str(ex)
            if e:
                err = err or f"connection {b + k}, first request: {e}"
                for x in batch[k:]:
                    x.close()
                break
            socks.append(s)
        if err:
            break
    send_msg(wr, {"connected": len(socks), "error": err, "secs": time.monotonic() - t0})

    # Wait for the parent: "go" (second request) or "stop".
    line = os.read(rd, 64)
    if not line.startswith(b"go"):
        os._exit(0)
    sel = selectors.DefaultSelector()
    sent, bufs, done, fails, slowest = {}, {}, 0, [], 0.0
    for s in socks:
        s.setblocking(False)
    t1 = time.monotonic()
    for s in socks:
        try:
            s.send(req)  # 40 bytes into an empty socket buffer
            sent[s] = time.monotonic()
            bufs[s] = b""
            sel.register(s, selectors.EVENT_READ)
        except OSError as ex:
            fails.append(f"send: {ex}")
    deadline_abs = t1 + a.deadline + 5
    while sent and time.monotonic() < deadline_abs:
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError as ex:
                chunk, e = None, str(ex)
            now = time.monotonic()
            if not chunk:
                fails.append(e if chunk is None else "closed by the server")
                sel.unregister(s)
                del sent[s]
                continue
            bufs[s] += chunk
            res = parse(bufs[s])
            if res is None:
                continue
            took = now - sent[s]
            e = check(res)
            if e:
                fails.append(e)
            elif took > a.deadline:
                fails.append(f"answered after {took:.1f} s")
            else:
                done += 1
            slowest = max(slowest, took)
            sel.unregister(s)
            del sent[s]
    if sent:
        fails.extend(["no answer in time"] * len(sent))
    t2 = time.monotonic()
    for s in socks:
        s.close()
    send_msg(wr, {"answered": done, "failed": len(fails), "fails": fails[:5],
                  "slowest": slowest, "secs": t2 - t1})
    os._exit(0)


def main():
    a = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    per = min(a.per_process, hard - 64)
    if per < 1:
        sys.exit(f"open file limit {hard} is too low")
    nproc = (a.n + per - 1) // per

    srv, root, pid, port = None, None, a.pid, a.port
    kids = []

    def stop_all(*_):
        for k in kids:
            try:
                os.kill(k["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        if srv is not None and srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=15)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()
        if root:
            try:
                os.unlink(os.path.join(root, "hello.txt"))
                os.rmdir(root)
            except OSError:
                pass

    def timeout(*_):
        print(f"FAIL: the run took more than {a.timeout:.0f} s (--timeout)", flush=True)
        stop_all()
        os._exit(2)

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(int(a.timeout))
    rc = 2
    try:
        if pid is None:
            root = tempfile.mkdtemp(prefix="shs-idle-")
            with open(os.path.join(root, "hello.txt"), "wb") as f:
                f.write(BODY)
            cmd = [a.binary, "--top-dir", root, "--host", a.host, "--port", "0",
                   "--no-access-log", "-q", "--idle-timeout", str(int(a.timeout) + 60),
                   "--max-connections", str(a.max_connections or a.n + 100)]
            if a.workers:
                cmd += ["--workers", str(a.workers)]
            srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            line = srv.stdout.readline().strip()
            m = re.search(r":(\d+)/$", line)
            if not m:
                print(f"FAIL: no port in the server's first line {line!r}")
                return 2
            pid, port = srv.pid, int(m.group(1))
            # --workers: wait until every worker is there, so their start-up
            # memory is in the first figure.
            t = time.monotonic() + 10
            while a.workers and len(descendants(pid)) < a.workers + 1 and time.monotonic() < t:
                time.sleep(0.05)
        if not os.path.exists(f"/proc/{pid}"):
            print(f"FAIL: no process {pid}")
            return 2

        # Warm-up: one connection, two requests; one-off allocations
        # (the file, caches) do not count as per-connection memory.
        req = request(a.host, a.path)
        w = socket.create_connection((a.host, port), timeout=10)
        for _ in range(2):
            e = fetch(w, req, time.monotonic() + 10)
            if e:
                print(f"FAIL: warm-up request: {e}")
                return 2
        w.close()
        time.sleep(0.5)  # let the server see the close
        before = rss_kib(pid)
        procs = len(descendants(pid))

        t0 = time.monotonic()
        for i in range(nproc):
            first, count = i * per, min(per, a.n - i * per)
            p_rd, c_wr = os.pipe()
            c_rd, p_wr = os.pipe()
            child = os.fork()
            if child == 0:
                os.close(p_rd)
                os.close(p_wr)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                try:
                    client(a, first, count, port, c_rd, c_wr)
                finally:
                    os._exit(3)
            os.close(c_rd)
            os.close(c_wr)
            kids.append({"pid": child, "rd": os.fdopen(p_rd), "wr": p_wr})

        def gather():
            out = []
            for k in kids:
                line = k["rd"].readline()
                if not line:
                    out.append(None)
                else:
                    out.append(json.loads(line))
            return out

        first = gather()
        t_conn = time.monotonic() - t0
        after = rss_kib(pid)
        connected = sum(r["connected"] for r in first if r)
        errors = [r["error"] for r in first if r and r["error"]]
        errors += ["a client process died"] * sum(1 for r in first if r is None)
        per_conn = (after - before) * 1024 / connected if connected else 0
        print(f"{connected} connections: {per_conn:.0f} bytes per connection "
              f"(RSS before {before} KiB, after {after} KiB)", flush=True)
        print(f"  server: {procs} process(es); clients: {nproc} process(es), "
              f"sources {','.join(a.sources)}; all connected and fetched in {t_conn:.1f} s",
              flush=True)
        for e in errors:
            print(f"FAIL: {e}", flush=True)

        for k in kids:
            os.write(k["wr"], b"go\n")
        second = gather()
        answered = sum(r["answered"] for r in second if r)
        failed = sum(r["failed"] for r in second if r)
        slowest = max([r["slowest"] for r in second if r] or [0])
        burst = max([r["secs"] for r in second if r] or [0])
        print(f"second request: {answered}/{connected} answered 200 within "
              f"{a.deadline:.0f} s; slowest {slowest * 1000:.0f} ms "
              f"(all {connected} sent at once, all done in {burst:.1f} s)", flush=True)
        for r in second:
            if r is None:
                print("FAIL: a client process died", flush=True)
            elif r["failed"]:
                print(f"FAIL: {r['failed']} second requests failed: {'; '.join(r['fails'])}",
                      flush=True)
        for k in kids:
            os.waitpid(k["pid"], 0)
        kids.clear()
        ok = not errors and connected == a.n and answered == a.n and failed == 0
        if not ok and connected != a.n:
            print(f"FAIL: {connected} of {a.n} connections held", flush=True)
        rc = 0 if ok else 1
        return rc
    finally:
        signal.alarm(0)
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
