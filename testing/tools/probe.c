/*
 * probe - measure how long UDP traffic is interrupted by a handover.
 *
 * ping samples too coarsely and stops or slows down on send errors, so it
 * cannot tell a 3 ms outage from a 30 ms one. During a handover the routes
 * and SAs of the mobile node (MN) change under its feet, and the interesting
 * number is exactly how many milliseconds no traffic got through. So the MN
 * runs "probe send", which emits one numbered datagram per interval (1 ms by
 * default) at a fixed rate no matter what the kernel says about individual
 * sends, towards a correspondent (e.g. the HA) running "probe echo". Only the
 * MN's clock is used: it stamps each probe when sending and each echo when it
 * comes back, so no clock synchronisation between the hosts is needed.
 * "probe gaps" then turns the log of returned echoes into the list of
 * outages and their durations.
 *
 *   probe echo [-p PORT] [-b ADDR]
 *   probe send -d ADDR [-p PORT] [-i INTERVAL_US] [-c COUNT] [-o LOGFILE]
 *              [-S SRCADDR]
 *   probe gaps LOGFILE [-t THRESHOLD_MS]
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE		2
#define DEFAULT_PORT		7000
#define DEFAULT_INTERVAL_US	1000
#define DEFAULT_THRESHOLD_MS	5.0
#define MAX_INTERVAL_US		(60ULL * 1000000)
/* Echoes still in flight when sending stops would otherwise show up as a
 * loss at the end of every run. */
#define LINGER_NS		(200LL * 1000000)
/* A sender stalled for longer than this many intervals (suspended, starved of
 * CPU) restarts its schedule instead of bursting the missed probes, which
 * would only overflow queues and show up as bogus send errors. */
#define RESYNC_INTERVALS	10

#define PROBE_LEN		32
/* The padding carries a magic and a per-run nonce so that stray datagrams
 * and late echoes of an earlier run on the same port are not counted. */
#define PROBE_MAGIC		0x50524231u	/* "PRB1" */
#define OFF_SEQ			0
#define OFF_SENT		8
#define OFF_MAGIC		16
#define OFF_NONCE		20

#define NS_PER_SEC		1000000000LL

static const char *prog = "probe";
static volatile sig_atomic_t stop_requested;

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s echo [-p PORT] [-b ADDR]\n"
"       %s send -d ADDR [-p PORT] [-i INTERVAL_US] [-c COUNT] [-o LOGFILE] [-S SRCADDR]\n"
"       %s gaps LOGFILE [-t THRESHOLD_MS]\n"
"\n"
"echo  echo every UDP datagram back to its sender until SIGINT/SIGTERM.\n"
"      Default: [::]:%d, also accepting IPv4; -b binds one address instead.\n"
"send  send a numbered probe to ADDR every INTERVAL_US (default %d) until\n"
"      SIGINT/SIGTERM or COUNT probes, wait 200 ms for late echoes, then\n"
"      write the log (default stdout): a header line\n"
"        # probe interval_us=N sent=N received=N send_errors=N\n"
"      and one line per echoed probe, in sequence order:\n"
"        seq send_realtime_ns recv_realtime_ns\n"
"      Send errors are counted, never fatal. -S binds the source address.\n"
"gaps  list runs of lost probes between two echoed ones in a send log that\n"
"      are longer than THRESHOLD_MS (default %.0f) worth of probes.\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n",
		prog, prog, prog, DEFAULT_PORT, DEFAULT_INTERVAL_US,
		DEFAULT_THRESHOLD_MS);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s -h' for help.\n", prog);
	return EXIT_USAGE;
}

/* getopt() with opterr=0 and a leading ':' so messages name the subcommand's
 * option rather than a shifted argv[0]. */
static int bad_option(int c)
{
	if (c == ':')
		return usage_error("option -%c requires an argument", optopt);
	return usage_error("unknown option -%c", optopt);
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: blocking calls must come back with EINTR so the
	 * loops notice the stop request. */
	if (sigemptyset(&sa.sa_mask) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0) {
		fprintf(stderr, "%s: sigaction: %s\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) < 0) {
		/* Only possible with a broken libc/kernel; no way to measure. */
		fprintf(stderr, "%s: clock_gettime: %s\n", prog, strerror(errno));
		exit(EXIT_FAILURE);
	}
	return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static struct timespec ns_to_ts(int64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / NS_PER_SEC,
		.tv_nsec = ns % NS_PER_SEC,
	};
	return ts;
}

/* Numeric addresses only: resolving names in the middle of a handover test
 * would add its own outages. */
static int resolve(const char *addr, uint16_t port, bool passive,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res;
	char service[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
			 (passive ? AI_PASSIVE : 0);
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(addr, service, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "%s: invalid address '%s': %s\n", prog, addr,
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int set_int_opt(int fd, int level, int name, int val, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0) {
		fprintf(stderr, "%s: setsockopt(%s): %s\n", prog, what,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void close_fd(int fd)
{
	if (fd >= 0 && close(fd) < 0)
		fprintf(stderr, "%s: close: %s\n", prog, strerror(errno));
}

/* ------------------------------------------------------------------ echo */

union pktinfo_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		 CMSG_SPACE(sizeof(struct in_pktinfo))];
};

/*
 * A multi-homed correspondent (the HA has a home and a care-of side) must
 * answer from the address the probe was sent to, or the reply may miss the
 * MN's IPsec policies. So the destination address of each datagram is turned
 * into the source of its echo. The interface is left to routing, except for
 * link-local addresses that mean nothing without it.
 */
static socklen_t reply_pktinfo(struct msghdr *in, union pktinfo_cmsg *out)
{
	struct cmsghdr *c, *o;

	if (in->msg_flags & MSG_CTRUNC)
		return 0;
	for (c = CMSG_FIRSTHDR(in); c; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (!IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = 0;
			memset(out, 0, sizeof(*out));
			o = &out->align;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_ifindex = 0;
			memset(out, 0, sizeof(*out));
			o = &out->align;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

static int echo_socket(const struct sockaddr_storage *bind_ss,
		       socklen_t bind_len, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rcvbuf = 4 << 20;

	if (bind_ss) {
		ss = *bind_ss;
		len = bind_len;
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		memset(&ss, 0, sizeof(ss));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 && errno == EAFNOSUPPORT) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			fprintf(stderr, "%s: no IPv6, echoing IPv4 only\n",
				prog);
			memset(&ss, 0, sizeof(ss));
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
			sin->sin_port = htons(port);
			len = sizeof(*sin);
			fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		}
	}
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	/* Echoing a thousand nodes at once (the bench's drain, echo-rounds),
	 * a moment without CPU must not overflow the default buffer and
	 * count as the nodes' loss; a smaller one than asked for will do. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		/* The system default (net.ipv6.bindv6only) must not decide
		 * whether IPv4 probes get an answer. */
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) &&
		    set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0,
				"IPV6_V6ONLY") < 0)
			goto fail;
		/* Also yields v4-mapped pktinfo for IPv4 datagrams. */
		if (set_int_opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1,
				"IPV6_RECVPKTINFO") < 0)
			goto fail;
	} else if (set_int_opt(fd, IPPROTO_IP, IP_PKTINFO, 1,
			       "IP_PKTINFO") < 0) {
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "%s: bind port %u: %s\n", prog, port,
			strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close_fd(fd);
	return -1;
}

static int cmd_echo(int argc, char **argv)
{
	static unsigned char buf[65536];
	const char *bind_addr = NULL;
	uint64_t port = DEFAULT_PORT, echoed = 0, errors = 0, truncated = 0;
	struct sockaddr_storage bind_ss;
	socklen_t bind_len = 0;
	sigset_t block, orig;
	struct pollfd pfd;
	int c, fd, ret = EXIT_FAILURE;

	while ((c = getopt(argc, argv, ":p:b:h")) != -1) {
		switch (c) {
		case 'p':
			if (!parse_u64(optarg, 1, 65535, &port))
				return usage_error("invalid port '%s'", optarg);
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			return bad_option(c);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (bind_addr &&
	    resolve(bind_addr, (uint16_t)port, true, &bind_ss, &bind_len) < 0)
		return EXIT_USAGE;

	/* Signals stay blocked except inside ppoll(), so a stop request can
	 * never slip in between checking the flag and going to sleep. */
	if (sigemptyset(&block) < 0 || sigaddset(&block, SIGINT) < 0 ||
	    sigaddset(&block, SIGTERM) < 0 ||
	    sigprocmask(SIG_BLOCK, &block, &orig) < 0) {
		fprintf(stderr, "%s: sigprocmask: %s\n", prog, strerror(errno));
		return EXIT_FAILURE;
	}
	if (install_signals() < 0)
		return EXIT_FAILURE;
	fd = echo_socket(bind_addr ? &bind_ss : NULL, bind_len,
			 (uint16_t)port);
	if (fd < 0)
		return EXIT_FAILURE;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!stop_requested) {
		if (ppoll(&pfd, 1, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: ppoll: %s\n", prog,
				strerror(errno));
			goto out;
		}
		for (;;) {
			struct sockaddr_storage peer;
			union pktinfo_cmsg cin, cout;
			struct iovec iov = { .iov_base = buf,
					     .iov_len = sizeof(buf) };
			struct msghdr msg = {
				.msg_name = &peer,
				.msg_namelen = sizeof(peer),
				.msg_iov = &iov,
				.msg_iovlen = 1,
				.msg_control = cin.buf,
				.msg_controllen = sizeof(cin.buf),
			};
			ssize_t n;
			socklen_t clen;

			n = recvmsg(fd, &msg, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				/* Transient (e.g. ICMP-induced) errors must
				 * not end the echo service. */
				errors++;
				break;
			}
			/* Cannot echo "unchanged" what did not fit. */
			if (msg.msg_flags & MSG_TRUNC) {
				truncated++;
				continue;
			}
			clen = reply_pktinfo(&msg, &cout);
			iov.iov_len = (size_t)n;
			msg.msg_control = clen ? cout.buf : NULL;
			msg.msg_controllen = clen;
			msg.msg_flags = 0;
			do {
				n = sendmsg(fd, &msg, MSG_DONTWAIT);
			} while (n < 0 && errno == EINTR);
			/* The HA's routes change during handovers too;
			 * a failed echo is just a lost probe. */
			if (n < 0)
				errors++;
			else
				echoed++;
		}
	}
	ret = EXIT_SUCCESS;
out:
	fprintf(stderr, "%s echo: echoed=%" PRIu64 " errors=%" PRIu64
		" truncated=%" PRIu64 "\n", prog, echoed, errors, truncated);
	close_fd(fd);
	return ret;
}

/* ------------------------------------------------------------------ send */

struct record {
	uint64_t seq;
	int64_t sent_ns;
	int64_t recv_ns;
};

#define MAX_ERRNOS 8

struct sender {
	int fd;
	const struct sockaddr *dst;
	socklen_t dstlen;
	uint64_t nonce;
	uint64_t sent;		/* also the next sequence number */
	uint64_t send_errors;
	uint64_t duplicates;
	uint64_t stray;
	uint64_t recv_errors;
	uint64_t resyncs;
	unsigned char *seen;	/* bitmap over sequence numbers */
	size_t seen_bytes;
	struct record *recs;
	size_t nrecs, rec_cap;
	struct {
		int err;
		uint64_t count;
	} errnos[MAX_ERRNOS];	/* which errors, for the stderr summary */
};

static void put_be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static void put_be64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

static uint32_t get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static void count_send_error(struct sender *s, int err)
{
	int i;

	s->send_errors++;
	for (i = 0; i < MAX_ERRNOS; i++) {
		if (s->errnos[i].count == 0)
			s->errnos[i].err = err;
		if (s->errnos[i].err == err) {
			s->errnos[i].count++;
			return;
		}
	}
}

/* Grown before each send so that receiving never has to allocate for it. */
static int grow_seen(struct sender *s)
{
	size_t need = (size_t)(s->sent / 8) + 1, n;
	unsigned char *p;

	if (need <= s->seen_bytes)
		return 0;
	n = s->seen_bytes ? s->seen_bytes * 2 : 4096;
	while (n < need)
		n *= 2;
	p = realloc(s->seen, n);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	memset(p + s->seen_bytes, 0, n - s->seen_bytes);
	s->seen = p;
	s->seen_bytes = n;
	return 0;
}

static int add_record(struct sender *s, const struct record *r)
{
	if (s->nrecs == s->rec_cap) {
		size_t n = s->rec_cap ? s->rec_cap * 2 : 4096;
		struct record *p;

		if (n > SIZE_MAX / sizeof(*p) ||
		    !(p = realloc(s->recs, n * sizeof(*p)))) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return -1;
		}
		s->recs = p;
		s->rec_cap = n;
	}
	s->recs[s->nrecs++] = *r;
	return 0;
}

static void send_probe(struct sender *s)
{
	unsigned char p[PROBE_LEN] = { 0 };
	ssize_t n;

	put_be64(p + OFF_SEQ, s->sent);
	put_be64(p + OFF_SENT, (uint64_t)now_ns(CLOCK_REALTIME));
	put_be32(p + OFF_MAGIC, PROBE_MAGIC);
	put_be64(p + OFF_NONCE, s->nonce);
	/* A probe whose send failed is still a probe that did not get
	 * through: it keeps its sequence number so it counts as lost. */
	s->sent++;
	do {
		n = sendto(s->fd, p, sizeof(p), 0, s->dst, s->dstlen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		count_send_error(s, errno);
	else if (n != (ssize_t)sizeof(p))
		count_send_error(s, EMSGSIZE);
}

static int drain(struct sender *s)
{
	for (;;) {
		unsigned char buf[PROBE_LEN + 1];
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct timespec))];
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		struct cmsghdr *c;
		struct record r;
		uint64_t seq;
		ssize_t n;

		n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			/* Asynchronous ICMP errors and the like: keep going,
			 * but don't spin on a persistent one. */
			s->recv_errors++;
			return 0;
		}
		/* Fallback if the kernel did not stamp the datagram. */
		r.recv_ns = now_ns(CLOCK_REALTIME);
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPNS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				r.recv_ns = ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
			}
		}
		if (n != PROBE_LEN ||
		    get_be32(buf + OFF_MAGIC) != PROBE_MAGIC ||
		    get_be64(buf + OFF_NONCE) != s->nonce) {
			s->stray++;
			continue;
		}
		seq = get_be64(buf + OFF_SEQ);
		if (seq >= s->sent) {
			s->stray++;
			continue;
		}
		if (s->seen[seq / 8] & (1u << (seq % 8))) {
			s->duplicates++;
			continue;
		}
		s->seen[seq / 8] |= (unsigned char)(1u << (seq % 8));
		r.seq = seq;
		r.sent_ns = (int64_t)get_be64(buf + OFF_SENT);
		if (add_record(s, &r) < 0)
			return -1;
	}
}

static int cmp_record(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int write_log(struct sender *s, FILE *out, const char *name,
		     uint64_t interval_us)
{
	size_t i;

	/* Echoes arrive reordered around a handover; gaps are in seq order. */
	qsort(s->recs, s->nrecs, sizeof(*s->recs), cmp_record);
	fprintf(out, "# probe interval_us=%" PRIu64 " sent=%" PRIu64
		" received=%zu send_errors=%" PRIu64 "\n",
		interval_us, s->sent, s->nrecs, s->send_errors);
	for (i = 0; i < s->nrecs; i++)
		fprintf(out, "%" PRIu64 " %" PRId64 " %" PRId64 "\n",
			s->recs[i].seq, s->recs[i].sent_ns,
			s->recs[i].recv_ns);
	if (fflush(out) == EOF || ferror(out)) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, name,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void print_send_summary(const struct sender *s)
{
	int i;

	fprintf(stderr, "%s send: sent=%" PRIu64 " received=%zu send_errors=%"
		PRIu64 " duplicates=%" PRIu64 " stray=%" PRIu64
		" recv_errors=%" PRIu64 " resyncs=%" PRIu64 "\n", prog,
		s->sent, s->nrecs, s->send_errors, s->duplicates, s->stray,
		s->recv_errors, s->resyncs);
	for (i = 0; i < MAX_ERRNOS && s->errnos[i].count; i++)
		fprintf(stderr, "%s send:   %" PRIu64 " x %s\n", prog,
			s->errnos[i].count, strerror(s->errnos[i].err));
}

static int send_socket(const struct sockaddr_storage *dst,
		       const struct sockaddr_storage *src, socklen_t srclen)
{
	int fd;

	fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	/* Kernel receive stamps make the echo times independent of how long
	 * the datagram waited in the socket while we slept. */
	if (set_int_opt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1,
			"SO_TIMESTAMPNS") < 0)
		goto fail;
	/* Deliberately not connect()ed and, without -S, not bound: a connected
	 * socket pins the source address chosen at connect time, while the
	 * point of a handover is that the MN's source address changes. */
	if (src && bind(fd, (const struct sockaddr *)src, srclen) < 0) {
		fprintf(stderr, "%s: bind source address: %s\n", prog,
			strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close_fd(fd);
	return -1;
}

static int cmd_send(int argc, char **argv)
{
	const char *dst_addr = NULL, *src_addr = NULL, *log_name = NULL;
	uint64_t port = DEFAULT_PORT, interval_us = DEFAULT_INTERVAL_US;
	uint64_t count = 0;
	struct sockaddr_storage dst, src;
	socklen_t srclen = 0;
	struct sender s;
	struct pollfd pfd;
	struct timespec ts;
	int64_t next, now, deadline, interval_ns;
	FILE *out = stdout;
	int c, rc, ret = EXIT_FAILURE;

	while ((c = getopt(argc, argv, ":d:p:i:o:S:c:h")) != -1) {
		switch (c) {
		case 'd':
			dst_addr = optarg;
			break;
		case 'p':
			if (!parse_u64(optarg, 1, 65535, &port))
				return usage_error("invalid port '%s'", optarg);
			break;
		case 'i':
			if (!parse_u64(optarg, 1, MAX_INTERVAL_US,
				       &interval_us))
				return usage_error("invalid interval '%s'"
						   " (1..60000000 us)", optarg);
			break;
		case 'c':
			if (!parse_u64(optarg, 1, UINT64_MAX / 2, &count))
				return usage_error("invalid count '%s'",
						   optarg);
			break;
		case 'o':
			log_name = optarg;
			break;
		case 'S':
			src_addr = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			return bad_option(c);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!dst_addr)
		return usage_error("send needs -d ADDR");

	memset(&s, 0, sizeof(s));
	s.fd = -1;
	if (resolve(dst_addr, (uint16_t)port, false, &dst, &s.dstlen) < 0)
		return EXIT_USAGE;
	if (src_addr) {
		if (resolve(src_addr, 0, true, &src, &srclen) < 0)
			return EXIT_USAGE;
		if (src.ss_family != dst.ss_family)
			return usage_error("-S %s is not of the destination's"
					   " address family", src_addr);
	}
	s.dst = (const struct sockaddr *)&dst;
	s.nonce = (uint64_t)now_ns(CLOCK_REALTIME) ^
		  ((uint64_t)getpid() << 40);

	/* Open the log first: finding out it is unwritable only after a
	 * long handover run would waste the run. */
	if (log_name && strcmp(log_name, "-") != 0) {
		out = fopen(log_name, "w");
		if (!out) {
			fprintf(stderr, "%s: %s: %s\n", prog, log_name,
				strerror(errno));
			return EXIT_FAILURE;
		}
	} else {
		log_name = "stdout";
	}
	if (install_signals() < 0)
		goto out;
	s.fd = send_socket(&dst, src_addr ? &src : NULL, srclen);
	if (s.fd < 0)
		goto out;

	interval_ns = (int64_t)interval_us * 1000;
	next = now_ns(CLOCK_MONOTONIC);
	while (!stop_requested) {
		if (grow_seen(&s) < 0)
			goto out;
		send_probe(&s);
		if (drain(&s) < 0)
			goto out;
		if (count && s.sent >= count)
			break;
		next += interval_ns;
		now = now_ns(CLOCK_MONOTONIC);
		if (now - next > RESYNC_INTERVALS * interval_ns) {
			next = now;
			s.resyncs++;
		}
		/* Absolute deadlines: the time spent sending and draining
		 * does not accumulate into a slower rate. */
		ts = ns_to_ts(next);
		do {
			rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					     &ts, NULL);
		} while (rc == EINTR && !stop_requested);
		if (rc != 0 && rc != EINTR) {
			fprintf(stderr, "%s: clock_nanosleep: %s\n", prog,
				strerror(rc));
			goto out;
		}
	}

	pfd.fd = s.fd;
	pfd.events = POLLIN;
	deadline = now_ns(CLOCK_MONOTONIC) + LINGER_NS;
	while ((now = now_ns(CLOCK_MONOTONIC)) < deadline) {
		ts = ns_to_ts(deadline - now);
		rc = ppoll(&pfd, 1, &ts, NULL);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: ppoll: %s\n", prog,
				strerror(errno));
			goto out;
		}
		if (rc > 0 && drain(&s) < 0)
			goto out;
	}
	if (drain(&s) < 0)
		goto out;

	print_send_summary(&s);
	if (write_log(&s, out, log_name, interval_us) == 0)
		ret = EXIT_SUCCESS;
out:
	if (out != stdout && fclose(out) == EOF) {
		fprintf(stderr, "%s: closing %s: %s\n", prog, log_name,
			strerror(errno));
		ret = EXIT_FAILURE;
	}
	close_fd(s.fd);
	free(s.seen);
	free(s.recs);
	return ret;
}

/* ------------------------------------------------------------------ gaps */

static int read_log(const char *name, uint64_t *interval_us, uint64_t *sent,
		    struct record **recs, size_t *nrecs)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, n = 0, alloc = 0, lineno = 0;
	uint64_t received = 0, errors;
	struct record *v = NULL;
	bool header = false;
	int ret = -1;

	f = fopen(name, "r");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, name, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		struct record r;
		char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\0')
			continue;
		if (*p == '#') {
			if (sscanf(p, "# probe interval_us=%" SCNu64
				   " sent=%" SCNu64 " received=%" SCNu64
				   " send_errors=%" SCNu64, interval_us, sent,
				   &received, &errors) == 4)
				header = true;
			continue;
		}
		if (sscanf(p, "%" SCNu64 " %" SCNd64 " %" SCNd64, &r.seq,
			   &r.sent_ns, &r.recv_ns) != 3) {
			fprintf(stderr, "%s: %s:%zu: malformed line\n", prog,
				name, lineno);
			goto out;
		}
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 4096;
			struct record *nv;

			if (na > SIZE_MAX / sizeof(*nv) ||
			    !(nv = realloc(v, na * sizeof(*nv)))) {
				fprintf(stderr, "%s: out of memory\n", prog);
				goto out;
			}
			v = nv;
			alloc = na;
		}
		v[n++] = r;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: reading %s: %s\n", prog, name,
			strerror(errno));
		goto out;
	}
	/* Without the interval a gap length cannot be judged. */
	if (!header || *interval_us == 0) {
		fprintf(stderr, "%s: %s: no '# probe interval_us=...' header;"
			" not a probe send log?\n", prog, name);
		goto out;
	}
	if (received != n)
		fprintf(stderr, "%s: warning: %s: header says received=%"
			PRIu64 " but has %zu records (truncated?)\n", prog,
			name, received, n);
	ret = 0;
out:
	free(line);
	if (fclose(f) == EOF) {
		fprintf(stderr, "%s: closing %s: %s\n", prog, name,
			strerror(errno));
		ret = -1;
	}
	if (ret == 0) {
		*recs = v;
		*nrecs = n;
	} else {
		free(v);
	}
	return ret;
}

static int cmd_gaps(int argc, char **argv)
{
	const char *name;
	double threshold_ms = DEFAULT_THRESHOLD_MS, longest_ms = 0;
	uint64_t interval_us = 0, sent = 0, lost = 0, ngaps = 0;
	uint64_t head = 0, tail = 0;
	struct record *v = NULL;
	size_t n = 0, i, j;
	char *end;
	int c;

	while ((c = getopt(argc, argv, ":t:h")) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			threshold_ms = strtod(optarg, &end);
			if (errno || end == optarg || *end != '\0' ||
			    !(threshold_ms >= 0))
				return usage_error("invalid threshold '%s'",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			return bad_option(c);
		}
	}
	if (optind >= argc)
		return usage_error("gaps needs a LOGFILE");
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'",
				   argv[optind + 1]);
	name = argv[optind];

	if (read_log(name, &interval_us, &sent, &v, &n) < 0)
		return EXIT_FAILURE;

	qsort(v, n, sizeof(*v), cmp_record);
	/* Drop duplicates so they cannot hide or split a gap. */
	for (i = 0, j = 0; i < n; i++)
		if (j == 0 || v[i].seq != v[j - 1].seq)
			v[j++] = v[i];
	n = j;
	if (n && v[n - 1].seq >= sent) {
		fprintf(stderr, "%s: warning: %s: seq %" PRIu64 " beyond sent=%"
			PRIu64 "\n", prog, name, v[n - 1].seq, sent);
		sent = v[n - 1].seq + 1;
	}

	for (i = 1; i < n; i++) {
		uint64_t run = v[i].seq - v[i - 1].seq - 1;
		int64_t from, to;
		double ms;

		if (run == 0)
			continue;
		lost += run;
		if ((double)run * (double)interval_us <= threshold_ms * 1000.0)
			continue;
		from = v[i - 1].sent_ns;
		to = v[i].recv_ns;
		ms = (double)(to - from) / 1e6;
		printf("gap %" PRIu64 " %" PRIu64 " lost=%" PRIu64
		       " from_ns=%" PRId64 " to_ns=%" PRId64 " ms=%.3f\n",
		       v[i - 1].seq + 1, v[i].seq - 1, run, from, to, ms);
		ngaps++;
		if (ms > longest_ms)
			longest_ms = ms;
	}
	/* Losses at either end have no echo on one side to time them by, but
	 * a handover that never recovered shows up only here. */
	head = n ? v[0].seq : sent;
	tail = n ? sent - 1 - v[n - 1].seq : 0;
	lost += head + tail;
	if (head || tail)
		printf("# unbounded head_lost=%" PRIu64 " tail_lost=%" PRIu64
		       "\n", head, tail);
	printf("lost=%" PRIu64 " gaps=%" PRIu64 " longest_ms=%.3f\n", lost,
	       ngaps, longest_ms);
	free(v);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: writing stdout: %s\n", prog,
			strerror(errno));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *cmd;

	opterr = 0;
	if (argc < 2)
		return usage_error("missing command");
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	/* Subcommand options are parsed as if the subcommand were argv[0]. */
	if (!strcmp(cmd, "echo"))
		return cmd_echo(argc - 1, argv + 1);
	if (!strcmp(cmd, "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(cmd, "gaps"))
		return cmd_gaps(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
