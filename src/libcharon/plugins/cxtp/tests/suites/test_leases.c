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

#include <test_suite.h>

#include "../../cxtp_leases.h"

#include <daemon.h>

/**
 * The virtual IPs a router holds for transferred contexts and assigns from
 * its own pools, as charon and the import use them.
 */
static cxtp_leases_t *leases;

/**
 * Messages logged at level 1, on charon's bus
 */
static linked_list_t *logged;

METHOD(logger_t, log_, void,
	logger_t *this, debug_t group, level_t level, int thread, ike_sa_t *ike_sa,
	const char *message)
{
	logged->insert_last(logged, strdup(message));
}

METHOD(logger_t, get_level, level_t,
	logger_t *this, debug_t group)
{
	return LEVEL_CTRL;
}

static logger_t logger;

/**
 * Number of logged messages containing a string
 */
static int log_count(char *str)
{
	enumerator_t *enumerator;
	char *message;
	int count = 0;

	enumerator = logged->create_enumerator(logged);
	while (enumerator->enumerate(enumerator, &message))
	{
		count += strstr(message, str) != NULL;
	}
	enumerator->destroy(enumerator);
	return count;
}

/**
 * What the object looks at of an IKE_SA: the peer's identity and virtual IPs
 */
typedef struct {
	ike_sa_t ike_sa;
	identification_t *id;
	linked_list_t *vips;
} mock_ike_sa_t;

METHOD(ike_sa_t, get_other_id, identification_t*,
	mock_ike_sa_t *this)
{
	return this->id;
}

METHOD(ike_sa_t, create_virtual_ip_enumerator, enumerator_t*,
	mock_ike_sa_t *this, bool local)
{
	ck_assert(!local);
	return this->vips->create_enumerator(this->vips);
}

/**
 * An IKE_SA with a node that has one virtual IP
 */
static ike_sa_t *mock_ike_sa(char *id, char *vip)
{
	mock_ike_sa_t *this;

	INIT(this,
		.ike_sa = {
			.get_other_id = _get_other_id,
			.create_virtual_ip_enumerator = _create_virtual_ip_enumerator,
		},
		.id = identification_create_from_string(id),
		.vips = linked_list_create_with_items(
							host_create_from_string(vip, 0), NULL),
	);
	return &this->ike_sa;
}

static void mock_ike_sa_destroy(ike_sa_t *ike_sa)
{
	mock_ike_sa_t *this = (mock_ike_sa_t*)ike_sa;

	this->id->destroy(this->id);
	this->vips->destroy_offset(this->vips, offsetof(host_t, destroy));
	free(this);
}

/**
 * Take the virtual IP of a node's context
 */
static char *take(char *id, char *vip)
{
	identification_t *identity = identification_create_from_string(id);
	linked_list_t *vips;
	char *reason;

	vips = linked_list_create_with_items(host_create_from_string(vip, 0),
										 NULL);
	reason = leases->take(leases, identity, vips, "rw_pool");
	vips->destroy_offset(vips, offsetof(host_t, destroy));
	identity->destroy(identity);
	return reason;
}

/**
 * Release a virtual IP of a node's IKE_SA, as charon does when destroying it
 */
static bool release(char *id, char *vip)
{
	ike_sa_t *ike_sa = mock_ike_sa(id, vip);
	linked_list_t *pools = linked_list_create();
	host_t *address = host_create_from_string(vip, 0);
	bool released;

	released = leases->provider.release_address(&leases->provider, pools,
												address, ike_sa);
	address->destroy(address);
	pools->destroy(pools);
	mock_ike_sa_destroy(ike_sa);
	return released;
}

/**
 * Report an IKE_SA's virtual IPs as assigned or not, as the bus does
 */
static void assign(char *id, char *vip, bool assign)
{
	ike_sa_t *ike_sa = mock_ike_sa(id, vip);

	ck_assert(leases->listener.assign_vips(&leases->listener, ike_sa, assign));
	mock_ike_sa_destroy(ike_sa);
}

/**
 * Assert that taking a virtual IP for a node is refused, because another
 * one uses it
 */
static void assert_refused(char *id, char *vip, char *expected)
{
	char *reason;

	reason = take(id, vip);
	ck_assert(reason);
	ck_assert_str_eq(reason, expected);
	free(reason);
}

START_SETUP(setup)
{
	/* for its bus, which the plugin logs to */
	ck_assert(libcharon_init());
	logged = linked_list_create();
	logger = (logger_t){
		.log = _log_,
		.get_level = _get_level,
	};
	charon->bus->add_logger(charon->bus, &logger);
	leases = cxtp_leases_create();
}
END_SETUP

START_TEARDOWN(teardown)
{
	leases->destroy(leases);
	charon->bus->remove_logger(charon->bus, &logger);
	logged->destroy_function(logged, free);
	libcharon_deinit();
}
END_TEARDOWN

START_TEST(test_take_release)
{
	ck_assert(!take("carol", "10.3.0.1"));
	ck_assert_int_eq(log_count("cxtp: holding 10.3.0.1 of 'carol' "
						"as a transferred lease (pool 'rw_pool' of the "
						"previous router)"), 1);
	/* the node's own, another node's is not ours to release */
	ck_assert(!release("dave", "10.3.0.1"));
	ck_assert(!release("carol", "10.3.0.2"));
	ck_assert(release("carol", "10.3.0.1"));
	/* once */
	ck_assert(!release("carol", "10.3.0.1"));
	/* and free again for anyone */
	ck_assert(!take("dave", "10.3.0.1"));
}
END_TEST

START_TEST(test_take_collision)
{
	ck_assert(!take("carol", "10.3.0.1"));
	assert_refused("dave", "10.3.0.1",
				   "virtual IP 10.3.0.1 is in use by 'carol' here");
	/* the same node's next context (e.g. pushed again) may take it too, and
	 * keeps it until both of its IKE_SAs released it */
	ck_assert(!take("carol", "10.3.0.1"));
	ck_assert(release("carol", "10.3.0.1"));
	assert_refused("dave", "10.3.0.1",
				   "virtual IP 10.3.0.1 is in use by 'carol' here");
	ck_assert(release("carol", "10.3.0.1"));
	ck_assert(!take("dave", "10.3.0.1"));
}
END_TEST

START_TEST(test_take_all_or_none)
{
	identification_t *id = identification_create_from_string("dave");
	linked_list_t *vips;
	char *reason;

	ck_assert(!take("carol", "fd00:3::1"));
	vips = linked_list_create_with_items(
				host_create_from_string("10.3.0.1", 0),
				host_create_from_string("fd00:3::1", 0), NULL);
	reason = leases->take(leases, id, vips, NULL);
	ck_assert_str_eq(reason, "virtual IP fd00:3::1 is in use by 'carol' here");
	free(reason);
	vips->destroy_offset(vips, offsetof(host_t, destroy));
	id->destroy(id);
	/* the IPv4 address was not taken for dave */
	ck_assert(!release("dave", "10.3.0.1"));
	ck_assert(!take("erin", "10.3.0.1"));
}
END_TEST

START_TEST(test_assigned_collision)
{
	/* our pool gave alice the address before carol's context came */
	assign("alice", "10.3.0.1", TRUE);
	assert_refused("carol", "10.3.0.1",
				   "virtual IP 10.3.0.1 is in use by 'alice' here");
	ck_assert_int_eq(log_count("holding"), 0);
	/* it is not a transferred lease */
	ck_assert(!release("alice", "10.3.0.1"));
	/* once alice's IKE_SA is gone, carol's context may come */
	assign("alice", "10.3.0.1", FALSE);
	ck_assert(!take("carol", "10.3.0.1"));
}
END_TEST

START_TEST(test_assigned_and_transferred)
{
	/* an activated context's IKE_SA is reported as assigned, and destroyed:
	 * unassigned, then released */
	ck_assert(!take("carol", "10.3.0.1"));
	assign("carol", "10.3.0.1", TRUE);
	assign("carol", "10.3.0.1", FALSE);
	assert_refused("dave", "10.3.0.1",
				   "virtual IP 10.3.0.1 is in use by 'carol' here");
	ck_assert(release("carol", "10.3.0.1"));
	ck_assert(!take("dave", "10.3.0.1"));
}
END_TEST

START_TEST(test_unassigned_never_assigned)
{
	/* a passive import destroyed unactivated is unassigned without having
	 * been assigned: the lease stays until released */
	ck_assert(!take("carol", "10.3.0.1"));
	assign("carol", "10.3.0.1", FALSE);
	assert_refused("dave", "10.3.0.1",
				   "virtual IP 10.3.0.1 is in use by 'carol' here");
	ck_assert(release("carol", "10.3.0.1"));
	assign("carol", "10.3.0.1", FALSE);
	ck_assert(!take("dave", "10.3.0.1"));
}
END_TEST

START_TEST(test_pools_overlap)
{
	ck_assert(!take("carol", "10.3.0.1"));
	/* our own pool hands out a transferred address: logged, as only pools
	 * that overlap another router's can */
	assign("alice", "10.3.0.1", TRUE);
	ck_assert_int_eq(log_count("cxtp: virtual IP 10.3.0.1 assigned "
						"to 'alice' is in use by 'carol' (a transferred lease, "
						"or one of ours): our pools overlap another router's"),
					 1);
	/* carol keeps it */
	assign("alice", "10.3.0.1", FALSE);
	assert_refused("dave", "10.3.0.1",
				   "virtual IP 10.3.0.1 is in use by 'carol' here");
}
END_TEST

START_TEST(test_acquire_nothing)
{
	ike_sa_t *ike_sa = mock_ike_sa("carol", "10.3.0.1");
	linked_list_t *pools = linked_list_create();
	host_t *requested = host_create_from_string("10.3.0.1", 0);
	enumerator_t *enumerator;

	/* a new IKE_SA gets its address from our pools, not a transferred one */
	ck_assert(!take("carol", "10.3.0.1"));
	ck_assert(!leases->provider.acquire_address(&leases->provider, pools,
												ike_sa, requested));
	enumerator = leases->provider.create_attribute_enumerator(
								&leases->provider, pools, ike_sa, pools);
	ck_assert(!enumerator->enumerate(enumerator, NULL, NULL));
	enumerator->destroy(enumerator);
	requested->destroy(requested);
	pools->destroy(pools);
	mock_ike_sa_destroy(ike_sa);
}
END_TEST

Suite *leases_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp leases");

	tc = tcase_create("transferred");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_take_release);
	tcase_add_test(tc, test_take_collision);
	tcase_add_test(tc, test_take_all_or_none);
	tcase_add_test(tc, test_acquire_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("assigned");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_assigned_collision);
	tcase_add_test(tc, test_assigned_and_transferred);
	tcase_add_test(tc, test_unassigned_never_assigned);
	tcase_add_test(tc, test_pools_overlap);
	suite_add_tcase(s, tc);

	return s;
}
