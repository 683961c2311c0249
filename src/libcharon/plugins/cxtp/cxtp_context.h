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
 * @defgroup cxtp_context cxtp_context
 * @{ @ingroup cxtp
 */

#ifndef CXTP_CONTEXT_H_
#define CXTP_CONTEXT_H_

#include <library.h>
#include <networking/host.h>
#include <utils/identification.h>
#include <collections/linked_list.h>
#include <selectors/traffic_selector.h>

/**
 * Derived IKE_SA keys of an IKE_SA, as RFC 7296 section 2.14 names them.
 */
typedef struct {
	chunk_t sk_d;
	chunk_t sk_ai;
	chunk_t sk_ar;
	chunk_t sk_ei;
	chunk_t sk_er;
	chunk_t sk_pi;
	chunk_t sk_pr;
} cxtp_ike_keys_t;

/**
 * Derived keys of a CHILD_SA, for the initiator's and responder's SA.
 */
typedef struct {
	/** whether we initiated the CHILD_SA (the _i keys protect our outbound) */
	bool initiator;
	chunk_t encr_i;
	chunk_t encr_r;
	chunk_t integ_i;
	chunk_t integ_r;
} cxtp_child_keys_t;

typedef struct cxtp_context_t cxtp_context_t;
typedef struct cxtp_ike_context_t cxtp_ike_context_t;
typedef struct cxtp_child_context_t cxtp_child_context_t;
typedef struct cxtp_pad_context_t cxtp_pad_context_t;

/**
 * What the new gateway needs to continue an IKE_SA (RFC 7296, RFC 5723
 * section 5 and the paper's section 3.1), seen from the gateway's side.
 */
struct cxtp_ike_context_t {
	/** IKE SPIs, network order as in ike_sa_id_t */
	uint64_t spi_i;
	uint64_t spi_r;
	/** whether the gateway is the original initiator */
	bool initiator;
	/** negotiated transforms (transform_type_t values of the IKE proposal) */
	uint16_t encr_alg;
	uint16_t encr_size;
	uint16_t integ_alg;
	uint16_t prf_alg;
	uint16_t ke_method;
	/** derived keys */
	cxtp_ike_keys_t keys;
	/** next message ID we initiate with / expect from the peer */
	uint32_t mid_initiate;
	uint32_t mid_respond;
	/** remaining seconds to rekeying, reauthentication and deletion, 0 none */
	uint32_t rekey_time;
	uint32_t reauth_time;
	uint32_t delete_time;
	/** gateway and peer (the MN's previous) addresses, with ports */
	host_t *local;
	host_t *remote;
	/** identities */
	identification_t *local_id;
	identification_t *remote_id;
	/** the peer's EAP identity, if it authenticated with EAP, or NULL */
	identification_t *remote_eap_id;
	/** ike_condition_t and ike_extension_t bits */
	uint32_t conditions;
	uint32_t extensions;
	/** virtual IPs assigned to the peer (host_t*), and the pool they came from */
	linked_list_t *remote_vips;
	char *pool;
	/** name of the peer config */
	char *peer_cfg;
	/** number of times this IKE_SA was transferred before, keys the token */
	uint32_t transfers;
};

/**
 * A CHILD_SA of the context, SAD and SPD data.
 */
struct cxtp_child_context_t {
	/** name of the child config */
	char *child_cfg;
	/** protocol_id_t, ipsec_mode_t */
	uint8_t protocol;
	uint8_t mode;
	/** UDP encapsulation */
	bool encap;
	/** SPIs, network order */
	uint32_t spi_in;
	uint32_t spi_out;
	/** negotiated transforms */
	uint16_t encr_alg;
	uint16_t encr_size;
	uint16_t integ_alg;
	bool esn;
	/** keys, and whether the gateway initiated the CHILD_SA */
	cxtp_child_keys_t keys;
	/** traffic selectors (traffic_selector_t*), local and remote */
	linked_list_t *local_ts;
	linked_list_t *remote_ts;
	/** replay state: last sequence number sent and highest received */
	uint64_t seq_out;
	uint64_t seq_in;
	uint32_t replay_window;
	chunk_t replay_bitmap;
	/** remaining seconds to rekeying and expiry, 0 none */
	uint32_t rekey_time;
	uint32_t expire_time;
};

/**
 * The PAD entry of the peer: what the new gateway needs to authenticate it
 * again (reauthentication) after the transfer.
 */
struct cxtp_pad_context_t {
	/** peer identity */
	identification_t *id;
	/** auth_class_t the peer used, and eap_type_t with AUTH_CLASS_EAP */
	uint8_t auth_class;
	uint8_t eap_type;
	/** shared_key_type_t and the secret for PSK/EAP, if the gateway has one */
	uint8_t secret_type;
	chunk_t secret;
	/** for public key authentication: subject of the peer's certificate */
	identification_t *cert_subject;
};

/**
 * The context of one mobile node: its IKE_SA, CHILD_SAs and PAD entry.
 */
struct cxtp_context_t {

	/** the IKE_SA */
	cxtp_ike_context_t ike;

	/** CHILD_SAs, cxtp_child_context_t* */
	linked_list_t *children;

	/** the PAD entry */
	cxtp_pad_context_t pad;

	/** on the new gateway, not encoded: whether the previous one took the
	 *  context while the mobile node could still receive from it (a PCTD,
	 *  not a CTD answering the node's CTAR on the new link) */
	bool predictive;

	/** on the new gateway, not encoded: when the context arrived */
	timeval_t received;

	/**
	 * Destroy a context, wiping every key and secret in it.
	 */
	void (*destroy)(cxtp_context_t *this);
};

/**
 * Create an empty context.
 *
 * @return			context, fields zero, lists empty
 */
cxtp_context_t *cxtp_context_create();

/**
 * Create an empty CHILD_SA context, destroy it with cxtp_child_context_destroy.
 *
 * @return			CHILD_SA context, fields zero, lists empty
 */
cxtp_child_context_t *cxtp_child_context_create();

/**
 * Wipe and free IKE_SA keys.
 *
 * @param keys			keys to clear
 */
void cxtp_ike_keys_clear(cxtp_ike_keys_t *keys);

/**
 * Wipe and free CHILD_SA keys.
 *
 * @param keys			keys to clear
 */
void cxtp_child_keys_clear(cxtp_child_keys_t *keys);

/**
 * Destroy a CHILD_SA context, wiping its keys.
 *
 * @param child		CHILD_SA context
 */
void cxtp_child_context_destroy(cxtp_child_context_t *child);

#endif /** CXTP_CONTEXT_H_ @}*/
