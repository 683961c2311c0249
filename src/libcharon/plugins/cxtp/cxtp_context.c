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


#include "cxtp_context.h"

/*
 * Described in header
 */
void cxtp_ike_keys_clear(cxtp_ike_keys_t *keys)
{
	chunk_clear(&keys->sk_d);
	chunk_clear(&keys->sk_ai);
	chunk_clear(&keys->sk_ar);
	chunk_clear(&keys->sk_ei);
	chunk_clear(&keys->sk_er);
	chunk_clear(&keys->sk_pi);
	chunk_clear(&keys->sk_pr);
}

/*
 * Described in header
 */
void cxtp_child_keys_clear(cxtp_child_keys_t *keys)
{
	chunk_clear(&keys->encr_i);
	chunk_clear(&keys->encr_r);
	chunk_clear(&keys->integ_i);
	chunk_clear(&keys->integ_r);
}

/*
 * Described in header
 */
cxtp_child_context_t *cxtp_child_context_create()
{
	cxtp_child_context_t *child;

	INIT(child,
		.local_ts = linked_list_create(),
		.remote_ts = linked_list_create(),
	);
	return child;
}

/*
 * Described in header
 */
void cxtp_child_context_destroy(cxtp_child_context_t *child)
{
	free(child->child_cfg);
	cxtp_child_keys_clear(&child->keys);
	chunk_free(&child->replay_bitmap);
	child->local_ts->destroy_offset(child->local_ts,
									offsetof(traffic_selector_t, destroy));
	child->remote_ts->destroy_offset(child->remote_ts,
									 offsetof(traffic_selector_t, destroy));
	free(child);
}

METHOD(cxtp_context_t, destroy, void,
	cxtp_context_t *this)
{
	cxtp_ike_context_t *ike = &this->ike;
	cxtp_pad_context_t *pad = &this->pad;

	cxtp_ike_keys_clear(&ike->keys);
	DESTROY_IF(ike->local);
	DESTROY_IF(ike->remote);
	DESTROY_IF(ike->local_id);
	DESTROY_IF(ike->remote_id);
	DESTROY_IF(ike->remote_eap_id);
	ike->remote_vips->destroy_offset(ike->remote_vips,
									 offsetof(host_t, destroy));
	free(ike->pool);
	free(ike->peer_cfg);
	this->children->destroy_function(this->children,
									 (void*)cxtp_child_context_destroy);
	DESTROY_IF(pad->id);
	DESTROY_IF(pad->cert_subject);
	chunk_clear(&pad->secret);
	free(this);
}

/*
 * Described in header
 */
cxtp_context_t *cxtp_context_create()
{
	cxtp_context_t *this;

	INIT(this,
		.ike = {
			.remote_vips = linked_list_create(),
		},
		.children = linked_list_create(),
		.destroy = _destroy,
	);
	return this;
}
