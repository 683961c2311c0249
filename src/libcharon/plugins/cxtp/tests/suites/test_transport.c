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
#include <threading/thread.h>
#include <collections/array.h>
#include <crypto/aead.h>
#include <crypto/kdfs/kdf.h>
#include <crypto/signers/signer.h>

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
 * Port of fwd
 */
static uint16_t port_fwd;

/**
 * Ports of a, b and the proxy
 */
static uint16_t port_a, port_b, port_proxy;

/**
 * Relay between proxy and fwd: passes the handshakes on, keeps the data
 * datagrams of "a" (at proxy) and "b" (at fwd) for the test, chunk_t*;
 * records the handshakes each sent and the epoch each announced last
 */
static thread_t *relay_thread;
static bool relay_stop, relay_paused, relay_idle;
static array_t *a_data, *b_data, *a_hs, *b_hs;
static uint64_t epoch_a, epoch_b;

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
	ssize_t sent;

	host = host_create_from_string(to, port);
	sent = sendto(fd, datagram.ptr, datagram.len, 0, host->get_sockaddr(host),
				  *host->get_sockaddr_len(host));
	/* it failed once, rarely, on a loaded machine: say why if it does again */
	ck_assert_msg(sent == datagram.len, "sending %zu bytes to %s port %u: %s",
				  datagram.len, to, port, sent < 0 ? strerror(errno) : "short");
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
 * Keep a datagram the relay read
 */
static void relay_keep(array_t *array, chunk_t datagram)
{
	chunk_t *copy;

	copy = malloc_thing(chunk_t);
	*copy = datagram;
	mutex->lock(mutex);
	array_insert(array, ARRAY_TAIL, copy);
	condvar->broadcast(condvar);
	mutex->unlock(mutex);
}

/**
 * Relay thread, see relay_thread
 */
static void *relay(void *arg)
{
	struct pollfd pfd[2] = {
		{ .fd = proxy, .events = POLLIN },
		{ .fd = fwd, .events = POLLIN },
	};
	chunk_t datagram;
	int i;

	while (TRUE)
	{
		mutex->lock(mutex);
		relay_idle = relay_paused;
		condvar->broadcast(condvar);
		if (relay_stop)
		{
			mutex->unlock(mutex);
			return NULL;
		}
		mutex->unlock(mutex);
		if (relay_idle || poll(pfd, 2, 20) <= 0)
		{
			if (relay_idle)
			{
				usleep(5000);
			}
			continue;
		}
		for (i = 0; i < 2; i++)
		{
			if (!(pfd[i].revents & POLLIN))
			{
				continue;
			}
			datagram = recv_raw(pfd[i].fd, 0);
			if (datagram.len == CXTP_TRANSPORT_HANDSHAKE_LEN &&
				datagram.ptr[1] == CXTP_TRANSPORT_HANDSHAKE)
			{
				/* "b" starts before "a" has a port: its first handshake
				 * goes nowhere, as to a router not up yet, and "b" asks
				 * again before it sends to "a" */
				if (i == 0)
				{
					epoch_a = untoh64(datagram.ptr + 4);
					if (port_b)
					{
						send_raw(fwd, datagram, "127.0.0.2", port_b);
					}
				}
				else
				{
					epoch_b = untoh64(datagram.ptr + 4);
					if (port_a)
					{
						send_raw(proxy, datagram, "127.0.0.1", port_a);
					}
				}
				relay_keep(i == 0 ? a_hs : b_hs, datagram);
			}
			else if (datagram.len)
			{
				relay_keep(i == 0 ? a_data : b_data, datagram);
			}
		}
	}
}

/**
 * Stop relaying, returns once the relay reads nothing more
 */
static void relay_pause(bool pause)
{
	mutex->lock(mutex);
	relay_paused = pause;
	while (pause && !relay_idle)
	{
		condvar->wait(condvar, mutex);
	}
	mutex->unlock(mutex);
}

/**
 * Get the next datagram the relay kept in array, an empty chunk if none
 * arrives within ms
 */
static chunk_t next_data(array_t *array, u_int ms)
{
	chunk_t *datagram, copy = chunk_empty;

	if (wait_for(array, 1, ms))
	{
		mutex->lock(mutex);
		array_remove(array, ARRAY_HEAD, &datagram);
		mutex->unlock(mutex);
		copy = *datagram;
		free(datagram);
	}
	return copy;
}

/**
 * Drop what the relay kept in an array
 */
static void relay_clear(array_t *array)
{
	chunk_t datagram;

	while ((datagram = next_data(array, 0)).len)
	{
		chunk_free(&datagram);
	}
}

/**
 * Open proxy and fwd, start the relay between them
 */
static void open_proxy()
{
	proxy = open_raw("127.0.0.2", 0, &port_proxy);
	fwd = open_raw("127.0.0.1", 0, &port_fwd);
	relay_thread = thread_create(relay, NULL);
}

/**
 * (Re)create "b" on 127.0.0.2, which sends to "a" via fwd
 */
static void create_b(char *secret)
{
	DESTROY_IF(b);
	b = NULL;
	/* a new port, the old one may be taken by now; "a" sends via proxy */
	port_b = free_port("127.0.0.2");
	set_peer("a", "127.0.0.1", port_fwd, secret);
	set_peer("b", "127.0.0.2", port_proxy, NULL);
	b = create_bound("127.0.0.2", port_b, "b");
}

/**
 * (Re)create "a" on 127.0.0.1, which sends to "b" via the proxy
 */
static void create_a(char *secret)
{
	DESTROY_IF(a);
	a = NULL;
	port_a = free_port("127.0.0.1");
	set_peer("a", "127.0.0.1", port_a, NULL);
	set_peer("b", "127.0.0.2", port_proxy, secret);
	a = create_bound("127.0.0.1", port_a, "a");
}

/**
 * Create "b" on 127.0.0.2 and "a" on 127.0.0.1, which sends to "b" via the
 * proxy socket, with the given secret for each.  "b" sends to fwd instead of
 * "a".  The relay passes the handshakes on.
 */
static void create_proxied(char *secret_a, char *secret_b)
{
	open_proxy();
	create_b(secret_b);
	create_a(secret_a);
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
	datagram = next_data(a_data, WAIT_MS);
	ck_assert(datagram.len);
	return datagram;
}

/**
 * Clear the messages received so far
 */
static void clear_received()
{
	received_t *r;

	mutex->lock(mutex);
	while (array_remove(received, ARRAY_HEAD, &r))
	{
		received_destroy(r);
	}
	mutex->unlock(mutex);
}

/**
 * Pass a CTD from "a" to "b", so each confirmed the other's epoch
 */
static void confirm()
{
	chunk_t datagram;
	int i;

	/* right after a restart, "a" may send before it took the new epoch of
	 * "b", which drops that and asks again */
	for (i = 0; i < 20; i++)
	{
		datagram = capture(99);
		send_raw(fwd, datagram, "127.0.0.2", port_b);
		chunk_free(&datagram);
		if (wait_for(received, 1, 250))
		{
			break;
		}
	}
	ck_assert_int_eq(wait_for(received, 1, WAIT_MS), 1);
	assert_ctd(0, "b", "a", 99);
	clear_received();
}

/**
 * Forward a datagram to "b" from the given plain socket
 */
static void forward(int fd, chunk_t datagram)
{
	send_raw(fd, datagram, "127.0.0.2", port_b);
}

/**
 * prf+ with HMAC-SHA2-256 over a configured secret, as the transport
 * derives its keys
 */
static chunk_t prf_plus(char *secret, chunk_t salt, size_t len)
{
	kdf_t *kdf;
	chunk_t key;

	kdf = lib->crypto->create_kdf(lib->crypto, KDF_PRF_PLUS,
								  PRF_HMAC_SHA2_256);
	ck_assert(kdf);
	ck_assert(kdf->set_param(kdf, KDF_PARAM_KEY, chunk_from_str(secret)));
	ck_assert(kdf->set_param(kdf, KDF_PARAM_SALT, salt));
	ck_assert(kdf->allocate_bytes(kdf, len, &key));
	kdf->destroy(kdf);
	return key;
}

/**
 * The key and salt of one direction, as the header describes them
 */
static chunk_t data_key(char *secret, char *sender, char *receiver,
						uint64_t sender_epoch, uint64_t receiver_epoch)
{
	host_t *snd, *rcv;
	u_char epochs[16];
	chunk_t key;

	snd = host_create_from_string(sender, 0);
	rcv = host_create_from_string(receiver, 0);
	htoun64(epochs, sender_epoch);
	htoun64(epochs + 8, receiver_epoch);
	key = prf_plus(secret, chunk_cata("cccc", chunk_from_str("cxtp transport"),
							chunk_from_thing(epochs), snd->get_address(snd),
							rcv->get_address(rcv)), 36);
	snd->destroy(snd);
	rcv->destroy(rcv);
	return key;
}

/**
 * The key of the handshakes one router sends another
 */
static chunk_t handshake_key(char *secret, char *sender, char *receiver)
{
	host_t *snd, *rcv;
	chunk_t key;

	snd = host_create_from_string(sender, 0);
	rcv = host_create_from_string(receiver, 0);
	key = prf_plus(secret, chunk_cata("ccc", chunk_from_str("cxtp handshake"),
							snd->get_address(snd), rcv->get_address(rcv)), 32);
	snd->destroy(snd);
	rcv->destroy(rcv);
	return key;
}

/**
 * Seal a message the way the header describes it, independently of the
 * implementation
 */
static chunk_t seal(char *secret, char *sender, char *receiver, uint8_t version,
					uint64_t sender_epoch, uint64_t receiver_epoch,
					uint64_t seq, chunk_t plain)
{
	aead_t *aead;
	chunk_t key, header, ct, datagram;
	u_char hdr[28] = { version, 1 };

	aead = lib->crypto->create_aead(lib->crypto, ENCR_AES_GCM_ICV16, 32, 4);
	ck_assert(aead);
	htoun64(hdr + 4, sender_epoch);
	htoun64(hdr + 12, receiver_epoch);
	htoun64(hdr + 20, seq);
	key = data_key(secret, sender, receiver, sender_epoch, receiver_epoch);
	ck_assert(aead->set_key(aead, key));
	header = chunk_from_thing(hdr);
	/* the IV is the sequence number */
	ck_assert(aead->encrypt(aead, plain, header, chunk_create(hdr + 20, 8),
							&ct));
	datagram = chunk_cat("cm", header, ct);
	chunk_clear(&key);
	aead->destroy(aead);
	return datagram;
}

/**
 * Seal CTD number n from "a" to "b" in the epochs they announced
 */
static chunk_t seal_ctd(char *secret, char *sender, char *receiver,
						uint8_t version, uint64_t seq, int n)
{
	chunk_t plain, datagram;

	plain = ctd_encoding(n);
	datagram = seal(secret, sender, receiver, version, epoch_a, epoch_b, seq,
					plain);
	chunk_free(&plain);
	return datagram;
}

/**
 * Everything the transport logged, at any level, while a test captured it
 */
static char *logged;
static mutex_t *log_mutex;

/**
 * Whether capture_log() still appends: the transports' threads may call it
 * after the test put the previous logger back, and must not replace the log
 * while the test reads it
 */
static bool capturing;

START_SETUP(setup)
{
	lib->processor->set_threads(lib->processor, 4);
	mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	condvar = condvar_create(CONDVAR_TYPE_DEFAULT);
	received = array_create(0, 0);
	timeouts = array_create(0, 0);
	settings = array_create(0, 0);
	a_data = array_create(0, 0);
	b_data = array_create(0, 0);
	a_hs = array_create(0, 0);
	b_hs = array_create(0, 0);
	a = b = NULL;
	proxy = fwd = -1;
	relay_thread = NULL;
	relay_stop = relay_paused = relay_idle = FALSE;
	epoch_a = epoch_b = 0;
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
	if (relay_thread)
	{
		mutex->lock(mutex);
		relay_stop = TRUE;
		mutex->unlock(mutex);
		relay_thread->join(relay_thread);
	}
	/* the next test's relay must not send to this one's ports */
	port_a = port_b = 0;
	/* the transports' threads, which may still have logged, are gone */
	if (log_mutex)
	{
		log_mutex->destroy(log_mutex);
		log_mutex = NULL;
	}
	relay_clear(a_data);
	relay_clear(b_data);
	relay_clear(a_hs);
	relay_clear(b_hs);
	array_destroy(a_data);
	array_destroy(b_data);
	array_destroy(a_hs);
	array_destroy(b_hs);
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
	 *   prf+(b"cxtp-secret", b"cxtp transport" + epochs + 192.0.2.1
	 *        + 192.0.2.2) = 57b51753...95d10868e9f03f8e (key | salt)
	 *   AESGCM(key).encrypt(salt + seq, b"context transfer", header) */
	expected = chunk_from_chars(
		0x02,0x01,0x00,0x00,0x11,0x11,0x11,0x11,0x11,0x11,0x11,0x11,
		0x22,0x22,0x22,0x22,0x22,0x22,0x22,0x22,0x01,0x02,0x03,0x04,
		0x05,0x06,0x07,0x08,
		0x08,0x9b,0x26,0x1b,0x0e,0x3a,0x59,0xf8,0xa5,0x3a,0x5a,0xdf,
		0x61,0x34,0x2f,0x90,0x28,0x0a,0x3c,0xf8,0x9f,0x8e,0x97,0x33,
		0x27,0xf2,0xdf,0xb3,0x4c,0x70,0xde,0xcf);
	datagram = seal(SECRET, "192.0.2.1", "192.0.2.2", 2, 0x1111111111111111,
					0x2222222222222222, 0x0102030405060708,
					chunk_from_str("context transfer"));
	ck_assert_chunk_eq(datagram, expected);
	chunk_free(&datagram);
}
END_TEST

/**
 * Compute the ICV of a handshake as documented
 */
static void handshake_icv(char *secret, char *sender, char *receiver,
						  chunk_t datagram)
{
	signer_t *signer;
	chunk_t key;

	signer = lib->crypto->create_signer(lib->crypto, AUTH_HMAC_SHA2_256_128);
	ck_assert(signer);
	key = handshake_key(secret, sender, receiver);
	ck_assert(signer->set_key(signer, key));
	ck_assert(signer->get_signature(signer, chunk_create(datagram.ptr, 28),
									datagram.ptr + 28));
	chunk_clear(&key);
	signer->destroy(signer);
}

START_TEST(test_format_handshake_kat)
{
	u_char buf[44] = { 2, 2 };
	chunk_t expected;

	/* HMAC-SHA2-256 keyed with prf+(b"cxtp-secret", b"cxtp handshake" +
	 * 192.0.2.1 + 192.0.2.2)[:32], truncated to 16 octets */
	expected = chunk_from_chars(
		0x8c,0xb0,0x45,0xb5,0x27,0x71,0x71,0xba,0x2d,0xf4,0x52,0xa1,
		0xd3,0x26,0x44,0xf6);
	htoun64(buf + 4, 0x1111111111111111);
	htoun64(buf + 12, 0x3333333333333333);
	htoun64(buf + 20, 0x4444444444444444);
	handshake_icv(SECRET, "192.0.2.1", "192.0.2.2", chunk_from_thing(buf));
	ck_assert_chunk_eq(chunk_create(buf + 28, 16), expected);
}
END_TEST

START_TEST(test_format_accept)
{
	chunk_t datagram;
	uint16_t port;
	received_t *r;

	create_proxied(SECRET, SECRET);
	confirm();
	/* a datagram built as documented is accepted */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 1000, 1);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(1, 1);
	r = get_received(0);
	ck_assert(r->from->get_family(r->from) == AF_INET);
	port = r->from->get_port(r->from);
	ck_assert(port != 0 && port != port_b);
}
END_TEST

START_TEST(test_format_nonce)
{
	chunk_t datagram, expected, plain;
	uint64_t seq;
	int i;

	create_proxied(SECRET, SECRET);
	confirm();
	for (i = 1; i <= 3; i++)
	{
		/* what "a" sends is exactly the documented sealing with the
		 * header's sequence number as IV, the nonce is never random */
		datagram = capture(i);
		seq = untoh64(datagram.ptr + 20);
		ck_assert(untoh64(datagram.ptr + 4) == epoch_a);
		ck_assert(untoh64(datagram.ptr + 12) == epoch_b);
		/* numbers start at 1 per pair of epochs, confirm() sent 1 */
		ck_assert(seq == i + 1);
		plain = ctd_encoding(i);
		expected = seal(SECRET, "127.0.0.1", "127.0.0.2", 2, epoch_a, epoch_b,
						seq, plain);
		ck_assert_chunk_eq(datagram, expected);
		chunk_free(&plain);
		chunk_free(&expected);
		chunk_free(&datagram);
	}
}
END_TEST

START_TEST(test_format_epochs)
{
	chunk_t plain, d1, d2, d3;

	/* a key depends on both epochs */
	plain = chunk_from_str("context transfer");
	d1 = seal(SECRET, "192.0.2.1", "192.0.2.2", 2, 1, 2, 1, plain);
	d2 = seal(SECRET, "192.0.2.1", "192.0.2.2", 2, 1, 3, 1, plain);
	d3 = seal(SECRET, "192.0.2.1", "192.0.2.2", 2, 4, 2, 1, plain);
	ck_assert(!chunk_equals(chunk_skip(d1, 28), chunk_skip(d2, 28)));
	ck_assert(!chunk_equals(chunk_skip(d1, 28), chunk_skip(d3, 28)));
	ck_assert(!chunk_equals(chunk_skip(d2, 28), chunk_skip(d3, 28)));
	chunk_free(&d1);
	chunk_free(&d2);
	chunk_free(&d3);
}
END_TEST

static void capture_log(debug_t group, level_t level, char *fmt, ...)
{
	char line[4096], *all;
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	log_mutex->lock(log_mutex);
	if (capturing && asprintf(&all, "%s%s\n", logged ?: "", line) > 0)
	{
		free(logged);
		logged = all;
	}
	log_mutex->unlock(log_mutex);
}

/**
 * Whether any four octets in a row of a key are in the log, in hex as %B,
 * %#B or %b print them, upper or lower case
 */
static bool key_logged(chunk_t key)
{
	char spaced[16], plain[12];
	u_char *p;
	size_t i;

	for (i = 0; i + 4 <= key.len; i++)
	{
		p = key.ptr + i;
		snprintf(spaced, sizeof(spaced), "%02x %02x %02x %02x",
				 p[0], p[1], p[2], p[3]);
		snprintf(plain, sizeof(plain), "%02x%02x%02x%02x",
				 p[0], p[1], p[2], p[3]);
		if (strcasestr(logged, spaced) || strcasestr(logged, plain))
		{
			return TRUE;
		}
	}
	return FALSE;
}

START_TEST(test_no_key_logged)
{
	void (*previous)(debug_t, level_t, char*, ...) = dbg;
	chunk_t datagram, key;
	int i;
	struct {
		char *sender;
		char *receiver;
	} directions[] = {
		{ "127.0.0.1", "127.0.0.2" },
		{ "127.0.0.2", "127.0.0.1" },
	};

	log_mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	logged = NULL;
	capturing = TRUE;
	dbg = capture_log;
	create_proxied(SECRET, SECRET);
	confirm();
	datagram = capture(1);
	send_raw(fwd, datagram, "127.0.0.2", port_b);
	ck_assert_int_eq(wait_for(received, 1, WAIT_MS), 1);
	chunk_free(&datagram);
	log_mutex->lock(log_mutex);
	capturing = FALSE;
	log_mutex->unlock(log_mutex);
	dbg = previous;

	/* it did log, at every level it logs at */
	ck_assert(logged && strstr(logged, "epoch"));
	ck_assert(!strstr(logged, SECRET));
	for (i = 0; i < countof(directions); i++)
	{
		key = data_key(SECRET, directions[i].sender, directions[i].receiver,
					   i ? epoch_b : epoch_a, i ? epoch_a : epoch_b);
		ck_assert(!key_logged(key));
		chunk_clear(&key);
		key = handshake_key(SECRET, directions[i].sender,
							directions[i].receiver);
		ck_assert(!key_logged(key));
		chunk_clear(&key);
	}
	free(logged);
	logged = NULL;
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
	ck_assert(next_data(a_data, 100).len == 0);
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
	ck_assert(next_data(a_data, 100).len == 0);
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
	/* type */
	{ 1, 0x03 },
	/* reserved */
	{ 2, 0x80 },
	{ 3, 0x01 },
	/* sender epoch */
	{ 4, 0x80 },
	{ 11, 0x01 },
	/* receiver epoch */
	{ 12, 0x80 },
	{ 19, 0x01 },
	/* sequence number */
	{ 20, 0x80 },
	{ 27, 0x01 },
	/* ciphertext */
	{ 28, 0x01 },
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

/**
 * Apply a modification of the tamper table to a copy of a datagram
 */
static chunk_t modify(chunk_t original, int i)
{
	chunk_t modified;
	int offset;

	modified = chunk_clone(original);
	offset = tamper[i].offset < 0 ? original.len + tamper[i].offset
								  : tamper[i].offset;
	if (tamper[i].mask)
	{
		modified.ptr[offset] ^= tamper[i].mask;
	}
	else
	{
		modified.len = offset;
	}
	return modified;
}

START_TEST(test_tamper)
{
	chunk_t original, sentinel, modified;

	create_proxied(SECRET, SECRET);
	confirm();
	original = capture(1);
	sentinel = capture(2);

	modified = modify(original, _i);
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
	confirm();
	m1 = capture(1);
	m2 = capture(2);
	m3 = capture(3);
	ck_assert(!chunk_equals(chunk_create(m1.ptr, 28), chunk_create(m2.ptr, 28)));

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
	confirm();
	for (i = 1; i <= 70; i++)
	{
		m[i] = capture(i);
		if (i > 1)
		{	/* consecutive sequence numbers */
			seq = untoh64(m[i - 1].ptr + 20);
			ck_assert(untoh64(m[i].ptr + 20) == seq + 1);
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
	confirm();
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
	chunk_t datagram, plain;

	create_proxied(SECRET, SECRET);
	confirm();
	/* wrong secret */
	datagram = seal_ctd("wrong-secret", "127.0.0.1", "127.0.0.2", 2, 1000, 1);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* key of the other direction, as if "b" sent it (reflection) */
	datagram = seal_ctd(SECRET, "127.0.0.2", "127.0.0.1", 2, 1000, 2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* key for another receiver */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.3", 2, 1000, 3);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* other version */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 3, 1000, 4);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* epochs swapped in the key, as the other direction's */
	plain = ctd_encoding(7);
	datagram = seal(SECRET, "127.0.0.1", "127.0.0.2", 2, epoch_b, epoch_a,
					1000, plain);
	chunk_free(&plain);
	memcpy(datagram.ptr + 4, &epoch_a, 8);
	htoun64(datagram.ptr + 4, epoch_a);
	htoun64(datagram.ptr + 12, epoch_b);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* valid, the above did not touch the replay state */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 1001, 5);
	forward(fwd, datagram);
	chunk_free(&datagram);
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 1000, 6);
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
	confirm();
	/* what "b" sends to "a", sent back to "b" as if "a" sent it */
	message = create_ctd(1);
	ck_assert(b->send(b, "a", message));
	message->destroy(message);
	datagram = next_data(b_data, WAIT_MS);
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
	cxtp_message_t *message;
	chunk_t datagram;

	/* "a" is configured with another secret than "b": no handshake
	 * completes, "a" sends nothing but handshakes */
	create_proxied("wrong-secret", SECRET);
	message = create_ctd(1);
	ck_assert(a->send(a, "b", message));
	message->destroy(message);
	datagram = next_data(a_data, 300);
	ck_assert(!datagram.len);
	ck_assert(wait_for(a_hs, 1, WAIT_MS) >= 1);
	/* and "b", which never had an answer from "a", delivers nothing,
	 * however authentic */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 1, 2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	ck_assert_int_eq(wait_for(received, 1, 300), 0);
}
END_TEST

/**
 * Reload the settings "b" was created with, with "a" at the same address
 * and the given secret
 */
static void reload_b(char *secret)
{
	cxtp_settings_t *settings_b;
	int i;

	set_peer("a", "127.0.0.1", port_fwd, secret);
	set_peer("b", "127.0.0.2", port_proxy, NULL);
	/* the settings of the last "b" created */
	for (i = array_count(settings) - 1; i >= 0; i--)
	{
		array_get(settings, i, &settings_b);
		if (settings_b->get_peer_count(settings_b) &&
			!settings_b->get_peer(settings_b, "b"))
		{
			break;
		}
	}
	settings_b->reload(settings_b);
}

START_TEST(test_reload)
{
	chunk_t datagram;

	create_proxied(SECRET, SECRET);
	confirm();
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 1000, 1);
	forward(fwd, datagram);
	assert_ctds(1, 1);
	/* unchanged: the replay window stays */
	reload_b(SECRET);
	forward(fwd, datagram);
	chunk_free(&datagram);
	/* a new secret: the old keys go, the window stays with the epochs */
	reload_b("new-secret");
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 1001, 2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	datagram = seal_ctd("new-secret", "127.0.0.1", "127.0.0.2", 2, 1000, 3);
	forward(fwd, datagram);
	chunk_free(&datagram);
	datagram = seal_ctd("new-secret", "127.0.0.1", "127.0.0.2", 2, 1002, 4);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(2, 1, 4);
}
END_TEST

START_TEST(test_restart)
{
	chunk_t old, datagram;
	uint64_t epoch;

	create_proxied(SECRET, SECRET);
	confirm();
	old = capture(1);
	/* 0: the receiver "b" restarts, 1: the sender "a" */
	epoch = _i ? epoch_a : epoch_b;
	if (_i)
	{
		create_a(SECRET);
	}
	else
	{
		create_b(SECRET);
	}
	confirm();
	ck_assert((_i ? epoch_a : epoch_b) != epoch);
	/* recorded before the restart, never seen by "b": dropped, though its
	 * sequence number is not below any "b" saw since, as the numbers start
	 * again with the new epochs (and keys) */
	forward(fwd, old);
	datagram = capture(2);
	ck_assert(untoh64(datagram.ptr + 20) <= untoh64(old.ptr + 20));
	forward(fwd, datagram);
	assert_ctds(1, 2);
	chunk_free(&datagram);
	chunk_free(&old);
}
END_TEST

START_TEST(test_restart_held)
{
	chunk_t datagram, plain;

	create_proxied(SECRET, SECRET);
	confirm();
	/* "b" restarts and its handshake gets lost: it knows no epoch of "a" */
	relay_pause(TRUE);
	create_b(SECRET);
	datagram = recv_raw(fwd, WAIT_MS);
	ck_assert(datagram.len == CXTP_TRANSPORT_HANDSHAKE_LEN);
	epoch_b = untoh64(datagram.ptr + 4);
	chunk_free(&datagram);
	relay_pause(FALSE);

	/* under an epoch "a" never had: held, then dropped on its answer */
	plain = ctd_encoding(1);
	datagram = seal(SECRET, "127.0.0.1", "127.0.0.2", 2, epoch_a ^ 1, epoch_b,
					5, plain);
	chunk_free(&plain);
	forward(fwd, datagram);
	chunk_free(&datagram);
	ck_assert_int_eq(wait_for(received, 1, 300), 0);

	/* under the current one of "a": held, delivered on its answer */
	datagram = seal_ctd(SECRET, "127.0.0.1", "127.0.0.2", 2, 6, 2);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(1, 2);
}
END_TEST

/**
 * Forward datagrams to "b" with the relay paused, then a sentinel from "a",
 * and return how many handshakes "b" sent until it delivered the sentinel
 */
static int handshakes_of_b(chunk_t *datagrams, int count, int n)
{
	chunk_t datagram, sentinel;
	int i, sent = 0;

	sentinel = capture(n);
	relay_pause(TRUE);
	while ((datagram = recv_raw(fwd, 0)).len)
	{
		chunk_free(&datagram);
	}
	for (i = 0; i < count; i++)
	{
		forward(fwd, datagrams[i]);
	}
	forward(fwd, sentinel);
	chunk_free(&sentinel);
	ck_assert_int_eq(wait_for(received, 1, WAIT_MS), 1);
	assert_ctd(0, "b", "a", n);
	clear_received();
	/* "b" sent what it sends before it delivered the sentinel */
	while ((datagram = recv_raw(fwd, 0)).len)
	{
		sent++;
		chunk_free(&datagram);
	}
	relay_pause(FALSE);
	return sent;
}

/**
 * Modifications of a handshake, as for tamper
 */
static struct {
	int offset;
	u_char mask;
} tamper_hs[] = {
	{ 0, 0x01 },
	{ 1, 0x01 },
	{ 3, 0x01 },
	{ 4, 0x80 },
	{ 11, 0x01 },
	{ 12, 0x80 },
	{ 19, 0x01 },
	{ 20, 0x80 },
	{ 27, 0x01 },
	{ 28, 0x01 },
	{ 43, 0x80 },
	{ 43, 0 },
};

START_TEST(test_handshake_tamper)
{
	chunk_t *recorded, modified;
	int offset;

	create_proxied(SECRET, SECRET);
	confirm();
	/* the first handshake of "a", asking for the epoch of "b" */
	mutex->lock(mutex);
	ck_assert(array_get(a_hs, ARRAY_HEAD, &recorded));
	modified = chunk_clone(*recorded);
	mutex->unlock(mutex);
	ck_assert(untoh64(modified.ptr + 12));
	offset = tamper_hs[_i].offset;
	if (tamper_hs[_i].mask)
	{
		modified.ptr[offset] ^= tamper_hs[_i].mask;
	}
	else
	{
		modified.len = offset;
	}
	/* no answer, no new question, and the epoch of "a" stays: the sentinel
	 * is not held */
	ck_assert_int_eq(handshakes_of_b(&modified, 1, 1), 0);
	chunk_free(&modified);
}
END_TEST

START_TEST(test_handshake_replay)
{
	chunk_t *recorded, replayed[2] = {};
	int i;

	create_proxied(SECRET, SECRET);
	confirm();
	/* the question of "a" and its answer to the question of "b" */
	mutex->lock(mutex);
	for (i = 0; i < array_count(a_hs); i++)
	{
		array_get(a_hs, i, &recorded);
		if (!replayed[0].len && untoh64(recorded->ptr + 12) &&
			!untoh64(recorded->ptr + 20))
		{
			replayed[0] = chunk_clone(*recorded);
		}
		if (!replayed[1].len && untoh64(recorded->ptr + 20))
		{
			replayed[1] = chunk_clone(*recorded);
		}
	}
	mutex->unlock(mutex);
	ck_assert(replayed[0].len && replayed[1].len);
	/* an answer answers no question now */
	ck_assert_int_eq(handshakes_of_b(&replayed[1], 1, 1), 0);
	/* a question gets an answer, nothing else */
	ck_assert_int_eq(handshakes_of_b(&replayed[0], 1, 2), 1);
	chunk_free(&replayed[0]);
	chunk_free(&replayed[1]);
}
END_TEST

START_TEST(test_handshake_rate)
{
	chunk_t old[50];
	int i;

	create_proxied(SECRET, SECRET);
	confirm();
	old[0] = capture(1);
	for (i = 1; i < countof(old); i++)
	{
		old[i] = old[0];
	}
	create_b(SECRET);
	confirm();
	/* each old datagram is dropped and asks for a handshake, 10 per second
	 * are sent at most (a window may end in between) */
	ck_assert(handshakes_of_b(old, countof(old), 2) <= 20);
	chunk_free(&old[0]);
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
	confirm();

	message = create_ctd(1);
	start = now_ms();
	ck_assert(a->send_reliable(a, "b", message, 42));
	message->destroy(message);
	for (i = 0; i < 4; i++)
	{
		datagrams[i] = next_data(a_data, WAIT_MS);
		times[i] = now_ms();
		ck_assert(datagrams[i].len);
	}
	ck_assert_int_eq(wait_for(timeouts, 1, WAIT_MS), 1);
	array_get(timeouts, 0, &t);
	ck_assert_str_eq(t->peer, "b");
	ck_assert_int_eq(t->id, 42);
	/* no more retransmissions after giving up */
	datagrams[4] = next_data(a_data, 100);
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
			ck_assert(untoh64(datagrams[i].ptr + 20) ==
					  untoh64(datagrams[i - 1].ptr + 20) + 1);
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
	confirm();

	message = create_ctd(1);
	ck_assert(a->send_reliable(a, "b", message, 7));
	message->destroy(message);
	datagram = next_data(a_data, WAIT_MS);
	ck_assert(datagram.len);
	chunk_free(&datagram);
	a->acknowledge(a, 7);
	/* neither retransmissions (at 300 and 900 ms) nor a timeout (at 2100 ms)
	 * follow */
	datagram = next_data(a_data, 1000);
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
	confirm();

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
		datagram = next_data(a_data, WAIT_MS);
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
	datagram = next_data(a_data, 200);
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
	confirm();

	message = create_ctd(1);
	ck_assert(a->send_reliable(a, "b", message, 3));
	message->destroy(message);
	datagram = next_data(a_data, WAIT_MS);
	ck_assert(datagram.len);
	chunk_free(&datagram);
	ck_assert_int_eq(wait_for(timeouts, 1, WAIT_MS), 1);
	array_get(timeouts, 0, &t);
	ck_assert_int_eq(t->id, 3);
	datagram = next_data(a_data, 100);
	ck_assert(!datagram.len);
}
END_TEST

START_TEST(test_destroy_pending)
{
	cxtp_message_t *message;
	chunk_t datagram;
	int i;

	/* "b" with timers far in the future, "a" destroyed while retransmitting */
	set_retransmit("10", 3, "2.0");
	open_proxy();
	create_b(SECRET);
	set_retransmit("0.02", 100, "1.0");
	create_a(SECRET);
	confirm();

	for (i = 1; i <= 10; i++)
	{
		message = create_ctd(i);
		ck_assert(b->send_reliable(b, "a", message, i));
		ck_assert(a->send_reliable(a, "b", message, i));
		message->destroy(message);
	}
	/* the 10 initial datagrams, then some retransmissions */
	for (i = 0; i < 30; i++)
	{
		datagram = next_data(a_data, WAIT_MS);
		ck_assert(datagram.len);
		chunk_free(&datagram);
	}
	ck_assert_int_eq(wait_for(b_data, 10, WAIT_MS), 10);
	b->destroy(b);
	a->destroy(a);
	a = b = NULL;
	/* drain what was sent before destroy() returned */
	relay_pause(TRUE);
	relay_clear(a_data);
	relay_clear(b_data);
	while ((datagram = recv_raw(proxy, 0)).len)
	{
		chunk_free(&datagram);
	}
	while ((datagram = recv_raw(fwd, 0)).len)
	{
		chunk_free(&datagram);
	}
	datagram = recv_raw(proxy, 200);
	ck_assert(!datagram.len);
	datagram = recv_raw(fwd, 0);
	ck_assert(!datagram.len);
	ck_assert_int_eq(wait_for(timeouts, 1, 0), 0);
}
END_TEST

START_TEST(test_batch)
{
	cxtp_message_t *message;
	chunk_t datagram, retransmitted[3];
	int i;

	set_retransmit("0.3", 1, "2.0");
	create_proxied(SECRET, SECRET);
	confirm();

	/* nested: held back until the last uncork */
	a->cork(a, "b");
	a->cork(a, "b");
	for (i = 1; i <= 3; i++)
	{
		message = create_ctd(i);
		ck_assert(a->send_reliable(a, "b", message, i));
		message->destroy(message);
	}
	a->uncork(a, "b");
	ck_assert(!next_data(a_data, 100).len);
	a->uncork(a, "b");
	/* all three in one datagram, which "b" splits */
	datagram = next_data(a_data, WAIT_MS);
	ck_assert(datagram.len);
	ck_assert_int_eq(datagram.ptr[1], CXTP_TRANSPORT_BATCH);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(3, 1, 2, 3);
	/* each is retransmitted alone, in the data datagram of a single
	 * message */
	for (i = 0; i < 3; i++)
	{
		retransmitted[i] = next_data(a_data, WAIT_MS);
		ck_assert(retransmitted[i].len);
		ck_assert_int_eq(retransmitted[i].ptr[1], CXTP_TRANSPORT_DATA);
	}
	clear_received();
	for (i = 0; i < 3; i++)
	{
		forward(fwd, retransmitted[i]);
		chunk_free(&retransmitted[i]);
		a->acknowledge(a, i + 1);
	}
	ck_assert_int_eq(wait_for(received, 3, WAIT_MS), 3);
}
END_TEST

START_TEST(test_batch_single)
{
	cxtp_message_t *message;
	chunk_t datagram, plain;

	create_proxied(SECRET, SECRET);
	confirm();

	/* one message alone goes as ever, byte for byte */
	a->cork(a, "b");
	message = create_ctd(5);
	ck_assert(a->send_reliable(a, "b", message, 5));
	message->destroy(message);
	a->uncork(a, "b");
	datagram = next_data(a_data, WAIT_MS);
	ck_assert(datagram.len);
	ck_assert_int_eq(datagram.ptr[1], CXTP_TRANSPORT_DATA);
	plain = ctd_encoding(5);
	ck_assert_int_eq(datagram.len, CXTP_TRANSPORT_OVERHEAD + plain.len);
	chunk_free(&plain);
	forward(fwd, datagram);
	chunk_free(&datagram);
	assert_ctds(1, 5);
	a->acknowledge(a, 5);
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
	tcase_add_test(tc, test_format_handshake_kat);
	tcase_add_test(tc, test_format_accept);
	tcase_add_test(tc, test_format_nonce);
	tcase_add_test(tc, test_format_epochs);
	tcase_add_test(tc, test_no_key_logged);
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

	tc = tcase_create("epochs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_restart, 0, 2);
	tcase_add_test(tc, test_restart_held);
	tcase_add_loop_test(tc, test_handshake_tamper, 0, countof(tamper_hs));
	tcase_add_test(tc, test_handshake_replay);
	tcase_add_test(tc, test_handshake_rate);
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

	tc = tcase_create("batch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_batch_single);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}
