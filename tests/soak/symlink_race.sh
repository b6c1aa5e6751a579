#!/usr/bin/env bash
# tests/soak/symlink_race.sh - a symlink swapped in and out of the top dir
# never serves what lies outside it (nor a dotfile inside it) without
# --follow-symlinks: a child renames root/swap between in.txt, an absolute
# and a relative link out of the top dir, and .hidden, as fast as it can,
# while one keep-alive client asks for /swap 10,000 times; every answer must
# be "INSIDE" or a 403/404, and both must occur. It is the Check test
# refusals/race (tests/check_refusals.c, test_race_symlink_swap), run on its
# own; loopback only, bounded (the test times out after 120 s, the swapper
# after alarm(120)), the server and the swapper stopped by PID.
#
#   SHS_BIN   the binary, default ./simple-http-server (built by make)
#   ASAN=1    run it under ASan+UBSan (make asan's build) instead
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${ASAN:-0}" = 1 ]; then
	CK_RUN_SUITE=refusals CK_RUN_CASE=race make asan
	exit
fi
make -s -j2 all build/check_runner
SHS_BIN=${SHS_BIN:-$PWD/simple-http-server} CK_RUN_SUITE=refusals CK_RUN_CASE=race \
	./build/check_runner
