/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Writes the seed corpus of every target (fuzz/corpus/<target>/<name>) from
 * real encodings, made by the plugins' own encoders: 'make fuzz-seeds'.
 * Built like a target, but without libFuzzer's main().
 */

#define _GNU_SOURCE
#include "fuzz.h"

#include <errno.h>
#include <sys/stat.h>
#include <daemon.h>
#include <encoding/generator.h>
#include <cxtp_encode.h>
#include <cxtp_icmp.h>
#include <cxtp_message.h>
#include <cxtp_transport.h>
#include <mobike_spi_notify.h>

static char *top;

/**
 * Write one seed, taking ownership of data
 */
static void seed(char *target, char *name, chunk_t data)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", top, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	if (!data.len || !chunk_write(data, path, 0022, TRUE))
	{
		fprintf(stderr, "seeds: writing %s failed\n", path);
		exit(1);
	}
	chunk_free(&data);
}

/**
 * Input of fuzz_cxtp_transport_receive for a message the peer seals
 */
static chunk_t sealed_input(chunk_t encoding)
{
	return chunk_cat("cc", chunk_from_chars(0x00, 0,0,0,0,0,0,0,1), encoding);
}

static host_t *address(int family, int which)
{
	char *v4[] = { "192.0.2.1", "198.51.100.2" };
	char *v6[] = { "2001:db8::1", "2001:db8:1::2" };

	return host_create_from_string(family == AF_INET ? v4[which] : v6[which],
								   0);
}

/**
 * A context as pAR exports it; v6 for IPv6 gateway and peer
 */
static cxtp_context_t *build_context(bool v6)
{
	cxtp_context_t *ctx = cxtp_context_create();
	cxtp_ike_context_t *ike = &ctx->ike;
	cxtp_child_context_t *child;

	ike->spi_i = 0x0102030405060708;
	ike->spi_r = 0x1112131415161718;
	ike->encr_alg = ENCR_AES_CBC;
	ike->encr_size = 128;
	ike->integ_alg = AUTH_HMAC_SHA2_256_128;
	ike->prf_alg = PRF_HMAC_SHA2_256;
	ike->ke_method = CURVE_25519;
	ike->keys.sk_d = chunk_clone(chunk_from_chars(0x01,0x02,0x03,0x04));
	ike->keys.sk_ai = chunk_clone(chunk_from_chars(0x11,0x12));
	ike->keys.sk_ar = chunk_clone(chunk_from_chars(0x21,0x22));
	ike->keys.sk_ei = chunk_clone(chunk_from_chars(0x31,0x32,0x33));
	ike->keys.sk_er = chunk_clone(chunk_from_chars(0x41,0x42,0x43));
	ike->keys.sk_pi = chunk_clone(chunk_from_chars(0x51));
	ike->keys.sk_pr = chunk_clone(chunk_from_chars(0x61));
	ike->mid_initiate = 3;
	ike->mid_respond = 7;
	ike->rekey_time = 13000;
	ike->delete_time = 14000;
	ike->local = host_create_from_string(v6 ? "fd00:1::1" : "192.168.0.1",
										 4500);
	ike->remote = host_create_from_string(v6 ? "fd00:1::10" : "192.168.0.100",
										  4500);
	ike->local_id = identification_create_from_string("moon.strongswan.org");
	ike->remote_id = identification_create_from_string(
									v6 ? "carol@strongswan.org" : "C=CH, CN=carol");
	ike->remote_eap_id = identification_create_from_string("carol");
	ike->conditions = 0x12;
	ike->extensions = 0x4003;
	ike->remote_vips->insert_last(ike->remote_vips,
								  host_create_from_string("10.3.0.1", 0));
	if (v6)
	{
		ike->remote_vips->insert_last(ike->remote_vips,
									  host_create_from_string("fd00:3::1", 0));
	}
	ike->pool = strdup("rw_pool");
	ike->peer_cfg = strdup("rw");
	ike->transfers = 2;

	child = cxtp_child_context_create();
	child->child_cfg = strdup("net");
	child->protocol = PROTO_ESP;
	child->mode = MODE_TUNNEL;
	child->encap = v6;
	child->spi_in = htonl(0xc1000001);
	child->spi_out = htonl(0xc2000002);
	child->encr_alg = v6 ? ENCR_AES_GCM_ICV16 : ENCR_AES_CBC;
	child->encr_size = 128;
	child->integ_alg = v6 ? 0 : AUTH_HMAC_SHA2_256_128;
	child->esn = v6;
	child->keys.encr_i = chunk_clone(chunk_from_chars(0x71,0x72,0x73,0x74));
	child->keys.encr_r = chunk_clone(chunk_from_chars(0x81,0x82,0x83,0x84));
	if (!v6)
	{
		child->keys.integ_i = chunk_clone(chunk_from_chars(0x91,0x92));
		child->keys.integ_r = chunk_clone(chunk_from_chars(0xa1,0xa2));
	}
	child->local_ts->insert_last(child->local_ts,
				traffic_selector_create_from_cidr("10.100.0.0/24", 0, 0, 65535));
	child->remote_ts->insert_last(child->remote_ts,
				traffic_selector_create_from_cidr("10.3.0.1/32", 17, 7000, 7000));
	if (v6)
	{
		child->remote_ts->insert_last(child->remote_ts,
				traffic_selector_create_from_cidr("fd00:3::/64", 0, 0, 65535));
	}
	child->seq_out = 0x100000005;
	child->seq_in = 77;
	child->replay_window = 128;
	child->replay_bitmap = chunk_clone(chunk_from_chars(0xff,0x7f,0,0,0,0,0,0,
													   0,0,0,0,0,0,0,1));
	child->rekey_time = 3000;
	child->expire_time = 3600;
	ctx->children->insert_last(ctx->children, child);

	ctx->pad.id = identification_create_from_string("carol@strongswan.org");
	if (v6)
	{
		ctx->pad.auth_class = AUTH_CLASS_EAP;
		ctx->pad.eap_type = EAP_MD5;
		ctx->pad.secret_type = SHARED_EAP;
		ctx->pad.secret = chunk_clone(chunk_from_str("Ar3etTnp"));
	}
	else
	{
		ctx->pad.auth_class = AUTH_CLASS_PUBKEY;
		ctx->pad.cert_subject = identification_create_from_string(
														"C=CH, CN=carol");
	}
	return ctx;
}

static void context_seeds()
{
	cxtp_context_t *ctx;
	cxtp_child_context_t *child;
	cxtp_message_t *message;
	host_t *mn;
	chunk_t ike, pad, enc, big;
	int v6;

	for (v6 = 0; v6 <= 1; v6++)
	{
		ctx = build_context(v6);
		ctx->children->get_first(ctx->children, (void**)&child);
		ike = cxtp_encode_ike(&ctx->ike);
		pad = cxtp_encode_pad(&ctx->pad);
		enc = cxtp_encode_child(child);
		seed("cxtp_decode_ike", v6 ? "ike-v6" : "ike-v4", chunk_clone(ike));
		seed("cxtp_decode_child", v6 ? "child-gcm-v6" : "child-cbc-v4",
			 chunk_clone(enc));
		seed("cxtp_decode_pad", v6 ? "pad-eap" : "pad-pubkey",
			 chunk_clone(pad));

		/* a CTD as pAR pushes it, a PCTD with the token key */
		mn = address(v6 ? AF_INET6 : AF_INET, 0);
		message = cxtp_message_create(v6 ? CXTP_PCTD : CXTP_CTD, mn);
		message->set_ack(message, TRUE);
		message->set_elapsed(message, 300);
		message->set_key(message, chunk_from_chars(0x11,0x22,0x33,0x44,0x55,
									0x66,0x77,0x88,0x99,0xaa,0xbb,0xcc,0xdd,0xee,
									0xff,0x00,0x01,0x02,0x03,0x04));
		message->set_transfer_id(message, &(cxtp_transfer_id_t){
			.spi_i = 0x0102030405060708, .spi_r = 0x1112131415161718,
			.serial = 7,
		});
		message->add_cdb_presence(message, CXTP_FPT_IKE_SA, 0x80000001, ike);
		message->add_cdb(message, CXTP_FPT_CHILD_SA, enc);
		message->add_cdb(message, CXTP_FPT_PAD, pad);
		chunk_free(&ike);
		chunk_free(&enc);
		chunk_free(&pad);
		enc = message->encode(message);
		seed("cxtp_transport_receive", v6 ? "sealed-pctd-v6" : "sealed-ctd-v4",
			 sealed_input(enc));
		seed("cxtp_message_parse", v6 ? "pctd-v6" : "ctd-v4", enc);
		if (v6)
		{	/* the same PCTD for a gateway takeover */
			message->set_takeover(message, TRUE);
			enc = message->encode(message);
			seed("cxtp_transport_receive", "sealed-pctd-takeover-v6",
				 sealed_input(enc));
			seed("cxtp_message_parse", "pctd-takeover-v6", enc);
		}
		if (!v6)
		{	/* data beyond one wire CDB, sent as continued CDBs */
			big = chunk_alloc(3000);
			memset(big.ptr, 0x5a, big.len);
			message->add_cdb(message, CXTP_FPT_CHILD_SA, big);
			chunk_free(&big);
			seed("cxtp_message_parse", "ctd-continued-v4",
				 message->encode(message));
		}
		message->destroy(message);
		mn->destroy(mn);
		ctx->destroy(ctx);
	}
}

/**
 * The small messages, from and to the MN, and between the routers
 */
static cxtp_message_t *build_small(int i, int family)
{
	cxtp_message_t *message;
	host_t *mn, *ar, *dst;
	cxtp_transfer_id_t id = {
		.spi_i = 0x0102030405060708, .spi_r = 0x1112131415161718,
		.serial = 7,
	};
	chunk_t key = chunk_from_chars(0x11,0x22,0x33,0x44,0x55,0x66,0x77,0x88,
						0x99,0xaa,0xbb,0xcc,0xdd,0xee,0xff,0x00,0x01,0x02,0x03,0x04);

	mn = address(family, 0);
	ar = address(family, 1);
	switch (i)
	{
		case 0:
			message = cxtp_message_create(CXTP_CTAR, mn);
			message->set_ar_address(message, ar);
			message->set_ack(message, TRUE);
			message->set_sequence(message, 0x12345678);
			message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty);
			message->add_cdb(message, CXTP_FPT_CHILD_SA, chunk_empty);
			message->add_cdb(message, CXTP_FPT_PAD, chunk_empty);
			dst = address(family, 1);
			message->sign_token(message, key, mn, dst);
			dst->destroy(dst);
			break;
		case 1:
			message = cxtp_message_create(CXTP_CTAA, mn);
			message->set_sequence(message, 0x12345678);
			message->add_status(message, CXTP_FPT_IKE_SA, 0);
			message->add_status(message, CXTP_FPT_CHILD_SA, 0);
			message->sign_ctaa(message, key, ar, mn);
			break;
		case 2:
			message = cxtp_message_create(CXTP_CTDR, mn);
			message->set_success(message, TRUE);
			message->set_transfer_id(message, &id);
			message->add_status(message, CXTP_FPT_IKE_SA, 0);
			message->add_status(message, CXTP_FPT_CHILD_SA,
								CXTP_STATUS_FAILED);
			break;
		case 3:
			message = cxtp_message_create(CXTP_CTC, mn);
			message->set_transfer_id(message, &id);
			message->add_status(message, CXTP_FPT_IKE_SA,
								CXTP_STATUS_ACTIVATED);
			break;
		case 4:
			message = cxtp_message_create(CXTP_CTREQ, mn);
			message->set_sequence(message, 42);
			message->set_token(message, 0x29d258dc);
			message->set_ctar_addresses(message, mn, ar);
			message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty);
			break;
		default:
			/* a stock client's MOBIKE update, as nAR holds it: IKE header
			 * (SPIs, Encrypted payload, INFORMATIONAL, initiator, message
			 * ID 2) and an Encrypted payload of IV, a block and ICV */
			message = cxtp_message_create(CXTP_CTREQ, mn);
			message->set_ike_request(message, chunk_from_chars(
				0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,
				0x01,0x12,0x13,0x14,0x15,0x16,0x17,0x18,
				0x2e,0x20,0x25,0x08,0x00,0x00,0x00,0x02,
				0x00,0x00,0x00,0x50,
				0x00,0x00,0x00,0x34,
				0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,
				0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf,
				0xb0,0xb1,0xb2,0xb3,0xb4,0xb5,0xb6,0xb7,
				0xb8,0xb9,0xba,0xbb,0xbc,0xbd,0xbe,0xbf,
				0xc0,0xc1,0xc2,0xc3,0xc4,0xc5,0xc6,0xc7,
				0xc8,0xc9,0xca,0xcb,0xcc,0xcd,0xce,0xcf));
			message->add_cdb(message, CXTP_FPT_IKE_SA, chunk_empty);
			break;
	}
	mn->destroy(mn);
	ar->destroy(ar);
	return message;
}

/**
 * An ICMP message with the CXTP header around a message
 */
static chunk_t icmp_frame(uint8_t type, chunk_t body)
{
	chunk_t icmp = chunk_alloc(CXTP_ICMP_HEADER_LEN + body.len);
	uint16_t checksum;

	memset(icmp.ptr, 0, CXTP_ICMP_HEADER_LEN);
	icmp.ptr[0] = type;
	icmp.ptr[1] = CXTP_ICMP_CODE;
	icmp.ptr[4] = CXTP_ICMP_SUBTYPE;
	memcpy(icmp.ptr + CXTP_ICMP_HEADER_LEN, body.ptr, body.len);
	checksum = chunk_internet_checksum(icmp);
	memcpy(icmp.ptr + 2, &checksum, sizeof(checksum));
	return icmp;
}

/**
 * Input of fuzz_cxtp_icmp_receive for a message from the MN's address
 */
static chunk_t icmp_input(int family, chunk_t body)
{
	chunk_t icmp, ip, input;
	host_t *src = address(family, 0), *dst = address(family, 1);

	if (family == AF_INET)
	{
		icmp = icmp_frame(CXTP_ICMPV4_TYPE, body);
		ip = chunk_alloca(20);
		memset(ip.ptr, 0, ip.len);
		ip.ptr[0] = 0x45;
		htoun16(ip.ptr + 2, ip.len + icmp.len);
		ip.ptr[8] = CXTP_ICMP_HOP_LIMIT;
		ip.ptr[9] = IPPROTO_ICMP;
		memcpy(ip.ptr + 12, src->get_address(src).ptr, 4);
		memcpy(ip.ptr + 16, dst->get_address(dst).ptr, 4);
		input = chunk_cat("ccm", chunk_from_chars(0x02), ip, icmp);
	}
	else
	{	/* the kernel computes ICMPv6 checksums of raw sockets */
		icmp = icmp_frame(CXTP_ICMPV6_TYPE, body);
		input = chunk_cat("ccm", chunk_from_chars(0x01, CXTP_ICMP_HOP_LIMIT),
						  src->get_address(src), icmp);
	}
	src->destroy(src);
	dst->destroy(dst);
	return input;
}

/**
 * Handshakes of the peer: telling its epoch and asking for ours, and
 * answering a challenge (the target authenticates them), and one as an
 * attacker without the secret sends it
 */
static void handshake_seeds()
{
	chunk_t hello = chunk_from_chars(0x02, 0x02, 0x02, 0x00, 0x00,
		0x22,0x22,0x22,0x22,0x22,0x22,0x22,0x22,
		0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,
		0,0,0,0,0,0,0,0);
	chunk_t answer = chunk_from_chars(0x02, 0x02, 0x02, 0x00, 0x00,
		0x33,0x33,0x33,0x33,0x33,0x33,0x33,0x33,
		0,0,0,0,0,0,0,0,
		0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08);
	chunk_t forged;

	seed("cxtp_transport_receive", "handshake-hello", chunk_clone(hello));
	seed("cxtp_transport_receive", "handshake-answer", chunk_clone(answer));
	forged = chunk_alloc(1 + CXTP_TRANSPORT_HANDSHAKE_LEN);
	memset(forged.ptr, 0x5a, forged.len);
	forged.ptr[0] = 0x01;
	memcpy(forged.ptr + 1, hello.ptr + 1, hello.len - 1);
	seed("cxtp_transport_receive", "handshake-forged", forged);
}

/**
 * Input of fuzz_cxtp_transport_receive for a batch the peer seals: the
 * encodings, each after its length
 */
static chunk_t sealed_batch_input(chunk_t a, chunk_t b)
{
	uint16_t len_a = htons(a.len), len_b = htons(b.len);

	return chunk_cat("ccccc", chunk_from_chars(0x03, 0,0,0,0,0,0,0,1),
					 chunk_from_thing(len_a), a, chunk_from_thing(len_b), b);
}

/**
 * A batch of two messages, as a drain sends its contexts
 */
static void batch_seeds()
{
	cxtp_message_t *ctdr, *ctc;
	chunk_t a, b;

	ctdr = build_small(2, AF_INET6);
	ctc = build_small(3, AF_INET6);
	a = ctdr->encode(ctdr);
	b = ctc->encode(ctc);
	seed("cxtp_transport_receive", "sealed-batch-v6", sealed_batch_input(a, b));
	chunk_free(&a);
	chunk_free(&b);
	ctdr->destroy(ctdr);
	ctc->destroy(ctc);
}

static void message_seeds()
{
	char *names[] = { "ctar", "ctaa", "ctdr", "ctc", "ctreq", "ctreq-ike" };
	cxtp_message_t *message;
	chunk_t encoding;
	char name[32], sealed[40];
	int i, family;

	for (i = 0; i < countof(names); i++)
	{
		for (family = AF_INET; family <= AF_INET6;
			 family += AF_INET6 - AF_INET)
		{
			message = build_small(i, family);
			encoding = message->encode(message);
			snprintf(name, sizeof(name), "%s-%s", names[i],
					 family == AF_INET ? "v4" : "v6");
			if (i <= 1)
			{
				seed("cxtp_icmp_receive", name, icmp_input(family, encoding));
			}
			if (i >= 2)
			{
				snprintf(sealed, sizeof(sealed), "sealed-%s", name);
				seed("cxtp_transport_receive", sealed, sealed_input(encoding));
			}
			seed("cxtp_message_parse", name, encoding);
			message->destroy(message);
		}
	}
}

/**
 * Encode a notify payload as it appears in a message
 */
static chunk_t generate(notify_payload_t *notify)
{
	generator_t *generator;
	uint32_t *lenpos;
	chunk_t encoding;

	generator = generator_create_no_dbg();
	generator->generate_payload(generator, &notify->payload_interface);
	encoding = chunk_clone(generator->get_chunk(generator, &lenpos));
	generator->destroy(generator);
	notify->destroy(notify);
	return encoding;
}

static void notify_seeds()
{
	mobike_spi_update_t ike = {
		.protocol = PROTO_IKE,
		.new_ike_spi = 0x2122232425262728,
	}, esp = {
		.protocol = PROTO_ESP,
		.spi = htonl(0xc1000001),
		.new_spi = htonl(0xc3000003),
	};
	notify_payload_t *notify;

	seed("mobike_spi_notify", "update-ike",
		 generate(mobike_spi_notify_build(&ike)));
	seed("mobike_spi_notify", "update-esp",
		 generate(mobike_spi_notify_build(&esp)));
	notify = mobike_spi_notify_build(&esp);
	seed("mobike_spi_notify", "failed-esp",
		 generate(mobike_spi_notify_failed(notify)));
	notify->destroy(notify);
}

int main(int argc, char *argv[])
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	top = argv[1];
	if (fuzz_init("fuzz_seeds") || !libcharon_init())
	{
		return 1;
	}
	context_seeds();
	handshake_seeds();
	message_seeds();
	batch_seeds();
	notify_seeds();
	libcharon_deinit();
	library_deinit();
	return 0;
}
