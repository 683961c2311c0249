#!/bin/bash
# The Wireshark dissector (contrib/wireshark/cxtp.lua) on every input of the
# fuzz corpora, framed as it travels (ICMPv6, ICMPv4, UDP 5091), cut at every
# length and mutated (testing/tools/cxtp-pcap): no frame raises a Lua error,
# the corpus messages decode as their type without an expert complaint, and
# every cut message over ICMP is flagged malformed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v tshark > /dev/null || { echo "no tshark (testing/bootstrap installs it)"; exit 1; }

"$top/testing/tools/cxtp-pcap" "$tmp/corpus.pcap" --mutations 5 \
	"$top"/fuzz/corpus/cxtp_message_parse "$top"/fuzz/corpus/cxtp_transport_receive \
	"$top"/fuzz/corpus/cxtp_icmp_receive > "$tmp/index.txt"

# one line per frame: number|protocol column|CXTP type|transport type|
# malformed messages|malformed datagrams|every expert message
tshark -X lua_script:"$top/contrib/wireshark/cxtp.lua" -r "$tmp/corpus.pcap" \
	-T fields -E separator='|' -E occurrence=a -E aggregator=';' \
	-e frame.number -e _ws.col.Protocol -e cxtp.type -e cxtp_udp.type \
	-e cxtp.malformed -e cxtp_udp.malformed -e _ws.expert.message \
	> "$tmp/fields.txt" 2> "$tmp/tshark.err"

frames=$(wc -l < "$tmp/index.txt")
[ "$(wc -l < "$tmp/fields.txt")" = "$frames" ] ||
	{ echo "tshark decoded $(wc -l < "$tmp/fields.txt") of $frames frames"; cat "$tmp/tshark.err"; exit 1; }
if grep -q 'Lua Error' "$tmp/fields.txt" "$tmp/tshark.err"; then
	grep -ho 'Lua Error: .*' "$tmp/fields.txt" "$tmp/tshark.err" | sed 's/;.*//' | sort | uniq -c
	echo "the dissector raised Lua errors in $(grep -c 'Lua Error' "$tmp/fields.txt") frames"
	exit 1
fi

# the index and tshark's fields side by side, checked frame by frame
paste -d'|' "$tmp/index.txt" "$tmp/fields.txt" | awk -F'|' '
	BEGIN {
		types["ctar"] = 1; types["ctaa"] = 2; types["ctd"] = 3
		types["pctd"] = 4; types["ctdr"] = 5; types["ctc"] = 6
		types["ctreq"] = 7
	}
	function fail(why) {
		print "frame " $2 " (" what " " how " " kind " " name "): " why
		bad++
	}
	{
		split($1, idx, " ")
		what = idx[2]; how = idx[3]; kind = idx[4]; name = idx[5]
		proto = $3; ctype = $4; ttype = $5; malformed = $6 $7
		counted[what]++
		if ($6 $7 $8 != "")
			flagged[what]++
		if (how ~ /^icmp/ && !(what == "cut" && name ~ /:0$/) && proto != "CXTP") {
			fail("protocol column " proto ", not CXTP")
			next
		}
		if (what == "valid") {
			if (malformed != "")
				fail("flagged malformed: " $8)
			base = name
			sub(/.*\//, "", base)
			sub(/^sealed-/, "", base)
			sub(/-.*/, "", base)
			if (how ~ /^icmp/ && kind != "packet" && ctype != types[base])
				fail("type " ctype ", expected " types[base])
			if (kind == "datagram" &&
				ttype != (base == "handshake" ? 2 : base == "batch" ? 3 : 1))
				fail("transport type " ttype)
		}
		if (what == "cut" && how ~ /^icmp/ && $6 == "")
			fail("cut message not flagged malformed")
	}
	END {
		for (w in counted)
			printf "%s: %d frames, %d with expert info\n", w, counted[w], flagged[w]
		exit bad > 0
	}'
echo "$frames frames decoded, no Lua error"
