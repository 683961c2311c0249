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

#include "mobike_spi_nar.h"
#include "mobike_spi_notify.h"
#include "mobike_spi_sad.h"

#include <inttypes.h>

#include <daemon.h>
#include <collections/array.h>
#include <collections/linked_list.h>
#include <threading/mutex.h>
#include <processing/jobs/callback_job.h>
#include <sa/ikev2/tasks/ike_mobike.h>
#include <encoding/payloads/delete_payload.h>

typedef struct private_mobike_spi_nar_t private_mobike_spi_nar_t;

/**
 * Private data of a mobike_spi_nar_t object.
 */
struct private_mobike_spi_nar_t {

	/**
	 * Public interface.
	 */
	mobike_spi_nar_t public;

	/**
	 * Plugin settings
	 */
	mobike_spi_settings_t *settings;

	/**
	 * IKE_SAs with SPIs being replaced, entry_t
	 */
	linked_list_t *entries;

	/**
	 * IKE SPI replacements of contexts imported but not activated yet,
	 * ike_pending_t
	 */
	array_t *pending;

	/**
	 * Lock for entries and pending
	 */
	mutex_t *mutex;
};

/**
 * One replaced SPI of a transferred CHILD_SA
 */
typedef struct {
	/** PROTO_ESP or PROTO_AH */
	protocol_id_t protocol;
	/** D flag: the original responder's SPI */
	bool responder;
	/** our inbound SPI (else the peer's, our outbound) */
	bool inbound;
	/** SPI the peer knows the SA by */
	uint32_t peer_spi;
	/** new SPI of the current round (installed here if inbound) */
	uint32_t spi;
	/** peer without UPDATE_SPI: resolved by rekeying the CHILD_SA */
	bool rekey;
	/** the peer uses the new SPI (or the CHILD_SA was rekeyed) */
	bool resolved;
	/** unique ID of the CHILD_SA, once installed */
	u_int child_id;
	/** PROTO_IKE: our IKE SPI the peer knows */
	uint64_t ike_old;
	/** PROTO_IKE: our new IKE SPI, in use here since the import */
	uint64_t ike_new;
} replacement_t;

/**
 * An IKE SPI replacement of an imported IKE_SA, before its activation
 */
typedef struct {
	/** the imported IKE_SA's SPIs, ours the new one */
	uint64_t spi_i;
	uint64_t spi_r;
	replacement_t *r;
} ike_pending_t;

/**
 * SPI replacements of one IKE_SA
 */
typedef struct {
	/** unique ID of the IKE_SA */
	u_int ike_id;
	/** replacement_t */
	array_t *replacements;
	/** round trips started (Algorithm 1's rt) */
	u_int round;
	/** a round's request is to be built */
	bool pending;
	/** message ID of the current round's request */
	uint32_t mid;
	/** when the first round started */
	time_t started;
} entry_t;

static void entry_destroy(entry_t *entry)
{
	array_destroy_function(entry->replacements, (void*)free, NULL);
	free(entry);
}

/**
 * Find the entry of an IKE_SA, optionally removing it (mutex held)
 */
static entry_t *find_entry(private_mobike_spi_nar_t *this, u_int ike_id,
						   bool remove)
{
	enumerator_t *enumerator;
	entry_t *entry, *found = NULL;

	enumerator = this->entries->create_enumerator(this->entries);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->ike_id == ike_id)
		{
			if (remove)
			{
				this->entries->remove_at(this->entries, enumerator);
			}
			found = entry;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * The entry of an IKE_SA, created if needed (mutex held)
 */
static entry_t *get_entry(private_mobike_spi_nar_t *this, u_int ike_id)
{
	entry_t *entry = find_entry(this, ike_id, FALSE);

	if (!entry)
	{
		INIT(entry,
			.ike_id = ike_id,
			.replacements = array_create(0, 0),
		);
		this->entries->insert_last(this->entries, entry);
	}
	return entry;
}

/**
 * The SAD lookup mode in effect
 */
static mobike_spi_sad_lookup_t mode(private_mobike_spi_nar_t *this)
{
	return mobike_spi_sad_resolve(
						this->settings->get_sad_lookup(this->settings));
}

/**
 * SPIs a fresh one must differ from: the transferred ones and the ones
 * already proposed (mutex held)
 */
static uint32_t fresh_spi(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
						  entry_t *entry, protocol_id_t protocol,
						  uint32_t spi_in, uint32_t spi_out)
{
	enumerator_t *enumerator;
	replacement_t *r;
	uint32_t avoid[64];
	int count = 0;

	avoid[count++] = spi_in;
	avoid[count++] = spi_out;
	enumerator = array_create_enumerator(entry->replacements);
	while (count < countof(avoid) - 1 && enumerator->enumerate(enumerator, &r))
	{
		avoid[count++] = r->peer_spi;
		avoid[count++] = r->spi;
	}
	enumerator->destroy(enumerator);
	return mobike_spi_sad_fresh(mode(this), protocol,
								ike_sa->get_my_host(ike_sa), ike_sa, avoid,
								count);
}

/**
 * Our object from its hook interface (the listener comes first)
 */
static private_mobike_spi_nar_t *from_hook(cxtp_spi_hook_t *hook)
{
	return (private_mobike_spi_nar_t*)((char*)hook -
									   offsetof(mobike_spi_nar_t, hook));
}

METHOD(cxtp_spi_hook_t, get_inbound_spi, uint32_t,
	cxtp_spi_hook_t *hook, ike_sa_t *ike_sa, protocol_id_t protocol,
	uint32_t spi_in, uint32_t spi_out)
{
	private_mobike_spi_nar_t *this = from_hook(hook);
	host_t *me = ike_sa->get_my_host(ike_sa);
	bool initiator, supported, in, out = FALSE;
	replacement_t *r;
	entry_t *entry;
	uint32_t spi;

	in = mobike_spi_sad_collides(mode(this), protocol, spi_in, me, ike_sa,
								 NULL);
	if (!in && mode(this) == MOBIKE_SPI_SAD_LOOKUP_SPI)
	{	/* in one SAD for all SAs the peer's SPI may collide as well */
		out = mobike_spi_sad_collides(mode(this), protocol, spi_out, me,
									  ike_sa, NULL);
	}
	if (!in && !out)
	{
		return spi_in;
	}
	initiator = ike_sa->has_condition(ike_sa, COND_ORIGINAL_INITIATOR);
	supported = ike_sa->supports_extension(ike_sa, MOBIKE_SPI_EXT_PEER);

	this->mutex->lock(this->mutex);
	entry = get_entry(this, ike_sa->get_unique_id(ike_sa));
	spi = fresh_spi(this, ike_sa, entry, protocol, spi_in, spi_out);
	if (!spi)
	{
		this->mutex->unlock(this->mutex);
		DBG1(DBG_CHD, "mobike-spi: %N SPI %.8x of '%Y' collides, no free "
			 "SPI to replace it", protocol_id_names, protocol,
			 ntohl(in ? spi_in : spi_out), ike_sa->get_other_id(ike_sa));
		return 0;
	}
	if (!in && !supported)
	{	/* a rekey replaces both SPIs, we just keep ours meanwhile */
		spi = spi_in;
	}
	INIT(r,
		.protocol = protocol,
		/* D names whose SPI it is: ours if inbound */
		.responder = in ? !initiator : initiator,
		.inbound = in,
		.peer_spi = in ? spi_in : spi_out,
		.spi = spi,
		.rekey = !supported,
	);
	array_insert(entry->replacements, ARRAY_TAIL, r);
	this->mutex->unlock(this->mutex);

	DBG1(DBG_CHD, "mobike-spi: %s %N SPI %.8x of '%Y' collides with an SA "
		 "here (SAD lookup %N), %s", in ? "inbound" : "outbound",
		 protocol_id_names, protocol, ntohl(r->peer_spi),
		 ike_sa->get_other_id(ike_sa), mobike_spi_sad_lookup_names, mode(this),
		 supported ? "replacing it with UPDATE_SPI"
				   : "peer lacks UPDATE_SPI, rekeying the CHILD_SA instead");
	if (in)
	{
		DBG1(DBG_CHD, "mobike-spi: installing inbound SA %.8x as %.8x",
			 ntohl(spi_in), ntohl(spi));
	}
	return in ? spi : spi_in;
}

/**
 * Whether an IKE_SA with these SPIs exists here
 */
static bool ike_sa_exists(ike_sa_id_t *id, char *name, size_t len)
{
	ike_sa_t *existing;

	existing = charon->ike_sa_manager->checkout(charon->ike_sa_manager, id);
	if (existing)
	{
		if (name)
		{
			snprintf(name, len, "%s[%u]", existing->get_name(existing),
					 existing->get_unique_id(existing));
		}
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, existing);
		return TRUE;
	}
	return FALSE;
}

METHOD(cxtp_spi_hook_t, import_ike_sa, void,
	cxtp_spi_hook_t *hook, ike_sa_id_t *id, identification_t *peer)
{
	private_mobike_spi_nar_t *this = from_hook(hook);
	ike_pending_t *pending;
	replacement_t *r;
	uint64_t old, spi = 0;
	bool initiator = id->is_initiator(id);
	char name[64] = "";
	rng_t *rng;
	int i;

	if (!ike_sa_exists(id, name, sizeof(name)))
	{
		return;
	}
	old = initiator ? id->get_initiator_spi(id) : id->get_responder_spi(id);
	rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
	for (i = 0; rng && i < 16 && !spi; i++)
	{
		if (!rng->get_bytes(rng, sizeof(spi), (uint8_t*)&spi))
		{
			break;
		}
		if (initiator)
		{
			id->set_initiator_spi(id, spi);
		}
		else
		{
			id->set_responder_spi(id, spi);
		}
		if (!spi || spi == old || ike_sa_exists(id, NULL, 0))
		{
			spi = 0;
		}
	}
	DESTROY_IF(rng);
	if (!spi)
	{	/* cxtp refuses the collision */
		if (initiator)
		{
			id->set_initiator_spi(id, old);
		}
		else
		{
			id->set_responder_spi(id, old);
		}
		DBG1(DBG_IKE, "mobike-spi: no free IKE SPI for the context of '%Y'",
			 peer);
		return;
	}
	INIT(r,
		.protocol = PROTO_IKE,
		/* D names whose SPI it is: ours */
		.responder = !initiator,
		.ike_old = old,
		.ike_new = spi,
	);
	INIT(pending,
		.spi_i = id->get_initiator_spi(id),
		.spi_r = id->get_responder_spi(id),
		.r = r,
	);
	this->mutex->lock(this->mutex);
	array_insert(this->pending, ARRAY_TAIL, pending);
	this->mutex->unlock(this->mutex);
	DBG1(DBG_IKE, "mobike-spi: IKE SPIs of '%Y' collide with IKE_SA %s, "
		 "importing it with our SPI %.16"PRIx64" instead of %.16"PRIx64,
		 peer, name, be64toh(spi), be64toh(old));
}

/**
 * Adopt the IKE SPI replacement of an IKE_SA at its activation (mutex held)
 */
static void adopt_pending(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	enumerator_t *enumerator;
	ike_pending_t *pending;
	entry_t *entry;

	enumerator = array_create_enumerator(this->pending);
	while (enumerator->enumerate(enumerator, &pending))
	{
		if (pending->spi_i == id->get_initiator_spi(id) &&
			pending->spi_r == id->get_responder_spi(id))
		{
			array_remove_at(this->pending, enumerator);
			pending->r->rekey = !ike_sa->supports_extension(ike_sa,
														MOBIKE_SPI_EXT_PEER);
			entry = get_entry(this, ike_sa->get_unique_id(ike_sa));
			array_insert(entry->replacements, ARRAY_TAIL, pending->r);
			free(pending);
			break;
		}
	}
	enumerator->destroy(enumerator);
}

/**
 * Find a CHILD_SA of an IKE_SA by one of its SPIs
 */
static child_sa_t *find_child(ike_sa_t *ike_sa, protocol_id_t protocol,
							  uint32_t spi, bool inbound)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa, *found = NULL;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		if (child_sa->get_protocol(child_sa) == protocol &&
			child_sa->get_spi(child_sa, inbound) == spi)
		{
			found = child_sa;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Find the CHILD_SA of a replacement, NULL once it is gone
 */
static child_sa_t *find_child_by_id(ike_sa_t *ike_sa, u_int id)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa, *found = NULL;

	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (id && enumerator->enumerate(enumerator, &child_sa))
	{
		if (child_sa->get_unique_id(child_sa) == id)
		{
			found = child_sa;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Whether an entry has replacements still to resolve (mutex held)
 */
static bool has_open(entry_t *entry)
{
	enumerator_t *enumerator;
	replacement_t *r;
	bool open = FALSE;

	enumerator = array_create_enumerator(entry->replacements);
	while (!open && enumerator->enumerate(enumerator, &r))
	{
		open = !r->resolved;
	}
	enumerator->destroy(enumerator);
	return open;
}

/**
 * Data of a job working on an IKE_SA
 */
typedef struct {
	private_mobike_spi_nar_t *this;
	u_int ike_id;
	/** reason of a fallback, NULL to start a round */
	char *reason;
	/** only if the entry is still unresolved (TIMER) */
	bool timer;
} job_data_t;

static void job_data_destroy(job_data_t *data)
{
	free(data->reason);
	free(data);
}

/**
 * Fall back to a full IKEv2 negotiation: the IKE_SA goes, the peer
 * establishes a new one (logged here, IKE_SA checked out)
 */
static status_t fallback(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
						 char *reason, bool force)
{
	entry_t *entry;

	this->mutex->lock(this->mutex);
	entry = find_entry(this, ike_sa->get_unique_id(ike_sa), TRUE);
	this->mutex->unlock(this->mutex);
	if (entry)
	{
		entry_destroy(entry);
	}
	DBG1(DBG_IKE, "mobike-spi: SPI collision of IKE_SA %s[%u] with '%Y' not "
		 "resolved: %s; deleting the IKE_SA, the peer has to negotiate a new "
		 "one (full IKEv2)", ike_sa->get_name(ike_sa),
		 ike_sa->get_unique_id(ike_sa), ike_sa->get_other_id(ike_sa), reason);
	/* a silent peer gets one DELETE, one that answers a regular one */
	return ike_sa->delete(ike_sa, force);
}

/**
 * Start a round of Algorithm 1 (the first one with the MOBIKE update), or
 * fall back (IKE_SA checked out)
 */
static status_t start_round(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa)
{
	ike_mobike_t *mobike;
	enumerator_t *enumerator;
	replacement_t *r;
	entry_t *entry;
	child_sa_t *child_sa;
	array_t *rekeys = NULL;

	this->mutex->lock(this->mutex);
	entry = find_entry(this, ike_sa->get_unique_id(ike_sa), FALSE);
	if (entry)
	{
		entry->pending = TRUE;
		if (!entry->round++)
		{
			entry->started = time_monotonic(NULL);
			enumerator = array_create_enumerator(entry->replacements);
			while (enumerator->enumerate(enumerator, &r))
			{
				if (r->rekey && r->protocol == PROTO_IKE)
				{
					DBG1(DBG_IKE, "mobike-spi: rekeying IKE_SA %s[%u], its "
						 "peer lacks UPDATE_SPI", ike_sa->get_name(ike_sa),
						 ike_sa->get_unique_id(ike_sa));
					ike_sa->rekey(ike_sa);
					continue;
				}
				child_sa = find_child_by_id(ike_sa, r->child_id);
				if (r->rekey && child_sa)
				{	/* named by our inbound SPI, as installed */
					array_insert_create_value(&rekeys, sizeof(uint32_t),
						ARRAY_TAIL, &(uint32_t){
									child_sa->get_spi(child_sa, TRUE)});
					array_insert_create_value(&rekeys, sizeof(uint32_t),
						ARRAY_TAIL, &(uint32_t){r->protocol});
				}
			}
			enumerator->destroy(enumerator);
		}
	}
	this->mutex->unlock(this->mutex);

	mobike = ike_mobike_create(ike_sa, TRUE);
	mobike->update(mobike);
	ike_sa->queue_task(ike_sa, &mobike->task);
	if (rekeys)
	{
		uint32_t spi, protocol;

		while (array_remove(rekeys, ARRAY_HEAD, &spi) &&
			   array_remove(rekeys, ARRAY_HEAD, &protocol))
		{
			DBG1(DBG_CHD, "mobike-spi: rekeying CHILD_SA with SPI %.8x of "
				 "IKE_SA %s[%u]", ntohl(spi), ike_sa->get_name(ike_sa),
				 ike_sa->get_unique_id(ike_sa));
			ike_sa->rekey_child_sa(ike_sa, protocol, spi);
		}
		array_destroy(rekeys);
	}
	return ike_sa->initiate(ike_sa, NULL, NULL);
}

CALLBACK(ike_sa_job, job_requeue_t,
	job_data_t *data)
{
	private_mobike_spi_nar_t *this = data->this;
	ike_sa_t *ike_sa;
	entry_t *entry;
	status_t status;
	bool go = TRUE;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													data->ike_id);
	if (!ike_sa)
	{
		return JOB_REQUEUE_NONE;
	}
	if (data->timer)
	{
		this->mutex->lock(this->mutex);
		entry = find_entry(this, data->ike_id, FALSE);
		go = entry && entry->round && has_open(entry);
		this->mutex->unlock(this->mutex);
	}
	if (go && ike_sa->get_state(ike_sa) == IKE_ESTABLISHED)
	{
		charon->bus->set_sa(charon->bus, ike_sa);
		status = data->reason ? fallback(this, ike_sa, data->reason, TRUE)
							  : start_round(this, ike_sa);
		charon->bus->set_sa(charon->bus, NULL);
		if (status == DESTROY_ME)
		{
			charon->ike_sa_manager->checkin_and_destroy(
											charon->ike_sa_manager, ike_sa);
			return JOB_REQUEUE_NONE;
		}
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return JOB_REQUEUE_NONE;
}

/**
 * Queue a job on an IKE_SA: a round if reason is NULL, a fallback else
 */
static void queue_job(private_mobike_spi_nar_t *this, u_int ike_id,
					  char *reason, u_int delay_ms, bool timer)
{
	job_data_t *data;
	job_t *job;

	INIT(data,
		.this = this,
		.ike_id = ike_id,
		.reason = reason ? strdup(reason) : NULL,
		.timer = timer,
	);
	job = (job_t*)callback_job_create(ike_sa_job, data,
									  (void*)job_data_destroy, NULL);
	if (delay_ms)
	{
		lib->scheduler->schedule_job_ms(lib->scheduler, job, delay_ms);
	}
	else
	{
		lib->processor->queue_job(lib->processor, job);
	}
}

METHOD(cxtp_spi_hook_t, activated, void,
	cxtp_spi_hook_t *hook, ike_sa_t *ike_sa)
{
	private_mobike_spi_nar_t *this = from_hook(hook);
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	replacement_t *r;
	entry_t *entry;
	bool resolve;
	char reason[64];
	u_int delay;

	this->mutex->lock(this->mutex);
	adopt_pending(this, ike_sa);
	entry = find_entry(this, ike_sa->get_unique_id(ike_sa), FALSE);
	resolve = entry && array_count(entry->replacements);
	if (resolve)
	{
		enumerator = array_create_enumerator(entry->replacements);
		while (enumerator->enumerate(enumerator, &r))
		{
			child_sa = find_child(ike_sa, r->protocol,
								  r->inbound ? r->spi : r->peer_spi, r->inbound);
			r->child_id = child_sa ? child_sa->get_unique_id(child_sa) : 0;
		}
		enumerator->destroy(enumerator);
	}
	this->mutex->unlock(this->mutex);

	/* RFC 4555 3.5: the address we used (pAR's) is gone, so we update */
	delay = this->settings->get_update_delay(this->settings);
	if (!resolve && delay)
	{	/* nothing waits for it: the mobile node moved its SAs already, so
		 * its traffic resumes first and the update only confirms the path */
		DBG1(DBG_IKE, "mobike-spi: IKE_SA %s[%u] activated, moving the "
			 "peer's SAs here with UPDATE_SA_ADDRESSES in %ums",
			 ike_sa->get_name(ike_sa), ike_sa->get_unique_id(ike_sa), delay);
		queue_job(this, ike_sa->get_unique_id(ike_sa), NULL, delay, FALSE);
		return;
	}
	DBG1(DBG_IKE, "mobike-spi: IKE_SA %s[%u] activated, moving the peer's "
		 "SAs here with UPDATE_SA_ADDRESSES%s", ike_sa->get_name(ike_sa),
		 ike_sa->get_unique_id(ike_sa), resolve ? " and UPDATE_SPI" : "");
	/* at once, with the IKE_SA cxtp holds: each millisecond counts here */
	if (start_round(this, ike_sa) != SUCCESS)
	{
		DBG1(DBG_IKE, "mobike-spi: starting the MOBIKE update of IKE_SA "
			 "%s[%u] failed", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa));
	}
	if (resolve)
	{
		snprintf(reason, sizeof(reason), "TIMER of %us expired",
				 this->settings->get_timer(this->settings));
		queue_job(this, ike_sa->get_unique_id(ike_sa), reason,
				  this->settings->get_timer(this->settings) * 1000, TRUE);
	}
}

/**
 * Change an SPI of a CHILD_SA here, keeping the child_sa_manager in sync
 */
static bool replace_spi(ike_sa_t *ike_sa, protocol_id_t protocol,
						uint32_t spi, bool inbound, uint32_t new_spi)
{
	child_sa_t *child_sa;
	status_t status;

	child_sa = find_child(ike_sa, protocol, spi, inbound);
	if (!child_sa)
	{
		return FALSE;
	}
	charon->child_sa_manager->remove(charon->child_sa_manager, child_sa);
	status = child_sa->update_spi(child_sa, inbound, new_spi);
	charon->child_sa_manager->add(charon->child_sa_manager, child_sa, ike_sa);
	return status == SUCCESS;
}

/**
 * The UPDATE_SPI we send for a replacement
 */
static void to_update(replacement_t *r, mobike_spi_update_t *update)
{
	*update = (mobike_spi_update_t){
		.protocol = r->protocol,
		.responder = r->responder,
		.spi = r->peer_spi,
		.new_spi = r->spi,
		.new_ike_spi = r->ike_new,
	};
}

/**
 * While the peer may still know our IKE SPI as the old one, address our
 * requests with it (or the peer would not find its IKE_SA)
 */
static void old_ike_spi(entry_t *entry, message_t *message)
{
	ike_sa_id_t *id = message->get_ike_sa_id(message);
	enumerator_t *enumerator;
	replacement_t *r;

	enumerator = array_create_enumerator(entry->replacements);
	while (enumerator->enumerate(enumerator, &r))
	{
		if (r->protocol == PROTO_IKE && (!r->resolved || r->rekey))
		{
			if (r->responder)
			{
				id->set_responder_spi(id, r->ike_old);
			}
			else
			{
				id->set_initiator_spi(id, r->ike_old);
			}
		}
	}
	enumerator->destroy(enumerator);
}

/**
 * Add the round's UPDATE_SPIs to the MOBIKE update request
 */
static void build_request(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
						  message_t *message)
{
	mobike_spi_update_t update;
	enumerator_t *enumerator;
	replacement_t *r;
	entry_t *entry;
	int count = 0;

	this->mutex->lock(this->mutex);
	entry = find_entry(this, ike_sa->get_unique_id(ike_sa), FALSE);
	if (entry && entry->pending &&
		message->get_notify(message, UPDATE_SA_ADDRESSES))
	{
		entry->pending = FALSE;
		entry->mid = message->get_message_id(message);
		enumerator = array_create_enumerator(entry->replacements);
		while (enumerator->enumerate(enumerator, &r))
		{
			if (!r->resolved && !r->rekey)
			{
				to_update(r, &update);
				mobike_spi_notify_add(message, &update);
				count++;
			}
		}
		enumerator->destroy(enumerator);
		if (count)
		{
			DBG1(DBG_IKE, "mobike-spi: round trip %u of at most %u: asking "
				 "'%Y' to replace %d SPI%s", entry->round,
				 this->settings->get_max_round_trips(this->settings),
				 ike_sa->get_other_id(ike_sa), count, count == 1 ? "" : "s");
		}
	}
	this->mutex->unlock(this->mutex);
}

/**
 * Whether a response repeats (or rejects) an UPDATE_SPI we sent
 */
static bool has_update(message_t *message, notify_type_t type,
					   mobike_spi_update_t *expected)
{
	enumerator_t *enumerator;
	payload_t *payload;
	notify_payload_t *notify;
	mobike_spi_update_t update;
	bool found = FALSE;

	enumerator = message->create_payload_enumerator(message);
	while (!found && enumerator->enumerate(enumerator, &payload))
	{
		if (payload->get_type(payload) != PLV2_NOTIFY)
		{
			continue;
		}
		notify = (notify_payload_t*)payload;
		found = notify->get_notify_type(notify) == type &&
				!mobike_spi_notify_parse(notify, &update) &&
				mobike_spi_notify_equals(&update, expected);
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Evaluate the response to a round's request (Algorithm 1)
 */
static void process_response(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
							 message_t *message)
{
	mobike_spi_update_t update;
	enumerator_t *enumerator;
	replacement_t *r;
	entry_t *entry;
	bool open = FALSE, again = FALSE;
	u_int round, max;
	char reason[128];
	uint32_t spi;

	max = this->settings->get_max_round_trips(this->settings);
	this->mutex->lock(this->mutex);
	entry = find_entry(this, ike_sa->get_unique_id(ike_sa), FALSE);
	if (!entry || entry->pending || !entry->round ||
		entry->mid != message->get_message_id(message))
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	round = entry->round;
	enumerator = array_create_enumerator(entry->replacements);
	while (enumerator->enumerate(enumerator, &r))
	{
		if (r->resolved || r->rekey)
		{
			open |= !r->resolved;
			continue;
		}
		to_update(r, &update);
		if (r->protocol == PROTO_IKE)
		{
			if (has_update(message, MOBIKE_SPI_UPDATE_SPI, &update))
			{
				r->resolved = TRUE;
				DBG1(DBG_IKE, "mobike-spi: '%Y' replaced IKE SPI %.16"PRIx64
					 " by %.16"PRIx64, ike_sa->get_other_id(ike_sa),
					 be64toh(r->ike_old), be64toh(r->ike_new));
			}
			else
			{	/* the SPI is in use here since the import, send it again */
				DBG1(DBG_IKE, "mobike-spi: '%Y' %s UPDATE_SPI for IKE SPI "
					 "%.16"PRIx64, ike_sa->get_other_id(ike_sa),
					 has_update(message, MOBIKE_SPI_UPDATE_SPI_FAILED,
								&update) ? "rejected" : "ignored",
					 be64toh(r->ike_old));
				again = TRUE;
			}
			continue;
		}
		if (has_update(message, MOBIKE_SPI_UPDATE_SPI, &update))
		{
			r->resolved = TRUE;
			if (!r->inbound)
			{	/* the peer receives with the new SPI now, so we send so */
				if (!replace_spi(ike_sa, r->protocol, r->peer_spi, FALSE,
								 r->spi))
				{
					DBG1(DBG_CHD, "mobike-spi: switching outbound SA %.8x "
						 "to %.8x failed", ntohl(r->peer_spi), ntohl(r->spi));
				}
			}
			DBG1(DBG_CHD, "mobike-spi: '%Y' replaced %N SPI %.8x by %.8x",
				 ike_sa->get_other_id(ike_sa), protocol_id_names, r->protocol,
				 ntohl(r->peer_spi), ntohl(r->spi));
			continue;
		}
		DBG1(DBG_CHD, "mobike-spi: '%Y' %s UPDATE_SPI %.8x -> %.8x",
			 ike_sa->get_other_id(ike_sa),
			 has_update(message, MOBIKE_SPI_UPDATE_SPI_FAILED, &update) ?
				"rejected" : "ignored", ntohl(r->peer_spi), ntohl(r->spi));
		if (round >= max)
		{
			again = TRUE;
			continue;
		}
		/* Algorithm 1: again, with a new SPI if there is one (the one we
		 * installed is ours, so it still does not collide) */
		again = TRUE;
		spi = fresh_spi(this, ike_sa, entry, r->protocol, r->peer_spi,
						r->spi);
		if (!spi)
		{
			continue;
		}
		if (r->inbound &&
			!replace_spi(ike_sa, r->protocol, r->spi, TRUE, spi))
		{
			DBG1(DBG_CHD, "mobike-spi: moving inbound SA %.8x to %.8x "
				 "failed", ntohl(r->spi), ntohl(spi));
			continue;
		}
		r->spi = spi;
	}
	enumerator->destroy(enumerator);
	if (!again)
	{
		if (!open)
		{
			find_entry(this, entry->ike_id, TRUE);
			DBG1(DBG_IKE, "mobike-spi: SPI collision of IKE_SA %s[%u] "
				 "resolved in %u round trip%s", ike_sa->get_name(ike_sa),
				 entry->ike_id, round, round == 1 ? "" : "s");
			entry_destroy(entry);
		}
		this->mutex->unlock(this->mutex);
		return;
	}
	this->mutex->unlock(this->mutex);
	/* both only queue tasks, which start once this exchange is done; the
	 * MOBIKE task of this round then skips its COOKIE2 check (a newer
	 * update is queued), the next round's answer brings one */
	if (round >= max)
	{
		snprintf(reason, sizeof(reason), "still colliding after "
				 "MAX_ROUND_TRIPS (%u) round trips", max);
		fallback(this, ike_sa, reason, FALSE);
	}
	else
	{
		start_round(this, ike_sa);
	}
}

/**
 * With a peer that never heard of the new SPI, name the CHILD_SA by the SPI
 * it knows in REKEY_SA and DELETE (and ours in what it sends)
 */
static void map_spis(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
					 message_t *message, bool incoming)
{
	enumerator_t *enumerator, *spis, *replacements;
	payload_t *payload;
	notify_payload_t *notify;
	delete_payload_t *delete, *mapped;
	replacement_t *r;
	entry_t *entry;
	uint32_t spi, from, to;
	bool changed;

	this->mutex->lock(this->mutex);
	entry = find_entry(this, ike_sa->get_unique_id(ike_sa), FALSE);
	if (!entry)
	{
		this->mutex->unlock(this->mutex);
		return;
	}
	enumerator = message->create_payload_enumerator(message);
	while (enumerator->enumerate(enumerator, &payload))
	{
		replacements = array_create_enumerator(entry->replacements);
		while (replacements->enumerate(replacements, &r))
		{
			if (!r->rekey || !r->inbound ||
				!find_child_by_id(ike_sa, r->child_id))
			{	/* once it is gone, its SPI may be another's */
				continue;
			}
			from = incoming ? r->peer_spi : r->spi;
			to = incoming ? r->spi : r->peer_spi;
			if (payload->get_type(payload) == PLV2_NOTIFY)
			{
				notify = (notify_payload_t*)payload;
				if (notify->get_notify_type(notify) == REKEY_SA &&
					notify->get_protocol_id(notify) == r->protocol &&
					notify->get_spi(notify) == from)
				{
					notify->set_spi(notify, to);
				}
			}
			else if (payload->get_type(payload) == PLV2_DELETE)
			{
				delete = (delete_payload_t*)payload;
				if (delete->get_protocol_id(delete) != r->protocol)
				{
					continue;
				}
				mapped = delete_payload_create(PLV2_DELETE, r->protocol);
				changed = FALSE;
				spis = delete->create_spi_enumerator(delete);
				while (spis->enumerate(spis, &spi))
				{
					changed |= spi == from;
					mapped->add_spi(mapped, spi == from ? to : spi);
				}
				spis->destroy(spis);
				if (changed)
				{
					message->remove_payload_at(message, enumerator);
					payload->destroy(payload);
					message->add_payload(message, &mapped->payload_interface);
					break;
				}
				mapped->destroy(mapped);
			}
		}
		replacements->destroy(replacements);
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
}

METHOD(listener_t, message_hook, bool,
	private_mobike_spi_nar_t *this, ike_sa_t *ike_sa, message_t *message,
	bool incoming, bool plain)
{
	entry_t *entry;

	if (!plain || !ike_sa)
	{
		return TRUE;
	}
	if (!incoming && message->get_request(message))
	{
		this->mutex->lock(this->mutex);
		entry = find_entry(this, ike_sa->get_unique_id(ike_sa), FALSE);
		if (entry)
		{
			old_ike_spi(entry, message);
		}
		this->mutex->unlock(this->mutex);
	}
	switch (message->get_exchange_type(message))
	{
		case INFORMATIONAL:
			if (!incoming && message->get_request(message))
			{
				build_request(this, ike_sa, message);
			}
			else if (incoming && !message->get_request(message))
			{
				process_response(this, ike_sa, message);
			}
			/* fall through */
		case CREATE_CHILD_SA:
			map_spis(this, ike_sa, message, incoming);
			break;
		default:
			break;
	}
	return TRUE;
}

METHOD(listener_t, child_rekey, bool,
	private_mobike_spi_nar_t *this, ike_sa_t *ike_sa, child_sa_t *old,
	child_sa_t *new)
{
	enumerator_t *enumerator;
	replacement_t *r;
	entry_t *entry;

	this->mutex->lock(this->mutex);
	entry = find_entry(this, ike_sa->get_unique_id(ike_sa), FALSE);
	if (entry)
	{
		enumerator = array_create_enumerator(entry->replacements);
		while (enumerator->enumerate(enumerator, &r))
		{
			if (r->rekey && r->protocol != PROTO_IKE &&
				r->child_id == old->get_unique_id(old))
			{
				DBG1(DBG_CHD, "mobike-spi: colliding SPI %.8x of '%Y' "
					 "replaced by rekeying, new SPIs %.8x_i %.8x_o",
					 ntohl(r->peer_spi), ike_sa->get_other_id(ike_sa),
					 ntohl(new->get_spi(new, TRUE)),
					 ntohl(new->get_spi(new, FALSE)));
				/* SPIs are mapped until the old CHILD_SA is gone */
				r->resolved = TRUE;
			}
		}
		enumerator->destroy(enumerator);
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(listener_t, ike_rekey, bool,
	private_mobike_spi_nar_t *this, ike_sa_t *old, ike_sa_t *new)
{
	enumerator_t *enumerator;
	replacement_t *r;
	entry_t *entry;

	this->mutex->lock(this->mutex);
	entry = find_entry(this, old->get_unique_id(old), FALSE);
	if (entry)
	{
		enumerator = array_create_enumerator(entry->replacements);
		while (enumerator->enumerate(enumerator, &r))
		{
			if (r->rekey && r->protocol == PROTO_IKE)
			{	/* the old IKE_SA goes, under the SPI the peer knows */
				DBG1(DBG_IKE, "mobike-spi: colliding IKE SPI %.16"PRIx64" of "
					 "'%Y' replaced by rekeying the IKE_SA",
					 be64toh(r->ike_old), old->get_other_id(old));
				r->resolved = TRUE;
			}
		}
		enumerator->destroy(enumerator);
	}
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(listener_t, ike_state_change, bool,
	private_mobike_spi_nar_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	entry_t *entry;

	/* also an imported IKE_SA whose activation failed */
	if (state == IKE_DESTROYING)
	{
		this->mutex->lock(this->mutex);
		entry = find_entry(this, ike_sa->get_unique_id(ike_sa), TRUE);
		this->mutex->unlock(this->mutex);
		if (entry)
		{
			entry_destroy(entry);
		}
	}
	return TRUE;
}

METHOD(mobike_spi_nar_t, destroy, void,
	private_mobike_spi_nar_t *this)
{
	ike_pending_t *pending;

	while (array_remove(this->pending, ARRAY_HEAD, &pending))
	{
		free(pending->r);
		free(pending);
	}
	array_destroy(this->pending);
	this->entries->destroy_function(this->entries, (void*)entry_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
mobike_spi_nar_t *mobike_spi_nar_create(mobike_spi_settings_t *settings)
{
	private_mobike_spi_nar_t *this;

	INIT(this,
		.public = {
			.hook = {
				.import_ike_sa = _import_ike_sa,
				.get_inbound_spi = _get_inbound_spi,
				.activated = _activated,
			},
			.listener = {
				.message = _message_hook,
				.child_rekey = _child_rekey,
				.ike_rekey = _ike_rekey,
				.ike_state_change = _ike_state_change,
			},
			.destroy = _destroy,
		},
		.settings = settings,
		.entries = linked_list_create(),
		.pending = array_create(0, 0),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
