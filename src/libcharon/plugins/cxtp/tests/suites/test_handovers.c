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

#include "../../cxtp_handovers.h"

#include <collections/linked_list.h>
#include <time.h>

/**
 * The handovers of a role, found by serial, IKE_SA, transfer and mobile
 * node as the roles look them up
 */
static cxtp_handovers_t *handovers;

static void handover_destroy(cxtp_handover_t *handover)
{
	free(handover->peer);
	handover->mn->destroy(handover->mn);
	free(handover);
}

START_SETUP(setup)
{
	handovers = cxtp_handovers_create(handover_destroy);
}
END_SETUP

START_TEARDOWN(teardown)
{
	handovers->destroy(handovers);
}
END_TEARDOWN

/**
 * Add a handover of an IKE_SA with SPIs (and a serial of pAR's, 0 for a
 * new transfer) for a mobile node
 */
static u_int add(u_int ike_id, uint64_t spi, u_int id_serial, char *mn)
{
	cxtp_handover_t *handover;

	INIT(handover,
		.ike_id = ike_id,
		.peer = strdup("peer"),
		.mn = host_create_from_string(mn, 0),
		.id = {
			.spi_i = spi,
			.spi_r = ~spi,
			.serial = id_serial,
		},
	);
	return handovers->add(handovers, handover);
}

/**
 * Serials an enumerator yields, in order, and their number
 */
static u_int serials(enumerator_t *enumerator, u_int *out, u_int max)
{
	cxtp_handover_t *handover;
	u_int count = 0;

	while (enumerator->enumerate(enumerator, &handover))
	{
		ck_assert(count < max);
		out[count++] = handover->serial;
	}
	enumerator->destroy(enumerator);
	return count;
}

static u_int of_ike_sa(u_int ike_id, u_int *out, u_int max)
{
	return serials(handovers->create_ike_sa_enumerator(handovers, ike_id),
				   out, max);
}

static u_int of_transfer(uint64_t spi, u_int *out, u_int max)
{
	cxtp_transfer_id_t id = {
		.spi_i = spi,
		.spi_r = ~spi,
		/* any serial */
		.serial = 77,
	};

	return serials(handovers->create_id_enumerator(handovers, &id), out, max);
}

static u_int of_mn(char *address, u_int *out, u_int max)
{
	host_t *mn = host_create_from_string(address, 500);
	u_int count;

	count = serials(handovers->create_enumerator(handovers, mn), out, max);
	mn->destroy(mn);
	return count;
}

static char *no_state(cxtp_handover_t *handover)
{
	return "state";
}

/**
 * Serials of the handovers as listings show them
 */
static u_int listed(u_int *out, u_int max)
{
	cxtp_transfer_info_t *info;
	enumerator_t *enumerator;
	u_int count = 0;

	enumerator = handovers->create_info_enumerator(handovers, no_state);
	while (enumerator->enumerate(enumerator, &info))
	{
		ck_assert(count < max);
		/* the transfer IDs of these are the handovers' serials */
		out[count++] = info->id->serial;
	}
	enumerator->destroy(enumerator);
	return count;
}

static void destroy_removed(cxtp_handover_t *handover)
{
	ck_assert(handover);
	handover_destroy(handover);
}

START_TEST(test_keys)
{
	u_int a, b, c, d, s[8];
	cxtp_handover_t *handover;
	enumerator_t *enumerator;

	a = add(1, 100, 0, "192.0.2.10");
	/* the same IKE_SA as pAR holds it, transferred again */
	b = add(2, 100, 0, "192.0.2.10");
	c = add(3, 200, 0, "192.0.2.11");
	d = add(2, 300, 0, "192.0.2.10");

	ck_assert(handovers->has_ike_sa(handovers, 1));
	ck_assert(!handovers->has_ike_sa(handovers, 4));
	ck_assert(!handovers->has_ike_sa(handovers, 0));

	ck_assert_int_eq(of_ike_sa(2, s, countof(s)), 2);
	ck_assert_int_eq(s[0], b);
	ck_assert_int_eq(s[1], d);
	ck_assert_int_eq(of_transfer(100, s, countof(s)), 2);
	ck_assert_int_eq(s[0], a);
	ck_assert_int_eq(s[1], b);
	ck_assert_int_eq(of_transfer(400, s, countof(s)), 0);
	ck_assert_int_eq(of_mn("192.0.2.10", s, countof(s)), 3);
	ck_assert_int_eq(s[0], a);
	ck_assert_int_eq(s[1], b);
	ck_assert_int_eq(s[2], d);

	/* a serial of its own for each, and pAR's transfers named by it */
	enumerator = handovers->create_serial_enumerator(handovers, c);
	ck_assert(enumerator->enumerate(enumerator, &handover));
	ck_assert_int_eq(handover->ike_id, 3);
	ck_assert_int_eq(handover->id.serial, c);
	ck_assert(!enumerator->enumerate(enumerator, &handover));
	enumerator->destroy(enumerator);

	/* the first of an IKE_SA goes first */
	handover = handovers->remove_ike_sa(handovers, 2);
	ck_assert_int_eq(handover->serial, b);
	destroy_removed(handover);
	ck_assert_int_eq(of_ike_sa(2, s, countof(s)), 1);
	ck_assert_int_eq(s[0], d);
	ck_assert_int_eq(of_transfer(100, s, countof(s)), 1);
	ck_assert_int_eq(s[0], a);
	ck_assert_int_eq(of_mn("192.0.2.10", s, countof(s)), 2);

	destroy_removed(handovers->remove(handovers, a));
	ck_assert(!handovers->remove(handovers, a));
	ck_assert(!handovers->has_ike_sa(handovers, 1));
	ck_assert_int_eq(of_transfer(100, s, countof(s)), 0);
	ck_assert_int_eq(of_mn("192.0.2.10", s, countof(s)), 1);
	ck_assert_int_eq(s[0], d);

	/* all, listed in the order added */
	ck_assert_int_eq(listed(s, countof(s)), 2);
	ck_assert_int_eq(s[0], c);
	ck_assert_int_eq(s[1], d);
}
END_TEST

START_TEST(test_ike_sa_changed)
{
	cxtp_handover_t *handover;
	enumerator_t *enumerator;
	u_int a, b, s[4];

	a = add(5, 100, 0, "192.0.2.10");
	b = add(6, 200, 0, "192.0.2.11");

	/* a rekeying ties it to the new IKE_SA */
	enumerator = handovers->create_ike_sa_enumerator(handovers, 5);
	ck_assert(enumerator->enumerate(enumerator, &handover));
	handover->ike_id = 7;
	ck_assert(!enumerator->enumerate(enumerator, &handover));
	enumerator->destroy(enumerator);
	ck_assert(!handovers->has_ike_sa(handovers, 5));
	ck_assert_int_eq(of_ike_sa(7, s, countof(s)), 1);
	ck_assert_int_eq(s[0], a);

	/* cancelled, tied to none, changed in an enumeration by serial */
	enumerator = handovers->create_serial_enumerator(handovers, b);
	ck_assert(enumerator->enumerate(enumerator, &handover));
	handover->ike_id = 0;
	enumerator->destroy(enumerator);
	ck_assert(!handovers->has_ike_sa(handovers, 6));
	ck_assert(!handovers->remove_ike_sa(handovers, 6));
	ck_assert(!handovers->remove_ike_sa(handovers, 0));

	/* changed back in a full enumeration */
	enumerator = handovers->create_enumerator(handovers, NULL);
	while (enumerator->enumerate(enumerator, &handover))
	{
		if (handover->serial == b)
		{
			handover->ike_id = 6;
		}
	}
	enumerator->destroy(enumerator);
	handover = handovers->remove_ike_sa(handovers, 6);
	ck_assert_int_eq(handover->serial, b);
	destroy_removed(handover);
	destroy_removed(handovers->remove_ike_sa(handovers, 7));
	ck_assert_int_eq(listed(s, countof(s)), 0);
}
END_TEST

CALLBACK(match_id, bool,
	cxtp_handover_t *handover, va_list args)
{
	cxtp_transfer_id_t *id;

	VA_ARGS_VGET(args, id);
	return cxtp_transfer_id_same_ike_sa(&handover->id, id);
}

static double elapsed_ms(struct timespec *start)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	return (end.tv_sec - start->tv_sec) * 1e3 +
		   (end.tv_nsec - start->tv_nsec) / 1e6;
}

/**
 * nAR in a drain of many nodes: a PCTD looked up per import, each removed
 * when it ends; the same answers as the walk over one list the handovers
 * were before, and the cost of both printed (TESTS_HANDOVERS handovers,
 * 1000 unless set)
 */
START_TEST(test_drain)
{
	struct timespec start;
	cxtp_transfer_id_t id = {};
	cxtp_handover_t *handover;
	enumerator_t *enumerator;
	linked_list_t *list;
	u_int count, i, *serial, found;
	char address[32];
	double walked, indexed;

	count = atoi(getenv("TESTS_HANDOVERS") ?: "1000");
	serial = calloc(count, sizeof(u_int));
	list = linked_list_create();
	for (i = 0; i < count; i++)
	{
		snprintf(address, sizeof(address), "10.%u.%u.%u", (i >> 16) & 0xff,
				 (i >> 8) & 0xff, i & 0xff);
		serial[i] = add(i + 1, i + 1, 0, address);
		enumerator = handovers->create_serial_enumerator(handovers,
														 serial[i]);
		ck_assert(enumerator->enumerate(enumerator, &handover));
		enumerator->destroy(enumerator);
		list->insert_last(list, handover);
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0, found = 0; i < count; i++)
	{
		id.spi_i = i + 1;
		id.spi_r = ~id.spi_i;
		found += list->find_first(list, match_id, NULL, &id);
	}
	walked = elapsed_ms(&start);
	ck_assert_int_eq(found, count);
	list->destroy(list);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0, found = 0; i < count; i++)
	{
		id.spi_i = i + 1;
		id.spi_r = ~id.spi_i;
		enumerator = handovers->create_id_enumerator(handovers, &id);
		while (enumerator->enumerate(enumerator, &handover))
		{
			ck_assert_int_eq(handover->serial, serial[i]);
			found++;
		}
		enumerator->destroy(enumerator);
		ck_assert(handovers->has_ike_sa(handovers, i + 1));
	}
	for (i = 0; i < count; i++)
	{
		destroy_removed(handovers->remove(handovers, serial[i]));
	}
	indexed = elapsed_ms(&start);
	ck_assert_int_eq(found, count);
	fprintf(stderr, "\n    drain of %u: a PCTD lookup each, walking one list "
			"%.1f ms, indexed (with the removals) %.1f ms\n", count, walked,
			indexed);
	free(serial);
}
END_TEST

Suite *handovers_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp handovers");

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_ike_sa_changed);
	suite_add_tcase(s, tc);

	tc = tcase_create("drain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_drain);
	suite_add_tcase(s, tc);

	return s;
}
