/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Fuzzes the AR-to-AR transport's receive path, from the datagram a socket
 * returns to the CXTP message parsed from its plaintext, without a socket:
 * the object's file is included to reach its static functions. One peer is
 * configured with a fixed test secret, in fixed epochs of ours and its.
 *
 * Input: one octet selecting the path, then
 *  - 0: an 8 octet sequence number and a plaintext, which the target seals
 *    as the peer does, so the fuzzer reaches the parser behind the AEAD;
 *  - 1: a datagram as received, header and all (what an attacker without
 *    the secret sends);
 *  - 2: the 28 octets of a handshake, which the target authenticates as the
 *    peer does;
 *  - 3: as 0, sealed as a batch datagram (several messages, each after its
 *    2 octet length), which the target splits.
 */

/* cxtp_transport.c needs it for in6_pktinfo, before any system header */
#define _GNU_SOURCE
#include "fuzz.h"

#include <cxtp_transport.c>

#define PEER_ADDRESS "192.0.2.2"
#define OUR_ADDRESS "192.0.2.1"
#define OUR_EPOCH 0x1111111111111111
#define PEER_EPOCH 0x2222222222222222

static private_cxtp_transport_t *transport;
static host_t *src, *dst;
static aead_t *sealer;
static peer_t *peer;

/**
 * Forget what the previous input did to the peer's state, so that every
 * input finds the same
 */
static void reset_peer()
{
	peer->epoch = PEER_EPOCH;
	peer->previous = 0;
	peer->challenge = 0;
	peer->rate_count = 0;
	peer->replay_init = FALSE;
	peer->replay_top = 0;
	peer->replay_bitmap = 0;
	chunk_clear(&peer->held);
}

/**
 * Receive a datagram as receive_cb() does
 */
static void receive(chunk_t datagram)
{
	chunk_t plain = chunk_empty;
	char *name = NULL;
	bool batch = FALSE;

	reset_peer();
	if (open_datagram(transport, datagram, src, dst, &name, &plain, &batch))
	{	/* without a receive callback, each message parsed is destroyed */
		deliver(transport, name, src, plain, batch);
		chunk_clear(&plain);
		free(name);
	}
}

/**
 * Seal a plaintext as the peer does, and receive it
 */
static void receive_sealed(const uint8_t *buf, size_t len, uint8_t type)
{
	chunk_t datagram, header, iv, data;

	if (len < sizeof(uint64_t))
	{
		return;
	}
	datagram = chunk_alloc(CXTP_TRANSPORT_OVERHEAD + len - sizeof(uint64_t));
	header = chunk_create(datagram.ptr, CXTP_TRANSPORT_HEADER_LEN);
	iv = chunk_create(header.ptr + CXTP_TRANSPORT_HEADER_LEN -
					  CXTP_TRANSPORT_IV_LEN, CXTP_TRANSPORT_IV_LEN);
	data = chunk_create(header.ptr + header.len, len - sizeof(uint64_t));
	memset(header.ptr, 0, header.len);
	header.ptr[0] = CXTP_TRANSPORT_VERSION;
	header.ptr[1] = type;
	htoun64(header.ptr + 4, PEER_EPOCH);
	htoun64(header.ptr + 12, OUR_EPOCH);
	memcpy(header.ptr + 20, buf, sizeof(uint64_t));
	memcpy(data.ptr, buf + sizeof(uint64_t), data.len);
	fuzz_assert(sealer->encrypt(sealer, data, header, iv, NULL));
	receive(datagram);
	chunk_free(&datagram);
}

/**
 * Authenticate a handshake as the peer does, and receive it
 */
static void receive_handshake(const uint8_t *buf, size_t len)
{
	uint8_t datagram[CXTP_TRANSPORT_HANDSHAKE_LEN] = {};
	chunk_t data, icv;

	data = chunk_create(datagram, sizeof(datagram) - CXTP_TRANSPORT_ICV_LEN);
	icv = chunk_skip(chunk_from_thing(datagram), data.len);
	memcpy(datagram, buf, min(len, data.len));
	fuzz_assert(handshake_icv(peer->secret, src, dst, data, icv, FALSE));
	receive(chunk_from_thing(datagram));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (fuzz_init("fuzz_cxtp_transport_receive"))
	{
		return 1;
	}
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.par.address",
						   PEER_ADDRESS, lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.par.secret",
						   "fuzz-test-secret-not-for-any-use-at-all", lib->ns);
	src = host_create_from_string(PEER_ADDRESS, 4500);
	dst = host_create_from_string(OUR_ADDRESS, 4500);
	INIT(transport,
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
		.epoch = OUR_EPOCH,
		.sockets = array_create(0, 0),
		.settings = cxtp_settings_create(),
		.peers = array_create(0, 0),
		.rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK),
	);
	peer = find_peer_by_address(transport, src);
	fuzz_assert(peer && transport->rng);
	sealer = derive_aead(peer->secret, src, PEER_EPOCH, dst, OUR_EPOCH);
	fuzz_assert(sealer);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	if (!len)
	{
		return 0;
	}
	switch (buf[0])
	{
		case 0:
			receive_sealed(buf + 1, len - 1, CXTP_TRANSPORT_DATA);
			break;
		case 1:
			receive(chunk_create((u_char*)buf + 1, len - 1));
			break;
		case 2:
			receive_handshake(buf + 1, len - 1);
			break;
		case 3:
			receive_sealed(buf + 1, len - 1, CXTP_TRANSPORT_BATCH);
			break;
	}
	return 0;
}
