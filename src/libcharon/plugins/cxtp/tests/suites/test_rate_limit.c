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

#include "../../cxtp_rate_limit.h"

/**
 * The CTAR rate limit per source, and its state bounded in total without
 * keeping a new source out: a mobile node arriving on nAR's link while
 * spoofed sources fill the table gets its CTAR through.
 */

static cxtp_settings_t *settings;
static cxtp_rate_limit_t *limit;

/**
 * Create the limiter with a rate per source and a size of its table
 */
static void create(u_int rate, u_int sources)
{
	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.ctar_rate", rate,
						   lib->ns);
	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.ctar_sources",
						   sources, lib->ns);
	settings = cxtp_settings_create();
	limit = cxtp_rate_limit_create(settings);
}

/**
 * Count a CTAR from the n-th source of a family
 */
static bool check(int family, u_int n)
{
	host_t *src;
	bool ok;

	if (family == AF_INET)
	{
		src = host_create_from_string("10.0.0.0", 0);
		((struct sockaddr_in*)src->get_sockaddr(src))->sin_addr.s_addr =
											htonl(0x0a000000 | (n & 0xffffff));
	}
	else
	{
		src = host_create_from_string("fd00::", 0);
		((struct sockaddr_in6*)src->get_sockaddr(src))->sin6_addr.s6_addr32[3] =
											htonl(n);
	}
	ok = limit->check(limit, src);
	src->destroy(src);
	return ok;
}

static int families[] = { AF_INET, AF_INET6 };

START_SETUP(setup)
{
	settings = NULL;
	limit = NULL;
}
END_SETUP

START_TEARDOWN(teardown)
{
	DESTROY_IF(limit);
	DESTROY_IF(settings);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.ctar_rate", NULL,
						   lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.ctar_sources",
						   NULL, lib->ns);
}
END_TEARDOWN

START_TEST(test_per_source)
{
	uint64_t dropped, evicted;
	int i;

	create(3, 16);
	for (i = 0; i < 3; i++)
	{
		ck_assert(check(families[_i], 1));
	}
	ck_assert(!check(families[_i], 1));
	ck_assert(!check(families[_i], 1));
	/* another source has its own allowance */
	ck_assert(check(families[_i], 2));
	limit->get_counters(limit, &dropped, &evicted);
	ck_assert_int_eq(dropped, 2);
	ck_assert_int_eq(evicted, 0);
}
END_TEST

START_TEST(test_full_admits_new)
{
	uint64_t dropped, evicted;
	int i, j;

	create(2, 16);
	/* 16 sources, each over its rate */
	for (i = 0; i < 16; i++)
	{
		for (j = 0; j < 2; j++)
		{
			ck_assert(check(families[_i], 100 + i));
		}
		ck_assert(!check(families[_i], 100 + i));
	}
	/* the mobile node arrives: the least recently seen source makes room */
	ck_assert(check(families[_i], 1));
	ck_assert(check(families[_i], 1));
	ck_assert(!check(families[_i], 1));
	limit->get_counters(limit, &dropped, &evicted);
	ck_assert_int_eq(dropped, 17);
	ck_assert_int_eq(evicted, 1);
	/* the most recently seen ones are still limited, the oldest is gone */
	ck_assert(!check(families[_i], 115));
	ck_assert(check(families[_i], 100));
}
END_TEST

START_TEST(test_flood_no_drops)
{
	uint64_t dropped, evicted;
	int i;

	/* the figure: 1100 sources within a second dropped 76 */
	create(10, CXTP_RATE_MAX_SOURCES);
	for (i = 0; i < 1100; i++)
	{
		ck_assert(check(families[_i], 1000 + i));
	}
	/* the real node after them, and while more keep coming */
	ck_assert(check(families[_i], 1));
	for (i = 0; i < 5000; i++)
	{
		ck_assert(check(families[_i], 10000 + i));
	}
	ck_assert(check(families[_i], 2));
	limit->get_counters(limit, &dropped, &evicted);
	ck_assert_int_eq(dropped, 0);
	ck_assert_int_eq(evicted, 1100 + 1 + 5000 + 1 - CXTP_RATE_MAX_SOURCES);
}
END_TEST

START_TEST(test_recent_stays)
{
	int i;

	create(1, 8);
	ck_assert(check(families[_i], 1));
	/* a source seen recently keeps its state (and its limit) while new
	 * ones push out the ones not seen for longer */
	for (i = 0; i < 20; i++)
	{
		ck_assert(check(families[_i], 100 + i));
		ck_assert(!check(families[_i], 1));
	}
}
END_TEST

Suite *rate_limit_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("rate limit");

	tc = tcase_create("per source");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_per_source, 0, countof(families));
	tcase_add_loop_test(tc, test_recent_stays, 0, countof(families));
	suite_add_tcase(s, tc);

	tc = tcase_create("table full");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_full_admits_new, 0, countof(families));
	tcase_add_loop_test(tc, test_flood_no_drops, 0, countof(families));
	suite_add_tcase(s, tc);

	return s;
}
