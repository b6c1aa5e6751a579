#!/bin/sh
# tests/layers.sh - the module call graph has no circle: no two source
# files (objects in BUILD) reach each other through the functions and data
# they use (nm: U = used, T/D/B/R = defined). doc/design.md draws the
# layers; this keeps them true. Exit 0 and "layers: N modules, no circle",
# or 1 with the circles found.
set -eu
build=${1:-build}
objs=$(ls "$build"/*.o 2>/dev/null | grep -v '/main\.o$' || true)
[ -n "$objs" ] || { echo "layers: no objects in $build (run make first)" >&2; exit 2; }
for o in $objs; do
	m=$(basename "$o" .o)
	nm "$o" | awk -v m="$m" 'NF == 3 && $2 ~ /^[TDBR]$/ { print "D", m, $3 } NF == 2 && $1 == "U" { print "U", m, $2 }'
done | awk '
	$1 == "D" { def[$3] = $2; mods[$2] = 1; next }
	{ use[++n] = $2 " " $3 }
	END {
		for (i = 1; i <= n; i++) {
			split(use[i], a, " ")
			if ((a[2] in def) && def[a[2]] != a[1])
				reach[a[1], def[a[2]]] = 1
		}
		for (k in mods) for (i in mods) if ((i, k) in reach)
			for (j in mods) if ((k, j) in reach) reach[i, j] = 1
		bad = 0; count = 0
		for (i in mods) {
			count++
			for (j in mods) if (i < j && (i, j) in reach && (j, i) in reach) {
				print "layers: " i " and " j " reach each other"
				bad = 1
			}
		}
		if (bad) exit 1
		print "layers: " count " modules, no circle"
	}'
