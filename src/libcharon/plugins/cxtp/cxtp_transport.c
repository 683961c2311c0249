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

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* for struct in6_pktinfo */
#endif

#include "cxtp_transport.h"
#include "cxtp_retransmit.h"

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <utils/debug.h>
#include <threading/mutex.h>
#include <collections/array.h>
#include <crypto/aead.h>
#include <crypto/signers/signer.h>
#include <crypto/kdfs/kdf.h>
#include <crypto/rngs/rng.h>

/**
 * Receive buffer size, larger than any UDP payload
 */
#define RECV_BUFFER_SIZE 65536

/**
 * Maximum UDP payload over IPv4 and IPv6 (without jumbograms)
 */
#define MAX_PAYLOAD_V4 (65535 - 20 - 8)
#define MAX_PAYLOAD_V6 (65535 - 8)

/**
 * AEAD key size (AES-256) and salt size
 */
#define AEAD_KEY_SIZE 32
#define AEAD_SALT_SIZE 4

/**
 * Key size of the handshake's HMAC-SHA2-256-128
 */
#define HANDSHAKE_KEY_SIZE 32

/**
 * Messages waiting for a handshake, per peer
 */
#define QUEUE_MAX 16

/**
 * Handshake messages sent to a peer per second at most, whatever asks for
 * them (replayed datagrams, replayed handshakes)
 */
#define HANDSHAKE_RATE 10

/**
 * Highest sequence number sent under one key, a new epoch starts before
 */
#define SEQ_MAX (UINT64_MAX - 1)

typedef struct private_cxtp_transport_t private_cxtp_transport_t;

/**
 * A cached key of one direction with a peer
 */
typedef struct {

	/** our address the key was derived for, NULL if none derived yet */
	host_t *local;

	/** our epoch the key was derived for */
	uint64_t local_epoch;

	/** the peer's epoch the key was derived for */
	uint64_t peer_epoch;

	/** AEAD keyed for the direction */
	aead_t *aead;

} dir_key_t;

/**
 * A message waiting for the peer's epoch
 */
typedef struct {

	/** type of the message, for logging */
	cxtp_message_type_t type;

	/** plain encoding */
	chunk_t encoding;

	/** retransmission counter, for logging */
	u_int retransmission;

	/** identifier of a reliable message, whose retransmission replaces it */
	uint32_t id;

	/** whether it was sent with send_reliable() */
	bool reliable;

	/** monotonic time in ms after which it is dropped */
	uint64_t expires;

} queued_t;

/**
 * What the transport keeps per peer
 */
typedef struct {

	/** the peer as configured, the keys were derived for */
	cxtp_peer_t *config;

	/** name of the peer's section, owned by config */
	char *name;

	/** address and port of the peer, owned by config */
	host_t *address;

	/** shared secret, owned by config */
	chunk_t secret;

	/** the peer's current epoch as it confirmed it, 0 if unknown */
	uint64_t epoch;

	/** the peer's epoch before, datagrams under it are dropped */
	uint64_t previous;

	/** our outstanding challenge to learn the peer's epoch, 0 if none */
	uint64_t challenge;

	/** start of the current second of the handshake rate limit, in ms */
	uint64_t rate_start;

	/** handshake messages sent in that second */
	u_int rate_count;

	/** the peer's epoch the sequence numbers count for */
	uint64_t seq_epoch;

	/** next sequence number to send */
	uint64_t seq;

	/** key of datagrams we send */
	dir_key_t out;

	/** key of datagrams we receive */
	dir_key_t in;

	/** whether a datagram was received, i.e. the window is valid */
	bool replay_init;

	/** highest authenticated sequence number received */
	uint64_t replay_top;

	/** window bitmap, bit n set if replay_top - n was received */
	uint64_t replay_bitmap;

	/** messages waiting for the peer's epoch, queued_t* */
	array_t *queue;

	/** cork() calls not yet undone by uncork() */
	u_int corked;

	/** first transmissions held back while corked, queued_t* */
	array_t *cork;

	/** plain text of an authenticated datagram under an unconfirmed epoch */
	chunk_t held;

	/** the epoch of the held datagram */
	uint64_t held_epoch;

	/** the sequence number of the held datagram */
	uint64_t held_seq;

	/** whether the held datagram is a batch of messages */
	bool held_batch;

} peer_t;

/**
 * A bound socket
 */
typedef struct {

	/** transport the socket belongs to */
	private_cxtp_transport_t *this;

	/** file descriptor */
	int fd;

	/** address family */
	int family;

	/** bound address and port */
	host_t *local;

	/** whether bound to the any-address, so local addresses vary */
	bool wildcard;

	/** receive buffer, used in the (serialized) watcher callback only */
	chunk_t buffer;

} sock_t;

/**
 * Private data of a cxtp_transport_t object.
 */
struct private_cxtp_transport_t {

	/**
	 * Public cxtp_transport_t interface.
	 */
	cxtp_transport_t public;

	/**
	 * Protects everything below but the sockets' buffers
	 */
	mutex_t *mutex;

	/**
	 * Set by destroy(), nothing is sent and no callback invoked anymore
	 */
	bool destroyed;

	/**
	 * Our epoch, random, new with every start
	 */
	uint64_t epoch;

	/**
	 * Bound sockets, sock_t*
	 */
	array_t *sockets;

	/**
	 * Plugin settings, with the table of peers
	 */
	cxtp_settings_t *settings;

	/**
	 * State of the peers datagrams were exchanged with, peer_t*
	 */
	array_t *peers;

	/**
	 * Messages sent with send_reliable() pending acknowledgement
	 */
	cxtp_retransmit_t *retransmit;

	/**
	 * RNG for epochs and challenges
	 */
	rng_t *rng;

	/**
	 * Receive callback
	 */
	cxtp_transport_receive_cb_t cb;

	/**
	 * Data for the receive callback
	 */
	void *cb_data;

	/**
	 * Timeout callback
	 */
	cxtp_transport_timeout_cb_t timeout_cb;

	/**
	 * Data for the timeout callback
	 */
	void *timeout_data;
};

/**
 * A message sent with send_reliable(), pending acknowledgement
 */
typedef struct {

	/** implements cxtp_retransmit_packet_t */
	cxtp_retransmit_packet_t packet;

	/** transport sending it */
	private_cxtp_transport_t *this;

	/** identifier given by the user */
	uint32_t id;

	/** name of the peer */
	char *peer;

	/** type of the message, for logging */
	cxtp_message_type_t type;

	/** plain encoded message */
	chunk_t encoding;

} pending_t;

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
 * Wipe and free a direction key
 */
static void dir_key_clear(dir_key_t *key)
{
	DESTROY_IF(key->aead);
	DESTROY_IF(key->local);
	memwipe(key, sizeof(*key));
}

/**
 * Wipe and free a queued message
 */
static void queued_destroy(queued_t *queued)
{
	chunk_clear(&queued->encoding);
	free(queued);
}

/**
 * Drop the queued messages of a peer
 */
static void queue_flush(peer_t *peer)
{
	queued_t *queued;

	while (array_remove(peer->queue, ARRAY_HEAD, &queued))
	{
		queued_destroy(queued);
	}
}

/**
 * Destroy a peer's state, wiping the keys and epochs (the peer wipes the
 * secret)
 */
static void peer_destroy(peer_t *peer)
{
	dir_key_clear(&peer->out);
	dir_key_clear(&peer->in);
	queue_flush(peer);
	array_destroy(peer->queue);
	array_destroy_function(peer->cork, (void*)queued_destroy, NULL);
	chunk_clear(&peer->held);
	peer->config->destroy(peer->config);
	memwipe(peer, sizeof(*peer));
	free(peer);
}

/**
 * Close a socket and free it
 */
static void sock_destroy(sock_t *sock)
{
	if (sock->fd >= 0)
	{
		close(sock->fd);
	}
	DESTROY_IF(sock->local);
	chunk_free(&sock->buffer);
	free(sock);
}

/**
 * Get a random, non-zero 64-bit value
 */
static bool get_nonce(private_cxtp_transport_t *this, uint64_t *nonce)
{
	do
	{
		if (!this->rng->get_bytes(this->rng, sizeof(*nonce), (void*)nonce))
		{
			return FALSE;
		}
	}
	while (!*nonce);
	return TRUE;
}

/**
 * The state of a configured peer, created or, if a reload changed the
 * peer, given new keys (mutex held)
 */
static peer_t *get_state(private_cxtp_transport_t *this, cxtp_peer_t *config)
{
	peer_t *peer = NULL;
	int i;

	for (i = 0; i < array_count(this->peers); i++)
	{
		array_get(this->peers, i, &peer);
		if (streq(peer->name, config->get_name(config)))
		{
			break;
		}
		peer = NULL;
	}
	if (peer && peer->config == config)
	{
		config->destroy(config);
		return peer;
	}
	if (peer)
	{	/* the epochs, the sequence numbers and the window stay: a key
		 * with the same inputs would otherwise see its numbers again */
		DBG2(DBG_NET, "cxtp: peer '%s' was reconfigured", peer->name);
		dir_key_clear(&peer->out);
		dir_key_clear(&peer->in);
		peer->config->destroy(peer->config);
	}
	else
	{
		INIT(peer,
			.queue = array_create(0, 0),
			.cork = array_create(0, 0),
		);
		array_insert(this->peers, ARRAY_TAIL, peer);
	}
	peer->config = config;
	peer->name = config->get_name(config);
	peer->address = config->get_address(config);
	peer->secret = config->get_secret(config);
	return peer;
}

/**
 * Find a peer by name (mutex held)
 */
static peer_t *find_peer_by_name(private_cxtp_transport_t *this, char *name)
{
	cxtp_peer_t *config;

	config = this->settings->get_peer(this->settings, name);
	return config ? get_state(this, config) : NULL;
}

/**
 * Find a peer by its CXTP address, ignoring the port (mutex held)
 */
static peer_t *find_peer_by_address(private_cxtp_transport_t *this,
									host_t *address)
{
	cxtp_peer_t *config;

	config = this->settings->find_peer(this->settings, address, FALSE);
	return config ? get_state(this, config) : NULL;
}

/**
 * Find the socket for an address family
 */
static sock_t *find_socket(private_cxtp_transport_t *this, int family)
{
	sock_t *sock;
	int i;

	for (i = 0; i < array_count(this->sockets); i++)
	{
		array_get(this->sockets, i, &sock);
		if (sock->family == family)
		{
			return sock;
		}
	}
	return NULL;
}

/**
 * Get the socket to send a message of the given length to a peer, if any
 */
static sock_t *get_socket(private_cxtp_transport_t *this, peer_t *peer,
						  cxtp_message_type_t type, size_t len)
{
	sock_t *sock;

	sock = find_socket(this, peer->address->get_family(peer->address));
	if (!sock)
	{
		DBG1(DBG_NET, "cxtp: no socket to reach peer '%s' (%#H)", peer->name,
			 peer->address);
		return NULL;
	}
	if (len + CXTP_TRANSPORT_OVERHEAD >
			(sock->family == AF_INET ? MAX_PAYLOAD_V4 : MAX_PAYLOAD_V6))
	{
		DBG1(DBG_NET, "cxtp: CXTP %N of %zu octets too large for a datagram "
			 "to peer '%s'", cxtp_message_type_names, type, len, peer->name);
		return NULL;
	}
	return sock;
}

/**
 * Get the socket and source address to reach a peer
 */
static sock_t *get_socket_source(private_cxtp_transport_t *this, peer_t *peer,
								 cxtp_message_type_t type, size_t len,
								 host_t **src);

/**
 * Derive len octets of prf+(secret, salt)
 */
static bool derive(chunk_t secret, chunk_t salt, size_t len, chunk_t *key)
{
	kdf_t *kdf;
	bool ok;

	kdf = lib->crypto->create_kdf(lib->crypto, KDF_PRF_PLUS,
								  PRF_HMAC_SHA2_256);
	if (!kdf)
	{
		DBG1(DBG_NET, "cxtp: prf+ with %N not supported, unable to derive "
			 "transport keys", pseudo_random_function_names,
			 PRF_HMAC_SHA2_256);
		return FALSE;
	}
	ok = kdf->set_param(kdf, KDF_PARAM_KEY, secret) &&
		 kdf->set_param(kdf, KDF_PARAM_SALT, salt) &&
		 kdf->allocate_bytes(kdf, len, key);
	kdf->destroy(kdf);
	return ok;
}

/**
 * Derive the AEAD for datagrams from sender to receiver in their epochs
 */
static aead_t *derive_aead(chunk_t secret, host_t *sender, uint64_t sender_epoch,
						   host_t *receiver, uint64_t receiver_epoch)
{
	aead_t *aead;
	chunk_t salt, key = chunk_empty;
	uint8_t epochs[16];
	bool ok;

	aead = lib->crypto->create_aead(lib->crypto, ENCR_AES_GCM_ICV16,
									AEAD_KEY_SIZE, AEAD_SALT_SIZE);
	if (!aead)
	{
		DBG1(DBG_NET, "cxtp: %N not supported, unable to protect CXTP "
			 "datagrams", encryption_algorithm_names, ENCR_AES_GCM_ICV16);
		return NULL;
	}
	htoun64(epochs, sender_epoch);
	htoun64(epochs + 8, receiver_epoch);
	salt = chunk_cata("cccc", chunk_from_str(CXTP_TRANSPORT_KEY_LABEL),
					  chunk_from_thing(epochs), sender->get_address(sender),
					  receiver->get_address(receiver));
	ok = derive(secret, salt, aead->get_key_size(aead), &key) &&
		 aead->set_key(aead, key);
	chunk_clear(&key);
	if (!ok)
	{
		DBG1(DBG_NET, "cxtp: deriving transport key for %H => %H failed",
			 sender, receiver);
		aead->destroy(aead);
		return NULL;
	}
	return aead;
}

/**
 * Get the AEAD of a direction, deriving it if our address or an epoch
 * changed
 */
static aead_t *get_aead(private_cxtp_transport_t *this, peer_t *peer,
						bool outbound, host_t *local)
{
	dir_key_t *key = outbound ? &peer->out : &peer->in;

	if (key->aead && key->local->ip_equals(key->local, local) &&
		key->local_epoch == this->epoch && key->peer_epoch == peer->epoch)
	{
		return key->aead;
	}
	dir_key_clear(key);
	if (outbound)
	{
		key->aead = derive_aead(peer->secret, local, this->epoch,
								peer->address, peer->epoch);
	}
	else
	{
		key->aead = derive_aead(peer->secret, peer->address, peer->epoch,
								local, this->epoch);
	}
	if (key->aead)
	{
		key->local = local->clone(local);
		key->local_epoch = this->epoch;
		key->peer_epoch = peer->epoch;
	}
	return key->aead;
}

/**
 * Compute or verify the ICV of a handshake message from sender to receiver
 */
static bool handshake_icv(chunk_t secret, host_t *sender, host_t *receiver,
						  chunk_t data, chunk_t icv, bool verify)
{
	signer_t *signer;
	chunk_t salt, key = chunk_empty;
	bool ok;

	signer = lib->crypto->create_signer(lib->crypto, AUTH_HMAC_SHA2_256_128);
	if (!signer)
	{
		DBG1(DBG_NET, "cxtp: %N not supported, unable to authenticate "
			 "CXTP handshakes", integrity_algorithm_names,
			 AUTH_HMAC_SHA2_256_128);
		return FALSE;
	}
	salt = chunk_cata("ccc", chunk_from_str(CXTP_TRANSPORT_HANDSHAKE_LABEL),
					  sender->get_address(sender),
					  receiver->get_address(receiver));
	ok = derive(secret, salt, HANDSHAKE_KEY_SIZE, &key) &&
		 signer->set_key(signer, key);
	chunk_clear(&key);
	if (ok)
	{
		ok = verify ? signer->verify_signature(signer, data, icv)
					: signer->get_signature(signer, data, icv.ptr);
	}
	signer->destroy(signer);
	return ok;
}

/**
 * Check if a sequence number passes the replay window
 */
static bool replay_check(peer_t *peer, uint64_t seq)
{
	uint64_t diff;

	if (!peer->replay_init || seq > peer->replay_top)
	{
		return TRUE;
	}
	diff = peer->replay_top - seq;
	if (diff >= CXTP_TRANSPORT_REPLAY_WINDOW)
	{
		return FALSE;
	}
	return !(peer->replay_bitmap & (1ULL << diff));
}

/**
 * Mark an authenticated sequence number as received
 */
static void replay_update(peer_t *peer, uint64_t seq)
{
	uint64_t diff;

	if (!peer->replay_init)
	{
		peer->replay_init = TRUE;
		peer->replay_top = seq;
		peer->replay_bitmap = 1;
	}
	else if (seq > peer->replay_top)
	{
		diff = seq - peer->replay_top;
		if (diff >= CXTP_TRANSPORT_REPLAY_WINDOW)
		{
			peer->replay_bitmap = 1;
		}
		else
		{
			peer->replay_bitmap = (peer->replay_bitmap << diff) | 1;
		}
		peer->replay_top = seq;
	}
	else
	{
		peer->replay_bitmap |= 1ULL << (peer->replay_top - seq);
	}
}

/**
 * Get the source address routing picks to reach a destination
 */
static host_t *get_source(host_t *dst)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	host_t *src = NULL;
	int fd;

	fd = socket(dst->get_family(dst), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
	{
		return NULL;
	}
	if (connect(fd, dst->get_sockaddr(dst), *dst->get_sockaddr_len(dst)) == 0 &&
		getsockname(fd, (struct sockaddr*)&addr, &len) == 0)
	{
		src = host_create_from_sockaddr((sockaddr_t*)&addr);
	}
	close(fd);
	return src;
}

/**
 * Send a datagram, from a specific source address on wildcard sockets
 */
static bool send_datagram(sock_t *sock, host_t *src, host_t *dst,
						  chunk_t data)
{
	struct msghdr msg = {
		.msg_name = dst->get_sockaddr(dst),
		.msg_namelen = *dst->get_sockaddr_len(dst),
	};
	struct iovec iov = {
		.iov_base = data.ptr,
		.iov_len = data.len,
	};
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} control;
	struct cmsghdr *cmsg;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;

	if (sock->wildcard)
	{
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		cmsg = &control.align;
		if (sock->family == AF_INET)
		{
			struct in_pktinfo *pktinfo;
			struct sockaddr_in *sin = (struct sockaddr_in*)src->get_sockaddr(src);

			msg.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
			cmsg->cmsg_level = IPPROTO_IP;
			cmsg->cmsg_type = IP_PKTINFO;
			cmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
			pktinfo = (struct in_pktinfo*)CMSG_DATA(cmsg);
			pktinfo->ipi_spec_dst = sin->sin_addr;
		}
		else
		{
			struct in6_pktinfo *pktinfo;
			struct sockaddr_in6 *sin = (struct sockaddr_in6*)src->get_sockaddr(src);

			msg.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
			cmsg->cmsg_level = IPPROTO_IPV6;
			cmsg->cmsg_type = IPV6_PKTINFO;
			cmsg->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			pktinfo = (struct in6_pktinfo*)CMSG_DATA(cmsg);
			pktinfo->ipi6_addr = sin->sin6_addr;
		}
	}
	if (sendmsg(sock->fd, &msg, 0) != data.len)
	{
		DBG1(DBG_NET, "cxtp: sending datagram from %H to %#H failed: %s",
			 src, dst, strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static sock_t *get_socket_source(private_cxtp_transport_t *this, peer_t *peer,
								 cxtp_message_type_t type, size_t len,
								 host_t **src)
{
	sock_t *sock;

	sock = get_socket(this, peer, type, len);
	if (!sock)
	{
		return NULL;
	}
	if (sock->wildcard)
	{
		*src = get_source(peer->address);
		if (!*src)
		{
			DBG1(DBG_NET, "cxtp: no source address to reach peer '%s' (%#H)",
				 peer->name, peer->address);
			return NULL;
		}
	}
	else
	{
		*src = sock->local->clone(sock->local);
	}
	return sock;
}

/**
 * Send a handshake message to a peer: our epoch, our challenge if we want
 * to learn the peer's epoch, and the answer to one of its challenges
 * (mutex held).  Subject to the rate limit.
 */
static void send_handshake(private_cxtp_transport_t *this, peer_t *peer,
						   uint64_t echo)
{
	uint8_t buf[CXTP_TRANSPORT_HANDSHAKE_LEN] = {
		CXTP_TRANSPORT_VERSION, CXTP_TRANSPORT_HANDSHAKE,
	};
	chunk_t data, icv;
	uint64_t now;
	sock_t *sock;
	host_t *src;

	now = now_ms();
	if (now - peer->rate_start >= 1000)
	{
		peer->rate_start = now;
		peer->rate_count = 0;
	}
	if (peer->rate_count >= HANDSHAKE_RATE)
	{
		DBG2(DBG_NET, "cxtp: not sending handshake to peer '%s', rate limit "
			 "reached", peer->name);
		return;
	}
	sock = get_socket_source(this, peer, CXTP_CTD, 0, &src);
	if (!sock)
	{
		return;
	}
	peer->rate_count++;
	htoun64(buf + 4, this->epoch);
	htoun64(buf + 12, peer->challenge);
	htoun64(buf + 20, echo);
	data = chunk_create(buf, CXTP_TRANSPORT_HANDSHAKE_LEN -
							 CXTP_TRANSPORT_ICV_LEN);
	icv = chunk_create(buf + data.len, CXTP_TRANSPORT_ICV_LEN);
	if (handshake_icv(peer->secret, src, peer->address, data, icv, FALSE))
	{
		DBG1(DBG_NET, "cxtp: sending CXTP handshake to peer '%s' (%#H)%s%s",
			 peer->name, peer->address,
			 peer->challenge ? ", asking for its epoch" : "",
			 echo ? ", answering its challenge" : "");
		send_datagram(sock, src, peer->address, chunk_from_thing(buf));
	}
	src->destroy(src);
}

/**
 * Ask a peer for its epoch, subject to the rate limit (mutex held)
 */
static void ask_epoch(private_cxtp_transport_t *this, peer_t *peer)
{
	if (!peer->challenge && !get_nonce(this, &peer->challenge))
	{
		DBG1(DBG_NET, "cxtp: no challenge for peer '%s'", peer->name);
		return;
	}
	send_handshake(this, peer, 0);
}

/**
 * Start a new epoch of ours, as no sequence number is left under the
 * current keys (mutex held)
 */
static void new_epoch(private_cxtp_transport_t *this)
{
	peer_t *peer;
	int i;

	if (!get_nonce(this, &this->epoch))
	{
		DBG1(DBG_NET, "cxtp: no new transport epoch, keeping the last one");
		return;
	}
	DBG1(DBG_NET, "cxtp: sequence numbers exhausted, starting transport "
		 "epoch %016"PRIx64, this->epoch);
	for (i = 0; i < array_count(this->peers); i++)
	{
		array_get(this->peers, i, &peer);
		peer->seq = 1;
		peer->replay_init = FALSE;
		send_handshake(this, peer, 0);
	}
}

/**
 * Encrypt an encoded message and send it to a peer whose epoch we know,
 * with the mutex held
 */
static bool seal(private_cxtp_transport_t *this, peer_t *peer,
				 uint8_t dtype, u_int count, cxtp_message_type_t type,
				 chunk_t plain, u_int retransmission, uint32_t id)
{
	sock_t *sock;
	host_t *src;
	aead_t *aead;
	chunk_t datagram, header, iv, data;
	uint64_t seq;
	bool ok = FALSE;

	sock = get_socket_source(this, peer, type, plain.len, &src);
	if (!sock)
	{
		return FALSE;
	}
	if (peer->seq > SEQ_MAX)
	{
		new_epoch(this);
	}
	aead = get_aead(this, peer, TRUE, src);
	if (!aead)
	{
		src->destroy(src);
		return FALSE;
	}

	datagram.len = CXTP_TRANSPORT_OVERHEAD + plain.len;
	datagram.ptr = malloc(datagram.len);
	header = chunk_create(datagram.ptr, CXTP_TRANSPORT_HEADER_LEN);
	/* the nonce is the salt and the sequence number, never twice per key */
	iv = chunk_create(header.ptr + CXTP_TRANSPORT_HEADER_LEN -
					  CXTP_TRANSPORT_IV_LEN, CXTP_TRANSPORT_IV_LEN);
	data = chunk_create(header.ptr + header.len, plain.len);

	seq = peer->seq++;
	memset(header.ptr, 0, header.len);
	header.ptr[0] = CXTP_TRANSPORT_VERSION;
	header.ptr[1] = dtype;
	htoun64(header.ptr + 4, this->epoch);
	htoun64(header.ptr + 12, peer->epoch);
	htoun64(header.ptr + 20, seq);
	memcpy(data.ptr, plain.ptr, plain.len);

	if (!aead->encrypt(aead, data, header, iv, NULL))
	{
		DBG1(DBG_NET, "cxtp: encrypting CXTP %N for peer '%s' failed",
			 cxtp_message_type_names, type, peer->name);
	}
	else
	{
		if (count > 1)
		{
			DBG1(DBG_NET, "cxtp: sending %u CXTP messages (%N first) to peer "
				 "'%s' (%#H) in one datagram", count, cxtp_message_type_names,
				 type, peer->name, peer->address);
		}
		else if (retransmission)
		{
			DBG1(DBG_NET, "cxtp: retransmit %u of CXTP %N (id %u) to peer "
				 "'%s' (%#H)", retransmission, cxtp_message_type_names, type,
				 id, peer->name, peer->address);
		}
		else
		{
			DBG1(DBG_NET, "cxtp: sending CXTP %N to peer '%s' (%#H)",
				 cxtp_message_type_names, type, peer->name, peer->address);
		}
		DBG2(DBG_NET, "cxtp: sending %zu octet datagram with sequence number "
			 "%"PRIu64" from %H to %#H", datagram.len, seq, src, peer->address);
		ok = send_datagram(sock, src, peer->address, datagram);
	}
	chunk_clear(&datagram);
	src->destroy(src);
	return ok;
}

/**
 * Encrypt an encoded message and send it alone to a peer whose epoch we
 * know, with the mutex held
 */
static bool seal_and_send(private_cxtp_transport_t *this, peer_t *peer,
						  cxtp_message_type_t type, chunk_t plain,
						  u_int retransmission, uint32_t id)
{
	return seal(this, peer, CXTP_TRANSPORT_DATA, 1, type, plain,
				retransmission, id);
}

/**
 * Send what a peer's cork held back, several messages per datagram where
 * they fit in CXTP_TRANSPORT_BATCH_MAX octets, one alone as ever (mutex
 * held)
 */
static void send_corked(private_cxtp_transport_t *this, peer_t *peer)
{
	queued_t *queued, *first;
	chunk_t batch;
	size_t len;
	u_int count;
	int i;

	while (array_count(peer->cork))
	{
		len = count = 0;
		for (i = 0; i < array_count(peer->cork); i++)
		{
			array_get(peer->cork, i, &queued);
			if (count && len + 2 + queued->encoding.len >
											CXTP_TRANSPORT_BATCH_MAX)
			{
				break;
			}
			len += 2 + queued->encoding.len;
			count++;
		}
		array_get(peer->cork, ARRAY_HEAD, &first);
		if (count == 1)
		{
			seal_and_send(this, peer, first->type, first->encoding, 0,
						  first->id);
		}
		else
		{
			batch = chunk_alloc(len);
			len = 0;
			for (i = 0; i < count; i++)
			{
				array_get(peer->cork, i, &queued);
				htoun16(batch.ptr + len, queued->encoding.len);
				memcpy(batch.ptr + len + 2, queued->encoding.ptr,
					   queued->encoding.len);
				len += 2 + queued->encoding.len;
			}
			seal(this, peer, CXTP_TRANSPORT_BATCH, count, first->type, batch,
				 0, first->id);
			chunk_clear(&batch);
		}
		while (count--)
		{
			array_remove(peer->cork, ARRAY_HEAD, &queued);
			queued_destroy(queued);
		}
	}
}

/**
 * Send a message to a peer, or queue it until the peer told us its epoch
 * (mutex held)
 */
static bool send_or_queue(private_cxtp_transport_t *this, peer_t *peer,
						  cxtp_message_type_t type, chunk_t plain,
						  u_int retransmission, uint32_t id, bool reliable)
{
	queued_t *queued;
	int i;

	if (peer->epoch && peer->corked && !retransmission &&
		plain.len <= UINT16_MAX)
	{	/* for a batch when uncorked */
		INIT(queued,
			.type = type,
			.encoding = chunk_clone(plain),
			.id = id,
			.reliable = reliable,
		);
		array_insert(peer->cork, ARRAY_TAIL, queued);
		return TRUE;
	}
	if (peer->epoch)
	{
		return seal_and_send(this, peer, type, plain, retransmission, id);
	}
	if (!get_socket(this, peer, type, plain.len))
	{
		return FALSE;
	}
	for (i = 0; reliable && i < array_count(peer->queue); i++)
	{	/* a retransmission replaces what is still queued of it */
		array_get(peer->queue, i, &queued);
		if (queued->reliable && queued->id == id)
		{
			array_remove(peer->queue, i, NULL);
			queued_destroy(queued);
			break;
		}
	}
	if (array_count(peer->queue) >= QUEUE_MAX)
	{
		array_remove(peer->queue, ARRAY_HEAD, &queued);
		DBG1(DBG_NET, "cxtp: dropping queued CXTP %N to peer '%s', too many "
			 "wait for its epoch", cxtp_message_type_names, queued->type,
			 peer->name);
		queued_destroy(queued);
	}
	INIT(queued,
		.type = type,
		.encoding = chunk_clone(plain),
		.retransmission = retransmission,
		.id = id,
		.reliable = reliable,
		/* a lost message is retransmitted after this time, not later */
		.expires = now_ms() +
					this->settings->get_retransmit_timeout(this->settings),
	);
	array_insert(peer->queue, ARRAY_TAIL, queued);
	DBG1(DBG_NET, "cxtp: CXTP %N to peer '%s' waits for the handshake",
		 cxtp_message_type_names, type, peer->name);
	ask_epoch(this, peer);
	return TRUE;
}

/**
 * Send the messages queued for a peer that learned its epoch (mutex held)
 */
static void send_queued(private_cxtp_transport_t *this, peer_t *peer)
{
	queued_t *queued;
	uint64_t now;

	now = now_ms();
	while (array_remove(peer->queue, ARRAY_HEAD, &queued))
	{
		if (queued->expires >= now)
		{
			seal_and_send(this, peer, queued->type, queued->encoding,
						  queued->retransmission, queued->id);
		}
		queued_destroy(queued);
	}
}

/**
 * Take an epoch of the peer it confirmed (mutex held)
 */
static void set_epoch(peer_t *peer, uint64_t epoch)
{
	if (peer->epoch == epoch)
	{
		return;
	}
	if (peer->epoch)
	{
		peer->previous = peer->epoch;
	}
	peer->epoch = epoch;
	DBG1(DBG_NET, "cxtp: peer '%s' (%#H) is in epoch %016"PRIx64,
		 peer->name, peer->address, epoch);
	if (peer->seq_epoch != epoch)
	{	/* new keys, new numbers */
		peer->seq_epoch = epoch;
		peer->seq = 1;
		peer->replay_init = FALSE;
	}
}

/**
 * Authenticate and decrypt a data datagram with the given AEAD
 */
static bool decrypt(peer_t *peer, aead_t *aead, chunk_t datagram, host_t *src,
					chunk_t *plain)
{
	chunk_t header, iv, data;

	header = chunk_create(datagram.ptr, CXTP_TRANSPORT_HEADER_LEN);
	iv = chunk_create(header.ptr + CXTP_TRANSPORT_HEADER_LEN -
					  CXTP_TRANSPORT_IV_LEN, CXTP_TRANSPORT_IV_LEN);
	data = chunk_skip(datagram, CXTP_TRANSPORT_HEADER_LEN);
	*plain = chunk_empty;
	if (!aead->decrypt(aead, data, header, iv, plain))
	{
		/* some implementations allocate it even if verification fails */
		chunk_clear(plain);
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H), "
			 "authentication failed", peer->name, src);
		return FALSE;
	}
	return TRUE;
}

/**
 * Decrypt a data datagram under the peer's current epoch and check its
 * sequence number (mutex held)
 */
static bool open_data(private_cxtp_transport_t *this, peer_t *peer,
					  chunk_t datagram, host_t *src, host_t *dst,
					  uint64_t seq, chunk_t *plain)
{
	aead_t *aead;

	if (!replay_check(peer, seq))
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H) with "
			 "replayed or too old sequence number %"PRIu64" (highest %"PRIu64
			 ")", peer->name, src, seq, peer->replay_top);
		return FALSE;
	}
	aead = get_aead(this, peer, FALSE, dst);
	if (!aead || !decrypt(peer, aead, datagram, src, plain))
	{
		return FALSE;
	}
	replay_update(peer, seq);
	DBG2(DBG_NET, "cxtp: received %zu octet datagram with sequence number "
		 "%"PRIu64" from %#H to %H", datagram.len, seq, src, dst);
	return TRUE;
}

/**
 * Process a data datagram, returns TRUE with the plain message if it is
 * to be delivered (mutex held)
 */
static bool process_data(private_cxtp_transport_t *this, peer_t *peer,
						 chunk_t datagram, host_t *src, host_t *dst,
						 chunk_t *plain)
{
	uint64_t sender_epoch, receiver_epoch, seq;
	aead_t *aead;
	bool ok;

	if (datagram.len <= CXTP_TRANSPORT_OVERHEAD)
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H), %zu "
			 "octets are too short", peer->name, src, datagram.len);
		return FALSE;
	}
	sender_epoch = untoh64(datagram.ptr + 4);
	receiver_epoch = untoh64(datagram.ptr + 12);
	seq = untoh64(datagram.ptr + 20);
	if (receiver_epoch != this->epoch)
	{	/* recorded before we started, or the peer missed our start */
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H) sent to "
			 "an old epoch of ours", peer->name, src);
		send_handshake(this, peer, 0);
		return FALSE;
	}
	if (sender_epoch && sender_epoch == peer->previous)
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H) sent in "
			 "its old epoch %016"PRIx64, peer->name, src, sender_epoch);
		return FALSE;
	}
	if (sender_epoch && sender_epoch == peer->epoch)
	{
		return open_data(this, peer, datagram, src, dst, seq, plain);
	}
	/* authentic or not, whether the epoch is the peer's current one or one
	 * recorded before it restarted, only its answer to a challenge tells */
	aead = derive_aead(peer->secret, peer->address, sender_epoch, dst,
					   this->epoch);
	ok = aead && decrypt(peer, aead, datagram, src, plain);
	DESTROY_IF(aead);
	if (!ok)
	{
		return FALSE;
	}
	DBG1(DBG_NET, "cxtp: holding datagram from peer '%s' (%#H) until it "
		 "confirms its epoch %016"PRIx64, peer->name, src, sender_epoch);
	chunk_clear(&peer->held);
	peer->held = *plain;
	peer->held_epoch = sender_epoch;
	peer->held_seq = seq;
	peer->held_batch = datagram.ptr[1] == CXTP_TRANSPORT_BATCH;
	*plain = chunk_empty;
	ask_epoch(this, peer);
	return FALSE;
}

/**
 * Process a handshake message, returns TRUE with the plain message of a
 * held datagram if that is to be delivered now (mutex held)
 */
static bool process_handshake(private_cxtp_transport_t *this, peer_t *peer,
							  chunk_t datagram, host_t *src, host_t *dst,
							  chunk_t *plain, bool *batch)
{
	uint64_t sender_epoch, challenge, echo;
	chunk_t data, icv;
	bool deliver = FALSE;

	if (datagram.len != CXTP_TRANSPORT_HANDSHAKE_LEN)
	{
		DBG1(DBG_NET, "cxtp: dropping handshake from peer '%s' (%#H), %zu "
			 "octets are invalid", peer->name, src, datagram.len);
		return FALSE;
	}
	data = chunk_create(datagram.ptr, datagram.len - CXTP_TRANSPORT_ICV_LEN);
	icv = chunk_skip(datagram, data.len);
	if (!handshake_icv(peer->secret, peer->address, dst, data, icv, TRUE))
	{
		DBG1(DBG_NET, "cxtp: dropping handshake from peer '%s' (%#H), "
			 "authentication failed", peer->name, src);
		return FALSE;
	}
	sender_epoch = untoh64(datagram.ptr + 4);
	challenge = untoh64(datagram.ptr + 12);
	echo = untoh64(datagram.ptr + 20);
	if (!sender_epoch)
	{
		DBG1(DBG_NET, "cxtp: dropping handshake from peer '%s' (%#H) "
			 "without epoch", peer->name, src);
		return FALSE;
	}
	if (echo)
	{
		if (echo != peer->challenge)
		{
			DBG1(DBG_NET, "cxtp: dropping handshake from peer '%s' (%#H) "
				 "answering no challenge of ours", peer->name, src);
			return FALSE;
		}
		/* fresh: the answer to what we asked just now */
		peer->challenge = 0;
		set_epoch(peer, sender_epoch);
		if (peer->held.len)
		{
			if (peer->held_epoch == peer->epoch &&
				replay_check(peer, peer->held_seq))
			{
				replay_update(peer, peer->held_seq);
				*plain = peer->held;
				*batch = peer->held_batch;
				peer->held = chunk_empty;
				deliver = TRUE;
			}
			else
			{
				DBG1(DBG_NET, "cxtp: dropping held datagram from peer '%s' "
					 "(%#H) sent in its old epoch %016"PRIx64, peer->name,
					 src, peer->held_epoch);
				chunk_clear(&peer->held);
			}
		}
	}
	else if (sender_epoch == peer->previous)
	{
		DBG1(DBG_NET, "cxtp: dropping handshake from peer '%s' (%#H) sent "
			 "in its old epoch %016"PRIx64, peer->name, src, sender_epoch);
		return deliver;
	}
	else if (sender_epoch != peer->epoch)
	{	/* a restart of the peer, or a replay, its answer tells */
		if (!peer->challenge && !get_nonce(this, &peer->challenge))
		{
			peer->challenge = 0;
		}
		if (!challenge)
		{
			send_handshake(this, peer, 0);
		}
	}
	if (challenge)
	{
		send_handshake(this, peer, challenge);
	}
	if (echo)
	{	/* after our answer, which the peer needs to take ours */
		send_queued(this, peer);
	}
	return deliver;
}

/**
 * Authenticate, decrypt and check a datagram, returns the plain message
 * to deliver, if any
 */
static bool open_datagram(private_cxtp_transport_t *this, chunk_t datagram,
						  host_t *src, host_t *dst, char **name,
						  chunk_t *plain, bool *batch)
{
	peer_t *peer;
	bool ok = FALSE;

	this->mutex->lock(this->mutex);
	if (this->destroyed)
	{
		this->mutex->unlock(this->mutex);
		return FALSE;
	}
	peer = find_peer_by_address(this, src);
	if (!peer)
	{
		DBG1(DBG_NET, "cxtp: dropping %zu octet datagram from %#H, not a "
			 "configured peer", datagram.len, src);
		goto out;
	}
	if (datagram.len < 4)
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H), %zu "
			 "octets are too short", peer->name, src, datagram.len);
		goto out;
	}
	if (datagram.ptr[0] != CXTP_TRANSPORT_VERSION)
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H) with "
			 "unsupported version %u", peer->name, src, datagram.ptr[0]);
		goto out;
	}
	switch (datagram.ptr[1])
	{
		case CXTP_TRANSPORT_DATA:
		case CXTP_TRANSPORT_BATCH:
			ok = process_data(this, peer, datagram, src, dst, plain);
			*batch = datagram.ptr[1] == CXTP_TRANSPORT_BATCH;
			break;
		case CXTP_TRANSPORT_HANDSHAKE:
			ok = process_handshake(this, peer, datagram, src, dst, plain,
								   batch);
			break;
		default:
			DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H) of "
				 "unknown type %u", peer->name, src, datagram.ptr[1]);
			break;
	}
	if (ok)
	{
		*name = strdup(peer->name);
	}

out:
	this->mutex->unlock(this->mutex);
	return ok;
}

/**
 * Get the destination address of a received datagram from its pktinfo
 */
static host_t *get_destination(sock_t *sock, struct msghdr *msg)
{
	struct cmsghdr *cmsg;

	if (!sock->wildcard)
	{
		return sock->local->clone(sock->local);
	}
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg))
	{
		if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO)
		{
			struct in_pktinfo *pktinfo = (struct in_pktinfo*)CMSG_DATA(cmsg);

			return host_create_from_chunk(AF_INET,
						chunk_from_thing(pktinfo->ipi_addr),
						sock->local->get_port(sock->local));
		}
		if (cmsg->cmsg_level == IPPROTO_IPV6 &&
			cmsg->cmsg_type == IPV6_PKTINFO)
		{
			struct in6_pktinfo *pktinfo = (struct in6_pktinfo*)CMSG_DATA(cmsg);

			return host_create_from_chunk(AF_INET6,
						chunk_from_thing(pktinfo->ipi6_addr),
						sock->local->get_port(sock->local));
		}
	}
	return NULL;
}

/**
 * Split the next message off the plaintext of a batch: FALSE at its end,
 * or with *invalid set if an entry's length runs past it
 */
static bool next_in_batch(chunk_t *batch, chunk_t *message, bool *invalid)
{
	size_t len;

	if (!batch->len)
	{
		return FALSE;
	}
	if (batch->len < 2 || (len = untoh16(batch->ptr)) == 0 ||
		batch->len < 2 + len)
	{
		*invalid = TRUE;
		return FALSE;
	}
	*message = chunk_create(batch->ptr + 2, len);
	*batch = chunk_skip(*batch, 2 + len);
	return TRUE;
}

/**
 * Parse a message of an authenticated datagram and hand it to the receive
 * callback
 */
static void deliver_message(private_cxtp_transport_t *this, char *name,
							host_t *src, chunk_t encoding)
{
	cxtp_message_t *message;

	message = cxtp_message_parse(encoding);
	if (!message)
	{
		DBG1(DBG_NET, "cxtp: dropping invalid CXTP message from peer '%s' "
			 "(%#H)", name, src);
		return;
	}
	DBG1(DBG_NET, "cxtp: received CXTP %N from peer '%s' (%#H)",
		 cxtp_message_type_names, message->get_type(message), name, src);
	if (this->cb)
	{
		this->cb(this->cb_data, name, src, message);
	}
	else
	{
		message->destroy(message);
	}
}

/**
 * Deliver the message, or each message of a batch, of an authenticated
 * datagram; a batch whose framing is invalid is dropped whole
 */
static void deliver(private_cxtp_transport_t *this, char *name, host_t *src,
					chunk_t plain, bool batch)
{
	chunk_t rest = plain, encoding;
	bool invalid = FALSE;

	if (!batch)
	{
		deliver_message(this, name, src, plain);
		return;
	}
	while (next_in_batch(&rest, &encoding, &invalid))
	{
		/* only check the framing here */
	}
	if (invalid || rest.len)
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H), its "
			 "messages' lengths do not add up", name, src);
		return;
	}
	rest = plain;
	while (next_in_batch(&rest, &encoding, &invalid))
	{
		deliver_message(this, name, src, encoding);
	}
}

/**
 * Watcher callback for a readable socket
 */
static bool receive_cb(sock_t *sock, int fd, watcher_event_t event)
{
	private_cxtp_transport_t *this = sock->this;
	struct sockaddr_storage from;
	struct iovec iov = {
		.iov_base = sock->buffer.ptr,
		.iov_len = sock->buffer.len,
	};
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				 CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	host_t *src, *dst;
	chunk_t plain = chunk_empty;
	char *name = NULL;
	ssize_t len;
	bool batch = FALSE;

	len = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (len < 0)
	{
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		{
			DBG1(DBG_NET, "cxtp: receiving from socket failed: %s",
				 strerror(errno));
		}
		return TRUE;
	}
	src = host_create_from_sockaddr((sockaddr_t*)&from);
	if (!src)
	{
		return TRUE;
	}
	dst = get_destination(sock, &msg);
	if (!dst)
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from %#H, destination address "
			 "unknown", src);
		src->destroy(src);
		return TRUE;
	}
	if (open_datagram(this, chunk_create(sock->buffer.ptr, len), src, dst,
					  &name, &plain, &batch))
	{
		deliver(this, name, src, plain, batch);
		chunk_clear(&plain);
		free(name);
	}
	dst->destroy(dst);
	src->destroy(src);
	return TRUE;
}

METHOD(cxtp_transport_t, send_, bool,
	private_cxtp_transport_t *this, char *name, cxtp_message_t *message)
{
	peer_t *peer;
	chunk_t encoding;
	bool ok = FALSE;

	encoding = message->encode(message);
	if (!encoding.len)
	{
		return FALSE;
	}
	this->mutex->lock(this->mutex);
	peer = find_peer_by_name(this, name);
	if (this->destroyed)
	{
		/* nothing to do */
	}
	else if (!peer)
	{
		DBG1(DBG_NET, "cxtp: unable to send CXTP %N, peer '%s' is not "
			 "configured", cxtp_message_type_names, message->get_type(message),
			 name);
	}
	else
	{
		ok = send_or_queue(this, peer, message->get_type(message), encoding,
						   0, 0, FALSE);
	}
	this->mutex->unlock(this->mutex);
	chunk_clear(&encoding);
	return ok;
}

/**
 * Drop what is queued of a reliable message to a peer
 */
static void unqueue(private_cxtp_transport_t *this, char *name, uint32_t id)
{
	queued_t *queued;
	peer_t *peer;
	int i, j;

	this->mutex->lock(this->mutex);
	for (i = 0; i < array_count(this->peers); i++)
	{
		array_get(this->peers, i, &peer);
		if (!streq(peer->name, name))
		{
			continue;
		}
		for (j = 0; j < array_count(peer->queue); j++)
		{
			array_get(peer->queue, j, &queued);
			if (queued->reliable && queued->id == id)
			{
				array_remove(peer->queue, j, NULL);
				queued_destroy(queued);
				break;
			}
		}
	}
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_retransmit_packet_t, pending_send, bool,
	pending_t *pending, u_int retransmission)
{
	private_cxtp_transport_t *this = pending->this;
	peer_t *peer;

	this->mutex->lock(this->mutex);
	peer = this->destroyed ? NULL : find_peer_by_name(this, pending->peer);
	if (peer)
	{
		send_or_queue(this, peer, pending->type, pending->encoding,
					  retransmission, pending->id, TRUE);
	}
	this->mutex->unlock(this->mutex);
	/* a failed first transmission is handled like a lost datagram */
	return TRUE;
}

METHOD(cxtp_retransmit_packet_t, pending_give_up, void,
	pending_t *pending, u_int retransmissions)
{
	private_cxtp_transport_t *this = pending->this;
	cxtp_transport_timeout_cb_t cb;
	void *data;

	this->mutex->lock(this->mutex);
	if (this->destroyed)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	DBG1(DBG_NET, "cxtp: giving up on CXTP %N (id %u) to peer '%s' after %u "
		 "retransmission%s", cxtp_message_type_names, pending->type,
		 pending->id, pending->peer, retransmissions,
		 retransmissions == 1 ? "" : "s");
	cb = this->timeout_cb;
	data = this->timeout_data;
	this->mutex->unlock(this->mutex);
	unqueue(this, pending->peer, pending->id);
	if (cb)
	{
		cb(data, pending->peer, pending->id);
	}
}

METHOD(cxtp_retransmit_packet_t, pending_destroy, void,
	pending_t *pending)
{
	chunk_clear(&pending->encoding);
	free(pending->peer);
	free(pending);
}

METHOD(cxtp_transport_t, send_reliable, bool,
	private_cxtp_transport_t *this, char *name, cxtp_message_t *message,
	uint32_t id)
{
	cxtp_retransmit_packet_t *replaced;
	cxtp_retransmit_backoff_t backoff = {
		/* as configured now, a reload may change it */
		.timeout = this->settings->get_retransmit_timeout(this->settings),
		.base = this->settings->get_retransmit_base(this->settings),
		.tries = this->settings->get_retransmit_tries(this->settings),
	};
	pending_t *pending;
	peer_t *peer;
	chunk_t encoding;

	encoding = message->encode(message);
	if (!encoding.len)
	{
		return FALSE;
	}
	this->mutex->lock(this->mutex);
	peer = find_peer_by_name(this, name);
	if (this->destroyed || !peer)
	{
		if (!this->destroyed)
		{
			DBG1(DBG_NET, "cxtp: unable to send CXTP %N, peer '%s' is not "
				 "configured", cxtp_message_type_names,
				 message->get_type(message), name);
		}
		this->mutex->unlock(this->mutex);
		chunk_clear(&encoding);
		return FALSE;
	}
	if (!get_socket(this, peer, message->get_type(message), encoding.len))
	{
		this->mutex->unlock(this->mutex);
		chunk_clear(&encoding);
		return FALSE;
	}
	INIT(pending,
		.packet = {
			.send = _pending_send,
			.give_up = _pending_give_up,
			.destroy = _pending_destroy,
		},
		.this = this,
		.id = id,
		.peer = strdup(peer->name),
		.type = message->get_type(message),
		.encoding = encoding,
	);
	/* the first transmission locks the mutex again */
	this->mutex->unlock(this->mutex);
	if (!this->retransmit->add(this->retransmit, id, &pending->packet,
							   &backoff, &replaced))
	{
		return FALSE;
	}
	if (replaced)
	{
		DBG2(DBG_NET, "cxtp: replacing pending CXTP %N with id %u",
			 cxtp_message_type_names, ((pending_t*)replaced)->type, id);
		replaced->destroy(replaced);
	}
	return TRUE;
}

METHOD(cxtp_transport_t, acknowledge, void,
	private_cxtp_transport_t *this, uint32_t id)
{
	cxtp_retransmit_packet_t *packet;
	pending_t *pending;
	u_int retransmitted;

	packet = this->retransmit->cancel(this->retransmit, id, &retransmitted);
	if (packet)
	{
		pending = (pending_t*)packet;
		unqueue(this, pending->peer, id);
		DBG2(DBG_NET, "cxtp: CXTP %N (id %u) to peer '%s' acknowledged after "
			 "%u retransmission%s", cxtp_message_type_names, pending->type, id,
			 pending->peer, retransmitted, retransmitted == 1 ? "" : "s");
		packet->destroy(packet);
	}
}

METHOD(cxtp_transport_t, cork, void,
	private_cxtp_transport_t *this, char *name)
{
	peer_t *peer;

	this->mutex->lock(this->mutex);
	peer = this->destroyed ? NULL : find_peer_by_name(this, name);
	if (peer)
	{
		peer->corked++;
	}
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_transport_t, uncork, void,
	private_cxtp_transport_t *this, char *name)
{
	peer_t *peer;

	this->mutex->lock(this->mutex);
	peer = this->destroyed ? NULL : find_peer_by_name(this, name);
	if (peer && peer->corked && !--peer->corked)
	{
		send_corked(this, peer);
	}
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_transport_t, set_timeout_cb, void,
	private_cxtp_transport_t *this, cxtp_transport_timeout_cb_t cb,
	void *data)
{
	this->mutex->lock(this->mutex);
	this->timeout_cb = cb;
	this->timeout_data = data;
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_transport_t, destroy, void,
	private_cxtp_transport_t *this)
{
	sock_t *sock;
	peer_t *peer;
	int i;

	this->mutex->lock(this->mutex);
	this->destroyed = TRUE;
	this->mutex->unlock(this->mutex);
	this->retransmit->flush(this->retransmit);

	/* blocks until a running receive callback returned; what it still
	 * passes to send_reliable() is not sent (the destroyed flag) and goes
	 * with the retransmit object */
	for (i = 0; i < array_count(this->sockets); i++)
	{
		array_get(this->sockets, i, &sock);
		lib->watcher->remove(lib->watcher, sock->fd);
	}
	/* waits for a running timeout callback, which may still send */
	this->retransmit->destroy(this->retransmit);

	while (array_remove(this->sockets, ARRAY_HEAD, &sock))
	{
		sock_destroy(sock);
	}
	array_destroy(this->sockets);
	while (array_remove(this->peers, ARRAY_HEAD, &peer))
	{
		peer_destroy(peer);
	}
	array_destroy(this->peers);
	DESTROY_IF(this->rng);
	this->mutex->destroy(this->mutex);
	memwipe(this, sizeof(*this));
	free(this);
}

/**
 * Open a socket bound to the given address
 */
static bool open_socket(private_cxtp_transport_t *this, host_t *local)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	sock_t *sock;
	int family, on = 1;

	family = local->get_family(local);
	INIT(sock,
		.this = this,
		.family = family,
		.wildcard = local->is_anyaddr(local),
		.fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP),
	);
	if (sock->fd < 0)
	{
		DBG1(DBG_NET, "cxtp: opening %s socket failed: %s",
			 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		sock_destroy(sock);
		return FALSE;
	}
	if (family == AF_INET6)
	{
		if (setsockopt(sock->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
					   sizeof(on)) < 0 ||
			setsockopt(sock->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
					   sizeof(on)) < 0)
		{
			DBG1(DBG_NET, "cxtp: setting IPv6 socket options failed: %s",
				 strerror(errno));
			sock_destroy(sock);
			return FALSE;
		}
	}
	else if (setsockopt(sock->fd, IPPROTO_IP, IP_PKTINFO, &on,
						sizeof(on)) < 0)
	{
		DBG1(DBG_NET, "cxtp: setting IPv4 socket options failed: %s",
			 strerror(errno));
		sock_destroy(sock);
		return FALSE;
	}
	if (bind(sock->fd, local->get_sockaddr(local),
			 *local->get_sockaddr_len(local)) < 0)
	{
		DBG1(DBG_NET, "cxtp: unable to bind socket to %#H: %s", local,
			 strerror(errno));
		sock_destroy(sock);
		return FALSE;
	}
	if (getsockname(sock->fd, (struct sockaddr*)&addr, &len) == 0)
	{
		sock->local = host_create_from_sockaddr((sockaddr_t*)&addr);
	}
	if (!sock->local)
	{
		sock->local = local->clone(local);
	}
	sock->buffer = chunk_alloc(RECV_BUFFER_SIZE);
	array_insert(this->sockets, ARRAY_TAIL, sock);
	DBG2(DBG_NET, "cxtp: listening on %#H", sock->local);
	return TRUE;
}

/**
 * Tell the configured peers that we started, so they take our epoch before
 * they send anything (and drop what was recorded before)
 */
static void announce(private_cxtp_transport_t *this)
{
	enumerator_t *enumerator;
	cxtp_peer_t *config;
	peer_t *peer;

	this->mutex->lock(this->mutex);
	enumerator = this->settings->create_peer_enumerator(this->settings);
	while (enumerator->enumerate(enumerator, &config))
	{
		peer = get_state(this, config->get_ref(config));
		ask_epoch(this, peer);
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
}

/**
 * Create the transport with the given local addresses
 */
static cxtp_transport_t *create(cxtp_settings_t *settings, host_t **locals,
								int count, cxtp_transport_receive_cb_t cb,
								void *data)
{
	private_cxtp_transport_t *this;
	sock_t *sock;
	int i;

	INIT(this,
		.public = {
			.send = _send_,
			.send_reliable = _send_reliable,
			.acknowledge = _acknowledge,
			.cork = _cork,
			.uncork = _uncork,
			.set_timeout_cb = _set_timeout_cb,
			.destroy = _destroy,
		},
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.sockets = array_create(0, 0),
		.peers = array_create(0, 0),
		.settings = settings,
		.retransmit = cxtp_retransmit_create(),
		.rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK),
		.cb = cb,
		.cb_data = data,
	);

	for (i = 0; i < count; i++)
	{
		if (!locals[i]->get_port(locals[i]))
		{
			locals[i]->set_port(locals[i], settings->get_port(settings));
		}
	}
	if (!this->rng)
	{
		DBG1(DBG_NET, "cxtp: no RNG available for the CXTP transport");
		destroy(this);
		return NULL;
	}
	if (!get_nonce(this, &this->epoch))
	{
		DBG1(DBG_NET, "cxtp: no epoch for the CXTP transport");
		destroy(this);
		return NULL;
	}
	for (i = 0; i < count; i++)
	{
		open_socket(this, locals[i]);
	}
	if (!array_count(this->sockets))
	{
		destroy(this);
		return NULL;
	}
	if (!settings->get_peer_count(settings))
	{
		/* as on a mobile node, which needs none */
		DBG2(DBG_NET, "cxtp: no CXTP peers configured, datagrams from other "
			 "access routers are dropped");
	}
	for (i = 0; i < array_count(this->sockets); i++)
	{
		array_get(this->sockets, i, &sock);
		lib->watcher->add(lib->watcher, sock->fd, WATCHER_READ,
						  (watcher_cb_t)receive_cb, sock);
	}
	DBG1(DBG_NET, "cxtp: transport epoch %016"PRIx64, this->epoch);
	announce(this);
	return &this->public;
}

/*
 * Described in header
 */
cxtp_transport_t *cxtp_transport_create(cxtp_settings_t *settings,
										cxtp_transport_receive_cb_t cb,
										void *data)
{
	cxtp_transport_t *this;
	host_t *locals[] = {
		host_create_any(AF_INET6),
		host_create_any(AF_INET),
	};

	this = create(settings, locals, countof(locals), cb, data);
	locals[0]->destroy(locals[0]);
	locals[1]->destroy(locals[1]);
	return this;
}

/**
 * The first waits of the retransmission schedule, in ms
 */
static uint32_t schedule_time(cxtp_settings_t *settings, u_int waits)
{
	double wait, total = 0;
	u_int i;

	wait = settings->get_retransmit_timeout(settings);
	for (i = 0; i < waits; i++)
	{
		total += wait;
		wait *= settings->get_retransmit_base(settings);
	}
	return total > UINT32_MAX ? UINT32_MAX : total;
}

/*
 * Described in header
 */
uint32_t cxtp_transport_last_send_time(cxtp_settings_t *settings)
{
	return schedule_time(settings, settings->get_retransmit_tries(settings));
}

/*
 * Described in header
 */
uint32_t cxtp_transport_give_up_time(cxtp_settings_t *settings)
{
	/* the first transmission and each retransmission wait for an answer */
	return schedule_time(settings, settings->get_retransmit_tries(settings) + 1);
}

/*
 * Described in header
 */
cxtp_transport_t *cxtp_transport_create_bound(cxtp_settings_t *settings,
											  host_t *local,
											  cxtp_transport_receive_cb_t cb,
											  void *data)
{
	cxtp_transport_t *this;
	host_t *locals[1];

	locals[0] = local->clone(local);
	this = create(settings, locals, countof(locals), cb, data);
	locals[0]->destroy(locals[0]);
	return this;
}
