#!/usr/bin/awk -f
# Turns handover-measure lines (method|delay_ms|messages|bytes|gap_ms) into
# the paper's Table 1: one row per method in order of appearance, with the
# median, minimum and maximum delay, and the messages and bytes (a range if
# they differed between handovers). The median of the whole probe gap
# follows on a line of its own, for the plot.
BEGIN { FS = "|" }

function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}

function median(a, n) {
	sort(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function range(a, n) {
	sort(a, n)
	return a[1] == a[n] ? a[1] : a[1] "-" a[n]
}

{
	m = $1
	if (!(m in count))
		order[++methods] = m
	k = ++count[m]
	delay[m, k] = $2 + 0
	msgs[m, k] = $3 + 0
	bytes[m, k] = $4 + 0
	gap[m, k] = $5 + 0
}

END {
	print "| method | delay ms (median) | min | max | messages | bytes |"
	print "|---|---|---|---|---|---|"
	for (i = 1; i <= methods; i++) {
		m = order[i]
		n = count[m]
		for (k = 1; k <= n; k++) {
			d[k] = delay[m, k]; g[k] = gap[m, k]
			c[k] = msgs[m, k]; b[k] = bytes[m, k]
		}
		printf "| %s | %.2f | %.2f | %.2f | %s | %s |\n", m,
			median(d, n), d[1], d[n], range(c, n), range(b, n)
		gaps[i] = sprintf("%s %.1f ms", m, median(g, n))
		delete d; delete g; delete c; delete b
	}
	printf "\nWhole probe gap (median, movement detection included):"
	for (i = 1; i <= methods; i++)
		printf "%s %s", (i > 1 ? ";" : ""), gaps[i]
	print ""
}
