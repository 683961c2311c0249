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
#include <sys/time.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <utils/debug.h>
#include <threading/mutex.h>
#include <collections/array.h>
#include <crypto/aead.h>
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
 * Bits the wall clock in ms is shifted by for the initial sequence number
 */
#define SEQ_TIME_SHIFT 16

typedef struct private_cxtp_transport_t private_cxtp_transport_t;

/**
 * A cached key of one direction with a peer
 */
typedef struct {

	/** our address the key was derived for, NULL if none derived yet */
	host_t *local;

	/** AEAD keyed for the direction */
	aead_t *aead;

} dir_key_t;

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
	 * RNG for IVs
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
 * Wipe and free a direction key
 */
static void dir_key_clear(dir_key_t *key)
{
	DESTROY_IF(key->aead);
	DESTROY_IF(key->local);
	key->aead = NULL;
	key->local = NULL;
}

/**
 * Destroy a peer's state, wiping the keys (the peer wipes the secret)
 */
static void peer_destroy(peer_t *peer)
{
	dir_key_clear(&peer->out);
	dir_key_clear(&peer->in);
	peer->config->destroy(peer->config);
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
 * Get the wall clock time in ms, shifted into an initial sequence number
 */
static uint64_t initial_sequence()
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000) << SEQ_TIME_SHIFT;
}

/**
 * The state of a configured peer, created or, if a reload changed the
 * peer, started afresh with new keys (mutex held)
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
	{	/* our sequence numbers keep rising, the peer's start again */
		DBG2(DBG_NET, "cxtp: peer '%s' was reconfigured", peer->name);
		dir_key_clear(&peer->out);
		dir_key_clear(&peer->in);
		peer->config->destroy(peer->config);
		peer->replay_init = FALSE;
	}
	else
	{
		INIT(peer,
			.seq = initial_sequence(),
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
 * Derive the AEAD for datagrams from sender to receiver
 */
static aead_t *derive_aead(chunk_t secret, host_t *sender, host_t *receiver)
{
	kdf_t *kdf;
	aead_t *aead;
	chunk_t salt, key = chunk_empty;
	bool ok;

	kdf = lib->crypto->create_kdf(lib->crypto, KDF_PRF_PLUS,
								  PRF_HMAC_SHA2_256);
	if (!kdf)
	{
		DBG1(DBG_NET, "cxtp: prf+ with %N not supported, unable to derive "
			 "transport keys", pseudo_random_function_names,
			 PRF_HMAC_SHA2_256);
		return NULL;
	}
	aead = lib->crypto->create_aead(lib->crypto, ENCR_AES_GCM_ICV16,
									AEAD_KEY_SIZE, AEAD_SALT_SIZE);
	if (!aead)
	{
		DBG1(DBG_NET, "cxtp: %N not supported, unable to protect CXTP "
			 "datagrams", encryption_algorithm_names, ENCR_AES_GCM_ICV16);
		kdf->destroy(kdf);
		return NULL;
	}
	salt = chunk_cata("ccc", chunk_from_str(CXTP_TRANSPORT_KEY_LABEL),
					  sender->get_address(sender),
					  receiver->get_address(receiver));
	ok = kdf->set_param(kdf, KDF_PARAM_KEY, secret) &&
		 kdf->set_param(kdf, KDF_PARAM_SALT, salt) &&
		 kdf->allocate_bytes(kdf, aead->get_key_size(aead), &key) &&
		 aead->set_key(aead, key);
	kdf->destroy(kdf);
	if (ok)
	{
		DBG4(DBG_NET, "cxtp: key and salt %H => %H %B", sender, receiver,
			 &key);
	}
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
 * Get the AEAD of a direction, deriving it if our address changed
 */
static aead_t *get_aead(peer_t *peer, bool outbound, host_t *local)
{
	dir_key_t *key = outbound ? &peer->out : &peer->in;

	if (key->aead && key->local->ip_equals(key->local, local))
	{
		return key->aead;
	}
	dir_key_clear(key);
	if (outbound)
	{
		key->aead = derive_aead(peer->secret, local, peer->address);
	}
	else
	{
		key->aead = derive_aead(peer->secret, peer->address, local);
	}
	if (key->aead)
	{
		key->local = local->clone(local);
	}
	return key->aead;
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

/**
 * Encrypt an encoded message and send it to a peer, with the mutex held
 */
static bool seal_and_send(private_cxtp_transport_t *this, peer_t *peer,
						  cxtp_message_type_t type, chunk_t plain,
						  u_int retransmission, uint32_t id)
{
	sock_t *sock;
	host_t *src;
	aead_t *aead;
	chunk_t datagram, header, iv, data;
	uint64_t seq;
	bool ok = FALSE;

	sock = get_socket(this, peer, type, plain.len);
	if (!sock)
	{
		return FALSE;
	}
	if (sock->wildcard)
	{
		src = get_source(peer->address);
		if (!src)
		{
			DBG1(DBG_NET, "cxtp: no source address to reach peer '%s' (%#H)",
				 peer->name, peer->address);
			return FALSE;
		}
	}
	else
	{
		src = sock->local->clone(sock->local);
	}
	aead = get_aead(peer, TRUE, src);
	if (!aead)
	{
		src->destroy(src);
		return FALSE;
	}

	datagram.len = CXTP_TRANSPORT_OVERHEAD + plain.len;
	datagram.ptr = malloc(datagram.len);
	header = chunk_create(datagram.ptr, CXTP_TRANSPORT_HEADER_LEN);
	iv = chunk_create(datagram.ptr + CXTP_TRANSPORT_HEADER_LEN,
					  CXTP_TRANSPORT_IV_LEN);
	data = chunk_create(iv.ptr + iv.len, plain.len);

	seq = peer->seq++;
	memset(header.ptr, 0, header.len);
	header.ptr[0] = CXTP_TRANSPORT_VERSION;
	htoun64(header.ptr + 4, seq);
	memcpy(data.ptr, plain.ptr, plain.len);

	if (!this->rng->get_bytes(this->rng, iv.len, iv.ptr) ||
		!aead->encrypt(aead, data, header, iv, NULL))
	{
		DBG1(DBG_NET, "cxtp: encrypting CXTP %N for peer '%s' failed",
			 cxtp_message_type_names, type, peer->name);
	}
	else
	{
		if (retransmission)
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
 * Authenticate, decrypt and check a datagram, returns the plain message
 */
static bool open_datagram(private_cxtp_transport_t *this, chunk_t datagram,
						  host_t *src, host_t *dst, char **name,
						  chunk_t *plain)
{
	peer_t *peer;
	aead_t *aead;
	chunk_t header, iv, data;
	uint64_t seq;
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
	if (datagram.len <= CXTP_TRANSPORT_OVERHEAD)
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
	header = chunk_create(datagram.ptr, CXTP_TRANSPORT_HEADER_LEN);
	iv = chunk_create(datagram.ptr + CXTP_TRANSPORT_HEADER_LEN,
					  CXTP_TRANSPORT_IV_LEN);
	data = chunk_skip(datagram, CXTP_TRANSPORT_HEADER_LEN +
								CXTP_TRANSPORT_IV_LEN);
	seq = untoh64(header.ptr + 4);
	if (!replay_check(peer, seq))
	{
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H) with "
			 "replayed or too old sequence number %"PRIu64" (highest %"PRIu64
			 ")", peer->name, src, seq, peer->replay_top);
		goto out;
	}
	aead = get_aead(peer, FALSE, dst);
	if (!aead)
	{
		goto out;
	}
	*plain = chunk_empty;
	if (!aead->decrypt(aead, data, header, iv, plain))
	{
		/* some implementations allocate it even if verification fails */
		chunk_clear(plain);
		DBG1(DBG_NET, "cxtp: dropping datagram from peer '%s' (%#H), "
			 "authentication failed", peer->name, src);
		goto out;
	}
	replay_update(peer, seq);
	DBG2(DBG_NET, "cxtp: received %zu octet datagram with sequence number "
		 "%"PRIu64" from %#H to %H", datagram.len, seq, src, dst);
	*name = strdup(peer->name);
	ok = TRUE;

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
	cxtp_message_t *message;
	host_t *src, *dst;
	chunk_t plain = chunk_empty;
	char *name = NULL;
	ssize_t len;

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
					  &name, &plain))
	{
		message = cxtp_message_parse(plain);
		chunk_clear(&plain);
		if (message)
		{
			DBG1(DBG_NET, "cxtp: received CXTP %N from peer '%s' (%#H)",
				 cxtp_message_type_names, message->get_type(message), name,
				 src);
			if (this->cb)
			{
				this->cb(this->cb_data, name, src, message);
			}
			else
			{
				message->destroy(message);
			}
		}
		else
		{
			DBG1(DBG_NET, "cxtp: dropping invalid CXTP message from peer '%s' "
				 "(%#H)", name, src);
		}
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
		ok = seal_and_send(this, peer, message->get_type(message), encoding,
						   0, 0);
	}
	this->mutex->unlock(this->mutex);
	chunk_clear(&encoding);
	return ok;
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
		seal_and_send(this, peer, pending->type, pending->encoding,
					  retransmission, pending->id);
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
		DBG2(DBG_NET, "cxtp: CXTP %N (id %u) to peer '%s' acknowledged after "
			 "%u retransmission%s", cxtp_message_type_names, pending->type, id,
			 pending->peer, retransmitted, retransmitted == 1 ? "" : "s");
		packet->destroy(packet);
	}
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
