# What the handover loops on carol (testing/bin/handover-loop, handover-acked,
# transfer-rounds) use to act on the other nodes and wait for them. Expects
# $state (the testbed's CXTP_STATE) and, for swanctl_bg, $scale.
#
# Sourced by those helpers.

# on NODE COMMAND...: run a command on a node, as the .dat lines do. The
# handles of the nodes' mount namespaces are not visible inside the nodes
# (they were bound after those namespaces were made), so enter the one the
# node's charon runs in: it has the node's /run (vici socket) and etc/
on() {
	local node=$1; shift
	CXTP_NODE=$node nsenter --net="$state/ns/$node.net" \
		--mount="/proc/$(cat "$state/$node/charon.pid")/ns/mnt" "$@"
}

# quiet NODE COMMAND...: run COMMAND on NODE, its output shown only if it fails
quiet() {
	local out
	out=$(on "$@" 2>&1) || { echo "$out" >&2; return 1; }
}

# wait_none NODE SECONDS PATTERN COMMAND...: until no line of COMMAND's
# output on NODE matches PATTERN
wait_none() {
	local node=$1 seconds=$2 pattern=$3; shift 3
	on "$node" wait-output "$seconds" '^0$' bash -c \
		'"${@:2}" | grep -E -c -e "$1" || true' - "$pattern" "$@"
}

# swanctl_bg NODE FILE ARGS...: swanctl with --wait in the background on
# NODE; its output and exit status go to FILE.out and FILE.rc
swanctl_bg() {
	local node=$1 file=$2; shift 2
	rm -f "$file.rc"
	( rc=0
	  on "$node" timeout $((60 * scale)) swanctl "$@" > "$file.out" 2>&1 || rc=$?
	  echo $rc > "$file.rc" ) &
	bg_pid=$!
}

# exit_of FILE: rc becomes the exit status of the background swanctl, once
# it ended (not in a subshell: only this shell can wait for it)
exit_of() {
	wait "$bg_pid" || true
	rc=$(cat "$1.rc")
}

other_of() { [ "$1" = moon ] && echo sun || echo moon; }
link_of() { [ "$1" = moon ] && echo par || echo nar; }
access_of() { [ "$1" = moon ] && echo fd00:1::1 || echo fd00:2::1; }
# carol's care-of address on a router's access link
careof_of() { [ "$1" = moon ] && echo fd00:1::10 || echo fd00:2::10; }
