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
#include <sa/ikev2/tasks/child_rekey.h>
#include <plugins/cxtp/cxtp_options.h>

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
	 * IKE_SAs with SPIs being replaced, entry_t. An entry is read and
	 * changed only by the thread that has its IKE_SA checked out, the mutex
	 * guards the list.
	 */
	linked_list_t *entries;

	/**
	 * IKE SPI replacements of contexts imported but not activated yet,
	 * ike_pending_t
	 */
	array_t *pending;

	/**
	 * Lock for entries and pending, never held while IKE_SAs are walked or
	 * checked out, nor while the kernel is called
	 */
	mutex_t *mutex;
};

/**
 * One replaced SPI of a transferred IKE_SA or CHILD_SA
 */
typedef struct {
	/** PROTO_IKE, PROTO_ESP or PROTO_AH */
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
	/** a round's UPDATE_SPIs wait for the MOBIKE update */
	bool pending;
	/** given up, the IKE_SA is being deleted */
	bool failed;
} entry_t;

static void entry_destroy(entry_t *entry)
{
	array_destroy_function(entry->replacements, (void*)free, NULL);
	free(entry);
}

CALLBACK(entry_match, bool,
	entry_t *entry, va_list args)
{
	u_int ike_id;

	VA_ARGS_VGET(args, ike_id);
	return entry->ike_id == ike_id;
}

/**
 * The entry of an IKE_SA, if any
 */
static entry_t *get_entry(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa)
{
	entry_t *entry = NULL;

	this->mutex->lock(this->mutex);
	this->entries->find_first(this->entries, entry_match, (void**)&entry,
							  ike_sa->get_unique_id(ike_sa));
	this->mutex->unlock(this->mutex);
	return entry;
}

/**
 * The entry of an IKE_SA, created if needed
 */
static entry_t *create_entry(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa)
{
	entry_t *entry = get_entry(this, ike_sa);

	if (!entry)
	{
		INIT(entry,
			.ike_id = ike_sa->get_unique_id(ike_sa),
			.replacements = array_create(0, 0),
		);
		this->mutex->lock(this->mutex);
		this->entries->insert_last(this->entries, entry);
		this->mutex->unlock(this->mutex);
	}
	return entry;
}

/**
 * Forget the entry of an IKE_SA
 */
static void remove_entry(private_mobike_spi_nar_t *this, u_int ike_id)
{
	entry_t *entry = NULL;

	this->mutex->lock(this->mutex);
	if (this->entries->find_first(this->entries, entry_match, (void**)&entry,
								  ike_id))
	{
		this->entries->remove(this->entries, entry, NULL);
	}
	this->mutex->unlock(this->mutex);
	if (entry)
	{
		entry_destroy(entry);
	}
}

/**
 * Whether an entry has replacements still to resolve
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
 * The SAD lookup mode in effect
 */
static mobike_spi_sad_lookup_t mode(private_mobike_spi_nar_t *this)
{
	return mobike_spi_sad_resolve(
						this->settings->get_sad_lookup(this->settings));
}

/**
 * A new SPI for the peer's inbound SA, apart from the transferred SPIs and
 * those proposed already
 */
static uint32_t fresh_peer_spi(ike_sa_t *ike_sa, entry_t *entry,
							   protocol_id_t protocol, uint32_t spi_in,
							   uint32_t spi_out)
{
	enumerator_t *enumerator;
	replacement_t *r;
	uint32_t avoid[64];
	int count = 0;

	avoid[count++] = spi_in;
	avoid[count++] = spi_out;
	if (entry)
	{
		enumerator = array_create_enumerator(entry->replacements);
		while (count < countof(avoid) - 1 &&
			   enumerator->enumerate(enumerator, &r))
		{
			avoid[count++] = r->peer_spi;
			avoid[count++] = r->spi;
		}
		enumerator->destroy(enumerator);
	}
	return mobike_spi_sad_fresh_peer(protocol, ike_sa, avoid, count);
}

/**
 * Our object from its hook interface
 */
static private_mobike_spi_nar_t *from_hook(cxtp_spi_hook_t *hook)
{
	return (private_mobike_spi_nar_t*)((char*)hook -
							offsetof(private_mobike_spi_nar_t, public.hook));
}

/**
 * Our object from its provider interface
 */
static private_mobike_spi_nar_t *from_provider(task_provider_t *provider)
{
	return (private_mobike_spi_nar_t*)((char*)provider -
						offsetof(private_mobike_spi_nar_t, public.provider));
}

/**
 * Our object from its rounds interface
 */
static private_mobike_spi_nar_t *from_rounds(mobike_spi_rounds_t *rounds)
{
	return (private_mobike_spi_nar_t*)((char*)rounds -
						offsetof(private_mobike_spi_nar_t, public.rounds));
}

METHOD(cxtp_spi_hook_t, get_inbound_spi, uint32_t,
	cxtp_spi_hook_t *hook, ike_sa_t *ike_sa, child_sa_t *child_sa,
	uint32_t spi_in, uint32_t spi_out)
{
	private_mobike_spi_nar_t *this = from_hook(hook);
	protocol_id_t protocol = child_sa->get_protocol(child_sa);
	mobike_spi_sad_lookup_t lookup = mode(this);
	host_t *me = ike_sa->get_my_host(ike_sa);
	bool initiator, supported, in, out = FALSE;
	replacement_t *r;
	entry_t *entry;
	uint32_t spi;

	in = mobike_spi_sad_collides(lookup, protocol, spi_in, me, ike_sa, NULL);
	if (!in && lookup == MOBIKE_SPI_SAD_LOOKUP_SPI)
	{	/* in one SAD for all SAs the peer's SPI may collide as well */
		out = mobike_spi_sad_collides(lookup, protocol, spi_out, me, ike_sa,
									  NULL);
	}
	if (!in && !out)
	{
		return spi_in;
	}
	initiator = ike_sa->has_condition(ike_sa, COND_ORIGINAL_INITIATOR);
	supported = ike_sa->supports_extension(ike_sa, MOBIKE_SPI_EXT_PEER);

	entry = get_entry(this, ike_sa);
	if (in)
	{
		spi = mobike_spi_sad_fresh_inbound(lookup, ike_sa, child_sa);
	}
	else if (supported)
	{
		spi = fresh_peer_spi(ike_sa, entry, protocol, spi_in, spi_out);
	}
	else
	{	/* a rekey replaces both SPIs, we just keep ours meanwhile */
		spi = spi_in;
	}
	if (!spi)
	{
		DBG1(DBG_CHD, "mobike-spi: %N SPI %.8x of '%Y' collides, no free "
			 "SPI to replace it", protocol_id_names, protocol,
			 ntohl(in ? spi_in : spi_out), ike_sa->get_other_id(ike_sa));
		return 0;
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
	entry = create_entry(this, ike_sa);
	array_insert(entry->replacements, ARRAY_TAIL, r);

	DBG1(DBG_CHD, "mobike-spi: %s %N SPI %.8x of '%Y' collides with an SA "
		 "here (SAD lookup %N), %s", in ? "inbound" : "outbound",
		 protocol_id_names, protocol, ntohl(r->peer_spi),
		 ike_sa->get_other_id(ike_sa), mobike_spi_sad_lookup_names, lookup,
		 supported ? "replacing it with UPDATE_SPI"
				   : "peer lacks UPDATE_SPI, rekeying the CHILD_SA instead");
	if (in)
	{	/* the peer names it so until it learns the new SPI or rekeys */
		child_sa->set_announced_spi(child_sa, spi_in);
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
	cxtp_spi_hook_t *hook, ike_sa_id_t *id, identification_t *peer,
	uint32_t extensions)
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
	if (!(extensions & MOBIKE_SPI_EXT_PEER))
	{	/* a peer we cannot tell a new IKE SPI would address its requests and
		 * responses to the other IKE_SA */
		DBG1(DBG_IKE, "mobike-spi: IKE SPIs of '%Y' collide with IKE_SA %s "
			 "and the peer lacks UPDATE_SPI, refusing the context", peer,
			 name);
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
 * Adopt the IKE SPI replacement of an IKE_SA at its activation
 */
static void adopt_pending(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	enumerator_t *enumerator;
	ike_pending_t *pending, *found = NULL;

	this->mutex->lock(this->mutex);
	enumerator = array_create_enumerator(this->pending);
	while (enumerator->enumerate(enumerator, &pending))
	{
		if (pending->spi_i == id->get_initiator_spi(id) &&
			pending->spi_r == id->get_responder_spi(id))
		{
			array_remove_at(this->pending, enumerator);
			found = pending;
			break;
		}
	}
	enumerator->destroy(enumerator);
	this->mutex->unlock(this->mutex);
	if (found)
	{
		array_insert(create_entry(this, ike_sa)->replacements, ARRAY_TAIL,
					 found->r);
		free(found);
	}
}

/**
 * Fall back to a full IKEv2 negotiation: the IKE_SA goes, the peer
 * establishes a new one (IKE_SA checked out)
 */
static status_t fallback(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
						 char *reason, bool force)
{
	entry_t *entry;

	entry = get_entry(this, ike_sa);
	if (entry)
	{	/* kept, so the DELETE still goes to the IKE SPI the peer knows */
		entry->failed = TRUE;
	}
	DBG1(DBG_IKE, "mobike-spi: SPI collision of IKE_SA %s[%u] with '%Y' not "
		 "resolved: %s; deleting the IKE_SA, the peer has to negotiate a new "
		 "one (full IKEv2)", ike_sa->get_name(ike_sa),
		 ike_sa->get_unique_id(ike_sa), ike_sa->get_other_id(ike_sa), reason);
	/* a silent peer gets one DELETE, one that answers a regular one */
	return ike_sa->delete(ike_sa, force);
}

/**
 * Start a round of Algorithm 1 (the first one with the MOBIKE update): queue
 * the MOBIKE update, and in the first round the rekeyings for a peer
 * without UPDATE_SPI (IKE_SA checked out)
 */
static status_t start_round(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
							bool initiate)
{
	enumerator_t *enumerator;
	ike_mobike_t *mobike;
	child_rekey_t *rekey;
	replacement_t *r;
	entry_t *entry;

	mobike = ike_mobike_create(ike_sa, TRUE);
	mobike->update(mobike);
	ike_sa->queue_task(ike_sa, &mobike->task);

	entry = get_entry(this, ike_sa);
	if (entry)
	{
		entry->pending = TRUE;
		if (!entry->round++)
		{
			enumerator = array_create_enumerator(entry->replacements);
			while (enumerator->enumerate(enumerator, &r))
			{
				if (r->rekey && !r->resolved)
				{	/* named by our SPI, child_rekey names it as the peer
					 * knows it */
					DBG1(DBG_CHD, "mobike-spi: rekeying CHILD_SA with SPI "
						 "%.8x of IKE_SA %s[%u]", ntohl(r->spi),
						 ike_sa->get_name(ike_sa),
						 ike_sa->get_unique_id(ike_sa));
					rekey = child_rekey_create(ike_sa, r->protocol,
									r->inbound ? r->spi : r->peer_spi);
					ike_sa->queue_task(ike_sa, &rekey->task);
				}
			}
			enumerator->destroy(enumerator);
		}
	}
	return initiate ? ike_sa->initiate(ike_sa, NULL, NULL) : SUCCESS;
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
		entry = get_entry(this, ike_sa);
		go = entry && entry->round && !entry->failed && has_open(entry);
	}
	if (go && ike_sa->get_state(ike_sa) == IKE_ESTABLISHED)
	{
		status = data->reason ? fallback(this, ike_sa, data->reason, TRUE)
							  : start_round(this, ike_sa, TRUE);
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
	cxtp_spi_hook_t *hook, ike_sa_t *ike_sa, bool by_peer)
{
	private_mobike_spi_nar_t *this = from_hook(hook);
	entry_t *entry;
	bool resolve;
	char reason[64], buf[32];
	u_int timer;
	u_int delay;

	adopt_pending(this, ike_sa);
	entry = get_entry(this, ike_sa);
	resolve = entry && array_count(entry->replacements);

	if (!resolve && by_peer)
	{	/* the peer reached us with its own request, with MOBIKE it updates
		 * the addresses itself if they changed; or they did not change (a
		 * gateway takeover) */
		DBG1(DBG_IKE, "mobike-spi: IKE_SA %s[%u] activated at the peer's "
			 "own addresses, no update of ours", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa));
		return;
	}
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
	if (start_round(this, ike_sa, TRUE) != SUCCESS)
	{
		DBG1(DBG_IKE, "mobike-spi: starting the MOBIKE update of IKE_SA "
			 "%s[%u] failed", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa));
	}
	if (resolve)
	{
		timer = this->settings->get_timer(this->settings);
		snprintf(reason, sizeof(reason), "TIMER of %s expired",
				 cxtp_options_print_time(timer, buf, sizeof(buf)));
		queue_job(this, ike_sa->get_unique_id(ike_sa), reason, timer, TRUE);
	}
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
 * The IKE SPI replacement the peer has not taken yet, if any
 */
static replacement_t *unresolved_ike(entry_t *entry)
{
	enumerator_t *enumerator;
	replacement_t *r, *found = NULL;

	enumerator = array_create_enumerator(entry->replacements);
	while (enumerator->enumerate(enumerator, &r))
	{
		if (r->protocol == PROTO_IKE && !r->resolved)
		{
			found = r;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

METHOD(task_provider_t, create_task, task_t*,
	task_provider_t *provider, ike_sa_t *ike_sa, exchange_type_t exchange,
	bool initiator)
{
	private_mobike_spi_nar_t *this = from_provider(provider);
	entry_t *entry;

	if (!initiator || exchange == IKE_SA_INIT)
	{
		return NULL;
	}
	entry = get_entry(this, ike_sa);
	if (!entry || (!unresolved_ike(entry) &&
				   (exchange != INFORMATIONAL || !entry->pending)))
	{
		return NULL;
	}
	return &mobike_spi_request_create(ike_sa, &this->public.rounds)->task;
}

METHOD(mobike_spi_rounds_t, get_address, ike_sa_id_t*,
	mobike_spi_rounds_t *rounds, ike_sa_t *ike_sa)
{
	private_mobike_spi_nar_t *this = from_rounds(rounds);
	ike_sa_id_t *address;
	replacement_t *r;
	entry_t *entry;

	entry = get_entry(this, ike_sa);
	r = entry ? unresolved_ike(entry) : NULL;
	if (!r)
	{
		return NULL;
	}
	/* the peer still knows the IKE_SA by our old SPI */
	address = ike_sa->get_id(ike_sa)->clone(ike_sa->get_id(ike_sa));
	if (r->responder)
	{
		address->set_responder_spi(address, r->ike_old);
	}
	else
	{
		address->set_initiator_spi(address, r->ike_old);
	}
	return address;
}

METHOD(mobike_spi_rounds_t, take_round, array_t*,
	mobike_spi_rounds_t *rounds, ike_sa_t *ike_sa)
{
	private_mobike_spi_nar_t *this = from_rounds(rounds);
	mobike_spi_result_t *result;
	enumerator_t *enumerator;
	array_t *results = NULL;
	replacement_t *r;
	entry_t *entry;

	entry = get_entry(this, ike_sa);
	if (!entry || !entry->pending || entry->failed)
	{
		return NULL;
	}
	entry->pending = FALSE;
	enumerator = array_create_enumerator(entry->replacements);
	while (enumerator->enumerate(enumerator, &r))
	{
		if (!r->resolved && !r->rekey)
		{
			INIT(result);
			to_update(r, &result->update);
			array_insert_create(&results, ARRAY_TAIL, result);
		}
	}
	enumerator->destroy(enumerator);
	if (results)
	{
		DBG1(DBG_IKE, "mobike-spi: round trip %u of at most %u: asking "
			 "'%Y' to replace %d SPI%s", entry->round,
			 this->settings->get_max_round_trips(this->settings),
			 ike_sa->get_other_id(ike_sa), array_count(results),
			 array_count(results) == 1 ? "" : "s");
	}
	return results;
}

/**
 * What the peer answered to the UPDATE_SPI of a replacement
 */
static mobike_spi_answer_t answer_of(array_t *results, replacement_t *r)
{
	enumerator_t *enumerator;
	mobike_spi_result_t *result;
	mobike_spi_update_t update;
	mobike_spi_answer_t answer = MOBIKE_SPI_IGNORED;

	to_update(r, &update);
	enumerator = array_create_enumerator(results);
	while (enumerator->enumerate(enumerator, &result))
	{
		if (mobike_spi_notify_equals(&result->update, &update))
		{
			answer = result->answer;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return answer;
}

/**
 * Switch our outbound SA to the SPI the peer receives with now
 */
static void switch_outbound(ike_sa_t *ike_sa, replacement_t *r)
{
	child_sa_t *child_sa;
	status_t status = FAILED;

	child_sa = ike_sa->get_child_sa(ike_sa, r->protocol, r->peer_spi, FALSE);
	if (child_sa)
	{	/* the CHILD_SA is found by its SPIs */
		charon->child_sa_manager->remove(charon->child_sa_manager, child_sa);
		status = child_sa->update_spi(child_sa, FALSE, r->spi);
		charon->child_sa_manager->add(charon->child_sa_manager, child_sa,
									  ike_sa);
	}
	if (status != SUCCESS)
	{
		DBG1(DBG_CHD, "mobike-spi: switching outbound SA %.8x to %.8x "
			 "failed", ntohl(r->peer_spi), ntohl(r->spi));
	}
}

/**
 * A new SPI for a replacement the peer did not take (Algorithm 1)
 */
static void renew_spi(private_mobike_spi_nar_t *this, ike_sa_t *ike_sa,
					  entry_t *entry, replacement_t *r)
{
	child_sa_t *child_sa;
	uint32_t spi;

	if (r->inbound)
	{	/* the SA leaves the SPI of the round before, which was ours */
		child_sa = ike_sa->get_child_sa(ike_sa, r->protocol, r->spi, TRUE);
		spi = child_sa ? mobike_spi_sad_fresh_inbound(mode(this), ike_sa,
													  child_sa) : 0;
		if (child_sa)
		{
			r->spi = child_sa->get_spi(child_sa, TRUE);
		}
	}
	else
	{
		spi = fresh_peer_spi(ike_sa, entry, r->protocol, r->peer_spi, r->spi);
		r->spi = spi ?: r->spi;
	}
	if (!spi)
	{
		DBG1(DBG_CHD, "mobike-spi: no fresh SPI to replace %N SPI %.8x of "
			 "'%Y', asking again for %.8x", protocol_id_names, r->protocol,
			 ntohl(r->peer_spi), ike_sa->get_other_id(ike_sa), ntohl(r->spi));
	}
}

METHOD(mobike_spi_rounds_t, answered, void,
	mobike_spi_rounds_t *rounds, ike_sa_t *ike_sa, array_t *results)
{
	private_mobike_spi_nar_t *this = from_rounds(rounds);
	mobike_spi_answer_t answer;
	enumerator_t *enumerator;
	child_sa_t *child_sa;
	replacement_t *r;
	entry_t *entry;
	bool again = FALSE;
	u_int round, max;
	char reason[128];

	entry = get_entry(this, ike_sa);
	if (!entry || entry->failed)
	{
		return;
	}
	round = entry->round;
	max = this->settings->get_max_round_trips(this->settings);
	enumerator = array_create_enumerator(entry->replacements);
	while (enumerator->enumerate(enumerator, &r))
	{
		if (r->resolved || r->rekey)
		{
			continue;
		}
		answer = answer_of(results, r);
		if (r->protocol == PROTO_IKE)
		{
			if (answer == MOBIKE_SPI_APPLIED)
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
					 answer == MOBIKE_SPI_REJECTED ? "rejected" : "ignored",
					 be64toh(r->ike_old));
				again = TRUE;
			}
			continue;
		}
		if (answer == MOBIKE_SPI_APPLIED)
		{
			r->resolved = TRUE;
			if (r->inbound)
			{	/* the peer knows the SA by the installed SPI now */
				child_sa = ike_sa->get_child_sa(ike_sa, r->protocol, r->spi,
												TRUE);
				if (child_sa)
				{
					child_sa->set_announced_spi(child_sa, 0);
				}
			}
			else
			{	/* the peer receives with the new SPI now, so we send so */
				switch_outbound(ike_sa, r);
			}
			DBG1(DBG_CHD, "mobike-spi: '%Y' replaced %N SPI %.8x by %.8x",
				 ike_sa->get_other_id(ike_sa), protocol_id_names, r->protocol,
				 ntohl(r->peer_spi), ntohl(r->spi));
			continue;
		}
		DBG1(DBG_CHD, "mobike-spi: '%Y' %s UPDATE_SPI %.8x -> %.8x",
			 ike_sa->get_other_id(ike_sa),
			 answer == MOBIKE_SPI_REJECTED ? "rejected" : "ignored",
			 ntohl(r->peer_spi), ntohl(r->spi));
		again = TRUE;
		if (round < max)
		{	/* Algorithm 1: again, with a new SPI if there is one */
			renew_spi(this, ike_sa, entry, r);
		}
	}
	enumerator->destroy(enumerator);

	if (!again)
	{
		if (!has_open(entry))
		{
			DBG1(DBG_IKE, "mobike-spi: SPI collision of IKE_SA %s[%u] "
				 "resolved in %u round trip%s", ike_sa->get_name(ike_sa),
				 entry->ike_id, round, round == 1 ? "" : "s");
			remove_entry(this, entry->ike_id);
		}
		return;
	}
	/* both only queue tasks, which start once this exchange is done */
	if (round >= max)
	{
		snprintf(reason, sizeof(reason), "still colliding after "
				 "MAX_ROUND_TRIPS (%u) round trips", max);
		fallback(this, ike_sa, reason, FALSE);
	}
	else
	{
		start_round(this, ike_sa, FALSE);
	}
}

METHOD(listener_t, child_rekey, bool,
	private_mobike_spi_nar_t *this, ike_sa_t *ike_sa, child_sa_t *old,
	child_sa_t *new)
{
	enumerator_t *enumerator;
	replacement_t *r;
	entry_t *entry;

	entry = get_entry(this, ike_sa);
	if (!entry)
	{
		return TRUE;
	}
	enumerator = array_create_enumerator(entry->replacements);
	while (enumerator->enumerate(enumerator, &r))
	{
		if (r->rekey && !r->resolved &&
			r->protocol == old->get_protocol(old) &&
			(r->inbound ? old->get_spi(old, TRUE) == r->spi
						: old->get_spi(old, FALSE) == r->peer_spi))
		{	/* the old CHILD_SA names itself as the peer knows it until it
			 * is gone */
			DBG1(DBG_CHD, "mobike-spi: colliding SPI %.8x of '%Y' replaced "
				 "by rekeying, new SPIs %.8x_i %.8x_o", ntohl(r->peer_spi),
				 ike_sa->get_other_id(ike_sa), ntohl(new->get_spi(new, TRUE)),
				 ntohl(new->get_spi(new, FALSE)));
			r->resolved = TRUE;
		}
	}
	enumerator->destroy(enumerator);
	if (!has_open(entry) && !entry->failed)
	{
		remove_entry(this, entry->ike_id);
	}
	return TRUE;
}

METHOD(listener_t, ike_state_change, bool,
	private_mobike_spi_nar_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	/* also an imported IKE_SA whose activation failed */
	if (state == IKE_DESTROYING)
	{
		remove_entry(this, ike_sa->get_unique_id(ike_sa));
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
				.child_rekey = _child_rekey,
				.ike_state_change = _ike_state_change,
			},
			.provider = {
				.create_task = _create_task,
			},
			.rounds = {
				.get_address = _get_address,
				.take_round = _take_round,
				.answered = _answered,
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
