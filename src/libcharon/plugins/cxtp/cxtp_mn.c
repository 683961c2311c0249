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


#include "cxtp_mn.h"
#include "cxtp_token.h"

#include <daemon.h>

typedef struct private_cxtp_mn_t private_cxtp_mn_t;

/**
 * Private data of a cxtp_mn_t object.
 */
struct private_cxtp_mn_t {

	/**
	 * Public cxtp_mn_t interface.
	 */
	cxtp_mn_t public;

	/**
	 * Captured SA keys
	 */
	cxtp_capture_t *capture;

	/**
	 * Transport to access routers
	 */
	cxtp_icmp_t *icmp;

	/**
	 * Sequence number of the last CTAR sent, a CTAA acknowledges it
	 */
	uint32_t sequence;

	/**
	 * IKE_SA a CTAR to pAR was sent for, the activation repeats its sequence
	 */
	u_int prepared;
};

/**
 * A random sequence number for a CTAR (RFC 4067 3.2)
 */
static bool random_sequence(uint32_t *sequence)
{
	rng_t *rng;
	bool ok;

	rng = lib->crypto->create_rng(lib->crypto, RNG_WEAK);
	if (!rng)
	{
		return FALSE;
	}
	ok = rng->get_bytes(rng, sizeof(*sequence), (uint8_t*)sequence);
	rng->destroy(rng);
	return ok;
}

/**
 * Build the CTAR, with the token keyed from the IKE_SA's SK_d
 */
static cxtp_message_t *build_ctar(private_cxtp_mn_t *this, ike_sa_t *ike_sa,
								  host_t *ar, uint32_t sequence, bool ack)
{
	cxtp_message_t *message;
	uint32_t token;
	chunk_t key = chunk_empty, cdbs;
	bool ok;

	if (!this->capture->derive_token_key(this->capture, ike_sa, &key))
	{
		return NULL;
	}
	if (!sequence && !random_sequence(&sequence))
	{
		chunk_clear(&key);
		return NULL;
	}
	message = cxtp_message_create(CXTP_CTAR, ike_sa->get_my_host(ike_sa));
	message->set_ar_address(message, ar);
	message->set_sequence(message, sequence);
	message->set_ack(message, ack);
	cdbs = message->get_cdb_bytes(message);
	ok = cxtp_token_compute(key, ike_sa->get_my_host(ike_sa), sequence, cdbs,
							&token);
	chunk_clear(&cdbs);
	chunk_clear(&key);
	if (!ok)
	{
		message->destroy(message);
		return NULL;
	}
	message->set_token(message, token);
	return message;
}

/**
 * Point the IKE_SA and its CHILD_SAs at new addresses.
 *
 * Unlike ike_sa_t.update_hosts() this leaves the virtual IPs where they are:
 * reinstalling them drops the routes into the tunnel for tens of
 * milliseconds, while nothing about them changes with the access router.
 */
static void move_sas(ike_sa_t *ike_sa, host_t *me, host_t *other)
{
	enumerator_t *enumerator;
	child_sa_t *child_sa;

	charon->bus->ike_update(charon->bus, ike_sa, me, other);
	ike_sa->set_my_host(ike_sa, me->clone(me));
	ike_sa->set_other_host(ike_sa, other->clone(other));
	enumerator = ike_sa->create_child_sa_enumerator(ike_sa);
	while (enumerator->enumerate(enumerator, &child_sa))
	{
		/* the manager finds inbound SAs by their destination address */
		charon->child_sa_manager->remove(charon->child_sa_manager, child_sa);
		charon->child_sa_manager->add(charon->child_sa_manager, child_sa,
									  ike_sa);
		if (child_sa->update(child_sa, me, other, NULL,
					ike_sa->has_condition(ike_sa, COND_NAT_ANY)) != SUCCESS)
		{
			DBG1(DBG_CHD, "cxtp: moving CHILD_SA %s{%u} to %H failed",
				 child_sa->get_name(child_sa),
				 child_sa->get_unique_id(child_sa), other);
		}
	}
	enumerator->destroy(enumerator);
}

METHOD(cxtp_mn_t, activate, char*,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar, bool ack)
{
	cxtp_message_t *message;
	host_t *me, *local, *other, *old_me, *old_other;
	char *reason;
	bool sent;

	if (!this->icmp)
	{
		return strdup("no ICMP transport to access routers, see the log");
	}
	reason = this->capture->check(this->capture, ike_sa);
	if (reason)
	{
		return reason;
	}
	me = charon->kernel->get_source_addr(charon->kernel, nar, NULL);
	if (!me)
	{
		return strdup("no route to the new access router");
	}
	message = build_ctar(this, ike_sa, ike_sa->get_other_host(ike_sa),
				this->prepared == ike_sa->get_unique_id(ike_sa) ? this->sequence
																: 0, ack);
	this->prepared = 0;
	if (!message)
	{
		me->destroy(me);
		return strdup("building the CTAR failed");
	}
	/* the same SAs continue on nAR, only their addresses change; moving
	 * them first has them ready when nAR activates its copies */
	old_me = ike_sa->get_my_host(ike_sa)->clone(ike_sa->get_my_host(ike_sa));
	old_other = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa));
	local = me->clone(me);
	local->set_port(local, old_me->get_port(old_me));
	other = nar->clone(nar);
	other->set_port(other, old_other->get_port(old_other));
	move_sas(ike_sa, local, other);

	this->sequence = message->get_sequence(message);
	if (ack)
	{
		sent = this->icmp->send_reliable(this->icmp, me, nar, message,
										 message->get_sequence(message));
	}
	else
	{
		sent = this->icmp->send(this->icmp, me, nar, message);
	}
	message->destroy(message);
	if (sent)
	{
		DBG1(DBG_IKE, "cxtp: sent CTAR for IKE_SA %s[%u] from %H to %H, "
			 "moved it there", ike_sa->get_name(ike_sa),
			 ike_sa->get_unique_id(ike_sa), me, nar);
		/* the next transfer's token gets a fresh key */
		this->capture->set_transfers(this->capture, ike_sa,
				this->capture->get_transfers(this->capture, ike_sa) + 1);
	}
	else
	{
		move_sas(ike_sa, old_me, old_other);
	}
	me->destroy(me);
	local->destroy(local);
	other->destroy(other);
	old_me->destroy(old_me);
	old_other->destroy(old_other);
	if (!sent)
	{
		return strdup("sending the CTAR failed");
	}
	return NULL;
}

METHOD(cxtp_mn_t, prepare, char*,
	private_cxtp_mn_t *this, ike_sa_t *ike_sa, host_t *nar)
{
	cxtp_message_t *message;
	host_t *par = ike_sa->get_other_host(ike_sa);
	char *reason;
	bool sent;

	if (!this->icmp)
	{
		return strdup("no ICMP transport to access routers, see the log");
	}
	reason = this->capture->check(this->capture, ike_sa);
	if (reason)
	{
		return reason;
	}
	message = build_ctar(this, ike_sa, nar, 0, FALSE);
	if (!message)
	{
		return strdup("building the CTAR failed");
	}
	sent = this->icmp->send(this->icmp, ike_sa->get_my_host(ike_sa), par,
							message);
	if (sent)
	{
		this->sequence = message->get_sequence(message);
		this->prepared = ike_sa->get_unique_id(ike_sa);
		DBG1(DBG_IKE, "cxtp: sent CTAR for IKE_SA %s[%u] to %H, asking it to "
			 "transfer the context to %H", ike_sa->get_name(ike_sa),
			 this->prepared, par, nar);
	}
	message->destroy(message);
	return sent ? NULL : strdup("sending the CTAR failed");
}

METHOD(cxtp_mn_t, process_ctaa, void,
	private_cxtp_mn_t *this, host_t *src, cxtp_message_t *message)
{
	DBG1(DBG_IKE, "cxtp: access router %H acknowledged the activation for %H",
		 src, message->get_mn_address(message));
	/* a CTAA carries no sequence number, only one CTAR is in flight */
	this->icmp->acknowledge(this->icmp, this->sequence);
	message->destroy(message);
}

METHOD(cxtp_mn_t, destroy, void,
	private_cxtp_mn_t *this)
{
	free(this);
}

/*
 * Described in header
 */
cxtp_mn_t *cxtp_mn_create(cxtp_capture_t *capture, cxtp_icmp_t *icmp)
{
	private_cxtp_mn_t *this;

	INIT(this,
		.public = {
			.activate = _activate,
			.prepare = _prepare,
			.process_ctaa = _process_ctaa,
			.destroy = _destroy,
		},
		.capture = capture,
		.icmp = icmp,
	);
	return &this->public;
}
