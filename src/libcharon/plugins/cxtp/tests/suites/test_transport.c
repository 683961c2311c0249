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

#include <test_suite.h>

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <threading/mutex.h>
#include <threading/condvar.h>
#include <collections/array.h>
#include <crypto/aead.h>
#include <crypto/kdfs/kdf.h>

#include "../../cxtp_transport.h"

/**
 * Secret shared by the access routers of the tests
 */
#define SECRET "cxtp-secret"

/**
 * Upper bound when waiting for something that must happen
 */
#define WAIT_MS 5000

/**
 * A message received by one of the transports
 */
typedef struct {
	/** name of the receiving transport, "a" or "b" */
	char *at;
	/** name of the peer the message came from */
	char *peer;
	/** source of the datagram */
	host_t *from;
	/** encoding of the message */
	chunk_t encoding;
} received_t;

/**
 * A timeout reported by a transport
 */
typedef struct {
	/** name of the peer */
	char *peer;
	/** identifier of the message */
	uint32_t id;
	/** time of the report */
	uint64_t ms;
} timeout_t;

/**
 * Transports of the test, access routers "a" and "b"
 */
static cxtp_transport_t *a, *b;

/**
 * Plain UDP sockets of the test: proxy receives what "a" sends to "b",
 * fwd (bound to "a"'s address) forwards datagrams to "b"
 */
static int proxy = -1, fwd = -1;

/**
 * Ports of b and the proxy
 */
static uint16_t port_b, port_proxy;

/**
 * Settings of the transports, cxtp_settings_t*, which must outlive them
 */
static array_t *settings;

/**
 * Reports of the callbacks, protected by mutex
 */
static mutex_t *mutex;
static condvar_t *condvar;
static array_t *received;
static array_t *timeouts;

static void received_destroy(received_t *r)
{
	free(r->peer);
	r->from->destroy(r->from);
	chunk_free(&r->encoding);
	free(r);
}

/**
 * Current monotonic time in ms
 */
static uint64_t now_ms()
{
	timeval_t tv;

	time_monotonic(&tv);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/**
 * Receive callback, data is the name of the receiving transport
 */
static void receive_cb(void *data, char *peer, host_t *from,
					   cxtp_message_t *message)
{
	received_t *r;

	INIT(r,
		.at = data,
		.peer = strdup(peer),
		.from = from->clone(from),
		.encoding = message->encode(message),
	);
	message->destroy(message);
	mutex->lock(mutex);
	array_insert(received, ARRAY_TAIL, r);
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

/**
 * Timeout callback
 */
static void timeout_cb(void *data, char *peer, uint32_t id)
{
	timeout_t *t;

	INIT(t,
		.peer = strdup(peer),
		.id = id,
		.ms = now_ms(),
	);
	mutex->lock(mutex);
	array_insert(timeouts, ARRAY_TAIL, t);
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

/**
 * Wait until at least count reports are in the array, or the timeout expires
 */
static u_int wait_for(array_t *array, u_int count, u_int ms)
{
	timeval_t until;
	u_int n;

	time_monotonic(&until);
	timeval_add_ms(&until, ms);
	mutex->lock(mutex);
	while (array_count(array) < count)
	{
		if (condvar->timed_wait_abs(condvar, mutex, until))
		{
			break;
		}
	}
	n = array_count(array);
	mutex->unlock(mutex);
	return n;
}

/**
 * Get a received message
 */
static received_t *get_received(int i)
{
	received_t *r = NULL;

	mutex->lock(mutex);
	ck_assert(array_get(received, i, &r));
	mutex->unlock(mutex);
	return r;
}

/**
 * Create the CTD number n, which differs from all others
 */
static cxtp_message_t *create_ctd(int n)
{
	cxtp_message_t *message;
	host_t *mn;
	char buf[64];

	snprintf(buf, sizeof(buf), "192.0.2.%d", n);
	mn = host_create_from_string(buf, 0);
	message = cxtp_message_create(CXTP_CTD, mn);
	mn->destroy(mn);
	ck_assert(message);
	message->set_elapsed(message, n);
	memset(buf, n, 20);
	ck_assert(message->set_key(message, chunk_create((u_char*)buf, 20)));
	snprintf(buf, sizeof(buf), "IKE_SA context %d", n);
	ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_from_str(buf)));
	return message;
}

/**
 * Get the encoding of CTD number n
 */
static chunk_t ctd_encoding(int n)
{
	cxtp_message_t *message;
	chunk_t encoding;

	message = create_ctd(n);
	encoding = message->encode(message);
	message->destroy(message);
	ck_assert(encoding.len);
	return encoding;
}

/**
 * Check that the message received at index i is CTD number n from peer
 * at transport "at"
 */
static void assert_ctd(int i, char *at, char *peer, int n)
{
	received_t *r;
	chunk_t expected;

	r = get_received(i);
	expected = ctd_encoding(n);
	ck_assert_str_eq(r->at, at);
	ck_assert_str_eq(r->peer, peer);
	ck_assert_chunk_eq(r->encoding, expected);
	chunk_free(&expected);
}

/**
 * Check that exactly the CTDs with the given numbers arrived at "b" from "a"
 * in this order
 */
static void assert_ctds(int count, ...)
{
	va_list args;
	int i;

	ck_assert_int_eq(wait_for(received, count, WAIT_MS), count);
	va_start(args, count);
	for (i = 0; i < count; i++)
	{
		assert_ctd(i, "b", "a", va_arg(args, int));
	}
	va_end(args);
	/* anything dropped was sent before the last expected datagram, so it
	 * was processed by now, as the watcher reads datagrams in order */
	mutex->lock(mutex);
	ck_assert_int_eq(array_count(received), count);
	mutex->unlock(mutex);
}

/**
 * Open a plain UDP socket bound to the given address and port
 */
static int open_raw(char *address, uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	host_t *host;
	int fd;

	host = host_create_from_string(address, port);
	ck_assert(host);
	fd = socket(host->get_family(host), SOCK_DGRAM, 0);
	ck_assert(fd >= 0);
	ck_assert_int_eq(bind(fd, host->get_sockaddr(host),
						  *host->get_sockaddr_len(host)), 0);
	host->destroy(host);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr*)&addr, &len), 0);
	if (bound)
	{
		*bound = ntohs(((struct sockaddr_in*)&addr)->sin_port);
	}
	return fd;
}

/**
 * Find a free UDP port on the given address
 */
static uint16_t free_port(char *address)
{
	uint16_t port;

	close(open_raw(address, 0, &port));
	return port;
}

/**
 * Receive a datagram from a plain socket, returns an empty chunk if none
 * arrived in time
 */
static chunk_t recv_raw(int fd, int ms)
{
	struct pollfd pfd = {
		.fd = fd,
		.events = POLLIN,
	};
	u_char buf[65536];
	ssize_t len;

	if (poll(&pfd, 1, ms) != 1)
	{
		return chunk_empty;
	}
	len = recv(fd, buf, sizeof(buf), 0);
	ck_assert(len > 0);
	return chunk_clone(chunk_create(buf, len));
}

/**
 * Send a datagram over a plain socket to "b"
 */
static void send_raw(int fd, chunk_t datagram, char *to, uint16_t port)
{
	host_t *host;

	host = host_create_from_string(to, port);
	ck_assert_int_eq(sendto(fd, datagram.ptr, datagram.len, 0,
							host->get_sockaddr(host),
							*host->get_sockaddr_len(host)), datagram.len);
	host->destroy(host);
}

/**
 * Configure a peer, a NULL secret makes transports created next ignore it
 */
static void set_peer(char *name, char *address, uint16_t port, char *secret)
{
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.%s.address",
						   address, lib->ns, name);
	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.peers.%s.port",
						   port, lib->ns, name);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.%s.secret",
						   secret ?: "", lib->ns, name);
}

/**
 * Configure the retransmissions of transports created next
 */
static void set_retransmit(char *timeout, int tries, char *base)
{
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.retransmit_timeout",
						   timeout, lib->ns);
	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.retransmit_tries",
						   tries, lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.retransmit_base",
						   base, lib->ns);
}

/**
 * Read the current settings for a transport created next
 */
static cxtp_settings_t *current_settings()
{
	cxtp_settings_t *current;

	current = cxtp_settings_create();
	array_insert(settings, ARRAY_TAIL, current);
	return current;
}

/**
 * Create a transport bound to the given address and port
 */
static cxtp_transport_t *create_bound(char *address, uint16_t port, char *name)
{
	cxtp_transport_t *transport;
	host_t *host;

	host = host_create_from_string(address, port);
	ck_assert(host);
	transport = cxtp_transport_create_bound(current_settings(), host,
											receive_cb, name);
	host->destroy(host);
	ck_assert(transport);
	transport->set_timeout_cb(transport, timeout_cb, name);
	return transport;
}

/**
 * Create "b" on 127.0.0.2 and "a" on 127.0.0.1, which sends to "b" via the
 * proxy socket, with the given secret for each.  "b" sends to fwd instead of
 * "a".
 */
static void create_proxied(char *secret_a, char *secret_b)
{
	uint16_t port_a, port_fwd;

	proxy = open_raw("127.0.0.2", 0, &port_proxy);
	fwd = open_raw("127.0.0.1", 0, &port_fwd);
	port_a = free_port("127.0.0.1");
	port_b = free_port("127.0.0.2");

	/* what "b" sends to "a" ends up in fwd */
	set_peer("a", "127.0.0.1", port_fwd, secret_b);
	set_peer("b", "127.0.0.2", port_proxy, NULL);
	b = create_bound("127.0.0.2", port_b, "b");
	set_peer("a", "127.0.0.1", port_a, NULL);
	set_peer("b", "127.0.0.2", port_proxy, secret_a);
	a = create_bound("127.0.0.1", port_a, "a");
}

/**
 * Let "a" send CTD number n to the proxy and return the datagram
 */
static chunk_t capture(int n)
{
	cxtp_message_t *message;
	chunk_t datagram;

	message = create_ctd(n);
	ck_assert(a->send(a, "b", message));
	message->destroy(message);
	datagram = recv_raw(proxy, WAIT_MS);
	ck_assert(datagram.len);
	return datagram;
}

/**
 * Forward a datagram to "b" from the given plain socket
 */
static void forward(int fd, chunk_t datagram)
{
	send_raw(fd, datagram, "127.0.0.2", port_b);
}

/**
 * Seal a message the way the header describes it, independently of the
 * implementation
 */
static chunk_t seal(char *secret, char *sender, char *receiver, uint8_t version,
					uint64_t seq, chunk_t iv, chunk_t plain)
{
	host_t *snd, *rcv;
	kdf_t *kdf;
	aead_t *aead;
	chunk_t salt, key, header, ct, datagram;
	u_char hdr[12] = { version };

	snd = host_create_from_string(sender, 0);
	rcv = host_create_from_string(receiver, 0);
	kdf = lib->crypto->create_kdf(lib->crypto, KDF_PRF_PLUS,
								  PRF_HMAC_SHA2_256);
	ck_assert(kdf);
	aead = lib->crypto->create_aead(lib->crypto, ENCR_AES_GCM_ICV16, 32, 4);
	ck_assert(aead);
	salt = chunk_cata("ccc", chunk_from_str("cxtp transport"),
					  snd->get_address(snd), rcv->get_address(rcv));
	ck_assert(kdf->set_param(kdf, KDF_PARAM_KEY, chunk_from_str(secret)));
	ck_assert(kdf->set_param(kdf, KDF_PARAM_SALT, salt));
	ck_assert(kdf->allocate_bytes(kdf, 36, &key));
	ck_assert(aead->set_key(aead, key));
	htoun64(hdr + 4, seq);
	header = chunk_from_thing(hdr);
	ck_assert(aead->encrypt(aead, plain, header, iv, &ct));
	datagram = chunk_cat("ccm", header, iv, ct);
	chunk_clear(&key);
	aead->destroy(aead);
	kdf->destroy(kdf);
	snd->destroy(snd);
	rcv->destroy(rcv);
	return datagram;
}

/**
 * Seal CTD number n with a fixed IV
 */
static chunk_t seal_ctd(char *secret, char *sender, char *receiver,
						uint8_t version, uint64_t seq, int n)
{
	chunk_t plain, datagram;

	plain = ctd_encoding(n);
	datagram = seal(secret, sender, receiver, version, seq,
					chunk_from_chars(0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8),
					plain);
	chunk_free(&plain);
	return datagram;
}

START_SETUP(setup)
{
	lib->processor->set_threads(lib->processor, 4);
	mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
	received = array_create(0, 0);
	timeouts = array_create(0, 0);
	settings = array_create(0, 0);
	a = b = NULL;
	proxy = fwd = -1;
	set_retransmit("1.0", 3, "2.0");
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_settings_t *current;
	received_t *r;
	timeout_t *t;

	DESTROY_IF(a);
	DESTROY_IF(b);
	while (array_remove(settings, ARRAY_HEAD, &current))
	{
		current->destroy(current);
	}
	array_destroy(settings);
	if (proxy >= 0)
	{
		close(proxy);
	}
	if (fwd >= 0)
	{
		close(fwd);
	}
	while (array_remove(received, ARRAY_HEAD, &r))
	{
		received_destroy(r);
	}
	array_destroy(received);
	while (array_remove(timeouts, ARRAY_HEAD, &t))
	{
		free(t->peer);
		free(t);
	}
	array_destroy(timeouts);
	condvar->destroy(condvar);
	mutex->destroy(mutex);
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
}
END_TEARDOWN

START_TEST(test_format_kat)
{
	chunk_t datagram, expected;

	/* computed independently with Python's hmac and cryptography modules:
	 *   prf+(b"cxtp-secret", b"cxtp transport" + 192.0.2.1 + 192.0.2.2)
	 *   = f83e04bf...2fd60bfe4d948788 (key) | 094c765f (salt)
	 *   AESGCM(key).encrypt(salt + iv, b"context transfer", header) */
	expected = chunk_from_chars(
		0x01,0x00,0x00,0x00,0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,
		0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,
		0x40,0x0a,0x05,0xa8,0x9f,0x82,0xdc,0x8e,0x5e,0xe2,0x2a,0x8d,
		0x3d,0xf1,0xd1,0x4d,0xe9,0xff,0xe5,0x1b,0x27,0x7b,0xfb,0x3f,
		0xfd,0xe1,0x8c,0xc0,0x2b,0x77,0xb9,0xb9);
	datagram = seal(SECRET, "192.0.2.1", "192.0.2.2", 1, 0x0102030405060708,
					chunk_from_chars(0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8),
					chunk_from_str("context transfer"));
	ck_assert_chunk_eq(datagram, expected);
	chunk_free(&datagram);
}
END_TEST

START_TEST(test_format_accept)
{
	chunk_t datagram;
	uint16_t port;
	received_t *r;

	create_proxied(SECRET, SECRET);
	/* a datagram built as documented is accepted */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 1, 1000, 1);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(1, 1);
	r = get_received(0);
	ck_assert(r->from->get_family(r->from) == AF_INET);
	port = r->from->get_port(r->from);
	ck_assert(port != 0 && port != port_b);
}
END_TEST

/**
 * Address families and binding of the delivery tests
 */
static struct {
	char *addr_a;
	char *addr_b;
	bool wildcard;
} deliver[] = {
	{ "127.0.0.1", "127.0.0.2", FALSE },
	{ "::1", "::1", FALSE },
	{ "127.0.0.1", "127.0.0.2", TRUE },
	{ "::1", "::1", TRUE },
};

START_TEST(test_deliver)
{
	cxtp_message_t *message;
	chunk_t expected;
	uint16_t port_a;
	received_t *r;

	if (deliver[_i].wildcard)
	{
		port_a = free_port("0.0.0.0");
		lib->settings->set_int(lib->settings, "%s.plugins.cxtp.port",
							   port_a, lib->ns);
	}
	else
	{
		port_a = free_port(deliver[_i].addr_a);
	}
	do
	{	/* both may be on ::1 */
		port_b = free_port(deliver[_i].addr_b);
	}
	while (port_b == port_a);

	set_peer("a", deliver[_i].addr_a, port_a, SECRET);
	set_peer("b", deliver[_i].addr_b, port_b, NULL);
	b = create_bound(deliver[_i].addr_b, port_b, "b");
	set_peer("a", deliver[_i].addr_a, port_a, NULL);
	set_peer("b", deliver[_i].addr_b, port_b, SECRET);
	if (deliver[_i].wildcard)
	{
		a = cxtp_transport_create(current_settings(), receive_cb, "a");
		ck_assert(a);
	}
	else
	{
		a = create_bound(deliver[_i].addr_a, port_a, "a");
	}

	message = create_ctd(1);
	ck_assert(a->send(a, "b", message));
	message->destroy(message);
	ck_assert_int_eq(wait_for(received, 1, WAIT_MS), 1);
	assert_ctd(0, "b", "a", 1);
	r = get_received(0);
	ck_assert_int_eq(r->from->get_port(r->from), port_a);

	/* and the reply, with the key of the other direction */
	message = cxtp_message_create(CXTP_CTDR, r->from);
	message->set_success(message, TRUE);
	ck_assert(message->add_status(message, CXTP_FPT_IKE_SA, 0));
	expected = message->encode(message);
	ck_assert(b->send(b, "a", message));
	message->destroy(message);
	ck_assert_int_eq(wait_for(received, 2, WAIT_MS), 2);
	r = get_received(1);
	ck_assert_str_eq(r->at, "a");
	ck_assert_str_eq(r->peer, "b");
	ck_assert_int_eq(r->from->get_port(r->from), port_b);
	ck_assert_chunk_eq(r->encoding, expected);
	chunk_free(&expected);
}
END_TEST

START_TEST(test_send_unknown)
{
	cxtp_message_t *message;

	/* "a" is bound to an IPv4 address and can't reach this one */
	set_peer("c", "::1", 5091, SECRET);
	create_proxied(SECRET, SECRET);
	message = create_ctd(1);
	ck_assert(!a->send(a, "nobody", message));
	ck_assert(!a->send_reliable(a, "nobody", message, 1));
	ck_assert(!a->send(a, NULL, message));
	ck_assert(!a->send(a, "c", message));
	ck_assert(!a->send_reliable(a, "c", message, 1));
	a->acknowledge(a, 1);
	message->destroy(message);
	ck_assert(recv_raw(proxy, 100).len == 0);
}
END_TEST

/**
 * Create a CTD with a CDB of the given size
 */
static cxtp_message_t *create_large_ctd(size_t size)
{
	cxtp_message_t *message;
	host_t *mn;
	chunk_t data;

	mn = host_create_from_string("192.0.2.1", 0);
	message = cxtp_message_create(CXTP_CTD, mn);
	mn->destroy(mn);
	data = chunk_alloc(size);
	memset(data.ptr, 0x42, data.len);
	ck_assert(message->add_cdb(message, CXTP_FPT_IKE_SA, data));
	chunk_free(&data);
	return message;
}

START_TEST(test_send_too_large)
{
	cxtp_message_t *message;
	chunk_t encoding;
	size_t lo = 60000, hi = CXTP_CDB_MAX_DATA + 1, mid;

	create_proxied(SECRET, SECRET);
	/* find the largest CTD that still encodes */
	while (hi - lo > 1)
	{
		mid = (lo + hi) / 2;
		message = create_large_ctd(mid);
		encoding = message->encode(message);
		message->destroy(message);
		if (encoding.len)
		{
			lo = mid;
		}
		else
		{
			hi = mid;
		}
		chunk_free(&encoding);
	}
	message = create_large_ctd(lo);
	encoding = message->encode(message);
	/* it fits a CXTP message, but not an IPv4 datagram with our overhead */
	ck_assert(encoding.len);
	ck_assert(encoding.len + CXTP_TRANSPORT_OVERHEAD > 65507);
	chunk_free(&encoding);
	ck_assert(!a->send(a, "b", message));
	ck_assert(!a->send_reliable(a, "b", message, 1));
	message->destroy(message);
	ck_assert(recv_raw(proxy, 100).len == 0);
}
END_TEST

/**
 * Modifications of a datagram, offset (negative from the end) and mask, or
 * truncation to a length (negative from the end) if mask is 0
 */
static struct {
	int offset;
	u_char mask;
} tamper[] = {
	/* version */
	{ 0, 0x01 },
	/* reserved */
	{ 1, 0x80 },
	{ 3, 0x01 },
	/* sequence number */
	{ 4, 0x80 },
	{ 11, 0x01 },
	/* IV */
	{ 12, 0x01 },
	{ 19, 0x80 },
	/* ciphertext */
	{ 20, 0x01 },
	{ 40, 0x10 },
	/* ICV */
	{ -16, 0x01 },
	{ -1, 0x80 },
	/* truncated */
	{ -1, 0 },
	{ -16, 0 },
	{ CXTP_TRANSPORT_OVERHEAD, 0 },
	{ CXTP_TRANSPORT_HEADER_LEN, 0 },
	{ 1, 0 },
};

START_TEST(test_tamper)
{
	chunk_t original, sentinel, modified;
	int offset;

	create_proxied(SECRET, SECRET);
	original = capture(1);
	sentinel = capture(2);

	modified = chunk_clone(original);
	offset = tamper[_i].offset < 0 ? original.len + tamper[_i].offset
								   : tamper[_i].offset;
	if (tamper[_i].mask)
	{
		modified.ptr[offset] ^= tamper[_i].mask;
	}
	else
	{
		modified.len = offset;
	}
	forward(fwd, modified);
	/* if "b" accepted the modified datagram, it would receive it first and
	 * drop the original as a replay */
	forward(fwd, sentinel);
	forward(fwd, original);
	assert_ctds(2, 2, 1);

	chunk_free(&modified);
	chunk_free(&original);
	chunk_free(&sentinel);
}
END_TEST

START_TEST(test_replay)
{
	chunk_t m1, m2, m3;

	create_proxied(SECRET, SECRET);
	m1 = capture(1);
	m2 = capture(2);
	m3 = capture(3);
	ck_assert(!chunk_equals(chunk_create(m1.ptr, 12), chunk_create(m2.ptr, 12)));

	forward(fwd, m1);
	forward(fwd, m1);
	forward(fwd, m2);
	forward(fwd, m1);
	forward(fwd, m2);
	forward(fwd, m3);
	assert_ctds(3, 1, 2, 3);

	chunk_free(&m1);
	chunk_free(&m2);
	chunk_free(&m3);
}
END_TEST

START_TEST(test_replay_window)
{
	chunk_t m[71];
	uint64_t seq;
	int i;

	create_proxied(SECRET, SECRET);
	for (i = 1; i <= 70; i++)
	{
		m[i] = capture(i);
		if (i > 1)
		{	/* consecutive sequence numbers */
			seq = untoh64(m[i - 1].ptr + 4);
			ck_assert(untoh64(m[i].ptr + 4) == seq + 1);
		}
	}
	forward(fwd, m[70]);
	forward(fwd, m[1]);		/* 69 below the highest, outside the window */
	forward(fwd, m[10]);	/* 60 below, inside */
	forward(fwd, m[10]);	/* duplicate */
	forward(fwd, m[7]);		/* 63 below, the last one inside */
	forward(fwd, m[6]);		/* 64 below, the first one outside */
	forward(fwd, m[69]);
	forward(fwd, m[70]);	/* duplicate of the highest */
	forward(fwd, m[68]);
	assert_ctds(5, 70, 10, 7, 69, 68);

	for (i = 1; i <= 70; i++)
	{
		chunk_free(&m[i]);
	}
}
END_TEST

START_TEST(test_unknown_peer)
{
	chunk_t m1, m2;
	int other;

	create_proxied(SECRET, SECRET);
	m1 = capture(1);
	m2 = capture(2);

	other = open_raw("127.0.0.3", 0, NULL);
	forward(other, m1);
	close(other);
	/* m1 did not touch the replay state, so it is accepted after m2 */
	forward(fwd, m2);
	forward(fwd, m1);
	assert_ctds(2, 2, 1);

	chunk_free(&m1);
	chunk_free(&m2);
}
END_TEST

START_TEST(test_wrong_key)
{
	chunk_t datagram;

	create_proxied(SECRET, SECRET);
	/* wrong secret */
	datagram = seal_ctd("wrong-secret", "127.0.0.1", "127.0.0.2", 1, 1000, 1);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* key of the other direction, as if "b" sent it (reflection) */
	datagram = seal_ctd(SECRET, "127.0.0.2", "127.0.0.1", 1, 1000, 2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* key for another receiver */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.3", 1, 1000, 3);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* other version */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 1000, 4);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* valid, the above did not touch the replay state */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 1, 1001, 5);
	forward(fwd, datagram);
	chunk_free(&datagram);
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 1, 1000, 6);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(2, 5, 6);
}
END_TEST

START_TEST(test_reflect)
{
	cxtp_message_t *message;
	chunk_t datagram;

	create_proxied(SECRET, SECRET);
	/* what "b" sends to "a", sent back to "b" as if "a" sent it */
	message = create_ctd(1);
	ck_assert(b->send(b, "a", message));
	message->destroy(message);
	datagram = recv_raw(fwd, WAIT_MS);
	ck_assert(datagram.len);
	forward(fwd, datagram);
	chunk_free(&datagram);
	datagram = capture(2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(1, 2);
}
END_TEST

START_TEST(test_wrong_secret)
{
	chunk_t datagram;

	/* "a" is configured with another secret than "b" */
	create_proxied("wrong-secret", SECRET);
	datagram = capture(1);
	forward(fwd, datagram);
	chunk_free(&datagram);
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 1, 1, 2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(1, 2);
}
END_TEST

/**
 * Reload the settings "b" was created with, with "a" at the same address
 * and the given secret
 */
static void reload_b(char *secret)
{
	cxtp_settings_t *settings_b;
	cxtp_peer_t *peer;
	host_t *address;

	array_get(settings, ARRAY_HEAD, &settings_b);
	peer = settings_b->get_peer(settings_b, "a");
	ck_assert(peer);
	address = peer->get_address(peer);
	set_peer("a", "127.0.0.1", address->get_port(address), secret);
	set_peer("b", "127.0.0.2", port_proxy, NULL);
	peer->destroy(peer);
	settings_b->reload(settings_b);
}

START_TEST(test_reload)
{
	chunk_t datagram;

	create_proxied(SECRET, SECRET);
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 1, 1000, 1);
	forward(fwd, datagram);
	assert_ctds(1, 1);
	/* unchanged: the replay window stays */
	reload_b(SECRET);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* a new secret: the old keys go, the window starts again */
	reload_b("new-secret");
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 1, 1001, 2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	datagram = seal_ctd("new-secret", "127.0.0.1", "127.0.0.2", 1, 5, 3);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(2, 1, 3);
}
END_TEST

START_TEST(test_retransmit)
{
	cxtp_message_t *message;
	chunk_t datagrams[5];
	uint64_t start, times[5], expected;
	timeout_t *t;
	int i;

	set_retransmit("0.05", 3, "2.0");
	create_proxied(SECRET, SECRET);

	message = create_ctd(1);
	start = now_ms();
	ck_assert(a->send_reliable(a, "b", message, 42));
	message->destroy(message);
	for (i = 0; i < 4; i++)
	{
		datagrams[i] = recv_raw(proxy, WAIT_MS);
		times[i] = now_ms();
		ck_assert(datagrams[i].len);
	}
	ck_assert_int_eq(wait_for(timeouts, 1, WAIT_MS), 1);
	array_get(timeouts, 0, &t);
	ck_assert_str_eq(t->peer, "b");
	ck_assert_int_eq(t->id, 42);
	/* no more retransmissions after giving up */
	datagrams[4] = recv_raw(proxy, 100);
	ck_assert(!datagrams[4].len);
	ck_assert_int_eq(wait_for(timeouts, 2, 0), 1);

	/* sent after 0, 50, 150, 350 ms, given up after 750 ms */
	expected = 0;
	for (i = 1; i < 4; i++)
	{
		expected += 50 << (i - 1);
		ck_assert_msg(times[i] - start >= expected - 5,
					  "retransmission %d after %llu ms, expected %llu ms", i,
					  (unsigned long long)(times[i] - start),
					  (unsigned long long)expected);
		/* generous, but catches a backoff that is too slow */
		ck_assert(times[i] - start < expected + 3000);
	}
	ck_assert(t->ms - start >= 750 - 5);
	ck_assert(t->ms - start < 750 + 3000);

	/* each retransmission is a new datagram, accepted by the peer */
	for (i = 0; i < 4; i++)
	{
		if (i)
		{
			ck_assert(untoh64(datagrams[i].ptr + 4) ==
					  untoh64(datagrams[i - 1].ptr + 4) + 1);
		}
		forward(fwd, datagrams[i]);
	}
	assert_ctds(4, 1, 1, 1, 1);
	for (i = 0; i < 4; i++)
	{
		chunk_free(&datagrams[i]);
	}
}
END_TEST

START_TEST(test_retransmit_ack)
{
	cxtp_message_t *message;
	chunk_t datagram;

	set_retransmit("0.3", 2, "2.0");
	create_proxied(SECRET, SECRET);

	message = create_ctd(1);
	ck_assert(a->send_reliable(a, "b", message, 7));
	message->destroy(message);
	datagram = recv_raw(proxy, WAIT_MS);
	ck_assert(datagram.len);
	chunk_free(&datagram);
	a->acknowledge(a, 7);
	/* neither retransmissions (at 300 and 900 ms) nor a timeout (at 2100 ms)
	 * follow */
	datagram = recv_raw(proxy, 1000);
	ck_assert(!datagram.len);
	ck_assert_int_eq(wait_for(timeouts, 1, 1300), 0);
	/* acknowledging again or unknown identifiers does nothing */
	a->acknowledge(a, 7);
	a->acknowledge(a, 8);
}
END_TEST

START_TEST(test_retransmit_replace)
{
	cxtp_message_t *message;
	chunk_t datagram;
	uint64_t start, times[4];
	timeout_t *t;
	int i;

	set_retransmit("0.05", 2, "2.0");
	create_proxied(SECRET, SECRET);

	message = create_ctd(1);
	ck_assert(a->send_reliable(a, "b", message, 1));
	message->destroy(message);
	message = create_ctd(2);
	start = now_ms();
	ck_assert(a->send_reliable(a, "b", message, 1));
	message->destroy(message);
	/* the first, its replacement and two retransmissions of the latter */
	for (i = 0; i < 4; i++)
	{
		datagram = recv_raw(proxy, WAIT_MS);
		times[i] = now_ms();
		ck_assert(datagram.len);
		forward(fwd, datagram);
		chunk_free(&datagram);
	}
	assert_ctds(4, 1, 2, 2, 2);
	ck_assert_int_eq(wait_for(timeouts, 1, WAIT_MS), 1);
	array_get(timeouts, 0, &t);
	ck_assert_int_eq(t->id, 1);
	/* on the replacement's schedule, the timer of the first has no effect */
	ck_assert(times[2] - start >= 50 - 5);
	ck_assert(times[3] - start >= 150 - 5);
	ck_assert(t->ms - start >= 350 - 5);
	datagram = recv_raw(proxy, 200);
	ck_assert(!datagram.len);
	ck_assert_int_eq(wait_for(timeouts, 2, 0), 1);
}
END_TEST

START_TEST(test_retransmit_zero_tries)
{
	cxtp_message_t *message;
	chunk_t datagram;
	timeout_t *t;

	set_retransmit("0.05", 0, "2.0");
	create_proxied(SECRET, SECRET);

	message = create_ctd(1);
	ck_assert(a->send_reliable(a, "b", message, 3));
	message->destroy(message);
	datagram = recv_raw(proxy, WAIT_MS);
	ck_assert(datagram.len);
	chunk_free(&datagram);
	ck_assert_int_eq(wait_for(timeouts, 1, WAIT_MS), 1);
	array_get(timeouts, 0, &t);
	ck_assert_int_eq(t->id, 3);
	datagram = recv_raw(proxy, 100);
	ck_assert(!datagram.len);
}
END_TEST

START_TEST(test_destroy_pending)
{
	cxtp_message_t *message;
	cxtp_transport_t *slow;
	chunk_t datagram;
	uint16_t port;
	int i;

	/* one transport with timers far in the future */
	set_retransmit("10", 3, "2.0");
	port = free_port("127.0.0.1");
	proxy = open_raw("127.0.0.2", 0, &port_proxy);
	set_peer("b", "127.0.0.2", port_proxy, SECRET);
	slow = create_bound("127.0.0.1", port, "slow");
	/* one destroyed while retransmitting */
	set_retransmit("0.02", 100, "1.0");
	port = free_port("127.0.0.1");
	a = create_bound("127.0.0.1", port, "a");

	for (i = 1; i <= 10; i++)
	{
		message = create_ctd(i);
		ck_assert(slow->send_reliable(slow, "b", message, i));
		ck_assert(a->send_reliable(a, "b", message, i));
		message->destroy(message);
	}
	/* the 20 initial datagrams, then some retransmissions */
	for (i = 0; i < 30; i++)
	{
		datagram = recv_raw(proxy, WAIT_MS);
		ck_assert(datagram.len);
		chunk_free(&datagram);
	}
	slow->destroy(slow);
	a->destroy(a);
	a = NULL;
	/* drain what was sent before destroy() returned */
	while (TRUE)
	{
		datagram = recv_raw(proxy, 0);
		if (!datagram.len)
		{
			break;
		}
		chunk_free(&datagram);
	}
	datagram = recv_raw(proxy, 200);
	ck_assert(!datagram.len);
	ck_assert_int_eq(wait_for(timeouts, 1, 0), 0);
}
END_TEST

Suite *transport_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp transport");

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_kat);
	tcase_add_test(tc, test_format_accept);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("deliver");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_deliver, 0, countof(deliver));
	tcase_add_test(tc, test_send_unknown);
	tcase_add_test(tc, test_send_too_large);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("drop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_tamper, 0, countof(tamper));
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_replay_window);
	tcase_add_test(tc, test_unknown_peer);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_reflect);
	tcase_add_test(tc, test_wrong_secret);
	tcase_add_test(tc, test_reload);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("retransmit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_retransmit);
	tcase_add_test(tc, test_retransmit_ack);
	tcase_add_test(tc, test_retransmit_replace);
	tcase_add_test(tc, test_retransmit_zero_tries);
	tcase_add_test(tc, test_destroy_pending);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}
