# The testbed's addresses, defined once for its shell code (testbed.sh,
# the self-tests). The configurations in testing/nodes/ and the scenarios'
# files spell them out, as upstream's do, since they are written for its
# framework too: an address changed here must change there as well.
#
#            par link                      core links
#   carol ---------------- moon ------------------------+
#   (MN)  fd00:1::/64       (pAR)  fd00:10::/64          |
#     |   192.168.1.0/24      |    10.10.0.0/24        alice (HA, the
#     |                       | ar link fd00:12::/64     |  correspondent:
#     |   nar link            | 10.12.0.0/24             |  fd00:100::1,
#     +------------------- sun (nAR) --------------------+  10.100.0.1)
#                                        (moon: 10.100.0.2, sun: 10.100.0.3)
#         fd00:2::/64              fd00:20::/64
#         192.168.2.0/24           10.20.0.0/24
#
# Sourced by testbed.sh.

# every link's prefix lengths (addresses on lo are host addresses)
LINK_PLEN6=64 LINK_PLEN4=24

# the access links: the routers, and carol's care-of address on each
MOON_ACCESS6=fd00:1::1 MOON_ACCESS4=192.168.1.1
CAROL_PAR6=fd00:1::10 CAROL_PAR4=192.168.1.10
SUN_ACCESS6=fd00:2::1 SUN_ACCESS4=192.168.2.1
CAROL_NAR6=fd00:2::10 CAROL_NAR4=192.168.2.10
# the anycast gateway address, in scenarios with ANYCAST=yes in test.conf:
# both routers answer on it, each on its own access link, so a mobile node
# configured with it reaches the router of the link it is on
ANYCAST6=fd00:a::1 ANYCAST4=192.168.0.1
# sun's own address on the par link, in scenarios with TAKEOVER=yes: its
# port there, to which the gateway address moves from moon
SUN_PAR6=fd00:1::2 SUN_PAR4=192.168.1.2
# the attacker on nAR's access link, in the scenarios that have one
MALLORY_NAR6=fd00:2::66 MALLORY_NAR4=192.168.2.66

# the core links between each router and alice
MOON_CORE6=fd00:10::1 MOON_CORE4=10.10.0.1
ALICE_MOON6=fd00:10::10 ALICE_MOON4=10.10.0.10
SUN_CORE6=fd00:20::1 SUN_CORE4=10.20.0.1
ALICE_SUN6=fd00:20::10 ALICE_SUN4=10.20.0.10

# the link between the access routers, which CXTP's UDP transport takes
MOON_AR6=fd00:12::1 MOON_AR4=10.12.0.1
SUN_AR6=fd00:12::2 SUN_AR4=10.12.0.2

# the network behind the routers: alice, and each router's own address in
# it (kernel-libipsec routes tunnelled traffic from there)
PROTECTED_NET6=fd00:100::/64 PROTECTED_NET4=10.100.0.0/24
ALICE6=fd00:100::1 ALICE4=10.100.0.1
MOON_INNER6=fd00:100::2 MOON_INNER4=10.100.0.2
SUN_INNER6=fd00:100::3 SUN_INNER4=10.100.0.3

# carol's inner addresses, from the routers' pools (virtual IP 10.3.0.1),
# which stay when it moves
VIP_NET6=fd00:3::/64 VIP_NET4=10.3.0.0/24

# the crowd, mn1 to mnN in scenarios with CROWD=N in test.conf: node I has
# host number 100 + I on each access link (fd00:1::101 and 192.168.1.101
# for mn1 on the par link); their inner addresses come from moon's pool
CROWD_MAX=100

# crowd_address I par|nar: node I's care-of addresses there, "IPV6 IPV4"
crowd_address() {
	case $2 in
	par) echo "fd00:1::$((100 + $1)) 192.168.1.$((100 + $1))" ;;
	nar) echo "fd00:2::$((100 + $1)) 192.168.2.$((100 + $1))" ;;
	esac
}
