#!/bin/bash
# The testbed builds the topology, configures each node from the defaults
# with the scenario's files in their place, refuses to start over a
# half-built one, and leaves nothing behind: not after 'down', not after a
# failing scenario, not after an interrupted one.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
testbed=$top/testing/testbed
fixtures=$top/testing/selftest/fixtures
prefix=${CXTP_PREFIX:-$top/build/install}
. "$top/testing/lib/testbed.sh"
testbed_lock

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() { echo "FAIL: $*"; "$testbed" down > /dev/null 2>&1 || true; exit 1; }

leftovers() {
	ip netns list | grep "^$NS_PREFIX" || true
	grep " $state/" /proc/mounts || true
}

# what a node reads as its swanctl.conf and strongswan.conf (the testbed's
# strongswan.conf includes the node's own, then adds where it logs)
seen_swanctl_conf() {
	"$testbed" exec "$1" cat "$prefix/etc/swanctl/swanctl.conf"
}
seen_strongswan_conf() {
	local inc
	inc=$("$testbed" exec "$1" cat "$prefix/etc/strongswan.conf" | sed -n 's/^include //p')
	[ -n "$inc" ] && "$testbed" exec "$1" cat "$inc"
}

[ -z "$(leftovers)" ] || fail "a testbed is already up: $(leftovers)"

"$testbed" up "$fixtures/override"
# the scenario's file replaces the default, the other defaults stay
seen_strongswan_conf moon | cmp -s - "$fixtures/override/hosts/moon/etc/strongswan.conf" ||
	fail "moon does not read the scenario's strongswan.conf"
seen_swanctl_conf moon | cmp -s - "$top/testing/nodes/moon/etc/swanctl/swanctl.conf" ||
	fail "moon does not read its default swanctl.conf"
seen_swanctl_conf carol | cmp -s - "$top/testing/nodes/carol/etc/swanctl/swanctl.conf" ||
	fail "carol does not read its default swanctl.conf"
# the MN reaches pAR, pAR the correspondent, the ARs each other; but the
# ARs forward no clear traffic from their access links
"$testbed" exec carol ping -c 1 -W 1 "$MOON_ACCESS6" > /dev/null || fail "carol cannot reach moon"
"$testbed" exec moon ping -c 1 -W 1 "$ALICE4" > /dev/null || fail "moon cannot reach alice"
"$testbed" exec moon ping -c 1 -W 1 "$SUN_AR6" > /dev/null || fail "moon cannot reach sun"
if "$testbed" exec carol ping -c 1 -W 1 "$ALICE4" > /dev/null; then
	fail "moon forwards clear traffic from carol"
fi
# each node has its own /run
"$testbed" exec moon touch /run/moon-only
"$testbed" exec sun test ! -e /run/moon-only || fail "nodes share /run"
if "$testbed" up 2> err.txt; then fail "a second 'up' succeeded"; fi
grep -q "already up or half-built" err.txt || fail "no clear message for a second 'up': $(cat err.txt)"
rm -f err.txt
"$testbed" move carol nar
"$testbed" exec carol ping -c 1 -W 1 "$SUN_ACCESS6" > /dev/null || fail "carol cannot reach sun after the move"
if "$testbed" exec carol ping -c 1 -W 1 "$MOON_ACCESS6" > /dev/null; then
	fail "carol still reaches moon after the move"
fi
"$testbed" down
[ -z "$(leftovers)" ] || fail "left behind after down: $(leftovers)"

# half-built: one namespace of ours without the rest
ip netns add "$(netns moon)"
if "$testbed" up 2> err.txt; then fail "'up' over a half-built testbed succeeded"; fi
grep -q "already up or half-built" err.txt || fail "no clear message: $(cat err.txt)"
rm -f err.txt
"$testbed" down
[ -z "$(leftovers)" ] || fail "left behind after down of a half-built testbed: $(leftovers)"

# a scenario whose pretest fails is reported and cleaned up
if "$top/testing/run-scenario" "$fixtures/failing" > out.txt 2>&1; then fail "failing scenario passed"; fi
grep -q "^FAIL" out.txt || fail "failing scenario not reported: $(cat out.txt)"
rm -f out.txt
[ -z "$(leftovers)" ] || fail "left behind after a failing scenario: $(leftovers)"

# a scenario whose checks all hold fails all the same when its posttest
# fails, or when it leaves something behind (here, an XFRM policy)
if "$top/testing/run-scenario" "$fixtures/posttest-failing" > out.txt 2>&1; then
	fail "scenario with a failing posttest passed"
fi
grep -q "posttest failed: carol::false" out.txt || fail "failing posttest not reported: $(cat out.txt)"
if "$top/testing/run-scenario" "$fixtures/leftover" > out.txt 2>&1; then
	fail "scenario leaving an XFRM policy passed"
fi
grep -q "leftover: moon: XFRM policy src 10.1.0.0/16 dst 10.2.0.0/16" out.txt ||
	fail "leftover XFRM policy not reported: $(cat out.txt)"
rm -f out.txt
[ -z "$(leftovers)" ] || fail "left behind after a scenario with leftovers: $(leftovers)"

# an interrupted scenario is cleaned up too
setsid "$top/testing/run-scenario" "$fixtures/blocking" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
	[ -e "$state/moon/blocked" ] && break
	sleep 0.05
done
[ -e "$state/moon/blocked" ] || fail "blocking scenario did not start"
kill -TERM -- -"$pid"
wait "$pid" || true
[ -z "$(leftovers)" ] || fail "left behind after an interrupted scenario: $(leftovers)"
# with an attacker: mallory on sun's access link, which carol still
# reaches after its move; nothing of mallory's left after down
"$testbed" up "$fixtures/attacker"
"$testbed" exec mallory ping -c 1 -W 1 "$SUN_ACCESS6" > /dev/null || fail "mallory cannot reach sun"
"$testbed" move carol nar
"$testbed" exec carol ping -c 1 -W 1 "$SUN_ACCESS6" > /dev/null || fail "carol cannot reach sun beside mallory"
"$testbed" exec carol ping -c 1 -W 1 "$MALLORY_NAR6" > /dev/null || fail "carol and mallory are not on one link"
"$testbed" down
[ -z "$(leftovers)" ] || fail "left behind after down with mallory: $(leftovers)"
# and without one, sun's access link is the plain veth again
"$testbed" up
"$testbed" exec sun ip -d link show eth0 | grep -qw veth || fail "sun's eth0 is no veth without mallory"
"$testbed" exec mallory true 2> /dev/null && fail "mallory is up without being asked for"
"$testbed" exec moon ip -br addr show eth0 | grep -q "$ANYCAST6" && fail "moon has the anycast address without being asked for"
[ "$("$testbed" exec carol sh -c 'command -v swanctl')" = "$prefix/sbin/swanctl" ] ||
	fail "carol does not run the install prefix's swanctl"
"$testbed" down
# a stock node: Debian's charon and swanctl, reading the node's files at
# /etc (the host's stay as they are); the anycast address on both routers,
# reached through the router of carol's link
"$testbed" up "$fixtures/stock"
[ "$("$testbed" exec carol sh -c 'command -v swanctl')" = /usr/sbin/swanctl ] ||
	fail "stock carol does not run Debian's swanctl"
[ "$("$testbed" exec moon sh -c 'command -v swanctl')" = "$prefix/sbin/swanctl" ] ||
	fail "moon does not run the install prefix's swanctl beside a stock carol"
"$testbed" exec carol cat /etc/swanctl/swanctl.conf | cmp -s - "$top/testing/nodes/carol/etc/swanctl/swanctl.conf" ||
	fail "stock carol does not read its swanctl.conf at /etc/swanctl"
"$testbed" exec carol grep -q "^include $state/carol/etc/strongswan.conf" /etc/strongswan.conf ||
	fail "stock carol does not read its strongswan.conf at /etc"
[ -z "$("$testbed" exec carol ls -A /etc/strongswan.d)" ] || fail "stock carol sees Debian's strongswan.d"
grep -q "$state" /etc/strongswan.conf && fail "the host's /etc/strongswan.conf is the node's"
"$testbed" exec carol systemctl start strongswan
[ "$("$testbed" exec carol sh -c 'readlink /proc/$(cat $CXTP_STATE/carol/charon.pid)/exe')" = /usr/lib/ipsec/charon ] ||
	fail "stock carol's systemctl did not start Debian's charon"
"$testbed" exec carol swanctl --stats | grep -q 'loaded plugins: charon .*kernel-libipsec kernel-netlink' ||
	fail "stock carol's charon did not load its plugins"
"$testbed" exec carol systemctl stop strongswan
for n in moon sun; do
	"$testbed" exec "$n" ip -br addr show eth0 | grep -q "$ANYCAST6/128" || fail "$n has not the anycast address"
done
"$testbed" exec carol ip -6 route get "$ANYCAST6" | grep -q "via $MOON_ACCESS6 " || fail "carol's route to the anycast address is not through moon"
"$testbed" exec carol ping -c 1 -W 1 "$ANYCAST6" > /dev/null || fail "carol cannot reach the anycast address"
"$testbed" move carol nar
"$testbed" exec carol ip -6 route get "$ANYCAST6" | grep -q "via $SUN_ACCESS6 " || fail "carol's route to the anycast address does not follow the move"
"$testbed" exec carol ip route get "$ANYCAST4" | grep -q "via $SUN_ACCESS4 " || fail "carol's IPv4 route to the anycast address does not follow the move"
"$testbed" exec carol ping -c 1 -W 1 "$ANYCAST4" > /dev/null || fail "carol cannot reach the IPv4 anycast address after the move"
"$testbed" down
[ -z "$(leftovers)" ] || fail "left behind after down with a stock node: $(leftovers)"
# a takeover link: carol reaches the anycast address on moon's link
# directly, moon answers until the address moves to sun's port there,
# then sun does, with carol's neighbour entry updated by sun's announcement
"$testbed" up "$fixtures/takeover"
"$testbed" exec carol ip -6 route get "$ANYCAST6" | grep -q "via" && fail "carol's route to the anycast address is not on the link"
"$testbed" exec carol ping -c 1 -W 1 "$ANYCAST6" > /dev/null || fail "carol cannot reach the anycast address on moon"
"$testbed" exec carol ping -c 1 -W 1 "$SUN_PAR6" > /dev/null || fail "carol cannot reach sun on the par link"
"$testbed" exec sun gateway-takeover
"$testbed" exec moon ip -br addr show eth0 | grep -q "$ANYCAST6" && fail "moon keeps the anycast address after the takeover"
sun_mac=$("$testbed" exec sun ip -br link show eth3 | awk '{ print $3 }')
"$testbed" exec carol ip -6 neigh show "$ANYCAST6" | grep -q "lladdr $sun_mac " || fail "carol's neighbour entry does not follow the takeover"
"$testbed" exec carol ping -c 1 -W 1 "$ANYCAST6" > /dev/null || fail "carol cannot reach the anycast address on sun"
"$testbed" exec alice ip route get 10.3.0.1 | grep -q "via $SUN_CORE4 " || fail "alice's route to the inner addresses does not follow the takeover"
"$testbed" down
[ -z "$(leftovers)" ] || fail "left behind after down with a takeover link: $(leftovers)"
# with a crowd (and mallory): mn1 to mn3 on moon's link with their own
# addresses and configurations, each reaching sun alone after its move;
# "crowd" runs a command on each and fails naming a node it failed on
"$testbed" up "$fixtures/crowd"
[ "$("$testbed" exec crowd sh -c 'echo $CXTP_NODE')" = "$(printf 'mn%s\n' 1 2 3)" ] ||
	fail "crowd exec does not run on mn1 to mn3 in turn"
"$testbed" exec mn2 ip -br addr show eth0 | grep -q 'fd00:1::102/64' || fail "mn2 has not its care-of address"
seen_swanctl_conf mn3 | grep -q 'id = mn3@strongswan.org' || fail "mn3 has not its own identity"
"$testbed" exec crowd ping -c 1 -W 1 "$MOON_ACCESS6" > /dev/null || fail "the crowd cannot reach moon"
"$testbed" move mn2 nar
"$testbed" exec mn2 ping -c 1 -W 1 "$SUN_ACCESS6" > /dev/null || fail "mn2 cannot reach sun after its move"
"$testbed" exec carol ping -c 1 -W 1 "$MOON_ACCESS6" > /dev/null || fail "carol cannot reach moon beside the crowd"
"$testbed" exec mallory ping -c 1 -W 1 fd00:2::102 > /dev/null || fail "mallory and mn2 are not on one link"
if "$testbed" exec crowd ping -c 1 -W 1 "$SUN_ACCESS6" > out.txt 2> err.txt; then
	fail "mn1 and mn3 reach sun without a move"
fi
[ "$(grep -c '^crowd: failed on' err.txt)" = 2 ] && grep -q 'failed on mn3 ' err.txt ||
	fail "crowd exec does not name the nodes it failed on: $(cat err.txt)"
rm -f out.txt err.txt
"$testbed" down
[ -z "$(leftovers)" ] || fail "left behind after down with a crowd: $(leftovers)"
echo "testbed: up, exec, move, refusal, down and cleanup all fine, with and without mallory, with a stock node and the anycast address, with a takeover link, and with a crowd"
