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


#include "cxtp_pad.h"

#include <daemon.h>
#include <threading/rwlock.h>
#include <collections/hashtable.h>
#include <processing/jobs/callback_job.h>

typedef struct private_cxtp_pad_t private_cxtp_pad_t;

/**
 * Private data of a cxtp_pad_t object.
 */
struct private_cxtp_pad_t {

	/**
	 * Public cxtp_pad_t interface.
	 */
	cxtp_pad_t public;

	/**
	 * Plugin settings
	 */
	cxtp_settings_t *settings;

	/**
	 * PAD entries by identity and secret type, entry_t*: a gateway holds
	 * one per node transferred to it, thousands after a drain
	 */
	hashtable_t *entries;

	/**
	 * Whether the check for unused entries is scheduled
	 */
	bool checking;

	/**
	 * Lock for the members above
	 */
	rwlock_t *lock;
};

/**
 * A transferred PAD entry
 */
typedef struct {
	/** identity the secret belongs to */
	identification_t *id;
	/** type of the secret, with the identity the entry's key */
	shared_key_type_t type;
	/** the secret, wiped on destruction */
	shared_key_t *key;
	/** no IKE_SA of the identity was found at the last check */
	bool unused;
	/** an IKE_SA of the identity was found during the current check */
	bool seen;
} entry_t;

static void entry_destroy(entry_t *entry)
{
	entry->id->destroy(entry->id);
	DESTROY_IF(entry->key);
	free(entry);
}

static u_int entry_hash(const void *key)
{
	const entry_t *entry = key;

	return entry->id->hash(entry->id, entry->type);
}

static bool entry_equals(const void *key, const void *other_key)
{
	const entry_t *a = key, *b = other_key;

	return a->type == b->type && a->id->equals(a->id, b->id);
}

/**
 * Data for the shared key enumerator
 */
typedef struct {
	rwlock_t *lock;
	shared_key_type_t type;
	identification_t *other;
} shared_data_t;

CALLBACK(shared_data_destroy, void,
	shared_data_t *data)
{
	data->lock->unlock(data->lock);
	free(data);
}

CALLBACK(shared_filter, bool,
	shared_data_t *data, enumerator_t *orig, va_list args)
{
	id_match_t *me, *other, match;
	shared_key_t **out;
	entry_t *entry;

	VA_ARGS_VGET(args, out, me, other);

	while (orig->enumerate(orig, NULL, &entry))
	{
		if (data->type != SHARED_ANY &&
			entry->key->get_type(entry->key) != data->type)
		{
			continue;
		}
		/* the secret belongs to the mobile node, whatever our identity */
		match = data->other ? entry->id->matches(entry->id, data->other)
							: ID_MATCH_ANY;
		if (match == ID_MATCH_NONE)
		{
			continue;
		}
		*out = entry->key;
		if (me)
		{
			*me = ID_MATCH_ANY;
		}
		if (other)
		{
			*other = match;
		}
		return TRUE;
	}
	return FALSE;
}

METHOD(credential_set_t, create_shared_enumerator, enumerator_t*,
	private_cxtp_pad_t *this, shared_key_type_t type,
	identification_t *me, identification_t *other)
{
	shared_data_t *data;

	INIT(data,
		.lock = this->lock,
		.type = type,
		.other = other,
	);
	data->lock->read_lock(data->lock);
	return enumerator_create_filter(
						this->entries->create_enumerator(this->entries),
						shared_filter, data, shared_data_destroy);
}

static void schedule_check(private_cxtp_pad_t *this);

/**
 * Mark the entries of an identity as seen (write lock held)
 */
static void mark_seen(private_cxtp_pad_t *this, identification_t *id)
{
	entry_t *entry, key = {
		.id = id,
	};

	for (key.type = SHARED_IKE; key.type <= SHARED_EAP; key.type++)
	{
		entry = this->entries->get(this->entries, &key);
		if (entry)
		{
			entry->seen = TRUE;
		}
	}
}

CALLBACK(check_entries, job_requeue_t,
	private_cxtp_pad_t *this)
{
	enumerator_t *enumerator, *entries;
	identification_t *eap;
	ike_sa_t *ike_sa;
	entry_t *entry;

	this->lock->write_lock(this->lock);
	entries = this->entries->create_enumerator(this->entries);
	while (entries->enumerate(entries, NULL, &entry))
	{
		entry->seen = FALSE;
	}
	entries->destroy(entries);
	this->lock->unlock(this->lock);

	/* one pass over the IKE_SAs, without our lock (IKE_SAs ask for
	 * credentials while checked out) and without waiting for checked out
	 * ones: a busy IKE_SA counts as missing once, entries go after two */
	enumerator = charon->controller->create_ike_sa_enumerator(
													charon->controller, FALSE);
	while (enumerator->enumerate(enumerator, &ike_sa))
	{
		eap = ike_sa->get_other_eap_id(ike_sa);
		this->lock->write_lock(this->lock);
		mark_seen(this, ike_sa->get_other_id(ike_sa));
		if (eap)
		{
			mark_seen(this, eap);
		}
		this->lock->unlock(this->lock);
	}
	enumerator->destroy(enumerator);

	this->lock->write_lock(this->lock);
	entries = this->entries->create_enumerator(this->entries);
	while (entries->enumerate(entries, NULL, &entry))
	{
		if (entry->seen)
		{
			entry->unused = FALSE;
		}
		else if (entry->unused)
		{
			DBG1(DBG_CFG, "cxtp: no IKE_SA of '%Y' left, removing its "
				 "transferred PAD entry", entry->id);
			this->entries->remove_at(this->entries, entries);
			entry_destroy(entry);
		}
		else
		{
			entry->unused = TRUE;
		}
	}
	entries->destroy(entries);
	this->checking = FALSE;
	if (this->entries->get_count(this->entries))
	{
		schedule_check(this);
	}
	this->lock->unlock(this->lock);
	return JOB_REQUEUE_NONE;
}

/**
 * Schedule the next check for unused entries, with the write lock held
 */
static void schedule_check(private_cxtp_pad_t *this)
{
	if (!this->checking)
	{
		this->checking = TRUE;
		lib->scheduler->schedule_job_ms(lib->scheduler, (job_t*)
				callback_job_create(check_entries, this, NULL, NULL),
				this->settings->get_handover_timeout(this->settings));
	}
}

METHOD(cxtp_pad_t, add, void,
	private_cxtp_pad_t *this, cxtp_context_t *context)
{
	cxtp_pad_context_t *pad = &context->pad;
	identification_t *id = pad->id;
	entry_t *entry, *old;

	if (!pad->secret.len || !id)
	{	/* public key authentication: trust comes from the CA */
		return;
	}
	if (pad->secret_type == SHARED_EAP && context->ike.remote_eap_id)
	{	/* EAP secrets belong to the EAP identity */
		id = context->ike.remote_eap_id;
	}
	INIT(entry,
		.id = id->clone(id),
		.type = pad->secret_type,
		.key = shared_key_create(pad->secret_type, chunk_clone(pad->secret)),
	);
	this->lock->write_lock(this->lock);
	old = this->entries->put(this->entries, entry, entry);
	if (old)
	{
		entry_destroy(old);
	}
	schedule_check(this);
	this->lock->unlock(this->lock);
	DBG1(DBG_CFG, "cxtp: installed the transferred PAD entry of '%Y' for %N "
		 "authentication", entry->id, shared_key_type_names, pad->secret_type);
}

METHOD(cxtp_pad_t, destroy, void,
	private_cxtp_pad_t *this)
{
	enumerator_t *enumerator;
	entry_t *entry;

	enumerator = this->entries->create_enumerator(this->entries);
	while (enumerator->enumerate(enumerator, NULL, &entry))
	{
		entry_destroy(entry);
	}
	enumerator->destroy(enumerator);
	this->entries->destroy(this->entries);
	this->lock->destroy(this->lock);
	free(this);
}

/*
 * Described in header
 */
cxtp_pad_t *cxtp_pad_create(cxtp_settings_t *settings)
{
	private_cxtp_pad_t *this;

	INIT(this,
		.public = {
			.set = {
				.create_shared_enumerator = _create_shared_enumerator,
				.create_private_enumerator = (void*)return_null,
				.create_cert_enumerator = (void*)return_null,
				.create_cdp_enumerator = (void*)return_null,
				.cache_cert = (void*)nop,
			},
			.add = _add,
			.destroy = _destroy,
		},
		.settings = settings,
		.entries = hashtable_create(entry_hash, entry_equals, 32),
		.lock = rwlock_create(RWLOCK_TYPE_DEFAULT),
	);
	return &this->public;
}
