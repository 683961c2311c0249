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
 * An in-process charon for the tests of the transfer state machines.
 *
 * libcharon's exchange_test_helper establishes an IKE_SA with a CHILD_SA
 * between a mobile node (the initiator) and its access router pAR (the
 * responder) in this process.  Both share one charon, so the tests keep at
 * most one of the IKE_SAs in the IKE_SA manager at a time (pAR's and nAR's
 * copy have the same SPIs, and an IKE_SA with the mobile node would look
 * like pAR's to nAR).
 *
 * The kernel is replaced by a mock that records the SAs installed, their
 * addresses and replay state, and reports a fixed replay state ("traffic")
 * for the SAs pAR captures; kernel address and route lookups by one the
 * tests steer (which address the mobile node has, its default router).
 * Transports between access routers and to mobile nodes are stubs that
 * record what is sent and let the tests inject messages, timeouts and
 * failures.
 *
 * No thread runs: jobs queued to the processor and jobs scheduled wait
 * until a test runs them (cxtp_charon_run_jobs(), cxtp_charon_run_scheduled()),
 * as strongSwan's exchange tests drive their IKE_SAs, so a test sees each
 * step in order and a timeout without waiting for it.
 *
 * @defgroup cxtp_charon cxtp_charon
 * @{ @ingroup cxtp
 */

#ifndef CXTP_CHARON_H_
#define CXTP_CHARON_H_

#include <test_suite.h>
#include <daemon.h>

#include "../../cxtp_capture.h"
#include "../../cxtp_dispatcher.h"
#include "../../cxtp_icmp.h"
#include "../../cxtp_ike_index.h"
#include "../../cxtp_leases.h"
#include "../../cxtp_nar.h"
#include "../../cxtp_pad.h"
#include "../../cxtp_par.h"
#include "../../cxtp_settings.h"
#include "../../cxtp_transfers.h"
#include "../../cxtp_transport.h"

/**
 * Addresses of the tests: the mobile node before and after the move, pAR
 * and nAR as the mobile node knows them, and the router of the new link
 */
#define MN_OLD		"192.0.2.10"
#define MN_NEW		"198.51.100.10"
#define PAR			"192.0.2.1"
#define NAR			"198.51.100.1"
#define ROUTER		"198.51.100.254"

/**
 * Replay state the mock kernel reports for pAR's SAs
 */
#define TRAFFIC_SEQ_OUT		1000
#define TRAFFIC_SEQ_IN		2000
#define TRAFFIC_WINDOW		32

/**
 * Replay bitmap the mock kernel reports: of the last packets before
 * TRAFFIC_SEQ_IN, those five arrived, the others did not
 */
#define TRAFFIC_BITMAP		chunk_from_chars(0x1f, 0x00, 0x80, 0x00)

/**
 * handover_timeout of the tests, in seconds (the option's unit), a delay
 * nothing else schedules
 */
#define HANDOVER_TIMEOUT	7

/**
 * The charon of the tests
 */
typedef struct {
	/** the mobile node's IKE_SA (initiator), not in the manager */
	ike_sa_t *mn;
	/** pAR's IKE_SA (responder), not in the manager */
	ike_sa_t *par;
	/** whether mn/par were put into the manager */
	bool mn_managed;
	bool par_managed;
	/** captured keys, listening on the bus */
	cxtp_capture_t *capture;
	/** transfer counters, listening on the bus */
	cxtp_transfers_t *transfers;
	/** plugin settings, peers "par" and "nar" */
	cxtp_settings_t *settings;
	/** IKE_SAs by the peer's address, listening on the bus */
	cxtp_ike_index_t *index;
} cxtp_charon_t;

/**
 * Set up charon, establish the SAs and configure the plugin; from then on,
 * jobs wait for the test to run them.
 *
 * @return			charon of the test
 */
cxtp_charon_t *cxtp_charon_setup();

/**
 * Drop the jobs no test ran, before destroying the objects tested, and let
 * the processor and scheduler take jobs again.
 */
void cxtp_charon_stop();

/**
 * Run the jobs queued to the processor, and the ones they queue, in this
 * thread, by priority as the processor would.
 *
 * @return			number of jobs run
 */
u_int cxtp_charon_run_jobs();

/**
 * Run the next queued job (by priority) only, not the ones it queues.
 *
 * @return			FALSE if no job was queued
 */
bool cxtp_charon_run_job();

/**
 * Number of jobs scheduled with a delay that did not run yet.
 *
 * @param ms		delay in ms
 */
u_int cxtp_charon_scheduled(uint32_t ms);

/**
 * Run the first job scheduled with a delay, as the scheduler would once it
 * is due, then the jobs queued meanwhile; asserts there is one.
 *
 * @param ms		delay in ms
 */
void cxtp_charon_run_scheduled(uint32_t ms);

/**
 * Destroy the SAs and charon, after cxtp_charon_stop().  An IKE_SA of mn or
 * par that was put into the manager may be destroyed, the others must be
 * valid.
 *
 * @param this		charon of the test
 */
void cxtp_charon_teardown(cxtp_charon_t *this);

/**
 * Put an IKE_SA into the IKE_SA manager, which destroys it from then on.
 *
 * @param this		charon of the test
 * @param ike_sa	IKE_SA, checked out afterwards by no one
 * @return			its unique ID
 */
u_int cxtp_charon_checkin(cxtp_charon_t *this, ike_sa_t *ike_sa);

/**
 * Remove an IKE_SA from the IKE_SA manager and destroy it, as if it lived
 * on another host.
 *
 * @param id		unique ID of the IKE_SA
 */
void cxtp_charon_remove(u_int id);

/**
 * Move an IKE_SA in the manager to another remote address, as MOBIKE does
 * (update_hosts()).
 */
void cxtp_charon_move(u_int id, char *other);

/**
 * The state of an IKE_SA in the manager.
 *
 * @param id		unique ID of the IKE_SA
 * @return			its state, IKE_DESTROYING if it is not in the manager
 */
ike_sa_state_t cxtp_charon_state(u_int id);

/**
 * What the tests look at of an IKE_SA in the manager
 */
typedef struct {
	/** FALSE if it is not in the manager, all else is unset then */
	bool found;
	ike_sa_state_t state;
	host_t *me;
	host_t *other;
	uint64_t spi_i;
	uint64_t spi_r;
	u_int children;
} cxtp_test_ike_sa_info_t;

/**
 * Look at an IKE_SA in the manager, without asserting while it is checked
 * out (a failing test would leave it so and hang in the teardown).
 *
 * @param id		unique ID of the IKE_SA
 * @param info		its state, free with cxtp_test_ike_sa_info_clear()
 */
void cxtp_charon_info(u_int id, cxtp_test_ike_sa_info_t *info);

/**
 * Free what cxtp_test_ike_sa_info_t holds.
 */
void cxtp_test_ike_sa_info_clear(cxtp_test_ike_sa_info_t *info);

/**
 * Whether a host has an address, as assertion.
 */
bool cxtp_test_host_is(host_t *host, char *address);

/**
 * Number of IKE_SAs in the IKE_SA manager.
 */
u_int cxtp_charon_count();

/**
 * An SA installed in the mock kernel
 */
typedef struct {
	/** SPI, network order */
	uint32_t spi;
	/** direction */
	bool inbound;
	/** addresses */
	host_t *src;
	host_t *dst;
	/** unique ID of the IKE_SA that installed it */
	u_int ike_id;
	/** whether it was installed with a replay state, and that state */
	bool has_replay;
	uint64_t seq_in;
	uint64_t seq_out;
	uint32_t window;
	chunk_t bitmap;
} cxtp_test_sa_t;

/**
 * Look up an SA installed by an IKE_SA.
 *
 * @param ike_id	unique ID of the IKE_SA
 * @param spi		SPI, network order
 * @param inbound	direction
 * @return			SA (internal, valid until it is deleted), NULL if none
 */
cxtp_test_sa_t *cxtp_test_kernel_find(u_int ike_id, uint32_t spi, bool inbound);

/**
 * Number of SAs installed by an IKE_SA (not only allocated SPIs).
 */
u_int cxtp_test_kernel_count(u_int ike_id);

/**
 * Install an inbound SA of no IKE_SA (ike_id 0) with the SPI at an address,
 * as another node's, so that an inbound SA installed with it is refused.
 */
void cxtp_test_kernel_occupy(uint32_t spi, char *address);

/**
 * Let the kernel refuse to install SAs, or stop refusing.
 */
void cxtp_test_kernel_refuse(bool refuse);

/**
 * Let the kernel report ESP packets received on every SA queried.
 *
 * @param packets	number of packets, 0 to report no usage statistics
 */
void cxtp_test_kernel_set_received(uint64_t packets);

/**
 * Make the kernel's source address lookups and interface checks see an
 * address of ours, or no more.
 *
 * @param address	address
 * @param present	TRUE to add, FALSE to remove
 */
void cxtp_test_net_set_address(char *address, bool present);

/**
 * Mark an address of ours as tentative (IPv6 duplicate address detection
 * going on), or no longer.
 *
 * @param address	address
 * @param tentative	TRUE if tentative
 */
void cxtp_test_net_set_tentative(char *address, bool tentative);

/**
 * Whether an address of ours can be sent from: present and not tentative,
 * as cxtp_source_usable_t.
 */
bool cxtp_test_net_usable(host_t *address);

/**
 * Set the default router (next hop towards any destination), NULL for none.
 */
void cxtp_test_net_set_router(char *address);

/**
 * A message a stub transport sent
 */
typedef struct {
	/** TRUE if sent with send_reliable() */
	bool reliable;
	/** AR-to-AR: name of the peer */
	char *peer;
	/** ICMP: addresses */
	host_t *src;
	host_t *dst;
	/** identifier/sequence number of send_reliable() */
	uint32_t id;
	/** AR-to-AR: whether sent while the transport was corked */
	bool corked;
	/** the message, parsed from its encoding */
	cxtp_message_t *message;
} cxtp_test_sent_t;

typedef struct cxtp_test_transport_t cxtp_test_transport_t;

/**
 * Stub of the transport between access routers
 */
struct cxtp_test_transport_t {
	/** the transport */
	cxtp_transport_t transport;
	/** messages sent, cxtp_test_sent_t* */
	array_t *sent;
	/** identifiers acknowledged, uint32_t */
	array_t *acked;
	/** receive callback of the dispatcher */
	cxtp_transport_receive_cb_t receive;
	void *receive_data;
	/** timeout callback of the dispatcher */
	cxtp_transport_timeout_cb_t timeout;
	void *timeout_data;
	/** let send_reliable() fail */
	bool fail;
	/** depth of cork() calls not undone yet, and cork() calls in all */
	u_int corked;
	u_int corks;
};

/**
 * Create a stub transport, destroyed by the dispatcher using it.
 */
cxtp_test_transport_t *cxtp_test_transport_create();

/**
 * Constructor for cxtp_dispatcher_create_with(), data is a
 * cxtp_test_transport_t.
 */
cxtp_transport_t *cxtp_test_transport_constructor(void *data,
								cxtp_transport_receive_cb_t cb, void *cb_data);

/**
 * Deliver a message to the dispatcher as if it came from a peer.
 *
 * @param peer		name of the peer
 * @param message	message, adopted
 */
void cxtp_test_transport_deliver(cxtp_test_transport_t *this, char *peer,
								 cxtp_message_t *message);

/**
 * Number of messages sent, of a type, 0 for any.
 */
u_int cxtp_test_transport_count(cxtp_test_transport_t *this,
								cxtp_message_type_t type);

/**
 * The n-th message sent of a type, 0 for any type.
 */
cxtp_test_sent_t *cxtp_test_transport_get(cxtp_test_transport_t *this,
										  cxtp_message_type_t type, u_int n);

/**
 * Whether an identifier was acknowledged.
 */
bool cxtp_test_transport_acked(cxtp_test_transport_t *this, uint32_t id);

typedef struct cxtp_test_icmp_t cxtp_test_icmp_t;

/**
 * Stub of the ICMP transport between mobile node and access routers
 */
struct cxtp_test_icmp_t {
	/** the transport */
	cxtp_icmp_t icmp;
	/** messages sent, cxtp_test_sent_t* */
	array_t *sent;
	/** sequence numbers acknowledged, uint32_t */
	array_t *acked;
	/** receive callback of the dispatcher */
	cxtp_icmp_receive_cb_t receive;
	void *receive_data;
	/** timeout callback */
	cxtp_icmp_timeout_cb_t timeout;
	void *timeout_data;
	/** let sending fail */
	bool fail;
};

/**
 * Create an ICMP stub, destroyed by the dispatcher using it.
 */
cxtp_test_icmp_t *cxtp_test_icmp_create();

/**
 * Constructor for cxtp_dispatcher_create_with(), data is a
 * cxtp_test_icmp_t.
 */
cxtp_icmp_t *cxtp_test_icmp_constructor(void *data, cxtp_icmp_receive_cb_t cb,
										void *cb_data);

/**
 * Deliver a message to the dispatcher as if it arrived over ICMP.
 *
 * @param src		sender's address
 * @param dst		our address it arrived at
 * @param message	message, adopted
 */
void cxtp_test_icmp_deliver(cxtp_test_icmp_t *this, char *src, char *dst,
							cxtp_message_t *message);

/**
 * Number of messages sent, of a type, 0 for any.
 */
u_int cxtp_test_icmp_count(cxtp_test_icmp_t *this, cxtp_message_type_t type);

/**
 * The n-th message sent of a type, 0 for any type.
 */
cxtp_test_sent_t *cxtp_test_icmp_get(cxtp_test_icmp_t *this,
									 cxtp_message_type_t type, u_int n);

/**
 * Whether a sequence number was acknowledged.
 */
bool cxtp_test_icmp_acked(cxtp_test_icmp_t *this, uint32_t sequence);

/**
 * An access router as the plugin wires it, on stub transports
 */
typedef struct {
	/** receives from both transports, owns them */
	cxtp_dispatcher_t *dispatcher;
	/** its transports */
	cxtp_test_transport_t *transport;
	cxtp_test_icmp_t *icmp;
	/** PAD entries of the contexts it activated */
	cxtp_pad_t *pad;
	/** IKE_SAs pAR froze */
	cxtp_freeze_t *freeze;
	/** virtual IPs in use, transferred leases */
	cxtp_leases_t *leases;
	/** its roles, reporting events as the name it was created with */
	cxtp_par_t *par;
	cxtp_nar_t *nar;
} cxtp_test_ar_t;

/**
 * Create an access router.
 *
 * @param env		charon of the test
 * @param name		name of its events
 * @return			access router
 */
cxtp_test_ar_t *cxtp_test_ar_create(cxtp_charon_t *env, char *name);

/**
 * Destroy an access router, after cxtp_charon_stop().
 */
void cxtp_test_ar_destroy(cxtp_test_ar_t *ar);

/**
 * A reported event
 */
typedef struct {
	/** data passed to set_event_cb(), names the reporter */
	char *who;
	char *name;
	u_int ike_id;
	char *peer;
	host_t *mn;
	char *error;
} cxtp_test_event_t;

/**
 * Event callback recording events, data is a string naming the reporter.
 */
void cxtp_test_event_cb(void *data, cxtp_event_t name, u_int ike_id,
						char *peer, host_t *mn, char *error);

/**
 * Number of events of a reporter with a name.
 */
u_int cxtp_test_events_count(char *who, char *name);

/**
 * The n-th event of a reporter with a name.
 */
cxtp_test_event_t *cxtp_test_events_get(char *who, char *name, u_int n);

/**
 * The token key of the next transfer of an IKE_SA.
 *
 * @return			key, chunk_clear() it
 */
chunk_t cxtp_test_token_key(cxtp_charon_t *this, ike_sa_t *ike_sa);

/**
 * Build a CTAR or CT-Req of the mobile node, with the token of its IKE_SA.
 *
 * @param type		CXTP_CTAR or CXTP_CTREQ
 * @param ar		access router to name, NULL for none
 * @param sequence	sequence number
 * @param token_seq	sequence number to compute the token with, different
 *					from sequence for a forged token
 * @param ack		whether to ask for a CTAA
 * @param src		the CTAR's IP source, which the token covers
 * @param dst		the CTAR's IP destination, which the token covers
 */
cxtp_message_t *cxtp_test_mn_request(cxtp_charon_t *this,
									 cxtp_message_type_t type, char *ar,
									 uint32_t sequence, uint32_t token_seq,
									 bool ack, char *src, char *dst);

/**
 * Get the transfer counter of an IKE_SA, by unique ID.
 */
uint32_t cxtp_charon_transfers(cxtp_charon_t *this, u_int ike_id);

/**
 * Get the token key of an IKE_SA for a transfer counter.
 *
 * @return			key, chunk_clear() it
 */
chunk_t cxtp_test_token_key_for(cxtp_charon_t *this, ike_sa_t *ike_sa,
								uint32_t counter);

/**
 * Copy a message (through its encoding).
 */
cxtp_message_t *cxtp_test_message_copy(cxtp_message_t *message);

/**
 * Create a host from a string with port 500.
 */
host_t *cxtp_test_host(char *address);

#endif /** CXTP_CHARON_H_ @}*/
