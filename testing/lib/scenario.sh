# Runs scenarios written in strongSwan's testing-framework format
# (testing/tests/<group>/<name>/: pretest.dat, evaltest.dat, posttest.dat,
# hosts/<host>/etc/... over the defaults in testing/nodes/) on the namespace
# testbed.
#
# Checks that hold only for one ESP backend (see testbed.sh) go into
# evaltest.<backend>.dat beside evaltest.dat (evaltest.netlink.dat: the
# kernel's XFRM state); they run after the common ones.
#
# Sourced by testing/run-scenario; expects $top, $prefix and testbed.sh.

# dat_lines FILE: the command lines of a .dat file (no comments, no blanks)
dat_lines() {
	[ -f "$1" ] || return 0
	grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$1"
}

# run_step LOG HOST COMMAND: run one line on its host, output to the log
run_step() {
	local log=$1 host=$2 cmd=$3
	echo "$(date +%T.%3N) $host# $cmd" >> "$log"
	node_exec "$host" bash -c "$cmd" >> "$log" 2>&1
}

# eval_step LOG LINE: an evaltest line host::command::pattern::YES|NO|count,
# checked as upstream's framework does (extended regex per output line)
eval_step() {
	local log=$1 line=$2 host cmd pattern expect out count
	host=${line%%::*}; line=${line#*::}
	expect=${line##*::}; line=${line%::*}
	pattern=${line##*::}; cmd=${line%::*}
	echo "$host# $cmd   [expect '$pattern' $expect]" >> "$log"
	out=$(node_exec "$host" bash -c "$cmd" 2>&1) || true
	echo "$out" >> "$log"
	count=$(grep -E -c -e "$pattern" <<< "$out" || true)
	case $expect in
	YES) [ "$count" -gt 0 ] ;;
	NO) [ "$count" -eq 0 ] ;;
	*) [ "$count" -eq "$expect" ] ;;
	esac
}

# run_scenario DIR LOGDIR: 0 if every pretest line succeeded and every
# evaltest line held; the testbed is taken down whatever happens
run_scenario() {
	local dir=$1 logdir=$2 line failed=0 checked=0 f
	rm -rf "$logdir"
	mkdir -p "$logdir"
	# a scenario whose steps cannot be read must not pass by running none
	for f in pretest.dat evaltest.dat; do
		if [ ! -r "$dir/$f" ]; then
			echo "  $dir/$f is missing or unreadable" | tee "$logdir/pretest.log"
			return 1
		fi
	done
	: > "$logdir/pretest.log"; : > "$logdir/evaltest.log"; : > "$logdir/posttest.log"
	testbed_up "$dir" > "$logdir/testbed.log" 2>&1 || {
		cat "$logdir/testbed.log" >&2
		return 1
	}
	while IFS= read -r line; do
		if ! run_step "$logdir/pretest.log" "${line%%::*}" "${line#*::}" < /dev/null; then
			echo "  pretest failed: $line" | tee -a "$logdir/pretest.log"
			failed=1
			break
		fi
	done < <(dat_lines "$dir/pretest.dat")
	if [ $failed = 0 ]; then
		while IFS= read -r line; do
			checked=$((checked + 1))
			if ! eval_step "$logdir/evaltest.log" "$line" < /dev/null; then
				echo "  evaltest failed: $line" | tee -a "$logdir/evaltest.log"
				failed=1
			fi
		done < <(dat_lines "$dir/evaltest.dat"; dat_lines "$dir/evaltest.${CXTP_KERNEL:-libipsec}.dat")
		if [ $checked = 0 ]; then
			echo "  no evaltest line was checked" | tee -a "$logdir/evaltest.log"
			failed=1
		fi
	fi
	# what the scenario leaves behind fails it as its own checks do; a
	# scenario that failed already gets no time for its transfers to go
	if [ $failed = 0 ]; then
		leftovers "$logdir/posttest.log" running || failed=1
	else
		CXTP_LEFTOVER_WAIT=0 leftovers "$logdir/posttest.log" running || true
	fi
	while IFS= read -r line; do
		if ! run_step "$logdir/posttest.log" "${line%%::*}" "${line#*::}" < /dev/null; then
			echo "  posttest failed: $line" | tee -a "$logdir/posttest.log"
			failed=1
		fi
	done < <(dat_lines "$dir/posttest.dat")
	leftovers "$logdir/posttest.log" stopped || failed=1
	collect_logs "$logdir"
	testbed_down
	return $failed
}

# leftovers LOG running|stopped: testing/bin/leftovers on every node, its
# findings in the log and on our output
leftovers() {
	local log=$1 phase=$2 n out rc=0
	for n in "${NODES[@]}"; do
		echo "$(date +%T.%3N) $n# leftovers $phase" >> "$log"
		out=$(node_exec "$n" leftovers "$phase" 2>&1 < /dev/null) || rc=1
		[ -z "$out" ] || echo "$out" >> "$log"
		grep '^leftover:' <<< "$out" | sed 's/^/  /' || true
	done
	return $rc
}

collect_logs() {
	local logdir=$1 n
	for n in "${NODES[@]}"; do
		[ -d "$state/$n" ] || continue
		cp -r "$state/$n" "$logdir/$n" 2>/dev/null || true
	done
}
