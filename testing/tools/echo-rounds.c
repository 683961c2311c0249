/*
 * echo-rounds - whose traffic continued, for many sources at once.
 *
 * A drain moves a thousand mobile nodes' contexts at once; what a user
 * notices is whether any one node's traffic stopped, and for how long. One
 * probe per node would mean a thousand processes; this sends, from each
 * address of a network device (e.g. the virtual IPs a load-tester put on
 * kernel-libipsec's TUN device), one datagram per round to a correspondent
 * running "probe echo", the sends of a round spread evenly over the round
 * (a burst of a thousand would overflow the TUN's and the gateways' queues
 * and be counted as the drain's losses). A source answered a round if the
 * echo came back within the timeout. Per source it reports the rounds
 * answered, the longest run of unanswered rounds and its longest silence:
 * the longest time without any echo from its first datagram to its last
 * (echoes that come late count here: a node whose datagrams are held for
 * two seconds and then delivered had two seconds without traffic, however
 * its rounds count); per round how many sources answered it.
 *
 *   echo-rounds -d ADDR -I DEV [-p PORT] [-i INTERVAL_MS] [-w TIMEOUT_MS]
 *               [-c ROUNDS] [-o REPORT]
 *
 * Runs until SIGINT/SIGTERM (or ROUNDS rounds; a round under way is
 * finished first), waits TIMEOUT_MS for the last echoes. The report
 * (default stdout) has a round's line as soon as its echoes are in (so a
 * script can wait for a round every source answered), the sources' lines
 * at the end:
 *
 *   # echo-rounds interval_ms=N timeout_ms=N sources=N
 *   round R START_REALTIME_S ANSWERED
 *   source ADDR ANSWERED LONGEST_RUN RUN_START SILENCE_MS SILENCE_START_S
 *   # end rounds=N send_errors=N late=N stray=N
 *
 * LONGEST_RUN is the longest run of unanswered rounds (at the start and the
 * end too), RUN_START the round it began with (- if none was missed);
 * SILENCE_MS the longest silence and SILENCE_START_S (realtime) when it
 * began. A summary goes to stderr.
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE		2
#define DEFAULT_PORT		7000
#define DEFAULT_INTERVAL_MS	100
#define DEFAULT_TIMEOUT_MS	500
#define MAX_MS			600000
#define NS_PER_MS		((int64_t)1000000)
#define NS_PER_SEC		((int64_t)1000000000)

#define DGRAM_LEN		32
/* magic and a per-run nonce: late echoes of an earlier run on the same
 * port are not counted */
#define MAGIC			0x45524e31u	/* "ERN1" */
#define OFF_MAGIC		0
#define OFF_NONCE		4
#define OFF_ROUND		8
#define OFF_SOURCE		12

static const char *prog = "echo-rounds";
static volatile sig_atomic_t stop_requested;

struct source {
	struct sockaddr_storage addr;
	uint32_t answered;
	/* the last round answered, -1 before the first */
	int64_t last;
	uint32_t longest;
	int64_t longest_start;
	/* the last echo (monotonic; its first send before one came), the
	 * longest silence and when it began */
	int64_t last_echo, silence, silence_start;
};

struct run {
	int fd;
	int family;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	uint32_t nonce;
	struct source *src;
	size_t nsrc;
	int64_t interval_ns, timeout_ns;
	/* per round: when it was scheduled to start, sources answered */
	int64_t *start;
	uint32_t *answered;
	size_t rounds, cap;
	/* rounds whose line is written */
	size_t written;
	uint64_t send_errors, late, stray;
	FILE *out;
	const char *out_name;
	/* CLOCK_REALTIME minus CLOCK_MONOTONIC, for the round lines */
	int64_t real_offset;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s -d ADDR -I DEV [-p PORT] [-i INTERVAL_MS] [-w TIMEOUT_MS]\n"
"       [-c ROUNDS] [-o REPORT]\n"
"\n"
"Every INTERVAL_MS (default %d), send one datagram from each address of\n"
"DEV (of ADDR's family, not link-local or loopback) to ADDR:PORT (default\n"
"%d), where 'probe echo' answers; an echo counts if it is back within\n"
"TIMEOUT_MS (default %d). Until SIGINT/SIGTERM or ROUNDS rounds. The report\n"
"(default stdout): per round the sources answered, once its echoes are in;\n"
"at the end per source the rounds answered, the longest run of unanswered\n"
"rounds and the longest time without an echo (late ones too).\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog, DEFAULT_INTERVAL_MS, DEFAULT_PORT, DEFAULT_TIMEOUT_MS);
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s\nTry '%s -h' for help.\n", prog, what,
		arg ? " " : "", arg ? arg : "", prog);
	return EXIT_USAGE;
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static uint32_t get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf,
			    size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	return inet_ntop(ss->ss_family, a, buf, len) ? buf : "?";
}

/* the device's addresses of the destination's family: the sources */
static int load_sources(struct run *r, const char *dev)
{
	struct ifaddrs *ifa, *i;
	size_t cap = 0;

	if (getifaddrs(&ifa) < 0) {
		fprintf(stderr, "%s: getifaddrs: %s\n", prog, strerror(errno));
		return -1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		struct source *p;

		if (!i->ifa_addr || i->ifa_addr->sa_family != r->family ||
		    strcmp(i->ifa_name, dev))
			continue;
		/* with the kernel's ESP, virtual IPs are on lo, beside
		 * addresses no datagram to a correspondent comes from */
		if (r->family == AF_INET6 ? IN6_IS_ADDR_LINKLOCAL(
			&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr) ||
		    IN6_IS_ADDR_LOOPBACK(
			&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr) :
		    (ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr)
		     >> 24) == IN_LOOPBACKNET)
			continue;
		if (r->nsrc == cap) {
			cap = cap ? cap * 2 : 1024;
			p = realloc(r->src, cap * sizeof(*p));
			if (!p) {
				freeifaddrs(ifa);
				fprintf(stderr, "%s: out of memory\n", prog);
				return -1;
			}
			r->src = p;
		}
		p = &r->src[r->nsrc++];
		memset(p, 0, sizeof(*p));
		memcpy(&p->addr, i->ifa_addr, r->family == AF_INET6 ?
		       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		p->last = -1;
		p->longest_start = -1;
	}
	freeifaddrs(ifa);
	if (!r->nsrc) {
		fprintf(stderr, "%s: no %s address on %s\n", prog,
			r->family == AF_INET6 ? "IPv6" : "IPv4", dev);
		return -1;
	}
	return 0;
}

/* a source's unanswered rounds from the one after its last answered
 * up to (not including) round 'upto' */
static void missed(struct source *s, int64_t upto)
{
	int64_t run = upto - s->last - 1;

	if (run > (int64_t)s->longest) {
		s->longest = (uint32_t)run;
		s->longest_start = s->last + 1;
	}
}

/* a source's time without an echo up to 'now' */
static void silent(struct source *s, int64_t now)
{
	if (now - s->last_echo > s->silence) {
		s->silence = now - s->last_echo;
		s->silence_start = s->last_echo;
	}
}

/* when source i's datagram of a round was due (monotonic) */
static int64_t sent_at(struct run *r, size_t round, size_t i)
{
	return r->start[round] + (int64_t)i * r->interval_ns / (int64_t)r->nsrc;
}

static int new_round(struct run *r, int64_t start)
{
	if (r->rounds == r->cap) {
		size_t n = r->cap ? r->cap * 2 : 1024;
		int64_t *s = realloc(r->start, n * sizeof(*s));
		uint32_t *a;

		if (!s)
			goto oom;
		r->start = s;
		a = realloc(r->answered, n * sizeof(*a));
		if (!a)
			goto oom;
		r->answered = a;
		r->cap = n;
	}
	r->start[r->rounds] = start;
	r->answered[r->rounds] = 0;
	r->rounds++;
	return 0;
oom:
	fprintf(stderr, "%s: out of memory\n", prog);
	return -1;
}

/* one datagram of round 'round' from source i, its source address set per
 * datagram (one socket for all of them) */
static void send_one(struct run *r, uint32_t round, uint32_t i)
{
	unsigned char p[DGRAM_LEN] = { 0 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct iovec iov = { .iov_base = p, .iov_len = sizeof(p) };
	struct msghdr msg = {
		.msg_name = &r->dst,
		.msg_namelen = r->dstlen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
	};
	struct cmsghdr *c;
	ssize_t n;

	put_be32(p + OFF_MAGIC, MAGIC);
	put_be32(p + OFF_NONCE, r->nonce);
	put_be32(p + OFF_ROUND, round);
	put_be32(p + OFF_SOURCE, i);
	memset(&ctl, 0, sizeof(ctl));
	c = &ctl.align;
	if (r->family == AF_INET6) {
		struct in6_pktinfo pi = {
			.ipi6_addr = ((struct sockaddr_in6 *)&r->src[i].addr)->sin6_addr,
		};

		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in_pktinfo pi = {
			.ipi_spec_dst = ((struct sockaddr_in *)&r->src[i].addr)->sin_addr,
		};

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
	do {
		n = sendmsg(r->fd, &msg, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	/* a datagram not sent is a round not answered */
	if (n != (ssize_t)sizeof(p))
		r->send_errors++;
}

static void receive(struct run *r)
{
	for (;;) {
		unsigned char p[DGRAM_LEN + 1];
		uint32_t round, i;
		struct source *s;
		int64_t now;
		ssize_t n;

		n = recv(r->fd, p, sizeof(p), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN, or an ICMP error: a lost round, no more */
			return;
		}
		if (n != DGRAM_LEN || get_be32(p + OFF_MAGIC) != MAGIC ||
		    get_be32(p + OFF_NONCE) != r->nonce) {
			r->stray++;
			continue;
		}
		round = get_be32(p + OFF_ROUND);
		i = get_be32(p + OFF_SOURCE);
		if (round >= r->rounds || i >= r->nsrc) {
			r->stray++;
			continue;
		}
		s = &r->src[i];
		now = now_ns(CLOCK_MONOTONIC);
		silent(s, now);
		s->last_echo = now;
		/* later than the timeout, or behind a later round's echo (or
		 * a duplicate): that round counts as unanswered */
		if ((int64_t)round <= s->last || now > sent_at(r, round, i) +
		    r->timeout_ns) {
			r->late++;
			continue;
		}
		missed(s, round);
		s->last = round;
		s->answered++;
		r->answered[round]++;
	}
}

/* the lines of the rounds whose last echo is due by 'now', flushed */
static void write_rounds(struct run *r, int64_t now)
{
	size_t k;

	for (k = r->written; k < r->rounds; k++) {
		int64_t at = r->start[k] + r->real_offset;

		if (now <= r->start[k] + r->interval_ns + r->timeout_ns)
			break;
		fprintf(r->out, "round %zu %" PRId64 ".%03" PRId64 " %" PRIu32
			"\n", k, at / NS_PER_SEC, at % NS_PER_SEC / NS_PER_MS,
			r->answered[k]);
	}
	if (k > r->written) {
		r->written = k;
		fflush(r->out);
	}
}

/* wait until 'until' (monotonic) or an echo, and take the echoes in */
static int wait_until(struct run *r, int64_t until, const sigset_t *orig)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	int64_t left = until - now_ns(CLOCK_MONOTONIC);
	struct timespec ts;

	if (left < 0)
		left = 0;
	ts.tv_sec = left / NS_PER_SEC;
	ts.tv_nsec = left % NS_PER_SEC;
	if (ppoll(&pfd, 1, &ts, orig) < 0 && errno != EINTR) {
		fprintf(stderr, "%s: ppoll: %s\n", prog, strerror(errno));
		return -1;
	}
	receive(r);
	return 0;
}

/* wait until 'until' (monotonic), taking echoes in meanwhile */
static int sleep_until(struct run *r, int64_t until, const sigset_t *mask)
{
	while (now_ns(CLOCK_MONOTONIC) < until) {
		if (wait_until(r, until, mask) < 0)
			return -1;
		write_rounds(r, now_ns(CLOCK_MONOTONIC));
	}
	return 0;
}

static int run_rounds(struct run *r, uint32_t count, const sigset_t *orig)
{
	int64_t start = now_ns(CLOCK_MONOTONIC), t;
	uint32_t round, i;

	for (round = 0; !stop_requested && (!count || round < count); round++) {
		t = now_ns(CLOCK_MONOTONIC);
		/* starved of CPU for more than a round: go on from now
		 * rather than burst the rounds missed */
		if (t > start + r->interval_ns)
			start = t;
		if (new_round(r, start) < 0)
			return -1;
		/* a stop request lets the round finish: a round sent to
		 * some sources only would count the others as lost */
		for (i = 0; i < r->nsrc; i++) {
			t = sent_at(r, round, i);
			if (sleep_until(r, t, orig) < 0)
				return -1;
			if (!round)
				r->src[i].last_echo = now_ns(CLOCK_MONOTONIC);
			send_one(r, round, i);
		}
		start += r->interval_ns;
		if (sleep_until(r, start, orig) < 0)
			return -1;
	}
	/* the last echoes */
	return sleep_until(r, now_ns(CLOCK_MONOTONIC) + r->timeout_ns, orig);
}

static int report(struct run *r)
{
	size_t k, every = 0, worst = 0;
	char buf[INET6_ADDRSTRLEN];
	FILE *out = r->out;

	/* all due now: the last round's timeout has passed */
	write_rounds(r, INT64_MAX);
	for (k = 0; k < r->nsrc; k++) {
		missed(&r->src[k], (int64_t)r->rounds);
		/* silent for as long as its last round's echo was waited
		 * for, if that never came in time */
		if (r->rounds && r->src[k].last < (int64_t)r->rounds - 1)
			silent(&r->src[k], sent_at(r, r->rounds - 1, k) +
			       r->timeout_ns);
	}
	for (k = 0; k < r->nsrc; k++) {
		struct source *s = &r->src[k];

		int64_t at = s->silence_start + r->real_offset;

		fprintf(out, "source %s %" PRIu32 " %" PRIu32 " ",
			addr_str(&s->addr, buf, sizeof(buf)), s->answered,
			s->longest);
		if (s->longest_start < 0)
			fprintf(out, "-");
		else
			fprintf(out, "%" PRId64, s->longest_start);
		fprintf(out, " %" PRId64 " %" PRId64 ".%03" PRId64 "\n",
			s->silence / NS_PER_MS, at / NS_PER_SEC,
			at % NS_PER_SEC / NS_PER_MS);
		every += s->longest == 0;
		if (s->silence > r->src[worst].silence)
			worst = k;
	}
	fprintf(out, "# end rounds=%zu send_errors=%" PRIu64 " late=%" PRIu64
		" stray=%" PRIu64 "\n", r->rounds, r->send_errors, r->late,
		r->stray);
	if (fflush(out) == EOF || ferror(out)) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, r->out_name,
			strerror(errno));
		return -1;
	}
	fprintf(stderr, "%s: %zu rounds of %zu sources, %zu answered every "
		"round", prog, r->rounds, r->nsrc, every);
	fprintf(stderr, ", longest silence %" PRId64 " ms (%s)",
		r->src[worst].silence / NS_PER_MS,
		addr_str(&r->src[worst].addr, buf, sizeof(buf)));
	fprintf(stderr, "; send errors %" PRIu64 ", late echoes %" PRIu64
		", stray %" PRIu64 "\n", r->send_errors, r->late, r->stray);
	return 0;
}

static int open_socket(struct run *r)
{
	int size = 4 << 20;

	r->fd = socket(r->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	/* a round's echoes must not overflow the default buffer */
	if (setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0)
		setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

int main(int argc, char **argv)
{
	const char *dst = NULL, *dev = NULL, *out_name = NULL;
	uint32_t port = DEFAULT_PORT, interval = DEFAULT_INTERVAL_MS;
	uint32_t timeout = DEFAULT_TIMEOUT_MS, count = 0;
	struct run r = { .fd = -1 };
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	}, *ai;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, orig;
	char service[8];
	FILE *out = stdout;
	int c, rc = EXIT_FAILURE;

	opterr = 0;
	while ((c = getopt(argc, argv, ":d:I:p:i:w:c:o:h")) != -1) {
		switch (c) {
		case 'd':
			dst = optarg;
			break;
		case 'I':
			dev = optarg;
			break;
		case 'p':
			if (!parse_u32(optarg, 1, 65535, &port))
				return usage_error("invalid port", optarg);
			break;
		case 'i':
			if (!parse_u32(optarg, 1, MAX_MS, &interval))
				return usage_error("invalid interval", optarg);
			break;
		case 'w':
			if (!parse_u32(optarg, 1, MAX_MS, &timeout))
				return usage_error("invalid timeout", optarg);
			break;
		case 'c':
			if (!parse_u32(optarg, 1, UINT32_MAX, &count))
				return usage_error("invalid round count", optarg);
			break;
		case 'o':
			out_name = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case ':':
			return usage_error("an option lacks its argument", NULL);
		default:
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!dst || !dev)
		return usage_error("-d ADDR and -I DEV are required", NULL);

	snprintf(service, sizeof(service), "%" PRIu32, port);
	if (getaddrinfo(dst, service, &hints, &ai)) {
		fprintf(stderr, "%s: invalid address '%s'\n", prog, dst);
		return EXIT_USAGE;
	}
	memcpy(&r.dst, ai->ai_addr, ai->ai_addrlen);
	r.dstlen = ai->ai_addrlen;
	r.family = ai->ai_family;
	freeaddrinfo(ai);
	r.interval_ns = interval * NS_PER_MS;
	r.timeout_ns = timeout * NS_PER_MS;
	r.nonce = (uint32_t)(now_ns(CLOCK_REALTIME) ^ getpid());

	/* signals stay blocked except inside ppoll(): a stop request cannot
	 * slip in between checking the flag and waiting */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &orig) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0) {
		fprintf(stderr, "%s: signals: %s\n", prog, strerror(errno));
		return EXIT_FAILURE;
	}
	if (out_name && !(out = fopen(out_name, "w"))) {
		fprintf(stderr, "%s: %s: %s\n", prog, out_name, strerror(errno));
		return EXIT_FAILURE;
	}
	r.out = out;
	r.out_name = out_name ?: "stdout";
	r.real_offset = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	if (load_sources(&r, dev) == 0 && open_socket(&r) == 0) {
		fprintf(out, "# echo-rounds interval_ms=%" PRIu32 " timeout_ms=%"
			PRIu32 " sources=%zu\n", interval, timeout, r.nsrc);
		fflush(out);
		if (run_rounds(&r, count, &orig) == 0 && report(&r) == 0)
			rc = EXIT_SUCCESS;
	}
	if (r.fd >= 0)
		close(r.fd);
	if (out != stdout && fclose(out) == EOF) {
		fprintf(stderr, "%s: %s: %s\n", prog, out_name, strerror(errno));
		rc = EXIT_FAILURE;
	}
	free(r.src);
	free(r.start);
	free(r.answered);
	return rc;
}
