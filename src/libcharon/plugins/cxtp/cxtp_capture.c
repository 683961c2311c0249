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


#include "cxtp_capture.h"

#include <daemon.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

typedef struct private_cxtp_capture_t private_cxtp_capture_t;

/**
 * Private data of a cxtp_capture_t object.
 */
struct private_cxtp_capture_t {

	/**
	 * Public cxtp_capture_t interface.
	 */
	cxtp_capture_t public;

	/**
	 * IKE_SA unique ID => cxtp_ike_keys_t
	 */
	hashtable_t *ike_keys;

	/**
	 * IKE_SA unique ID => cxtp_ike_keys_t of the IKE_SA replacing it, while
	 * we rekey it: charon derives the new IKE_SA's keys with the old one on
	 * the bus when it initiated the rekeying
	 */
	hashtable_t *rekeying;

	/**
	 * CHILD_SA unique ID => cxtp_child_keys_t
	 */
	hashtable_t *child_keys;

	/**
	 * Octets of all keys held, with the structures holding them
	 */
	size_t bytes;

	/**
	 * Hooks run in any thread
	 */
	mutex_t *mutex;
};

/**
 * Octets a set of IKE keys takes
 */
static size_t ike_keys_size(cxtp_ike_keys_t *keys)
{
	return sizeof(*keys) + keys->sk_d.len + keys->sk_ai.len + keys->sk_ar.len +
		   keys->sk_ei.len + keys->sk_er.len + keys->sk_pi.len +
		   keys->sk_pr.len;
}

/**
 * Octets a set of CHILD keys takes
 */
static size_t child_keys_size(cxtp_child_keys_t *keys)
{
	return sizeof(*keys) + keys->encr_i.len + keys->encr_r.len +
		   keys->integ_i.len + keys->integ_r.len;
}

/**
 * Wipe and free IKE keys no longer held, counting them off (mutex held)
 */
static void ike_keys_drop(private_cxtp_capture_t *this, cxtp_ike_keys_t *keys)
{
	if (keys)
	{
		this->bytes -= ike_keys_size(keys);
		cxtp_ike_keys_clear(keys);
		free(keys);
	}
}

/**
 * Wipe and free CHILD keys no longer held, counting them off (mutex held)
 */
static void child_keys_drop(private_cxtp_capture_t *this,
							cxtp_child_keys_t *keys)
{
	if (keys)
	{
		this->bytes -= child_keys_size(keys);
		cxtp_child_keys_clear(keys);
		free(keys);
	}
}

static void ike_keys_destroy(cxtp_ike_keys_t *keys)
{
	cxtp_ike_keys_clear(keys);
	free(keys);
}

static void child_keys_destroy(cxtp_child_keys_t *keys)
{
	cxtp_child_keys_clear(keys);
	free(keys);
}

/**
 * Hashtable key of an SA's unique ID
 */
static inline void *id_key(u_int id)
{
	return (void*)(uintptr_t)id;
}

/*
 * Described in header
 */
bool cxtp_capture_transferable(ike_sa_t *ike_sa)
{
	enumerator_t *enumerator;
	peer_cfg_t *peer_cfg;
	char *names, *name;
	bool found = FALSE;

	names = lib->settings->get_str(lib->settings,
							"%s.plugins.cxtp.connections", NULL, lib->ns);
	if (!names || !*names)
	{
		return TRUE;
	}
	peer_cfg = ike_sa ? ike_sa->get_peer_cfg(ike_sa) : NULL;
	if (!peer_cfg)
	{	/* a responder's before IKE_AUTH, decided once established */
		return TRUE;
	}
	enumerator = enumerator_create_token(names, ",", " ");
	while (!found && enumerator->enumerate(enumerator, &name))
	{
		found = streq(name, peer_cfg->get_name(peer_cfg));
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Forget the keys of an IKE_SA
 */
static void drop_ike_keys(private_cxtp_capture_t *this, ike_sa_t *ike_sa)
{
	cxtp_ike_keys_t *keys, *next;

	this->mutex->lock(this->mutex);
	keys = this->ike_keys->remove(this->ike_keys,
								  id_key(ike_sa->get_unique_id(ike_sa)));
	next = this->rekeying->remove(this->rekeying,
								  id_key(ike_sa->get_unique_id(ike_sa)));
	ike_keys_drop(this, keys);
	ike_keys_drop(this, next);
	this->mutex->unlock(this->mutex);
}

/**
 * Forget the keys of the IKE_SA that was to replace this one: its rekeying
 * failed, the next attempt derives new ones
 */
static void drop_rekeying(private_cxtp_capture_t *this, ike_sa_t *ike_sa)
{
	this->mutex->lock(this->mutex);
	ike_keys_drop(this, this->rekeying->remove(this->rekeying,
								id_key(ike_sa->get_unique_id(ike_sa))));
	this->mutex->unlock(this->mutex);
}

/**
 * Forget the keys of a CHILD_SA
 */
static void drop_child_keys(private_cxtp_capture_t *this, child_sa_t *child_sa)
{
	cxtp_child_keys_t *keys;

	this->mutex->lock(this->mutex);
	keys = this->child_keys->remove(this->child_keys,
							id_key(child_sa->get_unique_id(child_sa)));
	child_keys_drop(this, keys);
	this->mutex->unlock(this->mutex);
}

METHOD(listener_t, ike_derived_keys, bool,
	private_cxtp_capture_t *this, ike_sa_t *ike_sa, chunk_t sk_d,
	chunk_t sk_ai, chunk_t sk_ar, chunk_t sk_ei, chunk_t sk_er, chunk_t sk_pi,
	chunk_t sk_pr)
{
	cxtp_ike_keys_t *keys;
	hashtable_t *table;

	if (!cxtp_capture_transferable(ike_sa))
	{
		return TRUE;
	}
	/* the keys of the IKE_SA we rekey it with wait for ike_rekey() */
	table = ike_sa->get_state(ike_sa) == IKE_REKEYING ? this->rekeying
													  : this->ike_keys;
	INIT(keys,
		.sk_d = chunk_clone(sk_d),
		.sk_ai = chunk_clone(sk_ai),
		.sk_ar = chunk_clone(sk_ar),
		.sk_ei = chunk_clone(sk_ei),
		.sk_er = chunk_clone(sk_er),
		.sk_pi = chunk_clone(sk_pi),
		.sk_pr = chunk_clone(sk_pr),
	);
	this->mutex->lock(this->mutex);
	this->bytes += ike_keys_size(keys);
	keys = table->put(table, id_key(ike_sa->get_unique_id(ike_sa)), keys);
	ike_keys_drop(this, keys);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(listener_t, ike_rekey, bool,
	private_cxtp_capture_t *this, ike_sa_t *old, ike_sa_t *new)
{
	cxtp_ike_keys_t *keys;

	this->mutex->lock(this->mutex);
	keys = this->rekeying->remove(this->rekeying,
								  id_key(old->get_unique_id(old)));
	if (keys && !this->ike_keys->get(this->ike_keys,
									 id_key(new->get_unique_id(new))))
	{
		keys = this->ike_keys->put(this->ike_keys,
								   id_key(new->get_unique_id(new)), keys);
	}
	/* else the peer's rekeying won a collision with ours: its IKE_SA got
	 * its keys as responder, ours are those of the IKE_SA deleted now */
	ike_keys_drop(this, keys);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(listener_t, child_derived_keys, bool,
	private_cxtp_capture_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
	bool initiator, chunk_t encr_i, chunk_t encr_r, chunk_t integ_i,
	chunk_t integ_r)
{
	cxtp_child_keys_t *keys;

	if (!cxtp_capture_transferable(ike_sa))
	{
		return TRUE;
	}
	INIT(keys,
		.initiator = initiator,
		.encr_i = chunk_clone(encr_i),
		.encr_r = chunk_clone(encr_r),
		.integ_i = chunk_clone(integ_i),
		.integ_r = chunk_clone(integ_r),
	);
	this->mutex->lock(this->mutex);
	this->bytes += child_keys_size(keys);
	keys = this->child_keys->put(this->child_keys,
							id_key(child_sa->get_unique_id(child_sa)), keys);
	child_keys_drop(this, keys);
	this->mutex->unlock(this->mutex);
	return TRUE;
}

METHOD(cxtp_capture_t, get_usage, size_t,
	private_cxtp_capture_t *this, u_int *ike, u_int *child)
{
	size_t bytes;

	this->mutex->lock(this->mutex);
	if (ike)
	{
		*ike = this->ike_keys->get_count(this->ike_keys) +
			   this->rekeying->get_count(this->rekeying);
	}
	if (child)
	{
		*child = this->child_keys->get_count(this->child_keys);
	}
	bytes = this->bytes;
	this->mutex->unlock(this->mutex);
	return bytes;
}

/**
 * Log what we hold, which grows with the IKE_SAs that may be transferred
 */
static void log_usage(private_cxtp_capture_t *this)
{
	u_int ike, child;
	size_t bytes;

	bytes = get_usage(this, &ike, &child);
	DBG2(DBG_IKE, "cxtp: holding keys of %u IKE_SA%s and %u CHILD_SA%s for "
		 "transfer, %zu bytes", ike, ike == 1 ? "" : "s", child,
		 child == 1 ? "" : "s", bytes);
}

METHOD(listener_t, ike_state_change, bool,
	private_cxtp_capture_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;

	switch (state)
	{
		case IKE_ESTABLISHED:
			if (ike_sa->get_state(ike_sa) == IKE_REKEYING)
			{	/* back from a rekeying that failed */
				drop_rekeying(this, ike_sa);
			}
			/* a responder knows the connection only now, and CHILD_SAs
			 * imported before the activation may have been captured */
			if (!cxtp_capture_transferable(ike_sa))
			{
				drop_ike_keys(this, ike_sa);
				enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
				while (enumerator->enumerate(enumerator, &child_sa))
				{
					drop_child_keys(this, child_sa);
				}
				enumerator->destroy(enumerator);
			}
			log_usage(this);
			break;
		case IKE_REKEYED:
			/* never transferred again, the new IKE_SA has keys of its own */
		case IKE_DESTROYING:
			/* also once handed over: pAR destroys it without a DELETE */
			drop_ike_keys(this, ike_sa);
			break;
		default:
			break;
	}
	return TRUE;
}

METHOD(listener_t, child_state_change, bool,
	private_cxtp_capture_t *this, ike_sa_t *ike_sa, child_sa_t *child_sa,
	child_sa_state_t state)
{
	switch (state)
	{
		case CHILD_DELETED:
			/* rekeyed or deleted, only waiting for packets in flight: no
			 * context carries it. CHILD_REKEYED is not final, a failed
			 * rekeying goes back to CHILD_INSTALLED */
		case CHILD_DESTROYING:
			drop_child_keys(this, child_sa);
			break;
		default:
			break;
	}
	return TRUE;
}

METHOD(cxtp_capture_t, get_ike_keys, bool,
	private_cxtp_capture_t *this, ike_sa_t *ike_sa, cxtp_ike_keys_t *out)
{
	cxtp_ike_keys_t *keys;

	this->mutex->lock(this->mutex);
	keys = this->ike_keys->get(this->ike_keys,
							   id_key(ike_sa->get_unique_id(ike_sa)));
	if (keys && out)
	{
		*out = (cxtp_ike_keys_t){
			.sk_d = chunk_clone(keys->sk_d),
			.sk_ai = chunk_clone(keys->sk_ai),
			.sk_ar = chunk_clone(keys->sk_ar),
			.sk_ei = chunk_clone(keys->sk_ei),
			.sk_er = chunk_clone(keys->sk_er),
			.sk_pi = chunk_clone(keys->sk_pi),
			.sk_pr = chunk_clone(keys->sk_pr),
		};
	}
	this->mutex->unlock(this->mutex);
	return keys != NULL;
}

METHOD(cxtp_capture_t, get_child_keys, bool,
	private_cxtp_capture_t *this, child_sa_t *child_sa, cxtp_child_keys_t *out)
{
	cxtp_child_keys_t *keys;

	this->mutex->lock(this->mutex);
	keys = this->child_keys->get(this->child_keys,
								 id_key(child_sa->get_unique_id(child_sa)));
	if (keys && out)
	{
		*out = (cxtp_child_keys_t){
			.initiator = keys->initiator,
			.encr_i = chunk_clone(keys->encr_i),
			.encr_r = chunk_clone(keys->encr_r),
			.integ_i = chunk_clone(keys->integ_i),
			.integ_r = chunk_clone(keys->integ_r),
		};
	}
	this->mutex->unlock(this->mutex);
	return keys != NULL;
}

METHOD(cxtp_capture_t, destroy, void,
	private_cxtp_capture_t *this)
{
	this->ike_keys->destroy_function(this->ike_keys, (void*)ike_keys_destroy);
	this->rekeying->destroy_function(this->rekeying, (void*)ike_keys_destroy);
	this->child_keys->destroy_function(this->child_keys,
									   (void*)child_keys_destroy);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_capture_t *cxtp_capture_create()
{
	private_cxtp_capture_t *this;

	INIT(this,
		.public = {
			.listener = {
				.ike_derived_keys = _ike_derived_keys,
				.ike_rekey = _ike_rekey,
				.child_derived_keys = _child_derived_keys,
				.ike_state_change = _ike_state_change,
				.child_state_change = _child_state_change,
			},
			.get_ike_keys = _get_ike_keys,
			.get_child_keys = _get_child_keys,
			.get_usage = _get_usage,
			.destroy = _destroy,
		},
		.ike_keys = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr, 8),
		.rekeying = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr, 8),
		.child_keys = hashtable_create(hashtable_hash_ptr,
									   hashtable_equals_ptr, 8),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);

	return &this->public;
}
