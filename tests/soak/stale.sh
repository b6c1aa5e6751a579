#!/usr/bin/env bash
# tests/soak/stale.sh - the small-file cache is never stale under load:
# 6,000 rounds of "write a small file, then GET it on a new connection"
# beside 8 connection-per-request clients, 0 stale answers allowed. It is
# the Check test fixes/cache (tests/check_fixes.c,
# test_cache_never_stale_under_load), run on its own; loopback only,
# bounded (the test times out after 120 s), the server stopped by PID.
#
#   SHS_BIN   the binary, default ./simple-http-server (built by make)
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s -j2 all build/check_runner
SHS_BIN=${SHS_BIN:-$PWD/simple-http-server} CK_RUN_SUITE=fixes CK_RUN_CASE=cache \
	./build/check_runner
