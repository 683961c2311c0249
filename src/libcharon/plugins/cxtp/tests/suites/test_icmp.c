/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 *
 * This program is distributed in the hope that it will be useful, but
 * WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
 * or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU General Public License
 * for more details.
 */

/*
 * These tests need root (raw sockets).  To be independent of whatever else
 * runs on this host, each test moves the main thread into a network
 * namespace of its own (unshare(CLONE_NEWNET)), brings its loopback up and
 * returns to the original namespace afterwards.  If that is not permitted,
 * the tests run on the loopback of the current namespace.
 */

/* for unshare(), setns() */
#define _GNU_SOURCE

#include <test_suite.h>

#include <threading/mutex.h>
#include <threading/condvar.h>
#include <collections/array.h>

#include "../../cxtp_icmp.h"

#include <sched.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
/* after library.h, it defines rr_type */
#include <netinet/icmp6.h>

/**
 * Wait for expected events at most this long, in ms
 */
#define WAIT_MAX 3000

/**
 * A message received by rx
 */
typedef struct {
	host_t *src;
	host_t *dst;
	cxtp_message_t *message;
	uint64_t time;
} received_t;

/**
 * Messages received by rx, a CTAR that timed out
 */
static mutex_t *mutex;
static condvar_t *condvar;
static array_t *received;
static int timeouts;
static uint32_t timeout_sequence;
static host_t *timeout_dst;
static uint64_t timeout_time;

/**
 * Receiving and (mostly) sending instance
 */
static cxtp_icmp_t *rx, *tx;

/**
 * Settings of the instances, cxtp_settings_t*, destroyed after them
 */
static array_t *settings;

/**
 * Create an instance with the current settings
 */
static cxtp_icmp_t *create(cxtp_icmp_receive_cb_t cb)
{
	cxtp_settings_t *current;

	current = cxtp_settings_create();
	array_insert(settings, ARRAY_TAIL, current);
	return cxtp_icmp_create(current, cb, NULL);
}

/**
 * Original network namespace, -1 if we did not leave it
 */
static int netns = -1;

/**
 * Address families to test, with the loopback address and another local one
 */
static struct {
	int family;
	char *lo;
	char *other;
} families[] = {
	{ AF_INET6, "::1", "::1" },
	{ AF_INET, "127.0.0.1", "127.0.0.2" },
};

static uint64_t now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void received_destroy(void *data, int idx, void *user)
{
	received_t *r = data;

	r->src->destroy(r->src);
	r->dst->destroy(r->dst);
	r->message->destroy(r->message);
	free(r);
}

static void rx_cb(void *data, host_t *src, host_t *dst,
				  cxtp_message_t *message)
{
	received_t *r;

	INIT(r,
		.src = src->clone(src),
		.dst = dst->clone(dst),
		.message = message,
		.time = now_ms(),
	);
	mutex->lock(mutex);
	array_insert(received, ARRAY_TAIL, r);
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

/**
 * Raw sockets see everything, the sender ignores what it gets
 */
static void tx_cb(void *data, host_t *src, host_t *dst,
				  cxtp_message_t *message)
{
	message->destroy(message);
}

static void timeout_cb(void *data, uint32_t sequence, host_t *dst)
{
	mutex->lock(mutex);
	timeouts++;
	timeout_sequence = sequence;
	DESTROY_IF(timeout_dst);
	timeout_dst = dst->clone(dst);
	timeout_time = now_ms();
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

/**
 * Wait until rx received count messages (TRUE) or ms passed (FALSE)
 */
static bool wait_received(int count, u_int ms)
{
	timeval_t deadline;
	bool reached;

	time_monotonic(&deadline);
	timeval_add_ms(&deadline, ms);
	mutex->lock(mutex);
	while (array_count(received) < count)
	{
		if (condvar->timed_wait_abs(condvar, mutex, deadline))
		{
			break;
		}
	}
	reached = array_count(received) >= count;
	mutex->unlock(mutex);
	return reached;
}

/**
 * Wait until count timeouts fired (TRUE) or ms passed (FALSE)
 */
static bool wait_timeouts(int count, u_int ms)
{
	timeval_t deadline;
	bool reached;

	time_monotonic(&deadline);
	timeval_add_ms(&deadline, ms);
	mutex->lock(mutex);
	while (timeouts < count)
	{
		if (condvar->timed_wait_abs(condvar, mutex, deadline))
		{
			break;
		}
	}
	reached = timeouts >= count;
	mutex->unlock(mutex);
	return reached;
}

/**
 * Get the i-th received message (the list only grows during a test)
 */
static received_t *get_received(int i)
{
	received_t *r = NULL;

	mutex->lock(mutex);
	array_get(received, i, &r);
	mutex->unlock(mutex);
	ck_assert(r);
	return r;
}

static int count_received()
{
	int count;

	mutex->lock(mutex);
	count = array_count(received);
	mutex->unlock(mutex);
	return count;
}

static host_t *host(char *addr)
{
	host_t *host = host_create_from_string(addr, 0);

	ck_assert(host);
	return host;
}

/**
 * Build a CTAR of the given family
 */
static cxtp_message_t *build_ctar(int family, uint32_t sequence, bool ack)
{
	cxtp_message_t *message;
	host_t *mn, *ar;

	mn = host(family == AF_INET6 ? "2001:db8::1" : "192.0.2.1");
	ar = host(family == AF_INET6 ? "2001:db8::2" : "198.51.100.2");
	message = cxtp_message_create(CXTP_CTAR, mn);
	ck_assert(message);
	ck_assert(message->set_ar_address(message, ar));
	message->set_sequence(message, sequence);
	message->set_token(message, 0x9abcdef0);
	message->set_ack(message, ack);
	ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty));
	ck_assert(message->add_cdb(message, CXTP_FPT_CHILD_SA, chunk_empty));
	mn->destroy(mn);
	ar->destroy(ar);
	return message;
}

/**
 * Build a CTAA of the given family
 */
static cxtp_message_t *build_ctaa(int family)
{
	cxtp_message_t *message;
	host_t *mn;

	mn = host(family == AF_INET6 ? "2001:db8::1" : "192.0.2.1");
	message = cxtp_message_create(CXTP_CTAA, mn);
	ck_assert(message);
	ck_assert(message->add_status(message, CXTP_FPT_IKE_SA, 0));
	ck_assert(message->add_status(message, CXTP_FPT_CHILD_SA, 5));
	mn->destroy(mn);
	return message;
}

/**
 * Check that two messages are equal by their encoding
 */
static void assert_message(cxtp_message_t *a, cxtp_message_t *b)
{
	chunk_t ea, eb;

	ea = a->encode(a);
	eb = b->encode(b);
	ck_assert(ea.len);
	ck_assert_chunk_eq(ea, eb);
	chunk_free(&ea);
	chunk_free(&eb);
}

static void assert_host(host_t *host, char *addr)
{
	host_t *expected = host_create_from_string(addr, 0);

	ck_assert_msg(expected->ip_equals(expected, host), "%H != %H",
				  host, expected);
	expected->destroy(expected);
}

/**
 * Bring the loopback interface up
 */
static bool lo_up()
{
	struct ifreq ifr = {};
	bool success = FALSE;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
	{
		return FALSE;
	}
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
	{
		ifr.ifr_flags |= IFF_UP;
		success = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	}
	close(fd);
	return success;
}

START_SETUP(setup)
{
	netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns >= 0 && unshare(CLONE_NEWNET) == 0)
	{
		ck_assert(lo_up());
	}
	else
	{
		fprintf(stderr, "no network namespace of our own (%s), using the "
				"current one\n", strerror(errno));
		if (netns >= 0)
		{
			close(netns);
			netns = -1;
		}
	}
	/* for the watcher and the scheduler */
	lib->processor->set_threads(lib->processor, 4);

	mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
	received = array_create(0, 0);
	settings = array_create(0, 0);
	timeouts = 0;
	timeout_sequence = 0;
	timeout_dst = NULL;
	timeout_time = 0;
	rx = tx = NULL;
}
END_SETUP

START_TEARDOWN(teardown)
{
	DESTROY_IF(tx);
	DESTROY_IF(rx);
	array_destroy_offset(settings, offsetof(cxtp_settings_t, destroy));
	array_destroy_function(received, received_destroy, NULL);
	DESTROY_IF(timeout_dst);
	condvar->destroy(condvar);
	mutex->destroy(mutex);
	if (netns >= 0)
	{
		ck_assert(setns(netns, CLONE_NEWNET) == 0);
		close(netns);
		netns = -1;
	}
}
END_TEARDOWN

static void create_both()
{
	rx = create(rx_cb);
	ck_assert(rx);
	tx = create(tx_cb);
	ck_assert(tx);
}

START_TEST(test_ctar)
{
	cxtp_message_t *message;
	received_t *r;
	host_t *dst;

	create_both();
	message = build_ctar(families[_i].family, 0x12345678, TRUE);
	dst = host(families[_i].lo);
	ck_assert(tx->send(tx, NULL, dst, message));
	ck_assert(wait_received(1, WAIT_MAX));

	r = get_received(0);
	assert_host(r->src, families[_i].lo);
	assert_host(r->dst, families[_i].lo);
	ck_assert_int_eq(r->message->get_type(r->message), CXTP_CTAR);
	ck_assert_int_eq(r->message->get_sequence(r->message), 0x12345678);
	ck_assert_int_eq(r->message->get_token(r->message), 0x9abcdef0);
	ck_assert(r->message->get_ack(r->message));
	assert_message(message, r->message);

	dst->destroy(dst);
	message->destroy(message);
}
END_TEST

START_TEST(test_ctaa)
{
	cxtp_message_t *message;
	received_t *r;
	host_t *src, *dst;

	create_both();
	message = build_ctaa(families[_i].family);
	/* %any as source lets the kernel choose */
	src = host_create_any(families[_i].family);
	dst = host(families[_i].lo);
	ck_assert(tx->send(tx, src, dst, message));
	ck_assert(wait_received(1, WAIT_MAX));

	r = get_received(0);
	assert_host(r->src, families[_i].lo);
	assert_host(r->dst, families[_i].lo);
	ck_assert_int_eq(r->message->get_type(r->message), CXTP_CTAA);
	assert_message(message, r->message);

	src->destroy(src);
	dst->destroy(dst);
	message->destroy(message);
}
END_TEST

START_TEST(test_addresses)
{
	cxtp_message_t *message;
	received_t *r;
	host_t *src, *dst;

	/* all of 127/8 is local, ::1 is the only IPv6 address on lo */
	create_both();
	message = build_ctar(families[_i].family, 1, FALSE);
	src = host(families[_i].other);
	dst = host(families[_i].family == AF_INET6 ? "::1" : "127.0.0.3");
	ck_assert(tx->send(tx, src, dst, message));
	ck_assert(wait_received(1, WAIT_MAX));

	r = get_received(0);
	ck_assert(r->src->ip_equals(r->src, src));
	ck_assert(r->dst->ip_equals(r->dst, dst));
	assert_message(message, r->message);

	src->destroy(src);
	dst->destroy(dst);
	message->destroy(message);
}
END_TEST

START_TEST(test_send_invalid)
{
	cxtp_message_t *message;
	host_t *mn, *v4, *v6;

	tx = create(tx_cb);
	ck_assert(tx);
	v4 = host("127.0.0.1");
	v6 = host("::1");

	/* only CTAR and CTAA go over ICMP */
	mn = host("192.0.2.1");
	message = cxtp_message_create(CXTP_CTD, mn);
	ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_from_str("x")));
	ck_assert(!tx->send(tx, NULL, v4, message));
	message->destroy(message);
	message = cxtp_message_create(CXTP_CTC, mn);
	ck_assert(!tx->send(tx, NULL, v4, message));
	message->destroy(message);
	mn->destroy(mn);

	/* source and destination must share the family */
	message = build_ctar(AF_INET, 1, TRUE);
	ck_assert(!tx->send(tx, v6, v4, message));
	ck_assert(!tx->send(tx, v4, v6, message));

	/* retransmission for CTARs with a matching sequence number only */
	ck_assert(!tx->send_reliable(tx, NULL, v4, message, 2));
	message->destroy(message);
	message = build_ctaa(AF_INET);
	ck_assert(!tx->send_reliable(tx, NULL, v4, message, 0));
	message->destroy(message);

	/* nothing pending */
	ck_assert(!tx->acknowledge(tx, 1));
	ck_assert(!tx->acknowledge(tx, 2));

	v4->destroy(v4);
	v6->destroy(v6);
}
END_TEST

/**
 * Send an ICMP message built by hand from a raw socket of our own
 */
static void send_raw(int family, int hops, u_char code, u_char subtype,
					 chunk_t body, bool bad_checksum)
{
	u_char packet[512] = {
		family == AF_INET6 ? CXTP_ICMPV6_TYPE : CXTP_ICMPV4_TYPE, code, 0, 0,
		subtype, 0, 0, 0,
	};
	uint16_t checksum;
	size_t len;
	host_t *dst;
	int fd;

	ck_assert(body.len <= sizeof(packet) - CXTP_ICMP_HEADER_LEN);
	memcpy(packet + CXTP_ICMP_HEADER_LEN, body.ptr, body.len);
	len = CXTP_ICMP_HEADER_LEN + body.len;

	if (family == AF_INET6)
	{
		struct icmp6_filter filter;

		fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
		ck_assert(fd >= 0);
		/* we only send, the kernel computes the checksum */
		ICMP6_FILTER_SETBLOCKALL(&filter);
		ck_assert(setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter,
							 sizeof(filter)) == 0);
		ck_assert(setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops,
							 sizeof(hops)) == 0);
		dst = host("::1");
	}
	else
	{
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		ck_assert(fd >= 0);
		ck_assert(setsockopt(fd, IPPROTO_IP, IP_TTL, &hops,
							 sizeof(hops)) == 0);
		checksum = chunk_internet_checksum(chunk_create(packet, len));
		if (bad_checksum)
		{
			checksum ^= 0x0101;
		}
		memcpy(packet + 2, &checksum, sizeof(checksum));
		dst = host("127.0.0.1");
	}
	ck_assert(sendto(fd, packet, len, 0, dst->get_sockaddr(dst),
					 *dst->get_sockaddr_len(dst)) == len);
	close(fd);
	dst->destroy(dst);
}

/**
 * Ways to break a message
 */
typedef enum {
	BAD_NONE,
	BAD_HOP_LIMIT,
	BAD_CODE,
	BAD_SUBTYPE,
	BAD_TRUNCATED,
	BAD_SHORT,
	BAD_CTD,
	BAD_CHECKSUM,
} bad_t;

static char *bad_names[] = {
	"none", "hop limit 254", "code 1", "subtype 0 (CARD)",
	"truncated CTAR", "ICMP header only", "CTD", "bad checksum",
};

/**
 * Send a broken message followed by a good one, only the good one arrives
 */
static void check_dropped(int family, bad_t bad)
{
	cxtp_message_t *message;
	chunk_t good, body, ctd = chunk_empty;
	received_t *r;
	host_t *mn;
	int hops = CXTP_ICMP_HOP_LIMIT;
	u_char code = CXTP_ICMP_CODE, subtype = CXTP_ICMP_SUBTYPE;

	message = build_ctar(family, 1, TRUE);
	body = message->encode(message);
	message->destroy(message);
	message = build_ctar(family, 2, TRUE);
	good = message->encode(message);
	message->destroy(message);

	switch (bad)
	{
		case BAD_HOP_LIMIT:
			hops = 254;
			break;
		case BAD_CODE:
			code = 1;
			break;
		case BAD_SUBTYPE:
			subtype = 0;
			break;
		case BAD_TRUNCATED:
			body.len -= 4;
			break;
		case BAD_SHORT:
			body.len = 0;
			break;
		case BAD_CTD:
			mn = host(family == AF_INET6 ? "2001:db8::1" : "192.0.2.1");
			message = cxtp_message_create(CXTP_CTD, mn);
			ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA,
									   chunk_from_str("context")));
			ctd = message->encode(message);
			ck_assert(ctd.len);
			message->destroy(message);
			mn->destroy(mn);
			break;
		default:
			break;
	}
	send_raw(family, hops, code, subtype, ctd.len ? ctd : body,
			 bad == BAD_CHECKSUM);
	send_raw(family, CXTP_ICMP_HOP_LIMIT, CXTP_ICMP_CODE, CXTP_ICMP_SUBTYPE,
			 good, FALSE);

	/* both went through the same queue, the broken one first */
	ck_assert(wait_received(1, WAIT_MAX));
	r = get_received(0);
	if (bad == BAD_NONE)
	{
		ck_assert_int_eq(r->message->get_sequence(r->message), 1);
		ck_assert(wait_received(2, WAIT_MAX));
	}
	else
	{
		ck_assert_msg(r->message->get_sequence(r->message) == 2,
					  "message with %s not dropped", bad_names[bad]);
	}

	chunk_free(&ctd);
	chunk_free(&good);
	chunk_free(&body);
}

START_TEST(test_raw_good)
{
	received_t *r;

	/* the hand-built packets work when nothing is broken */
	rx = create(rx_cb);
	ck_assert(rx);
	check_dropped(families[_i].family, BAD_NONE);
	ck_assert_int_eq(count_received(), 2);
	r = get_received(1);
	ck_assert_int_eq(r->message->get_sequence(r->message), 2);
}
END_TEST

START_TEST(test_drop)
{
	bad_t bad;

	rx = create(rx_cb);
	ck_assert(rx);
	for (bad = BAD_HOP_LIMIT; bad <= BAD_CHECKSUM; bad++)
	{
		if (bad == BAD_CHECKSUM && families[_i].family == AF_INET6)
		{	/* the kernel computes and checks ICMPv6 checksums */
			continue;
		}
		check_dropped(families[_i].family, bad);
		ck_assert_int_eq(count_received(), 1);
		/* start over */
		mutex->lock(mutex);
		array_destroy_function(received, received_destroy, NULL);
		received = array_create(0, 0);
		mutex->unlock(mutex);
	}
}
END_TEST

/**
 * Send count CTARs with sequence numbers from first
 */
static void send_ctars(int family, char *src, char *dst, uint32_t first,
					   int count)
{
	cxtp_message_t *message;
	host_t *s, *d;
	int i;

	s = host(src);
	d = host(dst);
	for (i = 0; i < count; i++)
	{
		message = build_ctar(family, first + i, TRUE);
		ck_assert(tx->send(tx, s, d, message));
		message->destroy(message);
	}
	s->destroy(s);
	d->destroy(d);
}

START_TEST(test_rate_limit)
{
	cxtp_message_t *message;
	received_t *r;
	host_t *dst;
	uint64_t start;
	int family = families[_i].family, count, i;

	create_both();
	dst = host(families[_i].lo);

	/* 15 CTARs within a second from one source, the last 5 are dropped */
	start = now_ms();
	send_ctars(family, families[_i].lo, families[_i].lo, 1, 15);
	/* CTAAs are not limited, one marks the end */
	message = build_ctaa(family);
	ck_assert(tx->send(tx, NULL, dst, message));
	message->destroy(message);
	ck_assert(wait_received(11, WAIT_MAX));
	for (i = 0; i < 10; i++)
	{
		r = get_received(i);
		ck_assert_int_eq(r->message->get_type(r->message), CXTP_CTAR);
		ck_assert_int_eq(r->message->get_sequence(r->message), i + 1);
	}
	r = get_received(10);
	ck_assert_int_eq(r->message->get_type(r->message), CXTP_CTAA);

	if (family == AF_INET)
	{	/* the limit is per source */
		send_ctars(family, families[_i].other, families[_i].lo, 100, 3);
		ck_assert(wait_received(14, WAIT_MAX));
		for (i = 11; i < 14; i++)
		{
			r = get_received(i);
			ck_assert_int_eq(r->message->get_sequence(r->message), 100 + i - 11);
			assert_host(r->src, families[_i].other);
		}
	}
	ck_assert(now_ms() - start < 1000);

	/* the window ends a second after the first CTAR arrived */
	r = get_received(0);
	wait_received(100, r->time + 1100 - now_ms());
	count = count_received();
	send_ctars(family, families[_i].lo, families[_i].lo, 200, 1);
	ck_assert(wait_received(count + 1, WAIT_MAX));
	r = get_received(count);
	ck_assert_int_eq(r->message->get_sequence(r->message), 200);

	dst->destroy(dst);
}
END_TEST

START_TEST(test_rate_setting)
{
	received_t *r;
	int i;

	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.ctar_rate", 3,
						   lib->ns);
	create_both();
	send_ctars(families[_i].family, families[_i].lo, families[_i].lo, 1, 5);
	send_ctars(families[_i].family, families[_i].other, families[_i].lo, 100, 1);
	if (families[_i].family == AF_INET6)
	{	/* only one source, mark the end with a CTAA */
		cxtp_message_t *message = build_ctaa(AF_INET6);
		host_t *dst = host("::1");

		ck_assert(tx->send(tx, NULL, dst, message));
		message->destroy(message);
		dst->destroy(dst);
	}
	ck_assert(wait_received(4, WAIT_MAX));
	for (i = 0; i < 3; i++)
	{
		r = get_received(i);
		ck_assert_int_eq(r->message->get_sequence(r->message), i + 1);
	}
	r = get_received(3);
	if (families[_i].family == AF_INET6)
	{
		ck_assert_int_eq(r->message->get_type(r->message), CXTP_CTAA);
	}
	else
	{
		ck_assert_int_eq(r->message->get_sequence(r->message), 100);
	}
}
END_TEST

/**
 * Short retransmission timers for the tests, in ms
 */
static void set_retry(u_int retry, u_int max)
{
	lib->settings->set_double(lib->settings, "%s.plugins.cxtp.ctar_retry",
							  retry / 1000.0, lib->ns);
	lib->settings->set_double(lib->settings, "%s.plugins.cxtp.ctar_retry_max",
							  max / 1000.0, lib->ns);
}

START_TEST(test_retransmit)
{
	cxtp_message_t *message;
	received_t *r;
	host_t *dst;
	uint64_t start, expected, elapsed;
	int i;

	/* transmissions at 0, 100, 300 and 700 ms, the timeout at 1000 ms */
	set_retry(100, 1000);
	create_both();
	tx->set_timeout_cb(tx, timeout_cb, NULL);
	message = build_ctar(families[_i].family, 42, TRUE);
	dst = host(families[_i].lo);
	start = now_ms();
	ck_assert(tx->send_reliable(tx, NULL, dst, message, 42));

	ck_assert(wait_timeouts(1, WAIT_MAX));
	ck_assert_int_eq(timeout_sequence, 42);
	ck_assert(timeout_dst->ip_equals(timeout_dst, dst));
	ck_assert(timeout_time + 5 >= start + 1000);
	/* the last transmission was received before the timeout fired */
	ck_assert_int_eq(count_received(), 4);

	for (i = 0; i < 4; i++)
	{
		r = get_received(i);
		ck_assert_int_eq(r->message->get_sequence(r->message), 42);
		assert_message(message, r->message);
		/* waits doubling from 100 ms, with some tolerance for late jobs */
		expected = (100 << i) - 100;
		elapsed = r->time - start;
		ck_assert_msg(elapsed + 5 >= expected && elapsed < expected + 150,
					  "transmission %d after %"PRIu64" ms, expected %"PRIu64,
					  i, elapsed, expected);
	}
	/* it is gone, nothing more to acknowledge */
	ck_assert(!tx->acknowledge(tx, 42));
	ck_assert(!wait_received(5, 200));
	ck_assert_int_eq(timeouts, 1);

	dst->destroy(dst);
	message->destroy(message);
}
END_TEST

START_TEST(test_acknowledge)
{
	cxtp_message_t *message;
	host_t *dst;

	/* first retransmission after 300 ms, timeout after 600 ms; a CTAR
	 * without the A flag too, which the mobile node acknowledges when it
	 * sees the activation otherwise */
	set_retry(300, 600);
	create_both();
	tx->set_timeout_cb(tx, timeout_cb, NULL);
	message = build_ctar(families[_i].family, 7, FALSE);
	dst = host(families[_i].lo);
	ck_assert(tx->send_reliable(tx, NULL, dst, message, 7));
	ck_assert(wait_received(1, WAIT_MAX));
	ck_assert(tx->acknowledge(tx, 7));
	ck_assert(!tx->acknowledge(tx, 7));

	/* neither retransmission nor timeout follows */
	ck_assert(!wait_timeouts(1, 900));
	ck_assert_int_eq(count_received(), 1);

	dst->destroy(dst);
	message->destroy(message);
}
END_TEST

START_TEST(test_replace)
{
	cxtp_message_t *message;
	received_t *r;
	host_t *dst, *other;

	/* a CTAR with the same sequence number (the one to nAR after the one
	 * to pAR) replaces the pending one */
	set_retry(100, 300);
	create_both();
	tx->set_timeout_cb(tx, timeout_cb, NULL);
	message = build_ctar(families[_i].family, 9, TRUE);
	dst = host(families[_i].lo);
	other = host(families[_i].family == AF_INET6 ? "::1" : "127.0.0.4");
	ck_assert(tx->send_reliable(tx, NULL, dst, message, 9));
	ck_assert(tx->send_reliable(tx, NULL, other, message, 9));

	/* 2 initial transmissions, 1 retransmission to other, one timeout */
	ck_assert(wait_timeouts(1, WAIT_MAX));
	ck_assert(other->ip_equals(other, timeout_dst));
	ck_assert_int_eq(count_received(), 3);
	r = get_received(2);
	ck_assert(r->dst->ip_equals(r->dst, other));
	ck_assert(!wait_timeouts(2, 200));

	other->destroy(other);
	dst->destroy(dst);
	message->destroy(message);
}
END_TEST

START_TEST(test_destroy_pending)
{
	cxtp_message_t *message;
	host_t *dst;

	/* jobs scheduled before destroy() run afterwards and do nothing */
	set_retry(50, 150);
	create_both();
	tx->set_timeout_cb(tx, timeout_cb, NULL);
	message = build_ctar(families[_i].family, 11, TRUE);
	dst = host(families[_i].lo);
	ck_assert(tx->send_reliable(tx, NULL, dst, message, 11));
	ck_assert(tx->send_reliable(tx, NULL, dst, message, 12) == FALSE);
	message->set_sequence(message, 12);
	ck_assert(tx->send_reliable(tx, NULL, dst, message, 12));
	tx->destroy(tx);
	tx = NULL;

	ck_assert(!wait_timeouts(1, 400));
	ck_assert_int_eq(count_received(), 2);

	dst->destroy(dst);
	message->destroy(message);
}
END_TEST

Suite *icmp_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp icmp");

	tc = tcase_create("transport");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_ctar, 0, countof(families));
	tcase_add_loop_test(tc, test_ctaa, 0, countof(families));
	tcase_add_loop_test(tc, test_addresses, 0, countof(families));
	tcase_add_test(tc, test_send_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("drop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_raw_good, 0, countof(families));
	tcase_add_loop_test(tc, test_drop, 0, countof(families));
	suite_add_tcase(s, tc);

	tc = tcase_create("rate limit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_rate_limit, 0, countof(families));
	tcase_add_loop_test(tc, test_rate_setting, 0, countof(families));
	test_case_set_timeout(tc, 10);
	suite_add_tcase(s, tc);

	tc = tcase_create("retransmit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_retransmit, 0, countof(families));
	tcase_add_loop_test(tc, test_acknowledge, 0, countof(families));
	tcase_add_loop_test(tc, test_replace, 0, countof(families));
	tcase_add_loop_test(tc, test_destroy_pending, 0, countof(families));
	test_case_set_timeout(tc, 10);
	suite_add_tcase(s, tc);

	return s;
}
