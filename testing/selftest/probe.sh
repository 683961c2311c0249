#!/bin/bash
# The probe tool: every probe echoed on loopback is logged, and "gaps" finds
# an outage of known length in a log with a hole in it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
probe=$top/testing/tools/probe
tmp=$(mktemp -d)
trap 'kill $echo_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT

port=$((20000 + RANDOM % 20000))
"$probe" echo -p "$port" -b 127.0.0.1 &
echo_pid=$!
# the echo side is ready once it answers
for _ in $(seq 100); do
	"$probe" send -d 127.0.0.1 -p "$port" -c 1 -o "$tmp/ready.log" 2>/dev/null
	grep -q "received=1" "$tmp/ready.log" && break
done
"$probe" send -d 127.0.0.1 -p "$port" -c 300 -o "$tmp/send.log"
head -1 "$tmp/send.log" | grep -q "sent=300 received=300 " ||
	{ echo "not every probe came back: $(head -1 "$tmp/send.log")"; exit 1; }
[ "$(grep -vc '^#' "$tmp/send.log")" = 300 ] || { echo "log lines missing"; exit 1; }

# probes 0-39 and 60-99 came back, 1 ms apart, each after 100 us
{
	echo "# probe interval_us=1000 sent=100 received=80 send_errors=0"
	for s in $(seq 0 39) $(seq 60 99); do
		echo "$s $((1000000000 + s * 1000000)) $((1000000000 + s * 1000000 + 100000))"
	done
} > "$tmp/hole.log"
"$probe" gaps "$tmp/hole.log" -t 5 > "$tmp/gaps.txt"
cat "$tmp/gaps.txt"
# from probe 39 sent (t=39 ms) to the echo of probe 60 (t=60.1 ms)
grep -q "^gap 40 59 lost=20 .*ms=21.100" "$tmp/gaps.txt" || { echo "wrong gap"; exit 1; }
grep -q "lost=20 gaps=1 longest_ms=21.100" "$tmp/gaps.txt" || { echo "wrong summary"; exit 1; }
