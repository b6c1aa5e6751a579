#!/usr/bin/env bash
# tests/browser/run.sh - the real-browser test of --live (issue 7).
#
# Installs what is missing (Debian's chromium; playwright-core, pinned in
# package.json / package-lock.json, into tests/browser/node_modules), starts
# the already built server with --live on a page this script writes, and runs
# live.test.mjs: headless Chromium must show an edit of the HTML file without
# any action in the browser, a CSS edit without a reload, and an edit of a
# script (an old file, so heuristically cacheable) after the reload. Screenshots go
# to tests/browser/out/. Prints one PASS or FAIL line; exits non-zero on
# failure.
#
#   make && bash tests/browser/run.sh         (SHS_BIN overrides the binary)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
bin="${SHS_BIN:-$top/simple-http-server}"
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
out="$here/out"

fail() {
	echo "browser: FAIL: $*"
	exit 1
}

[ -x "$bin" ] || fail "$bin is not built (run make first)"

# ---- what the test needs ----

if ! command -v chromium >/dev/null || [ ! -x "$chromium_path" ]; then
	echo "== installing chromium"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[ -x "$chromium_path" ] || fail "no chromium at $chromium_path"
command -v node >/dev/null || fail "node is not installed"
command -v npm >/dev/null || fail "npm is not installed"

# The lockfile may name no host but the npm registry.
if grep -Eo '"resolved": *"[^"]*"' "$here/package-lock.json" |
	grep -Ev '"resolved": *"https://registry\.npmjs\.org/'; then
	fail "package-lock.json resolves packages from another host (above)"
fi

want="$(node -p "require('$here/package.json').devDependencies['playwright-core']")"
have="$(node -p "try { require('$here/node_modules/playwright-core/package.json').version }
	catch (e) { '' }")"
if [ "$have" != "$want" ]; then
	echo "== installing playwright-core $want (npm ci)"
	(cd "$here" && timeout 300 npm ci --no-audit --no-fund)
fi

# ---- the site and the server ----

tmp="$(mktemp -d /tmp/shs-browser-XXXXXX)"
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/site" "$out"
rm -f "$out"/*.png "$out"/*.log
cat >"$tmp/site/index.html" <<'EOF'
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>live reload test</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1 id="title">Before the edit</h1>
<p>This page is served by simple-http-server --live.</p>
<p id="js">no script yet</p>
<script src="/app.js"></script>
</body>
</html>
EOF
cat >"$tmp/site/style.css" <<'EOF'
body { font: 24px sans-serif; margin: 40px; background: rgb(255, 255, 255); }
h1 { color: rgb(200, 0, 0); }
EOF
cat >"$tmp/site/app.js" <<'EOF'
document.getElementById('js').textContent = 'script v1';
EOF
# Old enough that a browser would keep it for weeks by heuristic freshness
# (10% of its age) unless the server says Cache-Control: no-cache.
touch -d '2020-01-01 00:00:00' "$tmp/site/app.js"

"$bin" --live --port 0 --top-dir "$tmp/site" --access-log "$out/access.log" \
	>"$tmp/stdout" 2>"$out/server.log" &
pid=$!

# The first stdout line names the port; more lines follow in --live mode.
port=""
for _ in $(seq 100); do
	line="$(head -n 1 "$tmp/stdout")"
	if [[ "$line" =~ ^serving\ .*\ on\ http://127\.0\.0\.1:([0-9]+)/$ ]]; then
		port="${BASH_REMATCH[1]}"
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ] || fail "no startup line from $bin (got '$(head -n 1 "$tmp/stdout")')"

# ---- the browser ----

start=$SECONDS
status=0
CHROMIUM_PATH="$chromium_path" timeout 120 node "$here/live.test.mjs" \
	"http://127.0.0.1:$port/" "$tmp/site" "$out" || status=$?
[ "$status" -ne 124 ] || echo "browser: FAIL: the test took over 120 s and was stopped"

# The server must stop cleanly with the page's event stream still open.
kill -TERM "$pid"
server_status=0
wait "$pid" || server_status=$?
pid=""
if [ "$server_status" -ne 0 ]; then
	echo "browser: FAIL: the server exited with status $server_status after SIGTERM"
	[ "$status" -ne 0 ] || status=1
fi
echo "browser: $((SECONDS - start)) s; screenshots and logs in $out"
exit "$status"
