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


#include "cxtp_encode.h"

#include <utils/debug.h>
#include <bio/bio_reader.h>
#include <bio/bio_writer.h>

/**
 * Attributes common to all CDBs
 */
#define ATTR_VERSION		1

/**
 * Attributes of the IKE_SA CDB
 */
enum {
	IKE_SPI_I = 2,
	IKE_SPI_R,
	IKE_INITIATOR,
	IKE_ENCR,
	IKE_INTEG,
	IKE_PRF,
	IKE_KE,
	IKE_MID,
	IKE_LIFETIMES,
	IKE_LOCAL,
	IKE_REMOTE,
	IKE_LOCAL_ID,
	IKE_REMOTE_ID,
	IKE_REMOTE_EAP_ID,
	IKE_CONDITIONS,
	IKE_EXTENSIONS,
	IKE_REMOTE_VIP,
	IKE_POOL,
	IKE_PEER_CFG,
	IKE_TRANSFERS,
	IKE_SK_D,
	IKE_SK_AI,
	IKE_SK_AR,
	IKE_SK_EI,
	IKE_SK_ER,
	IKE_SK_PI,
	IKE_SK_PR,
};

/**
 * Attributes of a CHILD_SA CDB
 */
enum {
	CHILD_CFG = 2,
	CHILD_PROTO_MODE,
	CHILD_SPIS,
	CHILD_ENCR,
	CHILD_INTEG,
	CHILD_ESN,
	CHILD_INITIATOR,
	CHILD_LOCAL_TS,
	CHILD_REMOTE_TS,
	CHILD_REPLAY,
	CHILD_REPLAY_BITMAP,
	CHILD_LIFETIMES,
	CHILD_ENCR_I,
	CHILD_ENCR_R,
	CHILD_INTEG_I,
	CHILD_INTEG_R,
};

/**
 * Attributes of the PAD CDB
 */
enum {
	PAD_ID = 2,
	PAD_AUTH,
	PAD_CERT_SUBJECT,
	PAD_SECRET,
};

#define BIT(x) (1ULL << (x))

/**
 * Attributes that may appear more than once
 */
#define IKE_REPEATABLE		BIT(IKE_REMOTE_VIP)
#define CHILD_REPEATABLE	(BIT(CHILD_LOCAL_TS) | BIT(CHILD_REMOTE_TS))

/**
 * Attributes without which a CDB is useless
 */
#define IKE_REQUIRED (BIT(ATTR_VERSION) | BIT(IKE_SPI_I) | BIT(IKE_SPI_R) | \
	BIT(IKE_INITIATOR) | BIT(IKE_ENCR) | BIT(IKE_PRF) | BIT(IKE_MID) | \
	BIT(IKE_LOCAL) | BIT(IKE_REMOTE) | BIT(IKE_LOCAL_ID) | \
	BIT(IKE_REMOTE_ID) | BIT(IKE_PEER_CFG) | BIT(IKE_SK_D) | \
	BIT(IKE_SK_EI) | BIT(IKE_SK_ER) | BIT(IKE_SK_PI) | BIT(IKE_SK_PR))
#define CHILD_REQUIRED (BIT(ATTR_VERSION) | BIT(CHILD_CFG) | \
	BIT(CHILD_PROTO_MODE) | BIT(CHILD_SPIS) | BIT(CHILD_INITIATOR) | \
	BIT(CHILD_LOCAL_TS) | BIT(CHILD_REMOTE_TS) | BIT(CHILD_REPLAY) | \
	BIT(CHILD_ENCR) | BIT(CHILD_ENCR_I) | BIT(CHILD_ENCR_R))
#define PAD_REQUIRED (BIT(ATTR_VERSION) | BIT(PAD_ID) | BIT(PAD_AUTH))

/**
 * Longest key or secret we accept
 */
#define MAX_KEY_LEN 512

/**
 * Initial size of the buffer for the attributes without keys, grown as needed
 */
#define INITIAL_SIZE 512

/**
 * An attribute holding a key or secret
 */
typedef struct {
	/** attribute type */
	uint16_t type;
	/** octets in the value before the key, e.g. the type of a secret */
	chunk_t head;
	/** the key, the attribute is omitted if empty */
	chunk_t key;
} key_attr_t;

static void put_uint8(bio_writer_t *w, uint16_t type, uint8_t value)
{
	w->write_uint16(w, type);
	w->write_uint16(w, 1);
	w->write_uint8(w, value);
}

static void put_uint32(bio_writer_t *w, uint16_t type, uint32_t value)
{
	w->write_uint16(w, type);
	w->write_uint16(w, 4);
	w->write_uint32(w, value);
}

/**
 * An IKE SPI, as held by ike_sa_id_t, in the octets it has on the wire, so
 * routers of either byte order agree on it
 */
static void put_ike_spi(bio_writer_t *w, uint16_t type, uint64_t spi)
{
	w->write_uint16(w, type);
	w->write_uint16(w, sizeof(spi));
	w->write_data(w, chunk_from_thing(spi));
}

/**
 * Two 16 bit values, e.g. an algorithm and its key size
 */
static void put_pair16(bio_writer_t *w, uint16_t type, uint16_t a, uint16_t b)
{
	w->write_uint16(w, type);
	w->write_uint16(w, 4);
	w->write_uint16(w, a);
	w->write_uint16(w, b);
}

static void put_chunk(bio_writer_t *w, uint16_t type, chunk_t value)
{
	if (value.len)
	{
		w->write_uint16(w, type);
		w->write_data16(w, value);
	}
}

static void put_string(bio_writer_t *w, uint16_t type, char *value)
{
	if (value)
	{
		put_chunk(w, type, chunk_from_str(value));
	}
}

/**
 * Port (16 bit) and address
 */
static void put_host(bio_writer_t *w, uint16_t type, host_t *host)
{
	chunk_t address = host->get_address(host);

	w->write_uint16(w, type);
	w->write_uint16(w, 2 + address.len);
	w->write_uint16(w, host->get_port(host));
	w->write_data(w, address);
}

/**
 * Identity type (8 bit) and encoding
 */
static void put_id(bio_writer_t *w, uint16_t type, identification_t *id)
{
	chunk_t encoding;

	if (id)
	{
		encoding = id->get_encoding(id);
		w->write_uint16(w, type);
		w->write_uint16(w, 1 + encoding.len);
		w->write_uint8(w, id->get_type(id));
		w->write_data(w, encoding);
	}
}

/**
 * Type, protocol, ports and the address range, as in a TS payload
 */
static void put_ts(bio_writer_t *w, uint16_t type, traffic_selector_t *ts)
{
	chunk_t from = ts->get_from_address(ts), to = ts->get_to_address(ts);

	w->write_uint16(w, type);
	w->write_uint16(w, 6 + from.len + to.len);
	w->write_uint8(w, ts->get_type(ts));
	w->write_uint8(w, ts->get_protocol(ts));
	w->write_uint16(w, ts->get_from_port(ts));
	w->write_uint16(w, ts->get_to_port(ts));
	w->write_data(w, from);
	w->write_data(w, to);
}

static bio_writer_t *writer_create()
{
	bio_writer_t *w = bio_writer_create(INITIAL_SIZE);

	put_uint8(w, ATTR_VERSION, CXTP_ENCODING_VERSION);
	return w;
}

/**
 * Append the attributes holding keys to those written to w and destroy w.
 *
 * A bio_writer grows with realloc(), which frees the old buffer without
 * wiping it, so the keys go into a buffer allocated once with the final
 * size, after everything else.
 */
static chunk_t writer_finish(bio_writer_t *w, key_attr_t *keys, int count)
{
	chunk_t plain = w->get_buf(w), data;
	size_t len = plain.len;
	u_char *pos;
	int i;

	for (i = 0; i < count; i++)
	{
		if (keys[i].key.len)
		{
			len += 4 + keys[i].head.len + keys[i].key.len;
		}
	}
	data = chunk_alloc(len);
	memcpy(data.ptr, plain.ptr, plain.len);
	pos = data.ptr + plain.len;
	for (i = 0; i < count; i++)
	{
		if (keys[i].key.len)
		{
			htoun16(pos, keys[i].type);
			htoun16(pos + 2, keys[i].head.len + keys[i].key.len);
			pos += 4;
			if (keys[i].head.len)
			{
				memcpy(pos, keys[i].head.ptr, keys[i].head.len);
				pos += keys[i].head.len;
			}
			memcpy(pos, keys[i].key.ptr, keys[i].key.len);
			pos += keys[i].key.len;
		}
	}
	w->destroy(w);
	return data;
}

/*
 * Described in header
 */
chunk_t cxtp_encode_ike(cxtp_ike_context_t *ike)
{
	key_attr_t keys[] = {
		{ .type = IKE_SK_D, .key = ike->keys.sk_d },
		{ .type = IKE_SK_AI, .key = ike->keys.sk_ai },
		{ .type = IKE_SK_AR, .key = ike->keys.sk_ar },
		{ .type = IKE_SK_EI, .key = ike->keys.sk_ei },
		{ .type = IKE_SK_ER, .key = ike->keys.sk_er },
		{ .type = IKE_SK_PI, .key = ike->keys.sk_pi },
		{ .type = IKE_SK_PR, .key = ike->keys.sk_pr },
	};
	enumerator_t *enumerator;
	bio_writer_t *w;
	host_t *vip;

	w = writer_create();
	put_ike_spi(w, IKE_SPI_I, ike->spi_i);
	put_ike_spi(w, IKE_SPI_R, ike->spi_r);
	put_uint8(w, IKE_INITIATOR, ike->initiator);
	put_pair16(w, IKE_ENCR, ike->encr_alg, ike->encr_size);
	if (ike->integ_alg)
	{
		put_pair16(w, IKE_INTEG, ike->integ_alg, 0);
	}
	put_pair16(w, IKE_PRF, ike->prf_alg, 0);
	if (ike->ke_method)
	{
		put_pair16(w, IKE_KE, ike->ke_method, 0);
	}
	w->write_uint16(w, IKE_MID);
	w->write_uint16(w, 8);
	w->write_uint32(w, ike->mid_initiate);
	w->write_uint32(w, ike->mid_respond);
	w->write_uint16(w, IKE_LIFETIMES);
	w->write_uint16(w, 12);
	w->write_uint32(w, ike->rekey_time);
	w->write_uint32(w, ike->reauth_time);
	w->write_uint32(w, ike->delete_time);
	put_host(w, IKE_LOCAL, ike->local);
	put_host(w, IKE_REMOTE, ike->remote);
	put_id(w, IKE_LOCAL_ID, ike->local_id);
	put_id(w, IKE_REMOTE_ID, ike->remote_id);
	put_id(w, IKE_REMOTE_EAP_ID, ike->remote_eap_id);
	put_uint32(w, IKE_CONDITIONS, ike->conditions);
	put_uint32(w, IKE_EXTENSIONS, ike->extensions);
	enumerator = ike->remote_vips->create_enumerator(ike->remote_vips);
	while (enumerator->enumerate(enumerator, &vip))
	{
		put_host(w, IKE_REMOTE_VIP, vip);
	}
	enumerator->destroy(enumerator);
	put_string(w, IKE_POOL, ike->pool);
	put_string(w, IKE_PEER_CFG, ike->peer_cfg);
	put_uint32(w, IKE_TRANSFERS, ike->transfers);
	return writer_finish(w, keys, countof(keys));
}

/*
 * Described in header
 */
chunk_t cxtp_encode_child(cxtp_child_context_t *child)
{
	key_attr_t keys[] = {
		{ .type = CHILD_ENCR_I, .key = child->keys.encr_i },
		{ .type = CHILD_ENCR_R, .key = child->keys.encr_r },
		{ .type = CHILD_INTEG_I, .key = child->keys.integ_i },
		{ .type = CHILD_INTEG_R, .key = child->keys.integ_r },
	};
	enumerator_t *enumerator;
	traffic_selector_t *ts;
	bio_writer_t *w;

	w = writer_create();
	put_string(w, CHILD_CFG, child->child_cfg);
	w->write_uint16(w, CHILD_PROTO_MODE);
	w->write_uint16(w, 3);
	w->write_uint8(w, child->protocol);
	w->write_uint8(w, child->mode);
	w->write_uint8(w, child->encap);
	w->write_uint16(w, CHILD_SPIS);
	w->write_uint16(w, 8);
	w->write_data(w, chunk_from_thing(child->spi_in));
	w->write_data(w, chunk_from_thing(child->spi_out));
	put_pair16(w, CHILD_ENCR, child->encr_alg, child->encr_size);
	if (child->integ_alg)
	{
		put_pair16(w, CHILD_INTEG, child->integ_alg, 0);
	}
	put_uint8(w, CHILD_ESN, child->esn);
	put_uint8(w, CHILD_INITIATOR, child->keys.initiator);
	enumerator = child->local_ts->create_enumerator(child->local_ts);
	while (enumerator->enumerate(enumerator, &ts))
	{
		put_ts(w, CHILD_LOCAL_TS, ts);
	}
	enumerator->destroy(enumerator);
	enumerator = child->remote_ts->create_enumerator(child->remote_ts);
	while (enumerator->enumerate(enumerator, &ts))
	{
		put_ts(w, CHILD_REMOTE_TS, ts);
	}
	enumerator->destroy(enumerator);
	w->write_uint16(w, CHILD_REPLAY);
	w->write_uint16(w, 20);
	w->write_uint64(w, child->seq_out);
	w->write_uint64(w, child->seq_in);
	w->write_uint32(w, child->replay_window);
	put_chunk(w, CHILD_REPLAY_BITMAP, child->replay_bitmap);
	w->write_uint16(w, CHILD_LIFETIMES);
	w->write_uint16(w, 8);
	w->write_uint32(w, child->rekey_time);
	w->write_uint32(w, child->expire_time);
	return writer_finish(w, keys, countof(keys));
}

/*
 * Described in header
 */
chunk_t cxtp_encode_pad(cxtp_pad_context_t *pad)
{
	key_attr_t secret = {
		.type = PAD_SECRET,
		.head = chunk_from_thing(pad->secret_type),
		.key = pad->secret,
	};
	bio_writer_t *w;

	w = writer_create();
	put_id(w, PAD_ID, pad->id);
	w->write_uint16(w, PAD_AUTH);
	w->write_uint16(w, 2);
	w->write_uint8(w, pad->auth_class);
	w->write_uint8(w, pad->eap_type);
	put_id(w, PAD_CERT_SUBJECT, pad->cert_subject);
	return writer_finish(w, &secret, 1);
}

/**
 * Iterates over the attributes of a CDB, checking what is common to all
 */
typedef struct {
	/** what is parsed, for errors */
	char *what;
	/** remaining data */
	bio_reader_t *reader;
	/** attributes seen so far */
	uint64_t seen;
	/** attributes that may be repeated */
	uint64_t repeatable;
} attr_parser_t;

/**
 * Next attribute; FALSE at the end (parser->reader empty) or on error
 */
static bool next_attr(attr_parser_t *p, uint16_t *type, chunk_t *value,
					  bool *error)
{
	uint8_t version;

	*error = FALSE;
	if (!p->reader->remaining(p->reader))
	{
		return FALSE;
	}
	if (!p->reader->read_uint16(p->reader, type) ||
		!p->reader->read_data16(p->reader, value))
	{
		DBG1(DBG_ENC, "cxtp: %s data truncated", p->what);
		*error = TRUE;
		return FALSE;
	}
	if (!p->seen)
	{
		if (*type != ATTR_VERSION || value->len != 1)
		{
			DBG1(DBG_ENC, "cxtp: %s data does not start with a version",
				 p->what);
			*error = TRUE;
			return FALSE;
		}
		version = value->ptr[0];
		if (version != CXTP_ENCODING_VERSION)
		{
			DBG1(DBG_ENC, "cxtp: %s data has unsupported version %u",
				 p->what, version);
			*error = TRUE;
			return FALSE;
		}
	}
	if (*type >= 64)
	{
		DBG1(DBG_ENC, "cxtp: unknown attribute %u in %s data", *type, p->what);
		*error = TRUE;
		return FALSE;
	}
	if ((p->seen & BIT(*type)) && !(p->repeatable & BIT(*type)))
	{
		DBG1(DBG_ENC, "cxtp: attribute %u repeated in %s data", *type,
			 p->what);
		*error = TRUE;
		return FALSE;
	}
	p->seen |= BIT(*type);
	return TRUE;
}

/**
 * Check that all required attributes were seen
 */
static bool check_required(attr_parser_t *p, uint64_t required)
{
	int i;

	for (i = 0; i < 64; i++)
	{
		if ((required & BIT(i)) && !(p->seen & BIT(i)))
		{
			DBG1(DBG_ENC, "cxtp: attribute %d missing in %s data", i, p->what);
			return FALSE;
		}
	}
	return TRUE;
}

static bool bad_size(attr_parser_t *p, uint16_t type)
{
	DBG1(DBG_ENC, "cxtp: attribute %u in %s data has an invalid size",
		 type, p->what);
	return FALSE;
}

static bool get_uint8(attr_parser_t *p, uint16_t type, chunk_t v, uint8_t *out)
{
	if (v.len != 1)
	{
		return bad_size(p, type);
	}
	*out = v.ptr[0];
	return TRUE;
}

static bool get_bool(attr_parser_t *p, uint16_t type, chunk_t v, bool *out)
{
	uint8_t value;

	if (!get_uint8(p, type, v, &value))
	{
		return FALSE;
	}
	if (value > 1)
	{
		return bad_size(p, type);
	}
	*out = value;
	return TRUE;
}

static bool get_uint32(attr_parser_t *p, uint16_t type, chunk_t v,
					   uint32_t *out)
{
	if (v.len != 4)
	{
		return bad_size(p, type);
	}
	*out = untoh32(v.ptr);
	return TRUE;
}

static bool get_ike_spi(attr_parser_t *p, uint16_t type, chunk_t v,
						uint64_t *out)
{
	if (v.len != sizeof(*out))
	{
		return bad_size(p, type);
	}
	memcpy(out, v.ptr, sizeof(*out));
	return TRUE;
}

static bool get_pair16(attr_parser_t *p, uint16_t type, chunk_t v,
					   uint16_t *a, uint16_t *b)
{
	if (v.len != 4)
	{
		return bad_size(p, type);
	}
	*a = untoh16(v.ptr);
	if (b)
	{
		*b = untoh16(v.ptr + 2);
	}
	return TRUE;
}

static bool get_key(attr_parser_t *p, uint16_t type, chunk_t v, chunk_t *out)
{
	if (!v.len || v.len > MAX_KEY_LEN)
	{
		return bad_size(p, type);
	}
	*out = chunk_clone(v);
	return TRUE;
}

static bool get_string(attr_parser_t *p, uint16_t type, chunk_t v, char **out)
{
	if (!v.len || memchr(v.ptr, 0, v.len))
	{
		return bad_size(p, type);
	}
	*out = strndup(v.ptr, v.len);
	return TRUE;
}

static bool get_host(attr_parser_t *p, uint16_t type, chunk_t v, host_t **out)
{
	int family;

	switch (v.len)
	{
		case 2 + 4:
			family = AF_INET;
			break;
		case 2 + 16:
			family = AF_INET6;
			break;
		default:
			return bad_size(p, type);
	}
	*out = host_create_from_chunk(family, chunk_skip(v, 2), untoh16(v.ptr));
	return *out != NULL;
}

static bool get_id(attr_parser_t *p, uint16_t type, chunk_t v,
				   identification_t **out)
{
	if (v.len < 2)
	{
		return bad_size(p, type);
	}
	switch (v.ptr[0])
	{
		case ID_IPV4_ADDR:
		case ID_FQDN:
		case ID_RFC822_ADDR:
		case ID_IPV6_ADDR:
		case ID_DER_ASN1_DN:
		case ID_DER_ASN1_GN:
		case ID_KEY_ID:
			break;
		default:
			DBG1(DBG_ENC, "cxtp: attribute %u in %s data has unknown "
				 "identity type %u", type, p->what, v.ptr[0]);
			return FALSE;
	}
	*out = identification_create_from_encoding(v.ptr[0], chunk_skip(v, 1));
	return TRUE;
}

static bool get_ts(attr_parser_t *p, uint16_t type, chunk_t v,
				   linked_list_t *list)
{
	traffic_selector_t *ts;
	size_t len;

	if (v.len < 6)
	{
		return bad_size(p, type);
	}
	switch (v.ptr[0])
	{
		case TS_IPV4_ADDR_RANGE:
			len = 4;
			break;
		case TS_IPV6_ADDR_RANGE:
			len = 16;
			break;
		default:
			return bad_size(p, type);
	}
	if (v.len != 6 + 2 * len)
	{
		return bad_size(p, type);
	}
	ts = traffic_selector_create_from_bytes(v.ptr[1], v.ptr[0],
							chunk_create(v.ptr + 6, len), untoh16(v.ptr + 2),
							chunk_create(v.ptr + 6 + len, len),
							untoh16(v.ptr + 4));
	if (!ts)
	{
		return bad_size(p, type);
	}
	list->insert_last(list, ts);
	return TRUE;
}

/*
 * Described in header
 */
bool cxtp_decode_ike(chunk_t data, cxtp_ike_context_t *ike)
{
	attr_parser_t p = {
		.what = "IKE_SA",
		.reader = bio_reader_create(data),
		.repeatable = IKE_REPEATABLE,
	};
	uint16_t type;
	chunk_t v;
	host_t *vip;
	bool ok = TRUE, error = FALSE;

	while (ok && next_attr(&p, &type, &v, &error))
	{
		switch (type)
		{
			case ATTR_VERSION:
				break;
			case IKE_SPI_I:
				ok = get_ike_spi(&p, type, v, &ike->spi_i);
				break;
			case IKE_SPI_R:
				ok = get_ike_spi(&p, type, v, &ike->spi_r);
				break;
			case IKE_INITIATOR:
				ok = get_bool(&p, type, v, &ike->initiator);
				break;
			case IKE_ENCR:
				ok = get_pair16(&p, type, v, &ike->encr_alg, &ike->encr_size);
				break;
			case IKE_INTEG:
				ok = get_pair16(&p, type, v, &ike->integ_alg, NULL);
				break;
			case IKE_PRF:
				ok = get_pair16(&p, type, v, &ike->prf_alg, NULL);
				break;
			case IKE_KE:
				ok = get_pair16(&p, type, v, &ike->ke_method, NULL);
				break;
			case IKE_MID:
				ok = v.len == 8 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					ike->mid_initiate = untoh32(v.ptr);
					ike->mid_respond = untoh32(v.ptr + 4);
				}
				break;
			case IKE_LIFETIMES:
				ok = v.len == 12 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					ike->rekey_time = untoh32(v.ptr);
					ike->reauth_time = untoh32(v.ptr + 4);
					ike->delete_time = untoh32(v.ptr + 8);
				}
				break;
			case IKE_LOCAL:
				ok = get_host(&p, type, v, &ike->local);
				break;
			case IKE_REMOTE:
				ok = get_host(&p, type, v, &ike->remote);
				break;
			case IKE_LOCAL_ID:
				ok = get_id(&p, type, v, &ike->local_id);
				break;
			case IKE_REMOTE_ID:
				ok = get_id(&p, type, v, &ike->remote_id);
				break;
			case IKE_REMOTE_EAP_ID:
				ok = get_id(&p, type, v, &ike->remote_eap_id);
				break;
			case IKE_CONDITIONS:
				ok = get_uint32(&p, type, v, &ike->conditions);
				break;
			case IKE_EXTENSIONS:
				ok = get_uint32(&p, type, v, &ike->extensions);
				break;
			case IKE_REMOTE_VIP:
				ok = get_host(&p, type, v, &vip);
				if (ok)
				{
					ike->remote_vips->insert_last(ike->remote_vips, vip);
				}
				break;
			case IKE_POOL:
				ok = get_string(&p, type, v, &ike->pool);
				break;
			case IKE_PEER_CFG:
				ok = get_string(&p, type, v, &ike->peer_cfg);
				break;
			case IKE_TRANSFERS:
				ok = get_uint32(&p, type, v, &ike->transfers);
				break;
			case IKE_SK_D:
				ok = get_key(&p, type, v, &ike->keys.sk_d);
				break;
			case IKE_SK_AI:
				ok = get_key(&p, type, v, &ike->keys.sk_ai);
				break;
			case IKE_SK_AR:
				ok = get_key(&p, type, v, &ike->keys.sk_ar);
				break;
			case IKE_SK_EI:
				ok = get_key(&p, type, v, &ike->keys.sk_ei);
				break;
			case IKE_SK_ER:
				ok = get_key(&p, type, v, &ike->keys.sk_er);
				break;
			case IKE_SK_PI:
				ok = get_key(&p, type, v, &ike->keys.sk_pi);
				break;
			case IKE_SK_PR:
				ok = get_key(&p, type, v, &ike->keys.sk_pr);
				break;
			default:
				DBG1(DBG_ENC, "cxtp: unknown attribute %u in IKE_SA data",
					 type);
				ok = FALSE;
				break;
		}
	}
	ok = ok && !error && check_required(&p, IKE_REQUIRED);
	if (ok && ike->integ_alg == 0 && !encryption_algorithm_is_aead(ike->encr_alg))
	{
		DBG1(DBG_ENC, "cxtp: IKE_SA data has no integrity algorithm for %N",
			 encryption_algorithm_names, ike->encr_alg);
		ok = FALSE;
	}
	p.reader->destroy(p.reader);
	return ok;
}

/*
 * Described in header
 */
cxtp_child_context_t *cxtp_decode_child(chunk_t data)
{
	cxtp_child_context_t *child;
	attr_parser_t p = {
		.what = "CHILD_SA",
		.reader = bio_reader_create(data),
		.repeatable = CHILD_REPEATABLE,
	};
	uint16_t type;
	chunk_t v;
	bool ok = TRUE, error = FALSE;

	child = cxtp_child_context_create();
	while (ok && next_attr(&p, &type, &v, &error))
	{
		switch (type)
		{
			case ATTR_VERSION:
				break;
			case CHILD_CFG:
				ok = get_string(&p, type, v, &child->child_cfg);
				break;
			case CHILD_PROTO_MODE:
				ok = v.len == 3 && v.ptr[2] <= 1 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					child->protocol = v.ptr[0];
					child->mode = v.ptr[1];
					child->encap = v.ptr[2];
				}
				break;
			case CHILD_SPIS:
				ok = v.len == 8 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					memcpy(&child->spi_in, v.ptr, 4);
					memcpy(&child->spi_out, v.ptr + 4, 4);
				}
				break;
			case CHILD_ENCR:
				ok = get_pair16(&p, type, v, &child->encr_alg,
								 &child->encr_size);
				break;
			case CHILD_INTEG:
				ok = get_pair16(&p, type, v, &child->integ_alg, NULL);
				break;
			case CHILD_ESN:
				ok = get_bool(&p, type, v, &child->esn);
				break;
			case CHILD_INITIATOR:
				ok = get_bool(&p, type, v, &child->keys.initiator);
				break;
			case CHILD_LOCAL_TS:
				ok = get_ts(&p, type, v, child->local_ts);
				break;
			case CHILD_REMOTE_TS:
				ok = get_ts(&p, type, v, child->remote_ts);
				break;
			case CHILD_REPLAY:
				ok = v.len == 20 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					child->seq_out = untoh64(v.ptr);
					child->seq_in = untoh64(v.ptr + 8);
					child->replay_window = untoh32(v.ptr + 16);
				}
				break;
			case CHILD_REPLAY_BITMAP:
				ok = get_key(&p, type, v, &child->replay_bitmap);
				break;
			case CHILD_LIFETIMES:
				ok = v.len == 8 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					child->rekey_time = untoh32(v.ptr);
					child->expire_time = untoh32(v.ptr + 4);
				}
				break;
			case CHILD_ENCR_I:
				ok = get_key(&p, type, v, &child->keys.encr_i);
				break;
			case CHILD_ENCR_R:
				ok = get_key(&p, type, v, &child->keys.encr_r);
				break;
			case CHILD_INTEG_I:
				ok = get_key(&p, type, v, &child->keys.integ_i);
				break;
			case CHILD_INTEG_R:
				ok = get_key(&p, type, v, &child->keys.integ_r);
				break;
			default:
				DBG1(DBG_ENC, "cxtp: unknown attribute %u in CHILD_SA data",
					 type);
				ok = FALSE;
				break;
		}
	}
	ok = ok && !error && check_required(&p, CHILD_REQUIRED);
	p.reader->destroy(p.reader);
	if (!ok)
	{
		cxtp_child_context_destroy(child);
		return NULL;
	}
	return child;
}

/*
 * Described in header
 */
bool cxtp_decode_pad(chunk_t data, cxtp_pad_context_t *pad)
{
	attr_parser_t p = {
		.what = "PAD",
		.reader = bio_reader_create(data),
	};
	uint16_t type;
	chunk_t v;
	bool ok = TRUE, error = FALSE;

	while (ok && next_attr(&p, &type, &v, &error))
	{
		switch (type)
		{
			case ATTR_VERSION:
				break;
			case PAD_ID:
				ok = get_id(&p, type, v, &pad->id);
				break;
			case PAD_AUTH:
				ok = v.len == 2 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					pad->auth_class = v.ptr[0];
					pad->eap_type = v.ptr[1];
				}
				break;
			case PAD_CERT_SUBJECT:
				ok = get_id(&p, type, v, &pad->cert_subject);
				break;
			case PAD_SECRET:
				ok = v.len >= 2 ? TRUE : bad_size(&p, type);
				if (ok)
				{
					pad->secret_type = v.ptr[0];
					ok = get_key(&p, type, chunk_skip(v, 1), &pad->secret);
				}
				break;
			default:
				DBG1(DBG_ENC, "cxtp: unknown attribute %u in PAD data", type);
				ok = FALSE;
				break;
		}
	}
	ok = ok && !error && check_required(&p, PAD_REQUIRED);
	p.reader->destroy(p.reader);
	return ok;
}
