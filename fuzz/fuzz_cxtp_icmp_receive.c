/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Fuzzes the receive processing of cxtp_icmp, from the datagram a raw socket
 * returns to the message handed to the dispatcher, without a socket: the
 * object's file is included to reach its static receive functions.
 *
 * Input: one octet selecting the path, then
 *  - bit 0 clear: an IPv4 packet (source address taken from its header, as
 *    the socket reports it), with a valid ICMP checksum put in if bit 1 is
 *    set, so the fuzzer gets past the checksum;
 *  - bit 0 set: the hop limit octet, the 16 octet source address, then the
 *    ICMPv6 message, delivered with pktinfo and hop limit ancillary data.
 */

/* cxtp_icmp.c needs it for in6_pktinfo, before any system header */
#define _GNU_SOURCE
#include "fuzz.h"

#include <cxtp_icmp.c>

#define IPV4_HEADER_MIN 20

/**
 * Receives the messages cxtp_icmp accepts, as the dispatcher does
 */
static void receive(void *data, host_t *src, host_t *dst,
					cxtp_message_t *message)
{
	chunk_t encoding;

	fuzz_assert(src && dst);
	encoding = message->encode(message);
	chunk_free(&encoding);
	message->destroy(message);
}

/**
 * Deliver an IPv4 packet as fd4 returns it
 */
static void deliver_v4(private_cxtp_icmp_t *this, bool fix_checksum,
					   const uint8_t *buf, size_t len)
{
	struct sockaddr_in from = {
		.sin_family = AF_INET,
	};
	u_char *packet;
	uint16_t checksum;
	size_t ihl;

	if (len < IPV4_HEADER_MIN)
	{
		return;
	}
	packet = malloc(len);
	memcpy(packet, buf, len);
	memcpy(&from.sin_addr, packet + 12, sizeof(from.sin_addr));
	ihl = (packet[0] & 0x0f) * 4;
	if (fix_checksum && ihl >= IPV4_HEADER_MIN && ihl + 4 <= len)
	{
		memset(packet + ihl + 2, 0, sizeof(checksum));
		checksum = chunk_internet_checksum(chunk_create(packet + ihl,
														len - ihl));
		memcpy(packet + ihl + 2, &checksum, sizeof(checksum));
	}
	receive_v4(this, &from, packet, len);
	free(packet);
}

/**
 * Deliver an ICMPv6 message as fd6 returns it, with its ancillary data
 */
static void deliver_v6(private_cxtp_icmp_t *this, const uint8_t *buf,
					   size_t len)
{
	struct sockaddr_in6 from = {
		.sin6_family = AF_INET6,
	};
	struct in6_pktinfo pktinfo = {
		.ipi6_ifindex = 1,
	};
	char control[CMSG_SPACE(sizeof(int)) +
				 CMSG_SPACE(sizeof(struct in6_pktinfo))] = {};
	struct msghdr msg = {
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	int hop_limit;
	u_char *icmp;

	if (len < 1 + sizeof(from.sin6_addr))
	{
		return;
	}
	hop_limit = buf[0];
	memcpy(&from.sin6_addr, buf + 1, sizeof(from.sin6_addr));
	inet_pton(AF_INET6, "2001:db8:1::1", &pktinfo.ipi6_addr);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_IPV6;
	cmsg->cmsg_type = IPV6_HOPLIMIT;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &hop_limit, sizeof(hop_limit));
	cmsg = CMSG_NXTHDR(&msg, cmsg);
	cmsg->cmsg_level = SOL_IPV6;
	cmsg->cmsg_type = IPV6_PKTINFO;
	cmsg->cmsg_len = CMSG_LEN(sizeof(pktinfo));
	memcpy(CMSG_DATA(cmsg), &pktinfo, sizeof(pktinfo));

	len -= 1 + sizeof(from.sin6_addr);
	icmp = malloc(len + 1);
	memcpy(icmp, buf + 1 + sizeof(from.sin6_addr), len);
	receive_v6(this, &from, &msg, icmp, len);
	free(icmp);
}

static private_cxtp_icmp_t *icmp;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cxtp_settings_t *settings;

	if (fuzz_init("fuzz_cxtp_icmp_receive"))
	{
		return 1;
	}
	settings = cxtp_settings_create();
	INIT(icmp,
		.cb = receive,
		.fd4 = -1,
		.fd6 = -1,
		.settings = settings,
		.rate_limit = cxtp_rate_limit_create(settings),
	);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	if (!len)
	{
		return 0;
	}
	if (buf[0] & 0x01)
	{
		deliver_v6(icmp, buf + 1, len - 1);
	}
	else
	{
		deliver_v4(icmp, buf[0] & 0x02, buf + 1, len - 1);
	}
	return 0;
}
