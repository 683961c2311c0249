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
 * @defgroup cxtp_transport cxtp_transport
 * @{ @ingroup cxtp
 */

#ifndef CXTP_TRANSPORT_H_
#define CXTP_TRANSPORT_H_

#include "cxtp_message.h"
#include "cxtp_settings.h"

#include <library.h>
#include <networking/host.h>

/**
 * Version of the transport datagram format
 */
#define CXTP_TRANSPORT_VERSION 2

/**
 * Type of a datagram carrying a CXTP message
 */
#define CXTP_TRANSPORT_DATA 1

/**
 * Type of a handshake datagram
 */
#define CXTP_TRANSPORT_HANDSHAKE 2

/**
 * Type of a datagram carrying several CXTP messages
 */
#define CXTP_TRANSPORT_BATCH 3

/**
 * Octets of CXTP messages, with their lengths, a batch datagram carries at
 * most: three IPv6 fragments on Ethernet, five contexts of mobile nodes
 * with one CHILD_SA each (700-800 octets); a lost fragment costs the
 * retransmission of the batch's messages, each alone
 */
#define CXTP_TRANSPORT_BATCH_MAX 4096

/**
 * Length of the authenticated header of a data datagram (version, type,
 * reserved, sender epoch, receiver epoch, sequence number)
 */
#define CXTP_TRANSPORT_HEADER_LEN 28

/**
 * Length of the AEAD's IV, the header's sequence number
 */
#define CXTP_TRANSPORT_IV_LEN 8

/**
 * Length of the ICV at the end of a datagram
 */
#define CXTP_TRANSPORT_ICV_LEN 16

/**
 * Octets a datagram adds to the CXTP message it carries
 */
#define CXTP_TRANSPORT_OVERHEAD (CXTP_TRANSPORT_HEADER_LEN + \
								 CXTP_TRANSPORT_ICV_LEN)

/**
 * Length of a handshake datagram
 */
#define CXTP_TRANSPORT_HANDSHAKE_LEN (28 + CXTP_TRANSPORT_ICV_LEN)

/**
 * Label starting the salt of the key derivation
 */
#define CXTP_TRANSPORT_KEY_LABEL "cxtp transport"

/**
 * Label starting the salt of the handshake's key derivation
 */
#define CXTP_TRANSPORT_HANDSHAKE_LABEL "cxtp handshake"

/**
 * Size of the replay window, in datagrams
 */
#define CXTP_TRANSPORT_REPLAY_WINDOW 64

typedef struct cxtp_transport_t cxtp_transport_t;

/**
 * Callback invoked for each authenticated and parsed CXTP message.
 *
 * It runs in a watcher thread, while reception on the socket the message
 * arrived on is suspended, so it should return quickly (queue a job for
 * lengthy work).  It may call send(), send_reliable() and acknowledge(), but
 * must not destroy the transport.
 *
 * @param data			data passed to the constructor
 * @param peer			name of the configured peer that sent the message,
 *						valid during the callback only
 * @param from			address and port the datagram came from, valid during
 *						the callback only
 * @param message		parsed message, the callback takes ownership and has
 *						to destroy it
 */
typedef void (*cxtp_transport_receive_cb_t)(void *data, char *peer,
											host_t *from,
											cxtp_message_t *message);

/**
 * Callback invoked when a message sent with send_reliable() was retransmitted
 * the configured number of times and was not acknowledged in time.
 *
 * It runs in a scheduler/processor thread.  It may call send(),
 * send_reliable() and acknowledge(), but must not destroy the transport.
 *
 * @param data			data passed to set_timeout_cb()
 * @param peer			name of the peer the message was sent to, valid during
 *						the callback only
 * @param id			identifier passed to send_reliable()
 */
typedef void (*cxtp_transport_timeout_cb_t)(void *data, char *peer,
											uint32_t id);

/**
 * Encrypted and authenticated UDP transport of CXTP messages between access
 * routers (RFC 4067 section 3.1 allows "direct deployment on top of a
 * transport protocol" with retransmissions and exponential backoff; section
 * 6.2 asks for per-packet confidentiality, integrity and replay protection,
 * which this transport provides itself, whether or not IPsec also protects
 * the path).
 *
 * Peers are configured in <ns>.plugins.cxtp.peers.<name> with an address
 * (IP address or DNS name, resolved when the transport is created), a secret
 * (string, its octets are the key) and optionally a port (defaults to
 * <ns>.plugins.cxtp.port), as cxtp_settings_t provides them.  Datagrams from addresses that are no configured
 * peer are dropped.  A peer is identified by its address alone, not the
 * source port.
 *
 * Each start of a transport picks a random, non-zero 64-bit epoch.  The
 * keys of a direction depend on the epochs of both sides, so nothing
 * recorded before a restart of either side is accepted after it.  A data
 * data datagram carries exactly one CXTP message:
 *
 * @verbatim
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  -+
   |  Version (2)  |   Type (1)    |          Reserved (0)         |   |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   |
   |                  Sender Epoch (64 bits)                       |   |
   |                                                               |   |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   | AAD
   |                  Receiver Epoch (64 bits)                     |   |
   |                                                               |   |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   |
   |                  Sequence Number (64 bits)                    |   |
   |                                                               |   |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  -+
   ~        Encrypted CXTP message (RFC 4067 encoding)             ~
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                  ICV (128 bits)                               |
   |                                                               |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   @endverbatim
 *
 * All integers are in network order.  The AEAD is AES-GCM with a 256-bit key
 * and a 16-octet ICV as in RFC 4106: the 12-octet nonce is a 4-octet salt
 * from the key derivation followed by the sequence number, the associated
 * data are the 28 header octets.  Each direction between two access routers
 * has its own key and salt, the first 36 octets of
 *
 *   prf+(secret, "cxtp transport" | sender epoch | receiver epoch |
 *                sender address | receiver address)
 *
 * with HMAC-SHA2-256 as PRF, the epochs as 8 octets each and the addresses
 * (the routers' names here) as their 4 or 16 network octets: the source and
 * destination address of the datagram, so a datagram can't be reflected to
 * its sender or attributed to another peer with the same secret.  Senders bound to all addresses pin the source address that
 * routing picks for the peer.
 *
 * The sequence number starts at 1 for each pair of epochs and increments by
 * one for each datagram, including each retransmission, so no nonce repeats
 * under a key; before it would wrap, the sender starts a new epoch.
 * Receivers keep the highest authenticated sequence number and a window of
 * CXTP_TRANSPORT_REPLAY_WINDOW numbers below it per peer and epoch, and drop
 * duplicates and older numbers, like ESP (RFC 4303 section 3.4.3), updating
 * the window only after successful authentication.  Receivers drop datagrams
 * with another version, to another than their current epoch (answering
 * with a handshake, at most 10 per second and peer), and from
 * the peer's epoch before its current one; the reserved octets are sent as
 * zero and are authenticated, but not checked otherwise.
 *
 * A batch datagram (type 3, sent while the sender is corked, see cork())
 * is a data datagram whose plaintext holds several CXTP messages, each
 * preceded by its length in 2 octets; a batch whose lengths do not add up
 * to its plaintext is dropped whole, an invalid message in it alone.
 *
 * A sender learns the receiver's epoch with a handshake:
 *
 * @verbatim
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |  Version (2)  |   Type (2)    |          Reserved (0)         |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                  Sender Epoch (64 bits)                       |
   |                                                               |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                  Challenge (64 bits, 0 if none)               |
   |                                                               |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                  Echo (64 bits, 0 if none)                    |
   |                                                               |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |                  ICV (128 bits)                               |
   |                                                               |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   @endverbatim
 *
 * The ICV is HMAC-SHA2-256-128 over the 28 octets before it, keyed with the
 * first 32 octets of prf+(secret, "cxtp handshake" | sender address |
 * receiver address).  A side that does not know the peer's current epoch
 * sends a random challenge; the peer answers with its epoch and the
 * challenge as echo (and its own challenge if it doesn't know the sender's
 * epoch either, which the sender answers in turn).  Only an answer to the
 * outstanding challenge sets the peer's epoch: the epoch in a handshake
 * without echo may be replayed, it only makes the receiver ask.  A data
 * datagram from a peer under an epoch that is not its confirmed one is
 * authenticated and held (one per peer) until the peer answered a
 * challenge: delivered if the epoch is the one confirmed, dropped
 * otherwise.  Each side asks all configured peers at start, and sends
 * messages to a peer whose epoch it doesn't know after the answer (queued,
 * at most for the retransmit_timeout; retransmissions replace them).
 *
 * The maximum message size over IPv4 is 65507 - CXTP_TRANSPORT_OVERHEAD
 * octets (IP fragments larger messages).
 */
struct cxtp_transport_t {

	/**
	 * Encrypt a message and send it once to a peer.
	 *
	 * Thread-safe.
	 *
	 * @param peer		name of the configured peer
	 * @param message	message to send, not destroyed
	 * @return			TRUE if the datagram was sent
	 */
	bool (*send)(cxtp_transport_t *this, char *peer, cxtp_message_t *message);

	/**
	 * Send a message to a peer and retransmit it until acknowledged.
	 *
	 * The encoded message is kept and sent again, each time as a new datagram
	 * with a new sequence number, after the retransmit_timeout, then after
	 * the timeout multiplied by retransmit_base each time, up to
	 * retransmit_tries times.  If acknowledge() is not called with the same
	 * identifier within another backoff interval after the last
	 * retransmission, the timeout callback is invoked.  A pending message
	 * with the same identifier is replaced.
	 *
	 * Thread-safe.
	 *
	 * @param peer		name of the configured peer
	 * @param message	message to send, not destroyed
	 * @param id		identifier of the message for acknowledge()
	 * @return			TRUE if the message is sent/retransmitted, FALSE if
	 *					the peer is unknown or the message can't be encoded
	 */
	bool (*send_reliable)(cxtp_transport_t *this, char *peer,
						  cxtp_message_t *message, uint32_t id);

	/**
	 * Stop retransmitting a message sent with send_reliable().
	 *
	 * Thread-safe.
	 *
	 * @param id		identifier passed to send_reliable()
	 */
	void (*acknowledge)(cxtp_transport_t *this, uint32_t id);

	/**
	 * Hold back the first transmissions of messages to a peer until
	 * uncork(), then send them several to a datagram where they fit
	 * (CXTP_TRANSPORT_BATCH_MAX), one alone as a data datagram.
	 * Retransmissions, and messages to a peer whose epoch is not known
	 * yet, go as ever. Calls nest.
	 *
	 * Thread-safe.
	 *
	 * @param peer		name of the configured peer
	 */
	void (*cork)(cxtp_transport_t *this, char *peer);

	/**
	 * Undo a cork(), sending what it held back once none is left.
	 *
	 * Thread-safe.
	 *
	 * @param peer		name of the configured peer
	 */
	void (*uncork)(cxtp_transport_t *this, char *peer);

	/**
	 * Set the callback invoked if retransmissions are exhausted.
	 *
	 * @param cb		callback, NULL to unset
	 * @param data		data to pass to the callback
	 */
	void (*set_timeout_cb)(cxtp_transport_t *this,
						   cxtp_transport_timeout_cb_t cb, void *data);

	/**
	 * Destroy the transport: cancel pending retransmissions, stop receiving,
	 * close the sockets and wipe the keys.
	 *
	 * Blocks until running callbacks returned, no callback is invoked
	 * afterwards.  Must not be called from a callback.
	 */
	void (*destroy)(cxtp_transport_t *this);
};

/**
 * How long after the first transmission of a message send_reliable() gives
 * up on it, with the retransmission options as they are now.
 *
 * @param settings		settings with the retransmission schedule
 * @return				time in ms
 */
uint32_t cxtp_transport_give_up_time(cxtp_settings_t *settings);

/**
 * How long after the first transmission of a message send_reliable() sends
 * its last retransmission, with the retransmission options as they are now.
 *
 * @param settings		settings with the retransmission schedule
 * @return				time in ms
 */
uint32_t cxtp_transport_last_send_time(cxtp_settings_t *settings);

/**
 * Create a transport listening on the configured port (<ns>.plugins.cxtp.port)
 * of all IPv4 and IPv6 addresses.
 *
 * @param settings		settings with the port, the retransmission schedule
 *						and the peers, which must stay valid until the
 *						transport is destroyed (it uses the peers' secrets)
 * @param cb			callback for received messages
 * @param data			data to pass to cb
 * @return				transport, NULL if no socket could be bound
 */
cxtp_transport_t *cxtp_transport_create(cxtp_settings_t *settings,
										cxtp_transport_receive_cb_t cb,
										void *data);

/**
 * Create a transport listening on a specific address and port only, which
 * is also the source address of all datagrams it sends.
 *
 * @param settings		settings as for cxtp_transport_create()
 * @param local			address and port to bind (port 0 for the configured
 *						port), not referenced
 * @param cb			callback for received messages
 * @param data			data to pass to cb
 * @return				transport, NULL if the socket could not be bound
 */
cxtp_transport_t *cxtp_transport_create_bound(cxtp_settings_t *settings,
											  host_t *local,
											  cxtp_transport_receive_cb_t cb,
											  void *data);

#endif /** CXTP_TRANSPORT_H_ @}*/
