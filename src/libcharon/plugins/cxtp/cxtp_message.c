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

#include "cxtp_message.h"
#include "cxtp_token.h"

#include <bio/bio_reader.h>
#include <bio/bio_writer.h>
#include <collections/array.h>
#include <utils/debug.h>

ENUM(cxtp_message_type_names, CXTP_CTAR, CXTP_CTREQ,
	"CTAR",
	"CTAA",
	"CTD",
	"PCTD",
	"CTDR",
	"CTC",
	"CT-Req",
);

/**
 * The first octet holds the version in its 3 high bits, the type in the others
 */
#define VERSION_SHIFT 5
#define TYPE_MASK 0x1f

/**
 * Flags in the second octet of the header
 */
#define FLAG_V 0x80
#define FLAG_A 0x40
#define FLAG_S 0x40
#define FLAG_K 0x20
#define FLAG_R 0x10
#define FLAG_M 0x20
#define FLAG_B 0x08
#define FLAG_I 0x04
#define FLAG_T 0x02

/**
 * Flags in the fourth octet of a CDB
 */
#define CDB_FLAG_P 0x80
#define CDB_FLAG_C 0x40

/**
 * Length of the message header
 */
#define HEADER_LEN 4

/**
 * Length of the CDB header (FPT, Length, flags)
 */
#define CDB_HEADER_LEN 4

/**
 * Unit of the CDB Length field
 */
#define CDB_WORD 8

/**
 * Largest wire CDB the 8-bit Length field can describe
 */
#define CDB_MAX_LEN (UINT8_MAX * CDB_WORD)

/**
 * Length of the presence vector
 */
#define PRESENCE_LEN 4

/**
 * Length of the length that frames the data of a CDB
 */
#define FRAMING_LEN 4

/**
 * Length of a status entry in CTAA/CTDR
 */
#define STATUS_LEN 4

/**
 * Length of the token algorithm and key length fields in CTD/PCTD
 */
#define KEY_HEADER_LEN 4

/**
 * Length of a transfer ID: two IKE SPIs and a serial
 */
#define TRANSFER_ID_LEN 20

/**
 * Length of the address lengths and reserved octets before the CTAR's
 * addresses in a CT-Req
 */
#define BINDING_HEADER_LEN 4

/**
 * Length of the length and reserved octets before the IKE request a CT-Req
 * carries
 */
#define IKE_HEADER_LEN 4

/**
 * Check if enough data is left to read len octets; bio_reader_t would
 * otherwise add a log message of its own, without any context
 */
static inline bool has(bio_reader_t *reader, size_t len)
{
	return reader->remaining(reader) >= len;
}

typedef struct private_cxtp_message_t private_cxtp_message_t;

/**
 * Private data of a cxtp_message_t object.
 */
struct private_cxtp_message_t {

	/**
	 * Public interface
	 */
	cxtp_message_t public;

	/**
	 * Message type
	 */
	cxtp_message_type_t type;

	/**
	 * MN's previous address
	 */
	host_t *mn;

	/**
	 * Other access router's address (CTAR)
	 */
	host_t *ar;

	/**
	 * A flag (CTAR, CTD, PCTD)
	 */
	bool ack;

	/**
	 * S flag (CTDR)
	 */
	bool success;

	/**
	 * T flag (PCTD)
	 */
	bool takeover;

	/**
	 * Sequence number (CTAR, CT-Req)
	 */
	uint32_t sequence;

	/**
	 * Authorization token (CTAR, CT-Req)
	 */
	uint32_t token;

	/**
	 * Elapsed time in ms (CTD, PCTD)
	 */
	uint32_t elapsed;

	/**
	 * HMAC_SHA1 token key (CTD, PCTD)
	 */
	chunk_t key;

	/**
	 * Context data or request blocks, as cxtp_cdb_t
	 */
	array_t *cdbs;

	/**
	 * Status entries, as cxtp_status_t
	 */
	array_t *statuses;

	/**
	 * Transfer ID (CTD, PCTD, CTDR, CTC), if has_transfer_id
	 */
	cxtp_transfer_id_t transfer_id;
	bool has_transfer_id;

	/**
	 * The CTAR's IP source and destination (CT-Req), NULL if not carried
	 */
	host_t *src;
	host_t *dst;

	/**
	 * The IKE request a CT-Req carries (I flag), chunk_empty if none
	 */
	chunk_t ike;

	/**
	 * MAC of a CTAA, if has_mac
	 */
	uint8_t mac[CXTP_CTAA_MAC_LEN];
	bool has_mac;
};

/**
 * Check if a message type carries request blocks
 */
static bool has_requests(cxtp_message_type_t type)
{
	return type == CXTP_CTAR || type == CXTP_CTREQ;
}

/**
 * Check if a message type carries context data blocks
 */
static bool has_data(cxtp_message_type_t type)
{
	return type == CXTP_CTD || type == CXTP_PCTD;
}

/**
 * Check if a message type carries status entries
 */
static bool has_status(cxtp_message_type_t type)
{
	return type == CXTP_CTAA || type == CXTP_CTDR;
}

/**
 * Check if a message type may carry a transfer ID, the ones access routers
 * exchange
 */
static bool has_transfer(cxtp_message_type_t type)
{
	return has_data(type) || type == CXTP_CTDR || type == CXTP_CTC;
}

/**
 * Check if a message type carries the A flag
 */
static bool has_ack(cxtp_message_type_t type)
{
	return has_requests(type) || has_data(type);
}

/**
 * Check if a message carries the token key
 */
static bool has_key(private_cxtp_message_t *this)
{
	return this->type == CXTP_PCTD ||
		  (this->type == CXTP_CTD && this->key.len);
}

METHOD(cxtp_message_t, get_type, cxtp_message_type_t,
	private_cxtp_message_t *this)
{
	return this->type;
}

METHOD(cxtp_message_t, get_mn_address, host_t*,
	private_cxtp_message_t *this)
{
	return this->mn;
}

/**
 * Clone an address without its port, which has no place in CXTP
 */
static host_t *clone_address(host_t *host)
{
	return host_create_from_chunk(host->get_family(host),
								  host->get_address(host), 0);
}

METHOD(cxtp_message_t, set_ar_address, bool,
	private_cxtp_message_t *this, host_t *ar)
{
	if (!has_requests(this->type) || !ar ||
		ar->get_family(ar) != this->mn->get_family(this->mn))
	{
		return FALSE;
	}
	DESTROY_IF(this->ar);
	this->ar = clone_address(ar);
	return TRUE;
}

METHOD(cxtp_message_t, get_ar_address, host_t*,
	private_cxtp_message_t *this)
{
	return this->ar;
}

METHOD(cxtp_message_t, set_ack, void,
	private_cxtp_message_t *this, bool ack)
{
	this->ack = ack;
}

METHOD(cxtp_message_t, get_ack, bool,
	private_cxtp_message_t *this)
{
	return this->ack;
}

METHOD(cxtp_message_t, set_takeover, void,
	private_cxtp_message_t *this, bool takeover)
{
	this->takeover = takeover;
}

METHOD(cxtp_message_t, get_takeover, bool,
	private_cxtp_message_t *this)
{
	return this->takeover;
}

METHOD(cxtp_message_t, set_success, void,
	private_cxtp_message_t *this, bool success)
{
	this->success = success;
}

METHOD(cxtp_message_t, get_success, bool,
	private_cxtp_message_t *this)
{
	return this->success;
}

METHOD(cxtp_message_t, set_sequence, void,
	private_cxtp_message_t *this, uint32_t sequence)
{
	this->sequence = sequence;
}

METHOD(cxtp_message_t, get_sequence, uint32_t,
	private_cxtp_message_t *this)
{
	return this->sequence;
}

METHOD(cxtp_message_t, set_token, void,
	private_cxtp_message_t *this, uint32_t token)
{
	this->token = token;
}

METHOD(cxtp_message_t, get_token, uint32_t,
	private_cxtp_message_t *this)
{
	return this->token;
}

METHOD(cxtp_message_t, set_elapsed, void,
	private_cxtp_message_t *this, uint32_t elapsed)
{
	this->elapsed = elapsed;
}

METHOD(cxtp_message_t, get_elapsed, uint32_t,
	private_cxtp_message_t *this)
{
	return this->elapsed;
}

METHOD(cxtp_message_t, set_transfer_id, bool,
	private_cxtp_message_t *this, cxtp_transfer_id_t *id)
{
	if (!has_transfer(this->type))
	{
		return FALSE;
	}
	this->transfer_id = *id;
	this->has_transfer_id = TRUE;
	return TRUE;
}

METHOD(cxtp_message_t, get_transfer_id, bool,
	private_cxtp_message_t *this, cxtp_transfer_id_t *id)
{
	if (!this->has_transfer_id)
	{
		return FALSE;
	}
	*id = this->transfer_id;
	return TRUE;
}

METHOD(cxtp_message_t, set_key, bool,
	private_cxtp_message_t *this, chunk_t key)
{
	if (!has_data(this->type) || !key.len || key.len > CXTP_KEY_MAX_LEN)
	{
		return FALSE;
	}
	chunk_clear(&this->key);
	this->key = chunk_clone(key);
	return TRUE;
}

METHOD(cxtp_message_t, get_key, chunk_t,
	private_cxtp_message_t *this)
{
	return this->key;
}

/**
 * Add a request or context data block
 */
static bool add_block(private_cxtp_message_t *this, uint16_t fpt,
					  uint32_t presence, bool has_presence, chunk_t data)
{
	cxtp_cdb_t cdb = {
		.fpt = fpt,
		.presence = presence,
		.has_presence = has_presence,
	};

	if (has_requests(this->type))
	{
		if (data.len || has_presence)
		{
			return FALSE;
		}
	}
	else if (!has_data(this->type))
	{
		return FALSE;
	}
	if (data.len > CXTP_CDB_MAX_DATA)
	{
		DBG1(DBG_ENC, "CXTP: %N CDB data for FPT 0x%04x of %zu octets exceeds "
			 "the maximum of %d", cxtp_message_type_names, this->type, fpt,
			 data.len, CXTP_CDB_MAX_DATA);
		return FALSE;
	}
	cdb.data = chunk_clone(data);
	array_insert(this->cdbs, ARRAY_TAIL, &cdb);
	return TRUE;
}

METHOD(cxtp_message_t, add_cdb, bool,
	private_cxtp_message_t *this, uint16_t fpt, chunk_t data)
{
	return add_block(this, fpt, 0, FALSE, data);
}

METHOD(cxtp_message_t, add_cdb_presence, bool,
	private_cxtp_message_t *this, uint16_t fpt, uint32_t presence,
	chunk_t data)
{
	return add_block(this, fpt, presence, TRUE, data);
}

METHOD(cxtp_message_t, create_cdb_enumerator, enumerator_t*,
	private_cxtp_message_t *this)
{
	return array_create_enumerator(this->cdbs);
}

METHOD(cxtp_message_t, add_status, bool,
	private_cxtp_message_t *this, uint16_t fpt, uint8_t status)
{
	cxtp_status_t entry = {
		.fpt = fpt,
		.status = status,
	};

	if (!has_status(this->type))
	{
		return FALSE;
	}
	array_insert(this->statuses, ARRAY_TAIL, &entry);
	return TRUE;
}

METHOD(cxtp_message_t, create_status_enumerator, enumerator_t*,
	private_cxtp_message_t *this)
{
	return array_create_enumerator(this->statuses);
}

/**
 * Write part of the framed data of a CDB, i.e. of the 32-bit length followed
 * by the data, without copying the data (which may be a key) elsewhere.
 */
static void write_framed(bio_writer_t *writer, cxtp_cdb_t *cdb, size_t pos,
						 size_t len)
{
	uint8_t framing[FRAMING_LEN];
	size_t part;

	if (pos < FRAMING_LEN)
	{
		htoun32(framing, cdb->data.len);
		part = min(FRAMING_LEN - pos, len);
		writer->write_data(writer, chunk_create(framing + pos, part));
		pos += part;
		len -= part;
	}
	if (len)
	{
		writer->write_data(writer,
						   chunk_create(cdb->data.ptr + pos - FRAMING_LEN, len));
	}
}

/**
 * Write a context data block as one or more wire CDBs, or only return the
 * length of its encoding if writer is NULL.
 */
static size_t write_data_cdb(bio_writer_t *writer, cxtp_cdb_t *cdb)
{
	size_t total, pos = 0, len = 0, room, part, used, padded;
	uint8_t flags;

	total = FRAMING_LEN + cdb->data.len;
	do
	{
		flags = 0;
		room = CDB_MAX_LEN - CDB_HEADER_LEN;
		if (pos == 0 && cdb->has_presence)
		{
			flags |= CDB_FLAG_P;
			room -= PRESENCE_LEN;
		}
		part = min(room, total - pos);
		if (pos + part < total)
		{
			flags |= CDB_FLAG_C;
		}
		used = CDB_HEADER_LEN + part + ((flags & CDB_FLAG_P) ? PRESENCE_LEN : 0);
		padded = round_up(used, CDB_WORD);
		if (writer)
		{
			writer->write_uint16(writer, cdb->fpt);
			writer->write_uint8(writer, padded / CDB_WORD);
			writer->write_uint8(writer, flags);
			if (flags & CDB_FLAG_P)
			{
				writer->write_uint32(writer, cdb->presence);
			}
			write_framed(writer, cdb, pos, part);
			memset(writer->skip(writer, padded - used).ptr, 0, padded - used);
		}
		pos += part;
		len += padded;
	}
	while (pos < total);

	return len;
}

/**
 * Write all request or context data blocks, or only return the length of
 * their encoding if writer is NULL.
 */
static size_t write_cdbs(private_cxtp_message_t *this, bio_writer_t *writer)
{
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;
	size_t len = 0;

	enumerator = array_create_enumerator(this->cdbs);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		if (has_data(this->type))
		{
			len += write_data_cdb(writer, cdb);
			continue;
		}
		if (writer)
		{
			writer->write_uint16(writer, cdb->fpt);
			writer->write_uint8(writer, 0);
			writer->write_uint8(writer, 0);
		}
		len += CDB_HEADER_LEN;
	}
	enumerator->destroy(enumerator);

	return len;
}

METHOD(cxtp_message_t, get_cdb_bytes, chunk_t,
	private_cxtp_message_t *this)
{
	bio_writer_t *writer;
	chunk_t encoding;
	size_t len;

	len = write_cdbs(this, NULL);
	if (!len)
	{
		return chunk_empty;
	}
	/* exactly sized, so no realloc() leaves copies of keys behind */
	writer = bio_writer_create(len);
	write_cdbs(this, writer);
	encoding = writer->extract_buf(writer);
	writer->destroy(writer);
	return encoding;
}

METHOD(cxtp_message_t, set_ctar_addresses, bool,
	private_cxtp_message_t *this, host_t *src, host_t *dst)
{
	if (this->type != CXTP_CTREQ || !src || !dst)
	{
		return FALSE;
	}
	DESTROY_IF(this->src);
	DESTROY_IF(this->dst);
	this->src = clone_address(src);
	this->dst = clone_address(dst);
	return TRUE;
}

METHOD(cxtp_message_t, set_ike_request, bool,
	private_cxtp_message_t *this, chunk_t packet)
{
	if (this->type != CXTP_CTREQ || !packet.len ||
		packet.len > CXTP_IKE_REQUEST_MAX)
	{
		return FALSE;
	}
	chunk_free(&this->ike);
	this->ike = chunk_clone(packet);
	return TRUE;
}

METHOD(cxtp_message_t, get_ike_request, chunk_t,
	private_cxtp_message_t *this)
{
	return this->ike;
}

METHOD(cxtp_message_t, get_ctar_source, host_t*,
	private_cxtp_message_t *this)
{
	return this->src;
}

METHOD(cxtp_message_t, get_ctar_destination, host_t*,
	private_cxtp_message_t *this)
{
	return this->dst;
}

/**
 * Compute the token of a CTAR sent from src to dst, or of the CTAR a CT-Req
 * carries the addresses of if they are NULL
 */
static bool compute_token(private_cxtp_message_t *this, chunk_t key,
						  host_t *src, host_t *dst, uint32_t *token)
{
	cxtp_token_input_t in = {
		.mn = this->mn,
		.ar = this->ar,
		.src = src ?: this->src,
		.dst = dst ?: this->dst,
		.ack = this->ack,
		.sequence = this->sequence,
	};
	bool ok;

	if (!has_requests(this->type))
	{
		return FALSE;
	}
	in.cdbs = get_cdb_bytes(this);
	ok = cxtp_token_compute(key, &in, token);
	chunk_clear(&in.cdbs);
	return ok;
}

METHOD(cxtp_message_t, sign_token, bool,
	private_cxtp_message_t *this, chunk_t key, host_t *src, host_t *dst)
{
	uint32_t token;

	if (!compute_token(this, key, src, dst, &token))
	{
		return FALSE;
	}
	this->token = token;
	return TRUE;
}

METHOD(cxtp_message_t, verify_token, bool,
	private_cxtp_message_t *this, chunk_t key, host_t *src, host_t *dst)
{
	uint32_t expected;
	bool valid;

	if (!compute_token(this, key, src, dst, &expected))
	{
		return FALSE;
	}
	valid = memeq_const(&expected, &this->token, sizeof(expected));
	memwipe(&expected, sizeof(expected));
	return valid;
}

/**
 * Write the status entries of a CTAA/CTDR
 */
static void write_statuses(private_cxtp_message_t *this, bio_writer_t *writer)
{
	enumerator_t *enumerator;
	cxtp_status_t *status;

	enumerator = array_create_enumerator(this->statuses);
	while (enumerator->enumerate(enumerator, &status))
	{
		writer->write_uint16(writer, status->fpt);
		writer->write_uint8(writer, status->status);
		writer->write_uint8(writer, 0);
	}
	enumerator->destroy(enumerator);
}

static uint8_t get_flags(private_cxtp_message_t *this);

/**
 * Compute the MAC of a CTAA sent from src to dst
 */
static bool compute_mac(private_cxtp_message_t *this, chunk_t key,
						host_t *src, host_t *dst, uint8_t *mac)
{
	bio_writer_t *writer;
	uint8_t header[2];
	bool ok;

	if (this->type != CXTP_CTAA)
	{
		return FALSE;
	}
	header[0] = (CXTP_VERSION << VERSION_SHIFT) | this->type;
	header[1] = get_flags(this) | FLAG_M;
	writer = bio_writer_create(STATUS_LEN * array_count(this->statuses));
	write_statuses(this, writer);
	ok = cxtp_token_ctaa_mac(key, chunk_from_thing(header), this->mn,
							 this->sequence, writer->get_buf(writer), src, dst,
							 mac);
	writer->destroy(writer);
	return ok;
}

METHOD(cxtp_message_t, sign_ctaa, bool,
	private_cxtp_message_t *this, chunk_t key, host_t *src, host_t *dst)
{
	if (!compute_mac(this, key, src, dst, this->mac))
	{
		return FALSE;
	}
	this->has_mac = TRUE;
	return TRUE;
}

METHOD(cxtp_message_t, verify_ctaa, bool,
	private_cxtp_message_t *this, chunk_t key, host_t *src, host_t *dst)
{
	uint8_t expected[CXTP_CTAA_MAC_LEN];
	bool valid;

	if (!this->has_mac || !compute_mac(this, key, src, dst, expected))
	{
		return FALSE;
	}
	valid = memeq_const(expected, this->mac, sizeof(expected));
	memwipe(expected, sizeof(expected));
	return valid;
}

METHOD(cxtp_message_t, is_authenticated, bool,
	private_cxtp_message_t *this)
{
	return this->has_mac;
}

/**
 * Get the length of the encoded message
 */
static size_t get_length(private_cxtp_message_t *this)
{
	size_t len, addr_len;

	addr_len = this->mn->get_address(this->mn).len;
	len = HEADER_LEN + addr_len;
	if (this->has_transfer_id)
	{
		len += TRANSFER_ID_LEN;
	}
	switch (this->type)
	{
		case CXTP_CTREQ:
			if (this->ike.len)
			{
				len += IKE_HEADER_LEN + round_up(this->ike.len, 4);
			}
			else if (this->ar && this->src && this->dst)
			{
				len += addr_len + BINDING_HEADER_LEN +
					   this->src->get_address(this->src).len +
					   this->dst->get_address(this->dst).len;
			}
			len += 2 * sizeof(uint32_t);
			break;
		case CXTP_CTAR:
			len += addr_len + 2 * sizeof(uint32_t);
			break;
		case CXTP_CTD:
		case CXTP_PCTD:
			len += sizeof(uint32_t);
			if (has_key(this))
			{
				len += KEY_HEADER_LEN + round_up(this->key.len, 4);
			}
			break;
		case CXTP_CTAA:
			if (this->has_mac)
			{
				len += sizeof(uint32_t) + CXTP_CTAA_MAC_LEN;
			}
			/* fall-through */
		case CXTP_CTDR:
			len += STATUS_LEN * array_count(this->statuses);
			break;
		case CXTP_CTC:
			break;
	}
	return len + write_cdbs(this, NULL);
}

/**
 * Get the flags octet of the header
 */
static uint8_t get_flags(private_cxtp_message_t *this)
{
	uint8_t flags = 0;

	if (this->mn->get_family(this->mn) == AF_INET)
	{
		flags |= FLAG_V;
	}
	if (has_ack(this->type) && this->ack)
	{
		flags |= FLAG_A;
	}
	if (this->type == CXTP_CTDR && this->success)
	{
		flags |= FLAG_S;
	}
	if (this->type == CXTP_CTD && has_key(this))
	{
		flags |= FLAG_K;
	}
	if (this->type == CXTP_PCTD && this->takeover)
	{
		flags |= FLAG_T;
	}
	if (this->has_transfer_id)
	{
		flags |= FLAG_R;
	}
	if (this->type == CXTP_CTAA && this->has_mac)
	{
		flags |= FLAG_M;
	}
	if (this->type == CXTP_CTREQ && this->ike.len)
	{
		flags |= FLAG_I;
	}
	else if (this->type == CXTP_CTREQ && this->ar && this->src && this->dst)
	{
		flags |= FLAG_B;
	}
	return flags;
}

/**
 * Write the fields of the message between the header and the CDBs
 */
static void write_fields(private_cxtp_message_t *this, bio_writer_t *writer)
{
	size_t pad;

	if (has_data(this->type))
	{
		writer->write_uint32(writer, this->elapsed);
	}
	writer->write_data(writer, this->mn->get_address(this->mn));
	if (this->has_transfer_id)
	{
		writer->write_data(writer, chunk_from_thing(this->transfer_id.spi_i));
		writer->write_data(writer, chunk_from_thing(this->transfer_id.spi_r));
		writer->write_uint32(writer, this->transfer_id.serial);
	}
	switch (this->type)
	{
		case CXTP_CTREQ:
			if (this->ike.len)
			{
				writer->write_uint16(writer, this->ike.len);
				writer->write_uint16(writer, 0);
				writer->write_data(writer, this->ike);
				pad = pad_len(this->ike.len, 4);
				memset(writer->skip(writer, pad).ptr, 0, pad);
			}
			if (!(get_flags(this) & FLAG_B))
			{
				writer->write_uint32(writer, this->sequence);
				writer->write_uint32(writer, this->token);
				break;
			}
			writer->write_data(writer, this->ar->get_address(this->ar));
			writer->write_uint8(writer, this->src->get_address(this->src).len);
			writer->write_uint8(writer, this->dst->get_address(this->dst).len);
			writer->write_uint16(writer, 0);
			writer->write_data(writer, this->src->get_address(this->src));
			writer->write_data(writer, this->dst->get_address(this->dst));
			writer->write_uint32(writer, this->sequence);
			writer->write_uint32(writer, this->token);
			break;
		case CXTP_CTAR:
			writer->write_data(writer, this->ar->get_address(this->ar));
			writer->write_uint32(writer, this->sequence);
			writer->write_uint32(writer, this->token);
			break;
		case CXTP_CTD:
		case CXTP_PCTD:
			if (has_key(this))
			{
				writer->write_uint16(writer, CXTP_KEY_ALG_HMAC_SHA1);
				writer->write_uint16(writer, this->key.len);
				writer->write_data(writer, this->key);
				pad = pad_len(this->key.len, 4);
				memset(writer->skip(writer, pad).ptr, 0, pad);
			}
			break;
		case CXTP_CTAA:
			if (this->has_mac)
			{
				writer->write_uint32(writer, this->sequence);
				writer->write_data(writer, chunk_from_thing(this->mac));
			}
			/* fall-through */
		case CXTP_CTDR:
			write_statuses(this, writer);
			break;
		case CXTP_CTC:
			break;
	}
}

METHOD(cxtp_message_t, encode, chunk_t,
	private_cxtp_message_t *this)
{
	bio_writer_t *writer;
	chunk_t encoding;
	size_t len;

	if (this->type == CXTP_CTAR && !this->ar)
	{
		DBG1(DBG_ENC, "CXTP: %N lacks the access router address",
			 cxtp_message_type_names, this->type);
		return chunk_empty;
	}
	if (this->type == CXTP_PCTD && !this->key.len)
	{
		DBG1(DBG_ENC, "CXTP: %N lacks the token key",
			 cxtp_message_type_names, this->type);
		return chunk_empty;
	}
	len = get_length(this);
	if (len > UINT16_MAX)
	{
		DBG1(DBG_ENC, "CXTP: %N of %zu octets exceeds the maximum of %d",
			 cxtp_message_type_names, this->type, len, UINT16_MAX);
		return chunk_empty;
	}
	/* exactly sized, so no realloc() leaves copies of keys behind */
	writer = bio_writer_create(len);
	writer->write_uint8(writer, (CXTP_VERSION << VERSION_SHIFT) | this->type);
	writer->write_uint8(writer, get_flags(this));
	writer->write_uint16(writer, len);
	write_fields(this, writer);
	write_cdbs(this, writer);
	encoding = writer->extract_buf(writer);
	writer->destroy(writer);
	return encoding;
}

/**
 * Parse an address of the given family
 */
static bool parse_address(private_cxtp_message_t *this, bio_reader_t *reader,
						  int family, host_t **host, char *name)
{
	chunk_t address;
	size_t len;

	len = family == AF_INET ? 4 : 16;
	if (!has(reader, len) || !reader->read_data(reader, len, &address))
	{
		DBG1(DBG_ENC, "CXTP: %N truncated in the %s",
			 cxtp_message_type_names, this->type, name);
		return FALSE;
	}
	*host = host_create_from_chunk(family, address, 0);
	return *host != NULL;
}

/**
 * Parse an address of a given length, 4 or 16
 */
static bool parse_sized_address(private_cxtp_message_t *this,
								bio_reader_t *reader, uint8_t len,
								host_t **host, char *name)
{
	if (len != 4 && len != 16)
	{
		DBG1(DBG_ENC, "CXTP: %N has a %s of invalid length %u",
			 cxtp_message_type_names, this->type, name, len);
		return FALSE;
	}
	return parse_address(this, reader, len == 4 ? AF_INET : AF_INET6, host,
						 name);
}

/**
 * Parse the CTAR's access router address, IP source and IP destination a
 * CT-Req carries
 */
static bool parse_binding(private_cxtp_message_t *this, bio_reader_t *reader,
						  int family)
{
	uint8_t src_len, dst_len;
	uint16_t reserved;

	if (!parse_address(this, reader, family, &this->ar,
					   "access router address"))
	{
		return FALSE;
	}
	if (!has(reader, BINDING_HEADER_LEN) ||
		!reader->read_uint8(reader, &src_len) ||
		!reader->read_uint8(reader, &dst_len) ||
		!reader->read_uint16(reader, &reserved))
	{
		DBG1(DBG_ENC, "CXTP: %N truncated in the CTAR's address lengths",
			 cxtp_message_type_names, this->type);
		return FALSE;
	}
	return parse_sized_address(this, reader, src_len, &this->src,
							   "CTAR's source address") &&
		   parse_sized_address(this, reader, dst_len, &this->dst,
							   "CTAR's destination address");
}

/**
 * Parse the IKE request a CT-Req carries
 */
static bool parse_ike_request(private_cxtp_message_t *this,
							  bio_reader_t *reader)
{
	uint16_t len, reserved;
	chunk_t packet, padding;

	if (!has(reader, IKE_HEADER_LEN) ||
		!reader->read_uint16(reader, &len) ||
		!reader->read_uint16(reader, &reserved))
	{
		DBG1(DBG_ENC, "CXTP: %N truncated in the IKE request's length",
			 cxtp_message_type_names, this->type);
		return FALSE;
	}
	if (!len || len > CXTP_IKE_REQUEST_MAX)
	{
		DBG1(DBG_ENC, "CXTP: %N carries an IKE request of %u octets, "
			 "expected 1 to %d", cxtp_message_type_names, this->type, len,
			 CXTP_IKE_REQUEST_MAX);
		return FALSE;
	}
	if (!has(reader, round_up(len, 4)) ||
		!reader->read_data(reader, len, &packet) ||
		!reader->read_data(reader, pad_len(len, 4), &padding))
	{
		DBG1(DBG_ENC, "CXTP: %N IKE request of %u octets overruns the "
			 "message", cxtp_message_type_names, this->type, len);
		return FALSE;
	}
	this->ike = chunk_clone(packet);
	return TRUE;
}

/**
 * Parse the sequence number and MAC of a CTAA
 */
static bool parse_mac(private_cxtp_message_t *this, bio_reader_t *reader)
{
	chunk_t mac;

	if (!has(reader, sizeof(uint32_t) + CXTP_CTAA_MAC_LEN) ||
		!reader->read_uint32(reader, &this->sequence) ||
		!reader->read_data(reader, CXTP_CTAA_MAC_LEN, &mac))
	{
		DBG1(DBG_ENC, "CXTP: %N truncated in the sequence number or MAC",
			 cxtp_message_type_names, this->type);
		return FALSE;
	}
	memcpy(this->mac, mac.ptr, CXTP_CTAA_MAC_LEN);
	this->has_mac = TRUE;
	return TRUE;
}

/**
 * Parse the token key of a CTD/PCTD
 */
static bool parse_key(private_cxtp_message_t *this, bio_reader_t *reader)
{
	chunk_t key;
	uint16_t alg, len;

	if (!has(reader, KEY_HEADER_LEN) ||
		!reader->read_uint16(reader, &alg) ||
		!reader->read_uint16(reader, &len))
	{
		DBG1(DBG_ENC, "CXTP: %N truncated in the key algorithm and length",
			 cxtp_message_type_names, this->type);
		return FALSE;
	}
	if (alg != CXTP_KEY_ALG_HMAC_SHA1)
	{
		DBG1(DBG_ENC, "CXTP: %N uses unsupported token algorithm %u",
			 cxtp_message_type_names, this->type, alg);
		return FALSE;
	}
	if (!len || len > CXTP_KEY_MAX_LEN)
	{
		DBG1(DBG_ENC, "CXTP: %N has invalid key length %u",
			 cxtp_message_type_names, this->type, len);
		return FALSE;
	}
	if (!has(reader, round_up(len, 4)) ||
		!reader->read_data(reader, round_up(len, 4), &key))
	{
		DBG1(DBG_ENC, "CXTP: %N key of %u octets overruns the message",
			 cxtp_message_type_names, this->type, len);
		return FALSE;
	}
	this->key = chunk_clone(chunk_create(key.ptr, len));
	return TRUE;
}

/**
 * Parse the transfer ID following the MN's previous address
 */
static bool parse_transfer_id(private_cxtp_message_t *this,
							  bio_reader_t *reader)
{
	chunk_t spi_i, spi_r;

	if (!has(reader, TRANSFER_ID_LEN) ||
		!reader->read_data(reader, sizeof(uint64_t), &spi_i) ||
		!reader->read_data(reader, sizeof(uint64_t), &spi_r) ||
		!reader->read_uint32(reader, &this->transfer_id.serial))
	{
		DBG1(DBG_ENC, "CXTP: %N truncated in the transfer ID",
			 cxtp_message_type_names, this->type);
		return FALSE;
	}
	if (!this->transfer_id.serial)
	{
		DBG1(DBG_ENC, "CXTP: %N has a transfer ID with serial 0",
			 cxtp_message_type_names, this->type);
		return FALSE;
	}
	memcpy(&this->transfer_id.spi_i, spi_i.ptr, sizeof(uint64_t));
	memcpy(&this->transfer_id.spi_r, spi_r.ptr, sizeof(uint64_t));
	this->has_transfer_id = TRUE;
	return TRUE;
}

/**
 * Parse the request blocks of a CTAR/CT-Req
 */
static bool parse_requests(private_cxtp_message_t *this, bio_reader_t *reader)
{
	cxtp_cdb_t cdb = {};
	uint8_t words, flags;

	while (reader->remaining(reader))
	{
		if (!has(reader, CDB_HEADER_LEN) ||
			!reader->read_uint16(reader, &cdb.fpt) ||
			!reader->read_uint8(reader, &words) ||
			!reader->read_uint8(reader, &flags))
		{
			DBG1(DBG_ENC, "CXTP: %N truncated in a request CDB",
				 cxtp_message_type_names, this->type);
			return FALSE;
		}
		if (words)
		{
			DBG1(DBG_ENC, "CXTP: %N request CDB for FPT 0x%04x has Length %u, "
				 "expected 0", cxtp_message_type_names, this->type, cdb.fpt,
				 words);
			return FALSE;
		}
		array_insert(this->cdbs, ARRAY_TAIL, &cdb);
	}
	return TRUE;
}

/**
 * Read the wire CDBs that make up one context data block, collecting the
 * parts of its framed data (pointing into the message).
 */
static bool read_cdb_parts(private_cxtp_message_t *this, bio_reader_t *reader,
						   cxtp_cdb_t *cdb, array_t *parts, size_t *total)
{
	chunk_t part;
	uint16_t fpt;
	uint8_t words, flags;
	bool first = TRUE;

	do
	{
		if (!first && !reader->remaining(reader))
		{
			DBG1(DBG_ENC, "CXTP: %N continued CDB for FPT 0x%04x is the last "
				 "one", cxtp_message_type_names, this->type, cdb->fpt);
			return FALSE;
		}
		if (!has(reader, CDB_HEADER_LEN) ||
			!reader->read_uint16(reader, &fpt) ||
			!reader->read_uint8(reader, &words) ||
			!reader->read_uint8(reader, &flags))
		{
			DBG1(DBG_ENC, "CXTP: %N truncated in a CDB header",
				 cxtp_message_type_names, this->type);
			return FALSE;
		}
		if (first)
		{
			cdb->fpt = fpt;
		}
		else if (fpt != cdb->fpt)
		{
			DBG1(DBG_ENC, "CXTP: %N continued CDB for FPT 0x%04x is followed "
				 "by FPT 0x%04x", cxtp_message_type_names, this->type,
				 cdb->fpt, fpt);
			return FALSE;
		}
		if (!words)
		{
			DBG1(DBG_ENC, "CXTP: %N CDB for FPT 0x%04x has Length 0",
				 cxtp_message_type_names, this->type, fpt);
			return FALSE;
		}
		if (!has(reader, words * CDB_WORD - CDB_HEADER_LEN) ||
			!reader->read_data(reader, words * CDB_WORD - CDB_HEADER_LEN,
							   &part))
		{
			DBG1(DBG_ENC, "CXTP: %N CDB for FPT 0x%04x of %u octets overruns "
				 "the message", cxtp_message_type_names, this->type, fpt,
				 words * CDB_WORD);
			return FALSE;
		}
		if (flags & CDB_FLAG_P)
		{
			if (!first)
			{
				DBG1(DBG_ENC, "CXTP: %N continued CDB for FPT 0x%04x repeats "
					 "the presence vector", cxtp_message_type_names,
					 this->type, fpt);
				return FALSE;
			}
			/* a Length of at least one word always leaves room for it */
			cdb->presence = untoh32(part.ptr);
			cdb->has_presence = TRUE;
			part = chunk_skip(part, PRESENCE_LEN);
		}
		array_insert(parts, ARRAY_TAIL, &part);
		*total += part.len;
		first = FALSE;
	}
	while (flags & CDB_FLAG_C);

	return TRUE;
}

/**
 * Parse one context data block of a CTD/PCTD, joining continued wire CDBs
 */
static bool parse_data_cdb(private_cxtp_message_t *this, bio_reader_t *reader)
{
	enumerator_t *enumerator;
	cxtp_cdb_t cdb = {};
	array_t *parts;
	chunk_t joined, *part;
	size_t total = 0, pos = 0;
	uint32_t len;

	parts = array_create(sizeof(chunk_t), 0);
	if (!read_cdb_parts(this, reader, &cdb, parts, &total))
	{
		array_destroy(parts);
		return FALSE;
	}
	if (total < FRAMING_LEN)
	{
		DBG1(DBG_ENC, "CXTP: %N CDB for FPT 0x%04x leaves no room for the data "
			 "length after its presence vector", cxtp_message_type_names,
			 this->type, cdb.fpt);
		array_destroy(parts);
		return FALSE;
	}
	joined = chunk_alloc(total);
	enumerator = array_create_enumerator(parts);
	while (enumerator->enumerate(enumerator, &part))
	{
		if (part->len)
		{
			memcpy(joined.ptr + pos, part->ptr, part->len);
			pos += part->len;
		}
	}
	enumerator->destroy(enumerator);
	array_destroy(parts);

	len = untoh32(joined.ptr);
	if (len > total - FRAMING_LEN)
	{
		DBG1(DBG_ENC, "CXTP: %N CDB for FPT 0x%04x announces %u octets of "
			 "data but carries %zu", cxtp_message_type_names, this->type,
			 cdb.fpt, len, total - FRAMING_LEN);
		chunk_clear(&joined);
		return FALSE;
	}
	if (total - FRAMING_LEN - len >= CDB_WORD)
	{
		DBG1(DBG_ENC, "CXTP: %N CDB for FPT 0x%04x announces %u octets of "
			 "data but its Length leaves %zu octets of padding",
			 cxtp_message_type_names, this->type, cdb.fpt, len,
			 total - FRAMING_LEN - len);
		chunk_clear(&joined);
		return FALSE;
	}
	/* the 16-bit message Length keeps this from triggering today, but the
	 * limit must not depend on the transport */
	if (len > CXTP_CDB_MAX_DATA)
	{
		DBG1(DBG_ENC, "CXTP: %N CDB for FPT 0x%04x with %u octets of data "
			 "exceeds the maximum of %d", cxtp_message_type_names, this->type,
			 cdb.fpt, len, CXTP_CDB_MAX_DATA);
		chunk_clear(&joined);
		return FALSE;
	}
	/* reuse the buffer to avoid another copy of the context's keys, but wipe
	 * what remains of them behind the data */
	memmove(joined.ptr, joined.ptr + FRAMING_LEN, len);
	memwipe(joined.ptr + len, joined.len - len);
	if (len)
	{
		cdb.data = chunk_create(joined.ptr, len);
	}
	else
	{
		chunk_free(&joined);
	}
	array_insert(this->cdbs, ARRAY_TAIL, &cdb);
	return TRUE;
}

/**
 * Parse the status entries of a CTAA/CTDR
 */
static bool parse_statuses(private_cxtp_message_t *this, bio_reader_t *reader)
{
	cxtp_status_t status = {};
	uint8_t reserved;

	while (reader->remaining(reader))
	{
		if (!has(reader, STATUS_LEN) ||
			!reader->read_uint16(reader, &status.fpt) ||
			!reader->read_uint8(reader, &status.status) ||
			!reader->read_uint8(reader, &reserved))
		{
			DBG1(DBG_ENC, "CXTP: %N truncated in a status entry",
				 cxtp_message_type_names, this->type);
			return FALSE;
		}
		array_insert(this->statuses, ARRAY_TAIL, &status);
	}
	return TRUE;
}

/**
 * Parse the context data blocks of a CTD/PCTD
 */
static bool parse_data_cdbs(private_cxtp_message_t *this, bio_reader_t *reader)
{
	while (reader->remaining(reader))
	{
		if (!parse_data_cdb(this, reader))
		{
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * Parse everything following the message header
 */
static bool parse_body(private_cxtp_message_t *this, bio_reader_t *reader,
					   uint8_t flags)
{
	int family;

	family = (flags & FLAG_V) ? AF_INET : AF_INET6;
	if (has_ack(this->type))
	{
		this->ack = flags & FLAG_A;
	}
	if (this->type == CXTP_CTDR)
	{
		this->success = flags & FLAG_S;
	}
	if (this->type == CXTP_PCTD)
	{
		this->takeover = flags & FLAG_T;
	}
	if (has_data(this->type) &&
		(!has(reader, sizeof(uint32_t)) ||
		 !reader->read_uint32(reader, &this->elapsed)))
	{
		DBG1(DBG_ENC, "CXTP: %N truncated in the elapsed time",
			 cxtp_message_type_names, this->type);
		return FALSE;
	}
	if (!parse_address(this, reader, family, &this->mn,
					   "MN's previous address"))
	{
		return FALSE;
	}
	/* R is a flag of the messages between access routers only */
	if ((flags & FLAG_R) && has_transfer(this->type) &&
		!parse_transfer_id(this, reader))
	{
		return FALSE;
	}
	switch (this->type)
	{
		case CXTP_CTAR:
			if (!parse_address(this, reader, family, &this->ar,
							   "access router address"))
			{
				return FALSE;
			}
			/* fall-through */
		case CXTP_CTREQ:
			if (this->type == CXTP_CTREQ && (flags & FLAG_I) &&
				(flags & FLAG_B))
			{
				DBG1(DBG_ENC, "CXTP: %N carries both a CTAR's addresses and "
					 "an IKE request", cxtp_message_type_names, this->type);
				return FALSE;
			}
			if (this->type == CXTP_CTREQ && (flags & FLAG_I) &&
				!parse_ike_request(this, reader))
			{
				return FALSE;
			}
			if (this->type == CXTP_CTREQ && (flags & FLAG_B) &&
				!parse_binding(this, reader, family))
			{
				return FALSE;
			}
			if (!has(reader, 2 * sizeof(uint32_t)) ||
				!reader->read_uint32(reader, &this->sequence) ||
				!reader->read_uint32(reader, &this->token))
			{
				DBG1(DBG_ENC, "CXTP: %N truncated in the sequence number or "
					 "token", cxtp_message_type_names, this->type);
				return FALSE;
			}
			return parse_requests(this, reader);
		case CXTP_CTD:
			if ((flags & FLAG_K) && !parse_key(this, reader))
			{
				return FALSE;
			}
			return parse_data_cdbs(this, reader);
		case CXTP_PCTD:
			return parse_key(this, reader) && parse_data_cdbs(this, reader);
		case CXTP_CTAA:
			if ((flags & FLAG_M) && !parse_mac(this, reader))
			{
				return FALSE;
			}
			/* fall-through */
		case CXTP_CTDR:
			return parse_statuses(this, reader);
		case CXTP_CTC:
			if (reader->remaining(reader))
			{
				DBG1(DBG_ENC, "CXTP: %N has %u unexpected octets after the "
					 "MN's previous address", cxtp_message_type_names,
					 this->type, reader->remaining(reader));
				return FALSE;
			}
			return TRUE;
	}
	return FALSE;
}

METHOD(cxtp_message_t, destroy, void,
	private_cxtp_message_t *this)
{
	enumerator_t *enumerator;
	cxtp_cdb_t *cdb;

	enumerator = array_create_enumerator(this->cdbs);
	while (enumerator->enumerate(enumerator, &cdb))
	{
		chunk_clear(&cdb->data);
	}
	enumerator->destroy(enumerator);
	array_destroy(this->cdbs);
	array_destroy(this->statuses);
	chunk_clear(&this->key);
	DESTROY_IF(this->mn);
	DESTROY_IF(this->ar);
	DESTROY_IF(this->src);
	DESTROY_IF(this->dst);
	chunk_free(&this->ike);
	free(this);
}

/**
 * Create a message of a known type without addresses
 */
static private_cxtp_message_t *create_empty(cxtp_message_type_t type)
{
	private_cxtp_message_t *this;

	INIT(this,
		.public = {
			.get_type = _get_type,
			.get_mn_address = _get_mn_address,
			.set_ar_address = _set_ar_address,
			.get_ar_address = _get_ar_address,
			.set_ack = _set_ack,
			.get_ack = _get_ack,
			.set_takeover = _set_takeover,
			.get_takeover = _get_takeover,
			.set_success = _set_success,
			.get_success = _get_success,
			.set_sequence = _set_sequence,
			.get_sequence = _get_sequence,
			.set_token = _set_token,
			.get_token = _get_token,
			.sign_token = _sign_token,
			.verify_token = _verify_token,
			.set_ctar_addresses = _set_ctar_addresses,
			.get_ctar_source = _get_ctar_source,
			.get_ctar_destination = _get_ctar_destination,
			.set_ike_request = _set_ike_request,
			.get_ike_request = _get_ike_request,
			.sign_ctaa = _sign_ctaa,
			.verify_ctaa = _verify_ctaa,
			.is_authenticated = _is_authenticated,
			.set_elapsed = _set_elapsed,
			.get_elapsed = _get_elapsed,
			.set_transfer_id = _set_transfer_id,
			.get_transfer_id = _get_transfer_id,
			.set_key = _set_key,
			.get_key = _get_key,
			.add_cdb = _add_cdb,
			.add_cdb_presence = _add_cdb_presence,
			.create_cdb_enumerator = _create_cdb_enumerator,
			.add_status = _add_status,
			.create_status_enumerator = _create_status_enumerator,
			.get_cdb_bytes = _get_cdb_bytes,
			.encode = _encode,
			.destroy = _destroy,
		},
		.type = type,
		.cdbs = array_create(sizeof(cxtp_cdb_t), 0),
		.statuses = array_create(sizeof(cxtp_status_t), 0),
	);

	return this;
}

/**
 * Check if a message type is known
 */
static bool is_known_type(u_int type)
{
	return type >= CXTP_CTAR && type <= CXTP_CTREQ;
}

/*
 * Described in header
 */
cxtp_message_t *cxtp_message_create(cxtp_message_type_t type,
									host_t *mn_address)
{
	private_cxtp_message_t *this;

	if (!is_known_type(type) || !mn_address ||
		(mn_address->get_family(mn_address) != AF_INET &&
		 mn_address->get_family(mn_address) != AF_INET6))
	{
		return NULL;
	}
	this = create_empty(type);
	this->mn = clone_address(mn_address);
	return &this->public;
}

/*
 * Described in header
 */
cxtp_message_t *cxtp_message_parse(chunk_t data)
{
	private_cxtp_message_t *this;
	bio_reader_t *reader;
	uint8_t version, type, flags;
	uint16_t len;
	bool ok;

	reader = bio_reader_create(data);
	if (!has(reader, HEADER_LEN) ||
		!reader->read_uint8(reader, &type) ||
		!reader->read_uint8(reader, &flags) ||
		!reader->read_uint16(reader, &len))
	{
		DBG1(DBG_ENC, "CXTP: message of %zu octets is shorter than the header",
			 data.len);
		reader->destroy(reader);
		return NULL;
	}
	version = type >> VERSION_SHIFT;
	type &= TYPE_MASK;
	if (version != CXTP_VERSION)
	{
		DBG1(DBG_ENC, "CXTP: message of type %u has unsupported version %u",
			 type, version);
		reader->destroy(reader);
		return NULL;
	}
	if (!is_known_type(type))
	{
		DBG1(DBG_ENC, "CXTP: message has unknown type %u", type);
		reader->destroy(reader);
		return NULL;
	}
	if (len != data.len)
	{
		DBG1(DBG_ENC, "CXTP: %N Length field says %u octets, but %zu were "
			 "received", cxtp_message_type_names, type, len, data.len);
		reader->destroy(reader);
		return NULL;
	}
	this = create_empty(type);
	ok = parse_body(this, reader, flags);
	reader->destroy(reader);
	if (!ok)
	{
		destroy(this);
		return NULL;
	}
	return &this->public;
}
