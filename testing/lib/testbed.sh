# Network-namespace testbed: the paper's topology with one charon per node.
#
#            par link                      core links
#   carol ---------------- moon ------------------------+
#   (MN)                    (pAR)                        |
#     |                       | ar link                alice (HA, the
#     |   nar link            |                          |  correspondent)
#     +------------------- sun (nAR) --------------------+
#
# The links' and nodes' addresses are defined in addresses.sh.
#
# A scenario whose test.conf lists mallory in VIRTHOSTS gets an attacker on
# nAR's access link: sun's eth0 is then a bridge whose ports are carol's
# link (sun's acc-carol) and mallory's (acc-mallory), so mallory sends on
# the link carol arrives on without changing what carol or sun see.
#
# A scenario whose test.conf sets CROWD=N gets N more mobile nodes, mn1 to
# mnN, each configured from the template testing/nodes/crowd/etc (see
# crowd_etc) with its own identity and care-of addresses (addresses.sh):
# both routers' eth0 are then bridges, with a port for each node (acc-mnI)
# and carol (acc-carol), and the crowd starts on the par link as carol
# does. The node name "crowd" (testbed exec, .dat lines) runs a command on
# all of them at once, see crowd_exec.
#
# carol starts on the par link; "move" takes it to the nar link with a new
# care-of address (its eth1), as a Mobile IPv6 handover would. Its inner
# address (its virtual IP) stays; alice's route to it follows.
#
# A node is a network namespace plus a persistent mount namespace in which
# /run is a private tmpfs (charon's pid file and vici socket paths are
# compiled in) and the node's etc/ files (the defaults in
# testing/nodes/<node>/etc, replaced file by file by the scenario's
# hosts/<node>/etc) are bound over the install prefix's etc/, so strongSwan
# on every node reads its own configuration at the usual paths, as on
# upstream's KVM hosts.
#
# A scenario whose test.conf sets STOCK="NODE..." runs those nodes'
# strongSwan from Debian's own packages (testing/bootstrap installs them),
# not from the install prefix: /usr/lib/ipsec/charon and /usr/sbin/swanctl,
# with the node's files bound over /etc/strongswan.conf, /etc/strongswan.d
# (empty unless the scenario gives the node one) and /etc/swanctl. Such a
# node has no cxtp plugin: it never sends a CTAR. The testbed's helpers
# find its swanctl and charon first on its PATH (node_exec).
#
# A scenario whose test.conf sets KERNEL=netlink runs with kernel-netlink
# only (CXTP_KERNEL=netlink, in the VM): its mobile node is a client
# without userspace ESP (testing/bin/libreswan, testing/bin/openiked).
#
# A scenario whose test.conf sets ANYCAST=yes gets the anycast gateway
# address (addresses.sh) on both routers' access links, as access routers
# sharing one gateway address for their mobile nodes do; the MN's route to
# it goes through the router of the link it is on (attach).
#
# ESP runs in userspace (kernel-libipsec, the scenarios' own load lists)
# unless CXTP_KERNEL=netlink: then the nodes drop kernel-libipsec from their
# load lists and kernel-netlink installs the SAs and policies into the
# kernel's XFRM, as on a production gateway (the host kernel has no ESP, so
# that runs in the VM, testing/vm/).
#
# A scenario whose test.conf sets TAKEOVER=yes (with ANYCAST=yes) gives sun
# a port on the par link, its eth3 (moon's eth0 is then a bridge, as with
# a crowd), with an address of its own there but not the anycast address;
# the MN reaches the anycast address on the par link directly, not through
# moon, so that gateway_takeover can move it from moon to sun (a failover
# address, as keepalived moves it) while the MN stays.
#
# CXTP_ACCESS_DELAY (netem, so in the VM only) delays what the access
# routers send to the MN.
#
# The waits in testing/bin multiply their timeouts by CXTP_TIMEOUT_SCALE
# (default 1; the VM sets 10).
#
# Sourced by the scripts in testing/; expects $top and $prefix.

. "$top/testing/lib/addresses.sh"

# with another CXTP_NS_PREFIX (and CXTP_STATE), a second testbed can be up
NS_PREFIX=${CXTP_NS_PREFIX:-cxtp-}
state=${CXTP_STATE:-$top/build/testbed}
BASE_NODES=(carol moon sun alice)
NODES=("${BASE_NODES[@]}")
# the attacker and the crowd, if the testbed that is up has them
[ ! -e "$state/mallory" ] || NODES+=(mallory)
CROWD=()
[ ! -e "$state/crowd" ] || read -r -a CROWD < "$state/crowd"
NODES+=("${CROWD[@]}")
# the nodes running Debian's strongSwan, and the anycast address, if the
# testbed that is up has them
STOCK=()
[ ! -e "$state/stock" ] || read -r -a STOCK < "$state/stock"
ANYCAST=
[ ! -e "$state/anycast" ] || ANYCAST=yes
TAKEOVER=
[ ! -e "$state/takeover" ] || TAKEOVER=yes

die() { echo "${0##*/}: $*" >&2; exit 1; }

netns() { echo "$NS_PREFIX$1"; }

# Namespace names are host-wide, so only one testbed per namespace prefix
# can be up, whichever checkout it comes from: runs queue on a lock instead
# of tearing down each other's nodes.  The lock is inherited by nested scripts and by the
# nodes' daemons, so it is held until the testbed is gone.
testbed_lock() {
	[ -z "${CXTP_TESTBED_LOCKED:-}" ] || return 0
	# a booted system has /run/lock; a container or chroot with a fresh
	# /run may not
	mkdir -p /run/lock
	exec {lockfd}>>"/run/lock/${NS_PREFIX}testbed.lock"
	if ! flock -n "$lockfd"; then
		echo "${0##*/}: waiting for another run to release the testbed" >&2
		flock "$lockfd"
	fi
	export CXTP_TESTBED_LOCKED=1
}

# run a command in a node's network namespace (from any node: the handles
# in $state/ns are visible in every node's mount namespace, /run/netns is not)
in_ns() {
	local node=$1; shift
	nsenter --net="$state/ns/$node.net" "$@"
}

testbed_exists() {
	ip netns list 2>/dev/null | grep -q "^$NS_PREFIX" || [ -d "$state/ns" ]
}

# veth pair between two nodes: link NODE_A IF_A NODE_B IF_B
link() {
	ip link add "$2" netns "$(netns "$1")" type veth peer name "$4" netns "$(netns "$3")"
	in_ns "$1" ip link set "$2" up
	in_ns "$3" ip link set "$4" up
}

# addr NODE DEV IPV6 IPV4 [dad]: the node's addresses on a link, or host
# addresses on lo; IPv6 addresses skip duplicate address detection unless
# "dad" is given (and the link's accept_dad is on): then they stay tentative
# for a second or two, as on a real link
addr() {
	local node=$1 dev=$2 a plen6=$LINK_PLEN6 plen4=$LINK_PLEN4 nodad=nodad
	if [ "$dev" = lo ]; then
		plen6=128 plen4=32
	fi
	[ "${5:-}" != dad ] || nodad=
	for a in "$3/$plen6" "$4/$plen4"; do
		in_ns "$node" ip addr add "$a" dev "$dev" $nodad 2>/dev/null ||
			in_ns "$node" ip addr add "$a" dev "$dev"
	done
}

route() {
	local node=$1; shift
	in_ns "$node" ip route replace "$@"
}

# network namespaces and their handles, in a private mount under $state/ns
# that the per-node mount namespaces inherit
build_namespaces() {
	local n
	mkdir -p "$state/ns"
	mount --bind "$state/ns" "$state/ns"
	mount --make-private "$state/ns"
	for n in "${NODES[@]}"; do
		ip netns add "$(netns "$n")"
		: > "$state/ns/$n.net"
		mount --bind "/run/netns/$(netns "$n")" "$state/ns/$n.net"
	done
}

build_network() {
	local n
	for n in "${NODES[@]}"; do
		in_ns "$n" ip link set lo up
		in_ns "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	done
	for n in moon sun alice; do
		in_ns "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done

	if [ ${#CROWD[@]} -gt 0 ]; then
		crowd_links
	elif [ -n "$TAKEOVER" ]; then
		access_bridge moon
		access_port moon carol eth0
	else
		link carol eth0 moon eth0
	fi
	[ ${#CROWD[@]} -gt 0 ] || [ -e "$state/mallory" ] || link carol eth1 sun eth0
	[ ! -e "$state/mallory" ] || attacker_link
	[ -z "$TAKEOVER" ] || takeover_link
	link moon eth1 alice eth0
	link sun eth1 alice eth1
	link moon eth2 sun eth2

	addr moon eth0 "$MOON_ACCESS6" "$MOON_ACCESS4"
	addr sun eth0 "$SUN_ACCESS6" "$SUN_ACCESS4"
	addr moon eth1 "$MOON_CORE6" "$MOON_CORE4"
	addr alice eth0 "$ALICE_MOON6" "$ALICE_MOON4"
	addr sun eth1 "$SUN_CORE6" "$SUN_CORE4"
	addr alice eth1 "$ALICE_SUN6" "$ALICE_SUN4"
	addr moon eth2 "$MOON_AR6" "$MOON_AR4"
	addr sun eth2 "$SUN_AR6" "$SUN_AR4"
	addr alice lo "$ALICE6" "$ALICE4"
	# the ARs need an address inside the network they protect: kernel-libipsec
	# routes tunnelled traffic from it
	addr moon lo "$MOON_INNER6" "$MOON_INNER4"
	addr sun lo "$SUN_INNER6" "$SUN_INNER4"
	# the anycast gateway address: on both access links, as a host address
	# (the MN reaches it through its default router, attach)
	if [ -n "$ANYCAST" ]; then
		for n in moon sun; do
			in_ns "$n" ip addr add "$ANYCAST6/128" dev eth0 nodad
			in_ns "$n" ip addr add "$ANYCAST4/32" dev eth0
		done
	fi

	route moon "$PROTECTED_NET6" via "$ALICE_MOON6"
	route moon "$PROTECTED_NET4" via "$ALICE_MOON4"
	route sun "$PROTECTED_NET6" via "$ALICE_SUN6"
	route sun "$PROTECTED_NET4" via "$ALICE_SUN4"

	# the MN's inner address is reached through pAR until the MN moves
	alice_via "$MOON_CORE6" "$MOON_CORE4"

	# access routers forward only what came through a tunnel: clear traffic
	# from a mobile node on the access link is dropped, as on the paper's
	# ARs whose SPD discards traffic from any MN without an SA (userspace
	# ESP hands decrypted packets in on its TUN device, the kernel's on
	# eth0 with a security path)
	for n in moon sun; do
		in_ns "$n" nft -f - <<-NFT
		table inet access {
			chain forward {
				type filter hook forward priority 0; policy accept;
				iifname { "eth0", "eth3" } meta ipsec missing drop
			}
		}
		NFT
	done

	# a one-way delay on the access links, on the routers' side towards
	# the MN, as a radio link adds (netem syntax, e.g. 10ms); the host
	# kernel has no netem, the VM's has
	if [ -n "${CXTP_ACCESS_DELAY:-}" ]; then
		for n in moon sun; do
			in_ns "$n" tc qdisc add dev eth0 root netem delay "$CXTP_ACCESS_DELAY"
		done
	fi

	for n in carol "${CROWD[@]}"; do
		in_ns "$n" ip link set eth1 down
		attach "$n" par
	done
}

# access_bridge ROUTER: the router's access link becomes a switch, its eth0 a
# bridge (no STP: a port forwards as soon as it is up) whose ports are the
# nodes' links (access_port); what the nodes send each other stays out of the
# router's IP filter even where br_netfilter is loaded
access_bridge() {
	in_ns "$1" ip link add eth0 type bridge stp_state 0 mcast_snooping 0
	in_ns "$1" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 \
		net.bridge.bridge-nf-call-arptables=0 2> /dev/null || true
	in_ns "$1" ip link set eth0 up
}

# access_port ROUTER NODE DEV: NODE's DEV on ROUTER's access bridge, through
# the router's port acc-NODE
access_port() {
	link "$2" "$3" "$1" "acc-$2"
	in_ns "$1" ip link set "acc-$2" master eth0
}

# mallory on nAR's access link, beside carol (and the crowd, if any)
attacker_link() {
	[ ${#CROWD[@]} -gt 0 ] || { access_bridge sun; access_port sun carol eth1; }
	access_port sun mallory eth0
	addr mallory eth0 "$MALLORY_NAR6" "$MALLORY_NAR4"
}

# the crowd and carol on both access links, each node's eth0 on moon's
# bridge and its eth1 on sun's
crowd_links() {
	local r n
	for r in moon sun; do
		access_bridge "$r"
	done
	for n in carol "${CROWD[@]}"; do
		access_port moon "$n" eth0
		access_port sun "$n" eth1
	done
}

# scenario_nodes DIR: the base nodes, mallory if the scenario's test.conf
# lists it in VIRTHOSTS, and the crowd it asks for with CROWD=N
scenario_nodes() {
	local n i
	NODES=("${BASE_NODES[@]}")
	CROWD=()
	if [ -n "$1" ] && grep -Eq '^VIRTHOSTS=.*\bmallory\b' "$1/test.conf" 2>/dev/null; then
		NODES+=(mallory)
	fi
	n=$( { [ -n "$1" ] && sed -n 's/^CROWD="\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$1/test.conf" 2>/dev/null; } || true)
	if [ -n "$n" ]; then
		[ "$n" -ge 1 ] && [ "$n" -le "$CROWD_MAX" ] || die "CROWD=$n in $1/test.conf, not 1 to $CROWD_MAX"
		for ((i = 1; i <= n; i++)); do
			CROWD+=("mn$i")
		done
		NODES+=("${CROWD[@]}")
	fi
	STOCK=()
	ANYCAST=
	TAKEOVER=
	[ -n "$1" ] && [ -f "$1/test.conf" ] || return 0
	read -r -a STOCK <<< "$(sed -n 's/^STOCK="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$1/test.conf")"
	for n in "${STOCK[@]}"; do
		[[ " ${NODES[*]} " == *" $n "* ]] || die "STOCK names '$n' in $1/test.conf, not a node of the testbed"
	done
	if [ ${#STOCK[@]} -gt 0 ] && ! { [ -x /usr/lib/ipsec/charon ] && [ -x /usr/sbin/swanctl ]; }; then
		die "STOCK=${STOCK[*]} in $1/test.conf, but Debian's strongSwan is not installed (testing/bootstrap)"
	fi
	if grep -Eq '^KERNEL="?netlink"?$' "$1/test.conf" && [ "${CXTP_KERNEL:-libipsec}" != netlink ]; then
		die "$1 needs the kernel's ESP (KERNEL=netlink in its test.conf): run it in the VM, CXTP_KERNEL=netlink testing/vm/run"
	fi
	case $(sed -n 's/^ANYCAST="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$1/test.conf") in
	yes) ANYCAST=yes ;;
	''|no) ;;
	*) die "ANYCAST in $1/test.conf is neither yes nor no" ;;
	esac
	case $(sed -n 's/^TAKEOVER="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$1/test.conf") in
	yes) TAKEOVER=yes ;;
	''|no) ;;
	*) die "TAKEOVER in $1/test.conf is neither yes nor no" ;;
	esac
	if [ -n "$TAKEOVER" ] && { [ -z "$ANYCAST" ] || [ ${#CROWD[@]} -gt 0 ]; }; then
		die "TAKEOVER=yes in $1/test.conf needs ANYCAST=yes and no CROWD"
	fi
}

# stock NODE: the node runs Debian's strongSwan (STOCK)
stock() {
	[[ " ${STOCK[*]} " == *" $1 "* ]]
}

# attach NODE par|nar [dad]: the MN's care-of address on the given access
# link; with "dad", its IPv6 addresses there (link-local and care-of) go
# through duplicate address detection first
attach() {
	local node=$1 where=$2 dad=${3:-} dev a6 a4 gw6 gw4
	case $where in
	par) dev=eth0 gw6=$MOON_ACCESS6 gw4=$MOON_ACCESS4 ;;
	nar) dev=eth1 gw6=$SUN_ACCESS6 gw4=$SUN_ACCESS4 ;;
	*) die "unknown access link '$where' (par or nar)" ;;
	esac
	read -r a6 a4 <<< "$(care_of "$node" "$where")"
	in_ns "$node" sysctl -qw "net.ipv6.conf.$dev.accept_dad=$([ "$dad" = dad ] && echo 1 || echo 0)"
	in_ns "$node" ip link set "$dev" up
	addr "$node" "$dev" "$a6" "$a4" "$dad"
	route "$node" default via "$gw6" dev "$dev"
	route "$node" default via "$gw4" dev "$dev"
	if [ -n "$TAKEOVER" ] && [ "$where" = par ]; then
		# on the link, whichever router holds it (gateway_takeover)
		route "$node" "$ANYCAST6/128" dev "$dev"
		route "$node" "$ANYCAST4/32" via "$gw4" dev "$dev"
	elif [ -n "$ANYCAST" ]; then
		route "$node" "$ANYCAST6/128" via "$gw6" dev "$dev"
		route "$node" "$ANYCAST4/32" via "$gw4" dev "$dev"
	fi
}

# sun's port on the par link (TAKEOVER), its eth3 on moon's access bridge,
# with its own addresses there
takeover_link() {
	access_port moon sun eth3
	addr sun eth3 "$SUN_PAR6" "$SUN_PAR4"
}

# gateway_takeover: the anycast gateway address (IPv6, which the MN's IKE
# uses) moves from moon's par link to sun's port there (TAKEOVER) as a
# failover daemon moves it: released by moon first, added by sun without
# duplicate address detection and announced with an unsolicited neighbour
# advertisement, so the MN's neighbour cache follows at once. alice's route
# to the MNs' inner addresses follows, as a routing protocol would make it.
gateway_takeover() {
	[ -n "$TAKEOVER" ] || die "no takeover link (TAKEOVER=yes in the scenario's test.conf)"
	in_ns moon ip addr del "$ANYCAST6/128" dev eth0
	in_ns sun ip addr add "$ANYCAST6/128" dev eth3 nodad
	in_ns sun "$top/testing/tools/unsolicited-na" eth3 "$ANYCAST6" --router
	alice_via "$SUN_CORE6" "$SUN_CORE4"
}

# care_of NODE par|nar: the mobile node's care-of addresses on that access
# link, "IPV6 IPV4"
care_of() {
	case $1:$2 in
	carol:par) echo "$CAROL_PAR6 $CAROL_PAR4" ;;
	carol:nar) echo "$CAROL_NAR6 $CAROL_NAR4" ;;
	mn*) crowd_address "${1#mn}" "$2" ;;
	*) die "no care-of address of '$1' on the $2 link" ;;
	esac
}

# alice_via IPV6 IPV4: alice's route to the MN's inner addresses, through
# the core address of the router the MN is attached to
alice_via() {
	route alice "$VIP_NET6" via "$1"
	route alice "$VIP_NET4" via "$2"
}

detach() {
	local node=$1 dev=$2
	in_ns "$node" ip addr flush dev "$dev" scope global
	in_ns "$node" ip link set "$dev" down
}

# move the MN from the par link to the nar link (or back): the old link goes
# away first, as it does for a real handover, then the new one comes up (with
# "dad", its IPv6 addresses are tentative for a while, see attach)
move() {
	local node=$1 to=$2 dad=${3:-}
	case $dad in
	''|dad) ;;
	*) die "usage: move NODE par|nar [dad]" ;;
	esac
	# alice's route follows as the MN leaves, before it attaches: the
	# correspondent's routing is not what a handover method is measured
	# by, and after the attach it would lag behind the MN's first message
	# by the time the testbed's own commands take (~300 ms in the VM)
	case $to in
	nar)
		detach "$node" eth0
		alice_via "$SUN_CORE6" "$SUN_CORE4"
		attach "$node" nar "$dad"
		;;
	par)
		detach "$node" eth1
		alice_via "$MOON_CORE6" "$MOON_CORE4"
		attach "$node" par "$dad"
		;;
	*) die "usage: move NODE par|nar [dad]" ;;
	esac
}

# a persistent mount namespace per node, held by a bind mount in $state/ns
build_mounts() {
	local scenario=$1 n
	for n in "${NODES[@]}"; do
		mkdir -p "$state/$n"
		: > "$state/ns/$n"
		case $n in
		mn*) crowd_etc "$n" "$scenario" "$state/$n/etc" ;;
		*) node_etc "$n" "$scenario" "$state/$n/etc" ;;
		esac
		node_conf "$n" "$state/$n/etc" > "$state/$n/strongswan.conf"
		node_swanctl_dir "$state/$n/etc/swanctl"
		if stock "$n"; then
			mkdir -p "$state/$n/etc/strongswan.d"
			unshare --mount="$state/ns/$n" --propagation private \
				bash -c "$(declare -f node_mounts); node_mounts /usr '$state/$n' /etc"
		else
			unshare --mount="$state/ns/$n" --propagation private \
				bash -c "$(declare -f node_mounts); node_mounts '$prefix' '$state/$n'"
		fi
	done
}

# inside a node's new mount namespace: node_mounts PREFIX DIR [ETC], ETC
# being the prefix's configuration directory (PREFIX/etc unless given; a
# stock node's, /etc, also has strongswan.d, which Debian's strongswan.conf
# includes: the node's, empty unless the scenario has one, replaces it)
node_mounts() {
	local prefix=$1 dir=$2 etc=${3:-$1/etc}
	set -e
	mount -t tmpfs -o mode=0755 tmpfs /run
	mount --bind "$dir/strongswan.conf" "$etc/strongswan.conf"
	mount --bind "$dir/etc/swanctl" "$etc/swanctl"
	[ "$etc" != /etc ] || mount --bind "$dir/etc/strongswan.d" "$etc/strongswan.d"
}

# node_etc NODE SCENARIO DIR: the node's etc/ as the scenario sets it up,
# as upstream's framework does: the defaults of testing/nodes/NODE/etc,
# each replaced by the scenario's file of the same path under
# hosts/NODE/etc where it has one (scenarios hold only what differs)
node_etc() {
	local node=$1 scenario=$2 dir=$3 src
	mkdir -p "$dir"
	for src in "$top/testing/nodes/$node/etc" "${scenario:+$scenario/hosts/$node/etc}"; do
		if [ -n "$src" ] && [ -d "$src" ]; then
			cp -r "$src/." "$dir/"
		fi
	done
}

# crowd_etc NODE SCENARIO DIR: a crowd node's etc/, from the crowd's
# template (node_etc's, with "crowd" as the node's name) with @NODE@
# replaced by the node's name
crowd_etc() {
	local node=$1 f
	node_etc crowd "$2" "$3"
	while IFS= read -r -d '' f; do
		sed -i "s/@NODE@/$node/g" "$f"
	done < <(find "$3" -type f -print0)
}

# a node's swanctl directory gets the credential directories swanctl
# expects (the configurations, like upstream's, only hold the files they
# need)
node_swanctl_dir() {
	local dir=$1 d
	for d in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa \
		ecdsa bliss pkcs8 pkcs12 conf.d; do
		mkdir -p "$dir/$d"
	done
}

# the node's strongswan.conf: its etc/'s (see node_etc), plus where this
# node logs
node_conf() {
	local node=$1 conf=$2/strongswan.conf
	if [ -f "$conf" ] && [ "${CXTP_KERNEL:-libipsec}" = netlink ]; then
		sed '/^[[:space:]]*load[[:space:]]*=/ s/ kernel-libipsec\b//' "$conf" \
			> "$state/$node/scenario.conf"
		conf=$state/$node/scenario.conf
	fi
	if [ -f "$conf" ]; then
		echo "include $conf"
	fi
	if [ "${CXTP_KERNEL:-libipsec}" = netlink ]; then
		# the MN's inner address must outlive its access links, whose
		# addresses a move flushes (kernel-libipsec puts it on its TUN
		# device, which stays)
		echo "charon { install_virtual_ip_on = lo }"
	fi
	cat <<-CONF
	charon {
	  filelog {
	    testbed {
	      path = $state/$node/charon.log
	      time_format = %b %e %T
	      time_add_ms = yes
	      ike_name = yes
	      default = 1
	      ike = 2
	      cfg = 2
	      knl = 2
	      flush_line = yes
	    }
	  }
	}
	CONF
}

# run a command on a node: its network and mount namespaces, with the
# testbed's helpers and strongSwan's tools on PATH
node_exec() {
	local node=$1; shift
	[ "$node" != crowd ] || { crowd_exec "$@"; return; }
	[ -e "$state/ns/$node" ] || die "no node '$node' (is the testbed up?)"
	local bin=$prefix/sbin:$prefix/bin
	! stock "$node" || bin=/usr/sbin:/usr/bin
	nsenter --net="$state/ns/$node.net" --mount="$state/ns/$node" \
		env CXTP_NODE="$node" CXTP_STATE="$state" CXTP_TOP="$top" \
		CXTP_KERNEL="${CXTP_KERNEL:-libipsec}" \
		PATH="$top/testing/bin:$top/testing/tools:$bin:$PATH" "$@"
}

# crowd_exec COMMAND...: run a command on every crowd node at once (node_exec
# of the node "crowd"); their outputs follow each other, mn1's first; fails
# naming the nodes it failed on
crowd_exec() {
	local n out=$state/crowd-exec.$BASHPID rc=0 pids=() status
	[ ${#CROWD[@]} -gt 0 ] || die "no crowd (CROWD=N in the scenario's test.conf)"
	mkdir -p "$out"
	for n in "${CROWD[@]}"; do
		( if node_exec "$n" "$@" > "$out/$n" 2>&1; then
			echo 0; else echo $?; fi > "$out/$n.rc" ) < /dev/null &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	for n in "${CROWD[@]}"; do
		cat "$out/$n"
		status=$(cat "$out/$n.rc" 2> /dev/null || echo unknown)
		if [ "$status" != 0 ]; then
			echo "crowd: failed on $n (exit status $status)" >&2
			rc=1
		fi
	done
	rm -rf "$out"
	return $rc
}

testbed_up() {
	local scenario=${1:-}
	case ${CXTP_KERNEL:=libipsec} in
	libipsec|netlink) ;;
	*) die "CXTP_KERNEL is '$CXTP_KERNEL', not libipsec or netlink" ;;
	esac
	if [ -n "$scenario" ]; then
		[ -d "$scenario" ] || die "no scenario directory '$scenario'"
		scenario=$(cd "$scenario" && pwd)
	fi
	[ -x "$prefix/libexec/ipsec/charon" ] || die "strongSwan is not installed in $prefix; run make first"
	if testbed_exists; then
		die "a testbed is already up or half-built (namespaces $NS_PREFIX*, $state/ns); run 'testing/testbed down' first"
	fi
	rm -rf "$state"
	mkdir -p "$state"
	echo "$scenario" > "$state/scenario"
	scenario_nodes "$scenario"
	[[ " ${NODES[*]} " != *" mallory "* ]] || mkdir "$state/mallory"
	[ ${#CROWD[@]} -eq 0 ] || echo "${CROWD[*]}" > "$state/crowd"
	[ ${#STOCK[@]} -eq 0 ] || echo "${STOCK[*]}" > "$state/stock"
	[ -z "$ANYCAST" ] || : > "$state/anycast"
	[ -z "$TAKEOVER" ] || : > "$state/takeover"
	build_namespaces
	build_network
	build_mounts "$scenario"
}

testbed_down() {
	local n pid
	for n in "${NODES[@]}"; do
		for pid in $(cat "$state/$n"/*.pid 2>/dev/null); do
			kill "$pid" 2>/dev/null || true
		done
	done
	for n in "${NODES[@]}"; do
		for pid in $(cat "$state/$n"/*.pid 2>/dev/null); do
			wait_gone "$pid" 5 || kill -9 "$pid" 2>/dev/null || true
		done
		umount "$state/ns/$n" "$state/ns/$n.net" 2>/dev/null || true
		ip netns del "$(netns "$n")" 2>/dev/null || true
	done
	if [ -d "$state/ns" ]; then
		umount "$state/ns" 2>/dev/null || true
		rm -rf "$state/ns"
	fi
	# anything else of ours a crashed run left behind
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS_PREFIX" || true); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$n"
	done
}

# alive PID: the process runs (a zombie does not: daemons are orphans whose
# reaper may take its time)
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# wait_gone PID SECONDS: until the process has exited
wait_gone() {
	local pid=$1 deadline=$((SECONDS + $2))
	while alive "$pid"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}
