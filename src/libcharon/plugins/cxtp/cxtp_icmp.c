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

/* for struct in6_pktinfo */
#define _GNU_SOURCE

#include "cxtp_icmp.h"
#include "cxtp_rate_limit.h"
#include "cxtp_retransmit.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>

#include <library.h>
#include <utils/debug.h>
#include <threading/mutex.h>

/**
 * Linux' filter of ICMPv4 types on raw sockets (linux/icmp.h), a bitmask of
 * the types 0..31 to block; higher types always pass
 */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

/**
 * Size of the receive buffers, the largest IPv4 packet or ICMPv6 message
 */
#define RECV_BUF_LEN 65536

/**
 * Largest CXTP message we send, so that IP header, ICMP header and message
 * fit into an IPv4 packet
 */
#define MAX_BODY_LEN (65535 - 20 - CXTP_ICMP_HEADER_LEN)

/**
 * Number of messages handled per watcher callback before others get a turn
 */
#define RECV_BATCH 32

typedef struct private_cxtp_icmp_t private_cxtp_icmp_t;

/**
 * Private data of a cxtp_icmp_t object.
 */
struct private_cxtp_icmp_t {

	/**
	 * Public interface
	 */
	cxtp_icmp_t public;

	/**
	 * Callback for received messages
	 */
	cxtp_icmp_receive_cb_t cb;

	/**
	 * Data for cb
	 */
	void *data;

	/**
	 * Callback for CTARs without acknowledgement
	 */
	cxtp_icmp_timeout_cb_t timeout_cb;

	/**
	 * Data for timeout_cb
	 */
	void *timeout_data;

	/**
	 * Raw ICMPv4 socket, -1 if not available
	 */
	int fd4;

	/**
	 * Raw ICMPv6 socket, -1 if not available
	 */
	int fd6;

	/**
	 * Receive buffer for fd4 (the watcher serializes callbacks per socket)
	 */
	u_char *buf4;

	/**
	 * Receive buffer for fd6
	 */
	u_char *buf6;

	/**
	 * Plugin settings: CT_REQUEST_RATE, CT_REQUEST_RETRY, CT_RETRY_MAX
	 */
	cxtp_settings_t *settings;

	/**
	 * CTARs being retransmitted, by sequence number
	 */
	cxtp_retransmit_t *retransmit;

	/**
	 * Protects everything below
	 */
	mutex_t *mutex;

	/**
	 * CT_REQUEST_RATE for received CTARs
	 */
	cxtp_rate_limit_t *rate_limit;
};

/**
 * A CTAR being retransmitted
 */
typedef struct {

	/**
	 * Implements cxtp_retransmit_packet_t
	 */
	cxtp_retransmit_packet_t packet;

	/**
	 * Transport sending it
	 */
	private_cxtp_icmp_t *this;

	/**
	 * Sequence number, its identifier
	 */
	uint32_t sequence;

	/**
	 * Source address, NULL to let the kernel choose
	 */
	host_t *src;

	/**
	 * Destination address
	 */
	host_t *dst;

	/**
	 * Encoded CTAR
	 */
	chunk_t encoding;

	/**
	 * CT_RETRY_MAX it was sent with, in ms
	 */
	uint64_t retry_max;

} pending_t;

/**
 * Add the source address to a message, as IP_PKTINFO/IPV6_PKTINFO
 */
static void set_source(struct msghdr *msg, char *buf, size_t len, host_t *src)
{
	struct cmsghdr *cmsg;

	memset(buf, 0, len);
	msg->msg_control = buf;
	cmsg = (struct cmsghdr*)buf;

	if (src->get_family(src) == AF_INET6)
	{
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6*)src->get_sockaddr(src);
		struct in6_pktinfo *pktinfo;

		msg->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
		cmsg->cmsg_level = SOL_IPV6;
		cmsg->cmsg_type = IPV6_PKTINFO;
		cmsg->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
		pktinfo = (struct in6_pktinfo*)CMSG_DATA(cmsg);
		pktinfo->ipi6_addr = sin6->sin6_addr;
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
		{	/* a link-local source names its link */
			pktinfo->ipi6_ifindex = sin6->sin6_scope_id;
		}
	}
	else
	{
		struct sockaddr_in *sin = (struct sockaddr_in*)src->get_sockaddr(src);
		struct in_pktinfo *pktinfo;

		msg->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
		cmsg->cmsg_level = SOL_IP;
		cmsg->cmsg_type = IP_PKTINFO;
		cmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		pktinfo = (struct in_pktinfo*)CMSG_DATA(cmsg);
		pktinfo->ipi_spec_dst = sin->sin_addr;
	}
}

/**
 * Send an encoded CXTP message in an ICMP message
 */
static bool send_encoding(private_cxtp_icmp_t *this, host_t *src, host_t *dst,
						  cxtp_message_type_t type, chunk_t encoding)
{
	u_char hdr[CXTP_ICMP_HEADER_LEN] = {
		0, CXTP_ICMP_CODE, 0, 0, CXTP_ICMP_SUBTYPE, 0, 0, 0
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} control;
	struct sockaddr_storage addr;
	struct iovec iov[2];
	struct msghdr msg = {
		.msg_name = &addr,
		.msg_namelen = *dst->get_sockaddr_len(dst),
		.msg_iov = iov,
		.msg_iovlen = countof(iov),
	};
	uint16_t checksum;
	ssize_t len;
	int family, fd;

	family = dst->get_family(dst);
	fd = family == AF_INET6 ? this->fd6 : this->fd4;
	if (fd == -1)
	{
		DBG1(DBG_NET, "cxtp: sending %N to %H failed, no ICMPv%d socket",
			 cxtp_message_type_names, type, dst, family == AF_INET6 ? 6 : 4);
		return FALSE;
	}
	if (src && !src->is_anyaddr(src) && src->get_family(src) != family)
	{
		DBG1(DBG_NET, "cxtp: sending %N from %H to %H failed, address "
			 "families differ", cxtp_message_type_names, type, src, dst);
		return FALSE;
	}
	if (encoding.len > MAX_BODY_LEN)
	{
		DBG1(DBG_NET, "cxtp: sending %N to %H failed, %zu octets exceed the "
			 "maximum of %d", cxtp_message_type_names, type, dst, encoding.len,
			 MAX_BODY_LEN);
		return FALSE;
	}

	memcpy(&addr, dst->get_sockaddr(dst), msg.msg_namelen);
	if (family == AF_INET6)
	{	/* a raw socket takes a "port" as protocol, which must be ours */
		((struct sockaddr_in6*)&addr)->sin6_port = 0;
		/* the kernel computes the ICMPv6 checksum */
		hdr[0] = CXTP_ICMPV6_TYPE;
	}
	else
	{
		((struct sockaddr_in*)&addr)->sin_port = 0;
		hdr[0] = CXTP_ICMPV4_TYPE;
		checksum = chunk_internet_checksum(chunk_from_thing(hdr));
		/* the header has an even length, no need to swap */
		checksum = chunk_internet_checksum_inc(encoding, checksum);
		memcpy(&hdr[2], &checksum, sizeof(checksum));
	}
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = encoding.ptr;
	iov[1].iov_len = encoding.len;

	if (src && !src->is_anyaddr(src))
	{
		set_source(&msg, control.buf, sizeof(control.buf), src);
	}

	len = sendmsg(fd, &msg, 0);
	if (len != sizeof(hdr) + encoding.len)
	{
		DBG1(DBG_NET, "cxtp: sending %N to %H failed: %s",
			 cxtp_message_type_names, type, dst,
			 len < 0 ? strerror(errno) : "truncated");
		return FALSE;
	}
	return TRUE;
}

/**
 * Check that a message may be sent over ICMP and encode it
 */
static bool encode(cxtp_message_t *message, host_t *dst, chunk_t *encoding)
{
	cxtp_message_type_t type = message->get_type(message);

	if (type != CXTP_CTAR && type != CXTP_CTAA)
	{
		DBG1(DBG_NET, "cxtp: not sending %N to %H, only CTAR and CTAA are "
			 "sent over ICMP", cxtp_message_type_names, type, dst);
		return FALSE;
	}
	*encoding = message->encode(message);
	if (!encoding->len)
	{
		DBG1(DBG_NET, "cxtp: encoding %N to %H failed",
			 cxtp_message_type_names, type, dst);
		return FALSE;
	}
	return TRUE;
}

METHOD(cxtp_icmp_t, send_, bool,
	private_cxtp_icmp_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message)
{
	cxtp_message_type_t type = message->get_type(message);
	chunk_t encoding;
	bool success;

	if (!encode(message, dst, &encoding))
	{
		return FALSE;
	}
	DBG2(DBG_NET, "cxtp: sending %N to %H", cxtp_message_type_names, type, dst);
	success = send_encoding(this, src, dst, type, encoding);
	chunk_clear(&encoding);
	return success;
}

METHOD(cxtp_retransmit_packet_t, pending_send, bool,
	pending_t *pending, u_int retransmission)
{
	if (retransmission)
	{
		DBG2(DBG_NET, "cxtp: retransmitting CTAR %u to %H (transmission %u)",
			 pending->sequence, pending->dst, retransmission + 1);
	}
	else
	{
		DBG2(DBG_NET, "cxtp: sending CTAR %u to %H", pending->sequence,
			 pending->dst);
	}
	return send_encoding(pending->this, pending->src, pending->dst,
						 CXTP_CTAR, pending->encoding);
}

METHOD(cxtp_retransmit_packet_t, pending_give_up, void,
	pending_t *pending, u_int retransmissions)
{
	private_cxtp_icmp_t *this = pending->this;
	cxtp_icmp_timeout_cb_t cb;
	void *data;

	this->mutex->lock(this->mutex);
	cb = this->timeout_cb;
	data = this->timeout_data;
	this->mutex->unlock(this->mutex);

	DBG1(DBG_NET, "cxtp: CTAR %u to %H not acknowledged after %u "
		 "transmissions in %"PRIu64" ms, giving up", pending->sequence,
		 pending->dst, retransmissions + 1, pending->retry_max);
	if (cb)
	{
		cb(data, pending->sequence, pending->dst);
	}
}

METHOD(cxtp_retransmit_packet_t, pending_destroy, void,
	pending_t *pending)
{
	DESTROY_IF(pending->src);
	pending->dst->destroy(pending->dst);
	chunk_clear(&pending->encoding);
	free(pending);
}

METHOD(cxtp_icmp_t, send_reliable, bool,
	private_cxtp_icmp_t *this, host_t *src, host_t *dst,
	cxtp_message_t *message, uint32_t sequence)
{
	cxtp_retransmit_packet_t *replaced;
	cxtp_retransmit_backoff_t backoff = {
		.timeout = this->settings->get_ctar_retry(this->settings),
		.base = 2.0,
		.tries = UINT_MAX,
		.limit = this->settings->get_ctar_retry_max(this->settings),
	};
	pending_t *pending;
	chunk_t encoding;

	if (!encode(message, dst, &encoding))
	{
		return FALSE;
	}
	if (message->get_type(message) != CXTP_CTAR)
	{
		DBG1(DBG_NET, "cxtp: not retransmitting %N to %H, only CTARs are",
			 cxtp_message_type_names, message->get_type(message), dst);
		chunk_clear(&encoding);
		return FALSE;
	}
	if (message->get_sequence(message) != sequence)
	{
		DBG1(DBG_NET, "cxtp: not retransmitting CTAR %u to %H, sequence "
			 "number differs", message->get_sequence(message), dst);
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
		.sequence = sequence,
		.src = (src && !src->is_anyaddr(src)) ? src->clone(src) : NULL,
		.dst = dst->clone(dst),
		.encoding = encoding,
		.retry_max = backoff.limit,
	);
	/* if the first transmission fails, a pending CTAR with the same sequence
	 * number is retransmitted as before */
	if (!this->retransmit->add(this->retransmit, sequence, &pending->packet,
							   &backoff, &replaced))
	{
		return FALSE;
	}
	if (replaced)
	{
		DBG2(DBG_NET, "cxtp: CTAR %u to %H replaces the one to %H",
			 sequence, dst, ((pending_t*)replaced)->dst);
		replaced->destroy(replaced);
	}
	return TRUE;
}

METHOD(cxtp_icmp_t, acknowledge, bool,
	private_cxtp_icmp_t *this, uint32_t sequence)
{
	cxtp_retransmit_packet_t *packet;
	u_int retransmitted;

	packet = this->retransmit->cancel(this->retransmit, sequence,
									  &retransmitted);
	if (!packet)
	{
		return FALSE;
	}
	DBG2(DBG_NET, "cxtp: CTAR %u to %H acknowledged after %u transmission%s",
		 sequence, ((pending_t*)packet)->dst, retransmitted + 1,
		 retransmitted ? "s" : "");
	packet->destroy(packet);
	return TRUE;
}

METHOD(cxtp_icmp_t, set_timeout_cb, void,
	private_cxtp_icmp_t *this, cxtp_icmp_timeout_cb_t cb, void *data)
{
	this->mutex->lock(this->mutex);
	this->timeout_cb = cb;
	this->timeout_data = data;
	this->mutex->unlock(this->mutex);
}

/**
 * Process a received Experimental Mobility ICMP message
 */
static void process(private_cxtp_icmp_t *this, host_t *src, host_t *dst,
					int hop_limit, chunk_t icmp)
{
	cxtp_message_t *message;
	cxtp_message_type_t type;
	chunk_t body;

	if (icmp.len < CXTP_ICMP_HEADER_LEN)
	{
		DBG1(DBG_NET, "cxtp: dropped ICMP message of %zu octets from %H, "
			 "shorter than its header", icmp.len, src);
		return;
	}
	if (hop_limit != CXTP_ICMP_HOP_LIMIT)
	{
		DBG1(DBG_NET, "cxtp: dropped ICMP message from %H to %H with hop "
			 "limit %d, it did not originate on the link", src, dst, hop_limit);
		return;
	}
	if (icmp.ptr[1] != CXTP_ICMP_CODE)
	{
		DBG1(DBG_NET, "cxtp: dropped ICMP message from %H with code %u",
			 src, icmp.ptr[1]);
		return;
	}
	if (icmp.ptr[4] != CXTP_ICMP_SUBTYPE)
	{
		DBG1(DBG_NET, "cxtp: dropped ICMP message from %H with Experimental "
			 "Mobility subtype %u, not CXTP", src, icmp.ptr[4]);
		return;
	}
	body = chunk_skip(icmp, CXTP_ICMP_HEADER_LEN);
	if (body.len)
	{	/* the type in the low bits of the first octet, as cxtp_message */
		type = body.ptr[0] & 0x1f;
		if (type != CXTP_CTAR && type != CXTP_CTAA)
		{
			DBG1(DBG_NET, "cxtp: dropped %N from %H, only CTAR and CTAA are "
				 "accepted over ICMP", cxtp_message_type_names, type, src);
			return;
		}
		if (type == CXTP_CTAR &&
			!this->rate_limit->check(this->rate_limit, src))
		{
			return;
		}
	}
	message = cxtp_message_parse(body);
	if (!message)
	{
		DBG1(DBG_NET, "cxtp: dropped invalid CXTP message from %H", src);
		return;
	}
	DBG2(DBG_NET, "cxtp: received %N from %H to %H", cxtp_message_type_names,
		 message->get_type(message), src, dst);
	this->cb(this->data, src, dst, message);
}

/**
 * Parse an IPv4 packet with ICMP message, received on fd4
 */
static void receive_v4(private_cxtp_icmp_t *this, struct sockaddr_in *from,
					   u_char *buf, size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
	};
	host_t *src, *dst;
	chunk_t icmp;
	size_t ihl;

	if (len < 20 || (buf[0] >> 4) != 4)
	{
		return;
	}
	ihl = (buf[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
	{
		return;
	}
	icmp = chunk_create(buf + ihl, len - ihl);
	if (!icmp.len || icmp.ptr[0] != CXTP_ICMPV4_TYPE)
	{	/* the ICMP filter passes all types above 31 */
		return;
	}
	memcpy(&to.sin_addr, buf + 16, sizeof(to.sin_addr));
	from->sin_port = 0;
	src = host_create_from_sockaddr((sockaddr_t*)from);
	dst = host_create_from_sockaddr((sockaddr_t*)&to);
	if (src && dst)
	{
		if (chunk_internet_checksum(icmp))
		{
			DBG1(DBG_NET, "cxtp: dropped ICMP message from %H with invalid "
				 "checksum", src);
		}
		else
		{
			process(this, src, dst, buf[8], icmp);
		}
	}
	DESTROY_IF(src);
	DESTROY_IF(dst);
}

/**
 * Parse an ICMPv6 message, received on fd6
 */
static void receive_v6(private_cxtp_icmp_t *this, struct sockaddr_in6 *from,
					   struct msghdr *msg, u_char *buf, size_t len)
{
	struct sockaddr_in6 to = {
		.sin6_family = AF_INET6,
	};
	struct cmsghdr *cmsg;
	struct in6_pktinfo *pktinfo;
	host_t *src, *dst = NULL;
	int hop_limit = -1;

	if (!len || buf[0] != CXTP_ICMPV6_TYPE)
	{	/* the ICMPv6 filter should not let anything else through */
		return;
	}
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg))
	{
		if (cmsg->cmsg_level != SOL_IPV6)
		{
			continue;
		}
		if (cmsg->cmsg_type == IPV6_HOPLIMIT &&
			cmsg->cmsg_len >= CMSG_LEN(sizeof(int)))
		{
			memcpy(&hop_limit, CMSG_DATA(cmsg), sizeof(hop_limit));
		}
		else if (cmsg->cmsg_type == IPV6_PKTINFO &&
				 cmsg->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo)))
		{
			pktinfo = (struct in6_pktinfo*)CMSG_DATA(cmsg);
			to.sin6_addr = pktinfo->ipi6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&to.sin6_addr) ||
				IN6_IS_ADDR_MC_LINKLOCAL(&to.sin6_addr))
			{
				to.sin6_scope_id = pktinfo->ipi6_ifindex;
			}
			DESTROY_IF(dst);
			dst = host_create_from_sockaddr((sockaddr_t*)&to);
		}
	}
	from->sin6_port = 0;
	src = host_create_from_sockaddr((sockaddr_t*)from);
	if (src && dst && hop_limit != -1)
	{
		process(this, src, dst, hop_limit, chunk_create(buf, len));
	}
	else if (src)
	{
		DBG1(DBG_NET, "cxtp: dropped ICMPv6 message from %H without hop limit "
			 "or destination address", src);
	}
	DESTROY_IF(src);
	DESTROY_IF(dst);
}

/**
 * Receive a message from a socket
 *
 * @return			FALSE if there was nothing to receive (or an error)
 */
static bool receive_one(private_cxtp_icmp_t *this, int fd)
{
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} from;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				 CMSG_SPACE(sizeof(int)) + 64];
	} control;
	u_char *buf = fd == this->fd6 ? this->buf6 : this->buf4;
	struct iovec iov = {
		.iov_base = buf,
		.iov_len = RECV_BUF_LEN,
	};
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t len;

	len = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (len < 0)
	{
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		{
			DBG1(DBG_NET, "cxtp: receiving ICMP message failed: %s",
				 strerror(errno));
		}
		return FALSE;
	}
	if (msg.msg_flags & MSG_TRUNC)
	{
		DBG1(DBG_NET, "cxtp: dropped ICMP message exceeding %d octets",
			 RECV_BUF_LEN);
		return TRUE;
	}
	if (fd == this->fd6)
	{
		if (from.v6.sin6_family == AF_INET6)
		{
			receive_v6(this, &from.v6, &msg, buf, len);
		}
	}
	else if (from.v4.sin_family == AF_INET)
	{
		receive_v4(this, &from.v4, buf, len);
	}
	return TRUE;
}

/**
 * Watcher callback for both sockets
 */
static bool receive_cb(private_cxtp_icmp_t *this, int fd,
					   watcher_event_t event)
{
	int i;

	for (i = 0; i < RECV_BATCH; i++)
	{
		if (!receive_one(this, fd))
		{
			break;
		}
	}
	return TRUE;
}

/**
 * Set a socket option, logging failures
 */
static bool set_opt(int fd, int level, int name, void *value, socklen_t len,
					char *what)
{
	if (setsockopt(fd, level, name, value, len) < 0)
	{
		DBG1(DBG_NET, "cxtp: setting %s on raw ICMP socket failed: %s",
			 what, strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/**
 * Open the raw ICMPv6 socket
 */
static int open_v6()
{
	struct icmp6_filter filter;
	int fd, on = 1, hops = CXTP_ICMP_HOP_LIMIT;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
				IPPROTO_ICMPV6);
	if (fd < 0)
	{
		DBG1(DBG_NET, "cxtp: opening raw ICMPv6 socket failed: %s",
			 strerror(errno));
		return -1;
	}
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ICMP6_FILTER_SETPASS(CXTP_ICMPV6_TYPE, &filter);
	if (!set_opt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter),
				 "ICMP6_FILTER") ||
		!set_opt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on),
				 "IPV6_RECVHOPLIMIT") ||
		!set_opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on),
				 "IPV6_RECVPKTINFO") ||
		!set_opt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops),
				 "IPV6_UNICAST_HOPS") ||
		!set_opt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops),
				 "IPV6_MULTICAST_HOPS"))
	{
		close(fd);
		return -1;
	}
	return fd;
}

/**
 * Open the raw ICMPv4 socket
 */
static int open_v4()
{
	uint32_t filter = ~0;
	int fd, ttl = CXTP_ICMP_HOP_LIMIT;

	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
				IPPROTO_ICMP);
	if (fd < 0)
	{
		DBG1(DBG_NET, "cxtp: opening raw ICMPv4 socket failed: %s",
			 strerror(errno));
		return -1;
	}
	/* block types 0..31 (echo, errors...), 41 passes as all above 31 do */
	if (!set_opt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter),
				 "ICMP_FILTER") ||
		!set_opt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl), "IP_TTL") ||
		!set_opt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl),
				 "IP_MULTICAST_TTL"))
	{
		close(fd);
		return -1;
	}
	return fd;
}

/**
 * Free the object and what it holds but sockets and pending CTARs
 */
static void free_object(private_cxtp_icmp_t *this)
{
	this->rate_limit->destroy(this->rate_limit);
	this->mutex->destroy(this->mutex);
	free(this->buf4);
	free(this->buf6);
	free(this);
}

METHOD(cxtp_icmp_t, destroy, void,
	private_cxtp_icmp_t *this)
{
	/* waits for running receive callbacks */
	if (this->fd6 != -1)
	{
		lib->watcher->remove(lib->watcher, this->fd6);
	}
	if (this->fd4 != -1)
	{
		lib->watcher->remove(lib->watcher, this->fd4);
	}

	/* waits for running timeout callbacks, which may still send */
	this->retransmit->destroy(this->retransmit);

	this->mutex->lock(this->mutex);
	if (this->fd6 != -1)
	{
		close(this->fd6);
		this->fd6 = -1;
	}
	if (this->fd4 != -1)
	{
		close(this->fd4);
		this->fd4 = -1;
	}
	this->mutex->unlock(this->mutex);

	free_object(this);
}

/*
 * Described in header
 */
cxtp_icmp_t *cxtp_icmp_create(cxtp_settings_t *settings,
							  cxtp_icmp_receive_cb_t cb, void *data)
{
	private_cxtp_icmp_t *this;

	INIT(this,
		.public = {
			.send = _send_,
			.send_reliable = _send_reliable,
			.acknowledge = _acknowledge,
			.set_timeout_cb = _set_timeout_cb,
			.destroy = _destroy,
		},
		.cb = cb,
		.data = data,
		.fd4 = open_v4(),
		.fd6 = open_v6(),
		.settings = settings,
		.retransmit = cxtp_retransmit_create(),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.rate_limit = cxtp_rate_limit_create(settings),
	);

	if (this->fd4 == -1 && this->fd6 == -1)
	{
		DBG1(DBG_NET, "cxtp: no raw ICMP socket available, CXTP between mobile "
			 "node and access router disabled");
		this->retransmit->destroy(this->retransmit);
		free_object(this);
		return NULL;
	}
	if (this->fd6 != -1)
	{
		this->buf6 = malloc(RECV_BUF_LEN);
		lib->watcher->add(lib->watcher, this->fd6, WATCHER_READ,
						  (watcher_cb_t)receive_cb, this);
	}
	if (this->fd4 != -1)
	{
		this->buf4 = malloc(RECV_BUF_LEN);
		lib->watcher->add(lib->watcher, this->fd4, WATCHER_READ,
						  (watcher_cb_t)receive_cb, this);
	}
	DBG2(DBG_NET, "cxtp: ICMP transport on%s%s, CTAR retry %u ms, "
		 "retry max %u ms, %u CTARs/s per source",
		 this->fd6 != -1 ? " ICMPv6" : "", this->fd4 != -1 ? " ICMPv4" : "",
		 settings->get_ctar_retry(settings),
		 settings->get_ctar_retry_max(settings),
		 settings->get_ctar_rate(settings));
	return &this->public;
}
