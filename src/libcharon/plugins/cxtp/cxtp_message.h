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

/**
 * @defgroup cxtp_message cxtp_message
 * @{ @ingroup cxtp
 */

#ifndef CXTP_MESSAGE_H_
#define CXTP_MESSAGE_H_

#include <library.h>
#include <networking/host.h>
#include <collections/enumerator.h>

/**
 * Protocol version of RFC 4067, the only one defined
 */
#define CXTP_VERSION 1

/**
 * Feature Profile Types of the contexts this plugin transfers.
 *
 * IANA has assigned no feature profile for IKEv2/IPsec contexts, so these
 * values are picked from the top of the 16-bit range, far away from the few
 * assigned ones (0x0000-0x0001).  They are defined here, and only here.
 */
#define CXTP_FPT_IKE_SA		0xff01
#define CXTP_FPT_CHILD_SA	0xff02
#define CXTP_FPT_PAD		0xff03

/**
 * Token algorithm in CTD/PCTD, HMAC_SHA1 is the only one RFC 4067 defines
 */
#define CXTP_KEY_ALG_HMAC_SHA1 1

/**
 * Maximum length of the token key in a CTD/PCTD (the HMAC-SHA1 block size,
 * longer keys would be hashed anyway)
 */
#define CXTP_KEY_MAX_LEN 64

/**
 * Maximum length of the data of a single (joined) context data block
 */
#define CXTP_CDB_MAX_DATA 65536

/**
 * Maximum length of the IKE request a CT-Req carries (a MOBIKE update is a
 * few hundred octets)
 */
#define CXTP_IKE_REQUEST_MAX 2048

typedef struct cxtp_message_t cxtp_message_t;
typedef struct cxtp_cdb_t cxtp_cdb_t;
typedef struct cxtp_status_t cxtp_status_t;
typedef struct cxtp_transfer_id_t cxtp_transfer_id_t;
typedef enum cxtp_message_type_t cxtp_message_type_t;

/**
 * CXTP message types (RFC 4067 section 2.5)
 */
enum cxtp_message_type_t {
	/** Context Transfer Activate Request, MN to AR */
	CXTP_CTAR = 1,
	/** Context Transfer Activate Acknowledge, AR to MN */
	CXTP_CTAA = 2,
	/** Context Transfer Data, pAR to nAR */
	CXTP_CTD = 3,
	/** Predictive Context Transfer Data, pAR to nAR */
	CXTP_PCTD = 4,
	/** Context Transfer Data Reply, nAR to pAR */
	CXTP_CTDR = 5,
	/** Context Transfer Cancel, nAR to pAR */
	CXTP_CTC = 6,
	/** Context Transfer Request, nAR to pAR */
	CXTP_CTREQ = 7,
};

/**
 * Enum names for cxtp_message_type_t
 */
extern enum_name_t *cxtp_message_type_names;

/**
 * A context data block (RFC 4067 section 2.4), after joining continued
 * blocks.
 */
struct cxtp_cdb_t {

	/** Feature Profile Type */
	uint16_t fpt;

	/** context data, empty for request blocks in CTAR and CT-Req */
	chunk_t data;

	/** presence vector, valid if has_presence is set */
	uint32_t presence;

	/** whether the block carries a presence vector */
	bool has_presence;
};

/**
 * A status entry of a CTAA or CTDR
 */
struct cxtp_status_t {

	/** Feature Profile Type the status is about */
	uint16_t fpt;

	/** status code, zero for success */
	uint8_t status;
};

/**
 * Names one transfer between two access routers: the IKE_SA by the SPIs pAR
 * holds it with, and pAR's serial of the push (or of the CTD answering a
 * CT-Req), so a late or repeated message of an earlier transfer of the same
 * IKE_SA, or of another IKE_SA of the same mobile node, is told apart.
 */
struct cxtp_transfer_id_t {

	/** IKE initiator SPI, network order */
	uint64_t spi_i;

	/** IKE responder SPI, network order */
	uint64_t spi_r;

	/** pAR's serial of the transfer, never 0 */
	uint32_t serial;
};

/**
 * Status code in a CTDR for a context nAR could not import or activate.
 */
#define CXTP_STATUS_FAILED 0x01

/**
 * Status code in a CTDR telling pAR that the mobile node activated the
 * context on nAR, so pAR may drop its copy; a project extension beside
 * RFC 4067's zero for success.
 */
#define CXTP_STATUS_ACTIVATED 0x80

/**
 * Status code in a CTDR telling pAR that nAR holds no context of the
 * transfer (withdrawn with a CTC, expired, or never received) and will not
 * activate it, so pAR may thaw its copy; a project extension.
 */
#define CXTP_STATUS_CANCELLED 0x81

/**
 * Status code in a CTDR without transfer ID answering a CT-Req: pAR holds no
 * context of the mobile node, so nAR stops asking; a project extension.
 */
#define CXTP_STATUS_NO_CONTEXT 0x82

/**
 * Status code in a CTDR telling pAR that the mobile node set up an IKE_SA
 * of its own with nAR instead of activating the context (a client without
 * MOBIKE re-establishes after its move), so nAR dropped its import and pAR
 * removes its copy rather than thaw it; a project extension.
 */
#define CXTP_STATUS_SUPERSEDED 0x83

/**
 * A CXTP message (RFC 4067), encoded and parsed.
 *
 * All addresses of a message share the family of the MN's previous address,
 * which sets the V flag.
 *
 * Context data blocks in CTD and PCTD deviate from RFC 4067 in two ways, as
 * its 8-bit Length in 8-octet words limits a block to 2040 octets and its zero
 * padding hides the real data length:
 *
 * - The data of a block is framed with a 32-bit big-endian length of the data
 *   that follows it, so zero padding at the end is unambiguous.
 * - The framed data is split over as many wire blocks as needed.  All but the
 *   last have the C ("continued", 0x40) flag set and carry no padding (the
 *   encoder fills them completely), all have the same FPT, and only the first
 *   may have a presence vector.  The last one's padding must be shorter than
 *   a word, so its Length matches the framed length.
 *
 * Request blocks in CTAR and CT-Req have no data: they are exactly the 4
 * octets of FPT, a Length of 0 and a flags octet.
 *
 * A CTD may carry the token key like a PCTD, signaled by the K (0x20) flag,
 * for the case RFC 4067 section 2.5.6 describes (CT-Req with a null token).
 *
 * A PCTD may ask nAR to take the IKE_SA over at once, signaled by the T
 * (0x02) flag: the mobile node stays where it is, the gateway address moves
 * to nAR, so nAR activates the context at its import, at the addresses it
 * names, without waiting for anything from the node. A receiver that does
 * not know the flag ignores it and waits for the node as for any PCTD.
 *
 * CTD, PCTD, CTDR and CTC, which only access routers exchange, may carry a
 * transfer ID (cxtp_transfer_id_t), signaled by the R (0x10) flag: 20
 * octets right after the MN's previous address, the two IKE SPIs followed by
 * the 32-bit serial. CTC goes from pAR to nAR here (RFC 4067 has nAR send
 * it): pAR withdraws a context it sent, nAR answers with a CTDR.
 *
 * The token of a CTAR covers more than RFC 4067's input (token v2, see
 * cxtp_token_input_t), including the CTAR's IP source and destination. A
 * CT-Req carries what pAR needs to verify it, signaled by the B (0x08)
 * flag: right after the MN's previous address the CTAR's access router
 * address (the family of the MN's address), one octet each with the length
 * (4 or 16) of the CTAR's IP source and IP destination, two reserved zero
 * octets, the source and the destination; then the sequence number and the
 * token as in RFC 4067. Its A flag is the CTAR's.
 *
 * A CT-Req may instead carry the IKE request of a mobile node that sends
 * no CTAR (a stock MOBIKE client), signaled by the I (0x04) flag, never
 * with B: right after the MN's previous address a 16-bit length of the
 * request, two reserved zero octets, the request as received (IKE header
 * first, so its SPIs name the IKE_SA) and zero padding to 4 octets; then
 * the sequence number and token as in RFC 4067, both zero.
 *
 * A CTAA may be authenticated, signaled by the M (0x20) flag: right after
 * the MN's previous address the sequence number of the CTAR it answers and
 * a MAC of CXTP_CTAA_MAC_LEN octets (cxtp_token_ctaa_mac()), then the
 * status entries.
 */
struct cxtp_message_t {

	/**
	 * Get the type of the message.
	 *
	 * @return			message type
	 */
	cxtp_message_type_t (*get_type)(cxtp_message_t *this);

	/**
	 * Get the MN's previous address, which identifies the MN.
	 *
	 * @return			address, internal object
	 */
	host_t* (*get_mn_address)(cxtp_message_t *this);

	/**
	 * Set the address of the other access router (CTAR, or the CTAR's in a
	 * CT-Req): pAR if sent to nAR, nAR if sent to pAR.
	 *
	 * @param ar		address, cloned, same family as the MN's address
	 * @return			FALSE if not a CTAR or the family does not match
	 */
	bool (*set_ar_address)(cxtp_message_t *this, host_t *ar);

	/**
	 * Get the address of the other access router (CTAR only).
	 *
	 * @return			address, internal object, NULL if not set
	 */
	host_t* (*get_ar_address)(cxtp_message_t *this);

	/**
	 * Set the A flag, requesting an acknowledgement (encoded in CTAR, CTD
	 * and PCTD only).
	 *
	 * @param ack		TRUE to request an acknowledgement
	 */
	void (*set_ack)(cxtp_message_t *this, bool ack);

	/**
	 * Check if the A flag is set.
	 *
	 * @return			TRUE if an acknowledgement is requested
	 */
	bool (*get_ack)(cxtp_message_t *this);

	/**
	 * Set the T flag, asking nAR to activate the context at its import
	 * (encoded in PCTD only).
	 *
	 * @param takeover	TRUE for a takeover
	 */
	void (*set_takeover)(cxtp_message_t *this, bool takeover);

	/**
	 * Check if the T flag is set.
	 *
	 * @return			TRUE if nAR is to activate the context at its import
	 */
	bool (*get_takeover)(cxtp_message_t *this);

	/**
	 * Set the S flag, indicating that all contexts were received
	 * successfully (encoded in CTDR only).
	 *
	 * @param success	TRUE if all contexts were received
	 */
	void (*set_success)(cxtp_message_t *this, bool success);

	/**
	 * Check if the S flag is set.
	 *
	 * @return			TRUE if all contexts were received
	 */
	bool (*get_success)(cxtp_message_t *this);

	/**
	 * Set the sequence number (encoded in CTAR, CT-Req and an authenticated
	 * CTAA only).
	 *
	 * @param sequence	sequence number
	 */
	void (*set_sequence)(cxtp_message_t *this, uint32_t sequence);

	/**
	 * Get the sequence number.
	 *
	 * @return			sequence number
	 */
	uint32_t (*get_sequence)(cxtp_message_t *this);

	/**
	 * Set the MN authorization token (encoded in CTAR and CT-Req only).
	 *
	 * @param token		authorization token, 0 for the null token
	 */
	void (*set_token)(cxtp_message_t *this, uint32_t token);

	/**
	 * Get the MN authorization token.
	 *
	 * @return			authorization token, 0 for the null token
	 */
	uint32_t (*get_token)(cxtp_message_t *this);

	/**
	 * Set the time elapsed since the first CTD for this MN (encoded in CTD
	 * and PCTD only).
	 *
	 * @param elapsed	elapsed time in ms
	 */
	void (*set_elapsed)(cxtp_message_t *this, uint32_t elapsed);

	/**
	 * Get the time elapsed since the first CTD for this MN.
	 *
	 * @return			elapsed time in ms
	 */
	uint32_t (*get_elapsed)(cxtp_message_t *this);

	/**
	 * Set the transfer ID (CTD, PCTD, CTDR and CTC only).
	 *
	 * @param id		transfer ID, copied
	 * @return			FALSE if the message type carries none
	 */
	bool (*set_transfer_id)(cxtp_message_t *this, cxtp_transfer_id_t *id);

	/**
	 * Get the transfer ID.
	 *
	 * @param id		receives the transfer ID
	 * @return			FALSE if the message carries none
	 */
	bool (*get_transfer_id)(cxtp_message_t *this, cxtp_transfer_id_t *id);

	/**
	 * Set the HMAC_SHA1 token key (CTD and PCTD only, required in PCTD).
	 *
	 * @param key		key of 1..CXTP_KEY_MAX_LEN octets, cloned
	 * @return			FALSE if the key length or message type is invalid
	 */
	bool (*set_key)(cxtp_message_t *this, chunk_t key);

	/**
	 * Get the HMAC_SHA1 token key.
	 *
	 * @return			key, internal data, chunk_empty if not set
	 */
	chunk_t (*get_key)(cxtp_message_t *this);

	/**
	 * Add a context data block (CTD/PCTD) or a request block (CTAR/CT-Req).
	 *
	 * @param fpt		Feature Profile Type
	 * @param data		context data (cloned), chunk_empty for a request block
	 * @return			FALSE if the block does not fit the message type or
	 *					the data exceeds CXTP_CDB_MAX_DATA
	 */
	bool (*add_cdb)(cxtp_message_t *this, uint16_t fpt, chunk_t data);

	/**
	 * Add a context data block with a presence vector (CTD/PCTD only).
	 *
	 * @param fpt		Feature Profile Type
	 * @param presence	presence vector
	 * @param data		context data, cloned
	 * @return			FALSE if not a CTD/PCTD or the data exceeds
	 *					CXTP_CDB_MAX_DATA
	 */
	bool (*add_cdb_presence)(cxtp_message_t *this, uint16_t fpt,
							 uint32_t presence, chunk_t data);

	/**
	 * Create an enumerator over the context data or request blocks, in the
	 * order they were added or received.
	 *
	 * @return			enumerator over cxtp_cdb_t*
	 */
	enumerator_t* (*create_cdb_enumerator)(cxtp_message_t *this);

	/**
	 * Add a status entry (CTAA/CTDR only).
	 *
	 * @param fpt		Feature Profile Type the status is about
	 * @param status	status code, zero for success
	 * @return			FALSE if not a CTAA/CTDR
	 */
	bool (*add_status)(cxtp_message_t *this, uint16_t fpt, uint8_t status);

	/**
	 * Create an enumerator over the status entries.
	 *
	 * @return			enumerator over cxtp_status_t*
	 */
	enumerator_t* (*create_status_enumerator)(cxtp_message_t *this);

	/**
	 * Get the encoded context data or request blocks, as they appear in the
	 * message.  For CTAR and CT-Req, these are the CDBs the authorization
	 * token covers.
	 *
	 * @return			allocated encoding, to free with chunk_clear()
	 */
	chunk_t (*get_cdb_bytes)(cxtp_message_t *this);

	/**
	 * Set the CTAR's IP source and destination a CT-Req carries for pAR to
	 * verify the token; encoded with its access router address.
	 *
	 * @param src		the CTAR's IP source, cloned without port
	 * @param dst		the CTAR's IP destination, cloned without port
	 * @return			FALSE if not a CT-Req
	 */
	bool (*set_ctar_addresses)(cxtp_message_t *this, host_t *src, host_t *dst);

	/**
	 * Get the CTAR's IP source a CT-Req carries.
	 *
	 * @return			address, internal object, NULL if none
	 */
	host_t* (*get_ctar_source)(cxtp_message_t *this);

	/**
	 * Get the CTAR's IP destination a CT-Req carries.
	 *
	 * @return			address, internal object, NULL if none
	 */
	host_t* (*get_ctar_destination)(cxtp_message_t *this);

	/**
	 * Set the IKE request a CT-Req carries instead of a CTAR's token: the
	 * mobile node's request to an IKE_SA the receiver holds, which
	 * authorizes the transfer if it verifies with that IKE_SA's keys.
	 *
	 * @param packet	the request as received, cloned
	 * @return			FALSE if not a CT-Req, empty or longer than
	 *					CXTP_IKE_REQUEST_MAX
	 */
	bool (*set_ike_request)(cxtp_message_t *this, chunk_t packet);

	/**
	 * Get the IKE request a CT-Req carries.
	 *
	 * @return			the request, internal data, chunk_empty if none
	 */
	chunk_t (*get_ike_request)(cxtp_message_t *this);

	/**
	 * Set the MN authorization token of a CTAR (token v2, see
	 * cxtp_token_input_t), computed over its fields and the addresses it is
	 * sent from and to, so sign it after setting them.
	 *
	 * @param key		token key of the transfer
	 * @param src		IP source the CTAR is sent from
	 * @param dst		IP destination the CTAR is sent to
	 * @return			TRUE if signed
	 */
	bool (*sign_token)(cxtp_message_t *this, chunk_t key, host_t *src,
					   host_t *dst);

	/**
	 * Verify the MN authorization token of a CTAR, or of the CTAR a CT-Req
	 * carries the token of.
	 *
	 * @param key		token key of the transfer
	 * @param src		IP source the CTAR came from, NULL for the one a
	 *					CT-Req carries
	 * @param dst		IP destination the CTAR was sent to, NULL for the one
	 *					a CT-Req carries
	 * @return			TRUE if the token is valid
	 */
	bool (*verify_token)(cxtp_message_t *this, chunk_t key, host_t *src,
						 host_t *dst);

	/**
	 * Authenticate a CTAA with the token key of the transfer it answers,
	 * after setting its sequence number and statuses.
	 *
	 * @param key		token key of the transfer
	 * @param src		IP source the CTAA is sent from
	 * @param dst		IP destination the CTAA is sent to
	 * @return			TRUE if authenticated
	 */
	bool (*sign_ctaa)(cxtp_message_t *this, chunk_t key, host_t *src,
					  host_t *dst);

	/**
	 * Verify the MAC of a CTAA.
	 *
	 * @param key		token key of the transfer
	 * @param src		IP source the CTAA came from
	 * @param dst		IP destination it was sent to
	 * @return			TRUE if it carries a valid MAC
	 */
	bool (*verify_ctaa)(cxtp_message_t *this, chunk_t key, host_t *src,
						host_t *dst);

	/**
	 * Check if a CTAA carries a MAC (valid or not).
	 *
	 * @return			TRUE if it carries one
	 */
	bool (*is_authenticated)(cxtp_message_t *this);

	/**
	 * Encode the message.
	 *
	 * @return			allocated encoding, to free with chunk_clear() as
	 *					it may contain keys, chunk_empty if the message lacks
	 *					a mandatory field or exceeds 65535 octets
	 */
	chunk_t (*encode)(cxtp_message_t *this);

	/**
	 * Destroy a cxtp_message_t, wiping all keys and context data.
	 */
	void (*destroy)(cxtp_message_t *this);
};

/**
 * Create an empty CXTP message to send.
 *
 * @param type			message type
 * @param mn_address	MN's previous address (IPv4 or IPv6), cloned
 * @return				message, NULL if the type or address is invalid
 */
cxtp_message_t *cxtp_message_create(cxtp_message_type_t type,
									host_t *mn_address);

/**
 * Parse a received CXTP message.
 *
 * @param data			encoded message, not referenced after returning
 * @return				message, NULL if the encoding is invalid
 */
cxtp_message_t *cxtp_message_parse(chunk_t data);

#endif /** CXTP_MESSAGE_H_ @}*/
