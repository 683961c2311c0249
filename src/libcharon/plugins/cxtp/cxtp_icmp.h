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
 * @defgroup cxtp_icmp cxtp_icmp
 * @{ @ingroup cxtp
 */

#ifndef CXTP_ICMP_H_
#define CXTP_ICMP_H_

#include "cxtp_message.h"
#include "cxtp_settings.h"

#include <library.h>
#include <networking/host.h>

/**
 * ICMPv6 type for Experimental Mobility protocols (RFC 4065 section 4)
 */
#define CXTP_ICMPV6_TYPE 150

/**
 * ICMPv4 type for Experimental Mobility protocols (RFC 4065 section 3)
 */
#define CXTP_ICMPV4_TYPE 41

/**
 * ICMP code of CXTP messages (RFC 4067 section 3.2)
 */
#define CXTP_ICMP_CODE 0

/**
 * Experimental Mobility subtype of CXTP (RFC 4065 section 8)
 */
#define CXTP_ICMP_SUBTYPE 1

/**
 * Length of the ICMP header: type, code, checksum, subtype, reserved
 */
#define CXTP_ICMP_HEADER_LEN 8

/**
 * Hop limit (TTL) of every CXTP ICMP message, anything else is dropped
 */
#define CXTP_ICMP_HOP_LIMIT 255

typedef struct cxtp_icmp_t cxtp_icmp_t;

/**
 * Callback for a CXTP message received over ICMP.
 *
 * Only CTAR and CTAA messages that arrived with a hop limit of 255, a valid
 * ICMP header and a valid encoding are passed, and CTARs only within the
 * configured rate per source.  The callback is invoked from a watcher thread;
 * while it runs, further messages of the same address family wait, so
 * anything lengthy belongs in a job of its own.  It must not destroy the
 * cxtp_icmp_t it was registered with.
 *
 * @param data			data passed to cxtp_icmp_create()
 * @param src			sender's address, valid during the call only
 * @param dst			local address the message arrived on (for IPv6
 *						link-local addresses with the interface as scope),
 *						valid during the call only
 * @param message		received message, ownership passes to the callback
 */
typedef void (*cxtp_icmp_receive_cb_t)(void *data, host_t *src, host_t *dst,
									   cxtp_message_t *message);

/**
 * Callback for a CTAR sent with send_reliable() that got no acknowledgement
 * within CT_RETRY_MAX.
 *
 * The callback is invoked from a scheduler job, without any lock held, so it
 * may call the other methods, except destroy().
 *
 * @param data			data passed to set_timeout_cb()
 * @param sequence		sequence number of the CTAR
 * @param dst			address the CTAR was sent to, valid during the call
 */
typedef void (*cxtp_icmp_timeout_cb_t)(void *data, uint32_t sequence,
									   host_t *dst);

/**
 * Transport of CXTP messages between mobile node and access router over ICMP
 * (RFC 4067 section 3.2).
 *
 * Messages are carried in ICMPv6 type 150 / ICMPv4 type 41 (Experimental
 * Mobility, RFC 4065) with code 0 and subtype 1, followed by three reserved
 * octets and the CXTP message, and sent with a hop limit of 255.  Received
 * messages with a different hop limit did not originate on the link and are
 * dropped.  Only CTAR and CTAA travel this way.
 *
 * Raw sockets see every ICMP message of their type the host receives, so all
 * instances in a process receive every message.
 */
struct cxtp_icmp_t {

	/**
	 * Send a CTAR or CTAA once.
	 *
	 * @param src		source address, NULL or %any to let the kernel choose
	 * @param dst		destination address, the family selects ICMPv4/v6
	 * @param message	CTAR or CTAA to send, not modified
	 * @return			TRUE if sent
	 */
	bool (*send)(cxtp_icmp_t *this, host_t *src, host_t *dst,
				 cxtp_message_t *message);

	/**
	 * Send a CTAR and retransmit it until acknowledge() is called or
	 * CT_RETRY_MAX has passed.
	 *
	 * Whether or not the CTAR requests a CTAA (A flag), the caller
	 * acknowledges it once the activation shows (a CTAA, or otherwise).
	 *
	 * The first retransmission follows after CT_REQUEST_RETRY
	 * (charon.plugins.cxtp.ctar_retry), every further one after twice the
	 * previous wait, as long as it is earlier than CT_RETRY_MAX
	 * (charon.plugins.cxtp.ctar_retry_max) after the first transmission.  At
	 * that time, the timeout callback fires, unless the CTAR was
	 * acknowledged.
	 *
	 * A CTAR pending with the same sequence number (e.g. the one sent to pAR
	 * before the handover, RFC 4067 mandates the same number for the nAR) is
	 * replaced: its retransmissions stop without the timeout callback.
	 *
	 * @param src		source address, NULL or %any to let the kernel choose
	 * @param dst		destination address
	 * @param message	CTAR, encoded before returning
	 * @param sequence	sequence number of the CTAR, must match the message's
	 * @return			TRUE if sent the first time and retransmission is
	 *					scheduled
	 */
	bool (*send_reliable)(cxtp_icmp_t *this, host_t *src, host_t *dst,
						  cxtp_message_t *message, uint32_t sequence);

	/**
	 * Stop retransmitting a CTAR sent with send_reliable().
	 *
	 * A CTAA carries no sequence number, so the caller matches it to its
	 * CTAR (by the MN's address) and passes the sequence number here; or it
	 * saw the activation otherwise.
	 *
	 * @param sequence	sequence number of the CTAR
	 * @return			TRUE if the CTAR was pending
	 */
	bool (*acknowledge)(cxtp_icmp_t *this, uint32_t sequence);

	/**
	 * Set the callback for CTARs that got no acknowledgement in time.
	 *
	 * @param cb		callback, NULL to unset
	 * @param data		data to pass to cb
	 */
	void (*set_timeout_cb)(cxtp_icmp_t *this, cxtp_icmp_timeout_cb_t cb,
						   void *data);

	/**
	 * Stop receiving and retransmitting, close the sockets and destroy the
	 * object.
	 *
	 * Returns after running callbacks returned; no callback is invoked
	 * afterwards.  Must not be called from one of the callbacks.
	 */
	void (*destroy)(cxtp_icmp_t *this);
};

/**
 * Create the ICMP transport, opening raw ICMPv6 and ICMPv4 sockets (which
 * requires CAP_NET_RAW) and registering them with lib->watcher.
 *
 * @param settings		settings with ctar_rate, ctar_retry and ctar_retry_max,
 *						read once, not referenced
 * @param cb			callback for received messages
 * @param data			data to pass to cb
 * @return				transport, NULL if neither socket could be opened
 */
cxtp_icmp_t *cxtp_icmp_create(cxtp_settings_t *settings,
							  cxtp_icmp_receive_cb_t cb, void *data);

#endif /** CXTP_ICMP_H_ @}*/
