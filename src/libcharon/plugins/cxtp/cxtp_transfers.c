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

#include "cxtp_transfers.h"
#include "cxtp_token.h"

#include <daemon.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

typedef struct private_cxtp_transfers_t private_cxtp_transfers_t;

/**
 * Private data of a cxtp_transfers_t object.
 */
struct private_cxtp_transfers_t {

	/**
	 * Public cxtp_transfers_t interface.
	 */
	cxtp_transfers_t public;

	/**
	 * Captured SA keys
	 */
	cxtp_capture_t *capture;

	/**
	 * IKE_SA unique ID => state_t, if any
	 */
	hashtable_t *transfers;

	/**
	 * The hook runs in any thread
	 */
	mutex_t *mutex;
};

/**
 * A token acted on
 */
typedef struct {
	cxtp_replay_path_t path;
	uint32_t sequence;
	uint32_t transfer;
	bool used;
} accepted_t;

/**
 * Transfer state of an IKE_SA
 */
typedef struct {
	/** counter of the next attempt */
	uint32_t transfers;
	/** the last tokens acted on, a ring */
	accepted_t accepted[CXTP_REPLAY_MEMORY];
	/** next slot of the ring */
	u_int next;
} state_t;

/**
 * Hashtable key of an IKE_SA
 */
static inline void *id_key(ike_sa_t *ike_sa)
{
	return (void*)(uintptr_t)ike_sa->get_unique_id(ike_sa);
}

/**
 * Get the state of an IKE_SA, created if missing, locked
 */
static state_t *get_state(private_cxtp_transfers_t *this, ike_sa_t *ike_sa)
{
	state_t *state;

	state = this->transfers->get(this->transfers, id_key(ike_sa));
	if (!state)
	{
		INIT(state);
		this->transfers->put(this->transfers, id_key(ike_sa), state);
	}
	return state;
}

METHOD(listener_t, ike_state_change, bool,
	private_cxtp_transfers_t *this, ike_sa_t *ike_sa, ike_sa_state_t state)
{
	if (state == IKE_DESTROYING)
	{
		this->mutex->lock(this->mutex);
		free(this->transfers->remove(this->transfers, id_key(ike_sa)));
		this->mutex->unlock(this->mutex);
	}
	return TRUE;
}

METHOD(cxtp_transfers_t, get_transfers, uint32_t,
	private_cxtp_transfers_t *this, ike_sa_t *ike_sa)
{
	state_t *state;
	uint32_t transfers = 0;

	this->mutex->lock(this->mutex);
	state = this->transfers->get(this->transfers, id_key(ike_sa));
	if (state)
	{
		transfers = state->transfers;
	}
	this->mutex->unlock(this->mutex);
	return transfers;
}

METHOD(cxtp_transfers_t, set_transfers, void,
	private_cxtp_transfers_t *this, ike_sa_t *ike_sa, uint32_t transfers)
{
	this->mutex->lock(this->mutex);
	get_state(this, ike_sa)->transfers = transfers;
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_transfers_t, find_accepted, bool,
	private_cxtp_transfers_t *this, ike_sa_t *ike_sa, cxtp_replay_path_t path,
	uint32_t sequence, uint32_t *transfer)
{
	state_t *state;
	bool found = FALSE;
	int i;

	this->mutex->lock(this->mutex);
	state = this->transfers->get(this->transfers, id_key(ike_sa));
	for (i = 0; state && i < CXTP_REPLAY_MEMORY; i++)
	{
		if (state->accepted[i].used && state->accepted[i].path == path &&
			state->accepted[i].sequence == sequence)
		{
			*transfer = state->accepted[i].transfer;
			found = TRUE;
			break;
		}
	}
	this->mutex->unlock(this->mutex);
	return found;
}

METHOD(cxtp_transfers_t, accept_token, void,
	private_cxtp_transfers_t *this, ike_sa_t *ike_sa, cxtp_replay_path_t path,
	uint32_t sequence, uint32_t transfer)
{
	state_t *state;

	this->mutex->lock(this->mutex);
	state = get_state(this, ike_sa);
	state->accepted[state->next] = (accepted_t){
		.path = path,
		.sequence = sequence,
		.transfer = transfer,
		.used = TRUE,
	};
	state->next = (state->next + 1) % CXTP_REPLAY_MEMORY;
	if (transfer >= state->transfers)
	{
		state->transfers = transfer + 1;
	}
	this->mutex->unlock(this->mutex);
}

METHOD(cxtp_transfers_t, derive_token_key, bool,
	private_cxtp_transfers_t *this, ike_sa_t *ike_sa, uint32_t transfer,
	chunk_t *key)
{
	ike_sa_id_t *id = ike_sa->get_id(ike_sa);
	proposal_t *proposal = ike_sa->get_proposal(ike_sa);
	cxtp_ike_keys_t keys;
	uint16_t prf;
	bool ok;

	if (!proposal ||
		!proposal->get_algorithm(proposal, PSEUDO_RANDOM_FUNCTION, &prf, NULL) ||
		!this->capture->get_ike_keys(this->capture, ike_sa, &keys))
	{
		return FALSE;
	}
	ok = cxtp_token_derive_key(prf, keys.sk_d, id->get_initiator_spi(id),
							   id->get_responder_spi(id),
							   transfer, key);
	cxtp_ike_keys_clear(&keys);
	return ok;
}

METHOD(cxtp_transfers_t, destroy, void,
	private_cxtp_transfers_t *this)
{
	this->transfers->destroy_function(this->transfers, (void*)free);
	this->mutex->destroy(this->mutex);
	free(this);
}

/*
 * Described in header
 */
cxtp_transfers_t *cxtp_transfers_create(cxtp_capture_t *capture)
{
	private_cxtp_transfers_t *this;

	INIT(this,
		.public = {
			.listener = {
				.ike_state_change = _ike_state_change,
			},
			.get_transfers = _get_transfers,
			.set_transfers = _set_transfers,
			.derive_token_key = _derive_token_key,
			.find_accepted = _find_accepted,
			.accept_token = _accept_token,
			.destroy = _destroy,
		},
		.capture = capture,
		.transfers = hashtable_create(hashtable_hash_ptr, hashtable_equals_ptr,
									  8),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);

	return &this->public;
}
