#!/bin/bash
# The demo's probe timeline: "save" keeps the echoes from the longest gap
# before the first signalling packet to 20 ms after the first probe back,
# in ms relative to that packet; "plot" draws each method's median handover.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
timeline=$top/testing/bin/probe-timeline
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# probes 1 ms apart, each echoed after 0.1 ms, 300-339 lost; the first
# signalling packet at 1000.330 s, the first probe back 5 ms later
{
	echo "# probe interval_us=1000 sent=400 received=360 send_errors=0"
	for s in $(seq 0 299) $(seq 340 399); do
		echo "$s $((1000000000000 + s * 1000000)) $((1000000000000 + s * 1000000 + 100000))"
	done
} > "$tmp/probe.log"
"$timeline" save "$tmp/probe.log" 1000.330 "CXTP|5.000|1|92|40.000" > "$tmp/1.txt"
head -1 "$tmp/1.txt" | grep -qx '# CXTP|5.000|1|92|40.000' || { echo "no header: $(head -1 "$tmp/1.txt")"; exit 1; }
# from -60 ms (gap 40 + 20) to +25 ms: probes 270-299 and 340-354
first=$(sed -n 2p "$tmp/1.txt") last=$(tail -1 "$tmp/1.txt")
[ "$first" = "-59.900 0" ] || { echo "first echo '$first', expected '-59.900 0'"; exit 1; }
[ "$last" = "24.100 84" ] || { echo "last echo '$last', expected '24.100 84'"; exit 1; }
[ "$(grep -vc '^#' "$tmp/1.txt")" = 45 ] || { echo "$(grep -vc "^#" "$tmp/1.txt") echoes, expected 45"; exit 1; }

# three handovers of one method and one of another: two panels, the median
mkdir "$tmp/timelines"
for d in 9.000 5.000 7.000; do
	"$timeline" save "$tmp/probe.log" 1000.330 "IKEv2 PSK|$d|4|1344|40.000" > "$tmp/timelines/$(($(ls "$tmp/timelines" | wc -l) + 1)).txt"
done
cp "$tmp/1.txt" "$tmp/timelines/4.txt"
"$timeline" plot "$tmp/timelines" "$tmp/timeline.png"
[ "$(head -c 8 "$tmp/timeline.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || { echo "no PNG written"; exit 1; }
echo "timeline saved and plotted"
