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
 * @defgroup mobike_spi_notify mobike_spi_notify
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_NOTIFY_H_
#define MOBIKE_SPI_NOTIFY_H_

#include <encoding/message.h>
#include <encoding/payloads/notify_payload.h>

/**
 * UPDATE_SPI, a private-use status notify (strongSwan uses 40960-40969):
 * the sender replaces one SPI of an SA it shares with the receiver.
 *
 * Protocol ID 2 (AH) or 3 (ESP): SPI size 4, the SPI field holds the SPI
 * to replace. Protocol ID 1 (IKE): SPI size 0, as RFC 7296 wants for IKE
 * notifies, the D flag names the IKE SPI to replace. Data: the new SPI
 * (4 octets for AH/ESP, 8 for IKE) followed by one octet of flags, the D
 * flag in its most significant bit (0: the SPI the original initiator of
 * the IKE_SA chose, 1: the original responder's), the others zero.
 *
 * In a response the receiver repeats each UPDATE_SPI it applied.
 */
#define MOBIKE_SPI_UPDATE_SPI 40980

/**
 * UPDATE_SPI_SUPPORTED, a private-use status notify without data, sent in
 * IKE_AUTH by a peer that processes UPDATE_SPI.
 */
#define MOBIKE_SPI_UPDATE_SPI_SUPPORTED 40981

/**
 * UPDATE_SPI_FAILED, a private-use error notify in a response, rejecting
 * one UPDATE_SPI: protocol ID, SPI and data copied from it. Nothing of the
 * request was applied.
 */
#define MOBIKE_SPI_UPDATE_SPI_FAILED 8420

/**
 * Private ike_extension_t bit (strongSwan's end at 1<<16) set on an IKE_SA
 * whose peer announced UPDATE_SPI; a transferred context carries it with
 * the other extensions, so the new gateway knows without asking. Only set
 * for a peer that sent MOBIKE_SPI_VENDOR_ID.
 */
#define MOBIKE_SPI_EXT_PEER (1<<30)

/**
 * Vendor ID sent in IKE_SA_INIT by every IKE_SA, MD5 of "strongSwan cxtp
 * mobike-spi": the private numbers above are another vendor's elsewhere, so
 * they are sent only to a peer that sent it, and only such a peer's are
 * acted on.
 */
#define MOBIKE_SPI_VENDOR_ID chunk_from_chars( \
	0xe2,0x1e,0x6b,0xd6,0xd3,0x64,0xbf,0xc8, \
	0x68,0x65,0x4f,0x98,0xea,0xfb,0x17,0x38)

/**
 * Private ike_extension_t bit set on an IKE_SA whose peer sent
 * MOBIKE_SPI_VENDOR_ID, carried in a transferred context like
 * MOBIKE_SPI_EXT_PEER.
 */
#define MOBIKE_SPI_EXT_VENDOR (1<<29)

/**
 * D flag in the flags octet
 */
#define MOBIKE_SPI_FLAG_D 0x80

typedef struct mobike_spi_update_t mobike_spi_update_t;

/**
 * Contents of an UPDATE_SPI notify
 */
struct mobike_spi_update_t {
	/** PROTO_IKE, PROTO_AH or PROTO_ESP */
	protocol_id_t protocol;
	/** D flag: TRUE for the original responder's SPI */
	bool responder;
	/** SPI to replace (AH/ESP, network order), 0 for IKE */
	uint32_t spi;
	/** new SPI (AH/ESP, network order) */
	uint32_t new_spi;
	/** new SPI (IKE, network order) */
	uint64_t new_ike_spi;
};

typedef enum mobike_spi_answer_t mobike_spi_answer_t;

/**
 * What the receiver of an UPDATE_SPI answered
 */
enum mobike_spi_answer_t {
	/** nothing: it does not know UPDATE_SPI, or did not process it */
	MOBIKE_SPI_IGNORED,
	/** it applied it and repeated it */
	MOBIKE_SPI_APPLIED,
	/** it refused it with UPDATE_SPI_FAILED */
	MOBIKE_SPI_REJECTED,
};

typedef struct mobike_spi_result_t mobike_spi_result_t;

/**
 * An UPDATE_SPI sent and the receiver's answer
 */
struct mobike_spi_result_t {
	/** contents of the UPDATE_SPI */
	mobike_spi_update_t update;
	/** what the response said about it */
	mobike_spi_answer_t answer;
};

/**
 * Build an UPDATE_SPI notify, or its repetition in a response.
 *
 * @param update		its contents
 * @return				notify payload
 */
notify_payload_t *mobike_spi_notify_build(mobike_spi_update_t *update);

/**
 * Add an UPDATE_SPI notify to a message.
 *
 * @param message		message to add it to
 * @param update		its contents
 */
void mobike_spi_notify_add(message_t *message, mobike_spi_update_t *update);

/**
 * Build the UPDATE_SPI_FAILED rejecting an UPDATE_SPI notify.
 *
 * @param notify		rejected UPDATE_SPI
 * @return				UPDATE_SPI_FAILED notify payload
 */
notify_payload_t *mobike_spi_notify_failed(notify_payload_t *notify);

/**
 * Parse and check the form of an UPDATE_SPI (or UPDATE_SPI_FAILED) notify.
 *
 * @param notify		received notify
 * @param update		its contents, if well-formed
 * @return				NULL if well-formed, otherwise why not (static)
 */
char *mobike_spi_notify_parse(notify_payload_t *notify,
							  mobike_spi_update_t *update);

/**
 * Whether two UPDATE_SPI contents are the same.
 */
bool mobike_spi_notify_equals(mobike_spi_update_t *a, mobike_spi_update_t *b);

/**
 * What a response says about an UPDATE_SPI of the request.
 *
 * @param message		response
 * @param update		UPDATE_SPI of the request
 * @return				the receiver's answer
 */
mobike_spi_answer_t mobike_spi_notify_answer(message_t *message,
											 mobike_spi_update_t *update);

#endif /** MOBIKE_SPI_NOTIFY_H_ @}*/
