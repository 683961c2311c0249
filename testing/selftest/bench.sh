#!/bin/bash
# make bench's harness in its quick mode (8 resident IKE_SAs, a drain of 8,
# one handover per method): every N gets its row, its residents and its
# measured handovers, the drain moves every context and leaves none
# frozen, every drained node's traffic continued, and the table and the
# figures are written.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${CXTP_PREFIX:-$top/build/install}
. "$top/testing/lib/testbed.sh"
testbed_lock

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

BENCH_N="0 8" BENCH_HANDOVERS=1 BENCH_DRAIN=8 BENCH_OUT=$tmp/bench \
	"$top/testing/bench/run" > "$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make bench's quick mode failed"; }

# N|resident|setups/s|...|drained|...|frozen (fields 1, 2, 5, 12)
rows=$(cut -d'|' -f1,2,5,12 "$tmp/bench/data.txt")
[ "$rows" = "$(printf '0|0|8|0\n8|8|8|0')" ] ||
	fail "rows N|resident|drained|frozen are '$(echo $rows)', not '0|0|8|0 8|8|8|0'"
# drained nodes measured|continued (fields 16, 17): every one of the 8
# passed traffic through moon, never a second without an echo
traffic=$(cut -d'|' -f16,17 "$tmp/bench/data.txt")
[ "$traffic" = "$(printf '8|8\n8|8')" ] ||
	fail "drained nodes measured|continued are '$(echo $traffic)', not '8|8 8|8' (see $tmp/bench/bench.log)"
for n in 0 8; do
	for m in "CXTP" "IKEv2 PSK"; do
		grep -Eq "^$n\\|$m\\|[0-9.]+\\|" "$tmp/bench/handovers.txt" ||
			fail "no $m handover measured at N=$n"
	done
done
grep -q '^| 8 | [0-9.]* | [0-9.]* |' "$tmp/bench/table.md" || fail "no row for N=8 in the table"
[ "$(grep -Ec '^- .*[ ,:] (met|NOT met|not measured)$' "$tmp/bench/table.md")" = 5 ] || fail "not every goal is marked"
for f in delay rate; do
	grep -q '<svg' "$tmp/bench/$f.svg" 2>/dev/null || fail "no figure $f.svg"
done
! testbed_exists || fail "the bench left its testbed up"
echo "bench harness: 2 rows, drains of 8 complete, none frozen, their traffic continued, table and figures written"
