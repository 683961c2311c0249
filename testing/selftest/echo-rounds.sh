#!/bin/bash
# The echo-rounds tool (the bench's drained nodes' traffic): from each of 50
# addresses of a device, in a network namespace of its own, every round is
# answered by probe echo; two sources whose datagrams are dropped for six
# rounds are the only ones with unanswered rounds, and their silence shows
# it; each round's line is in the report as soon as its echoes are in (the
# bench waits on them), the sources' lines when it stops.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tools=$top/testing/tools
ns=cxtp-selftest-rounds-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ ! -s "$tmp/report" ] || sed 's/^/  /' "$tmp/report"; exit 1; }
x() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
x ip link set lo up
x ip link add va type veth peer name vb
x ip link set va up
x ip link set vb up
for i in $(seq 1 50); do
	echo "addr add 10.201.0.$i/32 dev va"
done | x ip -b -
x ip addr add 10.100.0.1/32 dev lo
# (not through x: the pid must be the tool's, not a subshell's)
ip netns exec "$ns" "$tools/probe" echo -p 7000 -b 10.100.0.1 2> /dev/null &
pids+=($!)
for _ in $(seq 100); do
	x "$tools/probe" send -d 10.100.0.1 -p 7000 -c 1 -o "$tmp/ready" 2> /dev/null
	grep -q "received=1" "$tmp/ready" && break
done

# rounds every 50 ms; echoes late by up to 2 s still count (a loaded
# machine must not make this test's sources lose rounds)
ip netns exec "$ns" "$tools/echo-rounds" -d 10.100.0.1 -I va -i 50 -w 2000 \
	-o "$tmp/report" 2> "$tmp/summary" &
rounds_pid=$!
pids+=("$rounds_pid")

# wait_lines N: until N rounds' lines are in the report (at most 20 s)
wait_lines() {
	local deadline=$((SECONDS + 20))
	until [ "$(awk '$1 == "round" { n++ } END { print n + 0 }' "$tmp/report" 2> /dev/null || echo 0)" -ge "$1" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "not $1 rounds in the report after 20 s"
		sleep 0.05
	done
}
wait_lines 2
x nft add table ip cut
x nft add chain ip cut in '{ type filter hook input priority 0; }'
x nft add rule ip cut in ip saddr '{ 10.201.0.7, 10.201.0.31 }' udp dport 7000 drop
wait_lines 8
x nft delete table ip cut
wait_lines 50
kill -TERM "$rounds_pid"
wait "$rounds_pid" || fail "echo-rounds exited with $?"

head -1 "$tmp/report" | grep -q '^# echo-rounds interval_ms=50 timeout_ms=2000 sources=50$' ||
	fail "header is '$(head -1 "$tmp/report")'"
rounds=$(sed -n 's/^# end rounds=\([0-9]*\) send_errors=0 .*/\1/p' "$tmp/report")
[ -n "$rounds" ] && [ "$rounds" = "$(grep -c '^round ' "$tmp/report")" ] ||
	fail "no end line with send_errors=0, or not a line per round"
# source ADDR ANSWERED LONGEST_RUN RUN_START SILENCE_MS SILENCE_START_S
awk -v r="$rounds" '
	$1 == "source" && $2 != "10.201.0.7" && $2 != "10.201.0.31" {
		n++
		if ($3 != r || $4 != 0 || $5 != "-" || $6 >= 1000) bad = bad " " $2
	}
	$1 == "source" && ($2 == "10.201.0.7" || $2 == "10.201.0.31") {
		cut++
		# dropped for six rounds (and a few more: the rule is changed
		# as lines come in): unanswered rounds, and silent as long
		if ($4 < 4 || $4 > 20 || $3 != r - $4 || $6 < 200) bad = bad " " $2
	}
	END { exit !(n == 48 && cut == 2 && bad == "") }' "$tmp/report" ||
	fail "the 48 sources not dropped must answer every round and the 2 dropped ones miss 4 to 20 in a row"
grep -q "^echo-rounds: $rounds rounds of 50 sources, 48 answered every round, longest silence [0-9]* ms (10.201.0.\(7\|31\))" "$tmp/summary" ||
	fail "summary is '$(cat "$tmp/summary")'"
echo "echo-rounds: $rounds rounds of 50 sources, the 2 cut off for six rounds found: $(grep -E '^source 10.201.0.(7|31) ' "$tmp/report" | cut -d' ' -f2,4,6 | tr '\n' ' ')"
