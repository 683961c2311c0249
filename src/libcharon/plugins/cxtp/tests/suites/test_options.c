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



#include "../../cxtp_options.h"
#include "../utils/cxtp_test_log.h"

static cxtp_options_t *options;

static void set(char *key, char *value)
{
	lib->settings->set_str(lib->settings, "%s.plugins.test.%s", value,
						   lib->ns, key);
}

START_SETUP(setup)
{
	cxtp_test_log_start();
	options = cxtp_options_create("test");
}
END_SETUP

START_TEARDOWN(teardown)
{
	options->destroy(options);
	cxtp_test_log_stop();
	lib->settings->load_string(lib->settings, "", FALSE);
}
END_TEARDOWN

START_TEST(test_missing)
{
	set("empty", "");
	ck_assert_int_eq(options->get_uint(options, "none", 7, 1, 10), 7);
	ck_assert_int_eq(options->get_uint(options, "empty", 7, 1, 10), 7);
	ck_assert(options->get_double(options, "none", 2.5, 1.0) == 2.5);
	ck_assert_int_eq(options->get_time(options, "none", "s", 1500, 1, 3000),
					 1500);
	ck_assert(options->get_bool(options, "none", TRUE));
	ck_assert(!options->get_str(options, "empty"));
	ck_assert_int_eq(cxtp_test_log_total(), 0);
}
END_TEST

static struct {
	char *value;
	char *unit;
	uint64_t ms;
} times[] = {
	{ "1", "s", 1000 },
	{ "1.5", "s", 1500 },
	{ "0.25", "s", 250 },
	{ ".5", "s", 500 },
	{ "100", "ms", 100 },
	{ "100ms", "s", 100 },
	{ "2s", "ms", 2000 },
	{ "2 s", "ms", 2000 },
	{ "2m", "s", 120000 },
	{ "1h", "s", 3600000 },
	{ "1d", "s", 86400000 },
	{ "0", "s", 0 },
};

START_TEST(test_time)
{
	set("t", times[_i].value);
	ck_assert_int_eq(options->get_time(options, "t", times[_i].unit, 7,
									   0, 100000000), times[_i].ms);
	ck_assert_int_eq(cxtp_test_log_total(), 0);
}
END_TEST

static char *invalid_times[] = {
	"-1", "1x", "x", "inf", "nan", "1e30", "s", "1 ", " 1", "1.5.5", "+1",
	"2000", "0.5ms",
};

START_TEST(test_time_invalid)
{
	set("t", invalid_times[_i]);
	/* 0.5 ms rounds to 1, below the minimum of 2 */
	ck_assert_int_eq(options->get_time(options, "t", "ms", 7, 2, 1000), 7);
	ck_assert_int_eq(cxtp_test_log_count("test: invalid value"), 1);
	ck_assert_int_eq(cxtp_test_log_count(".plugins.test.t, expected a time in "
								  "2ms..1s"), 1);
}
END_TEST

START_TEST(test_uint)
{
	set("u", "42");
	ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 42);
	set("u", "101");
	ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 7);
	set("u", "-1");
	ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 7);
	set("u", "4x");
	ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 7);
	ck_assert_int_eq(cxtp_test_log_count("expected an integer in 1..100, using "
								  "default 7"), 3);
}
END_TEST

START_TEST(test_double)
{
	set("d", "2.5");
	ck_assert(options->get_double(options, "d", 2.0, 1.0) == 2.5);
	set("d", "0.5");
	ck_assert(options->get_double(options, "d", 2.0, 1.0) == 2.0);
	set("d", "-3");
	ck_assert(options->get_double(options, "d", 2.0, 1.0) == 2.0);
	ck_assert_int_eq(cxtp_test_log_count("expected a number of at least 1, using "
								  "default 2"), 2);
}
END_TEST

START_TEST(test_bool)
{
	set("b", "no");
	ck_assert(!options->get_bool(options, "b", TRUE));
	set("b", "yes");
	ck_assert(options->get_bool(options, "b", FALSE));
	set("b", "maybe");
	ck_assert(!options->get_bool(options, "b", FALSE));
	ck_assert_int_eq(cxtp_test_log_count("invalid value 'maybe' for "
						"test-runner.plugins.test.b, expected yes or no"), 1);
}
END_TEST

ENUM(test_names, 1, 3,
	"one",
	"two",
	"three",
);

START_TEST(test_enum)
{
	set("e", "two");
	ck_assert_int_eq(options->get_enum(options, "e", test_names, 1), 2);
	set("e", "four");
	ck_assert_int_eq(options->get_enum(options, "e", test_names, 3), 3);
	ck_assert_int_eq(cxtp_test_log_count("expected one of one, two, three, using "
								  "default three"), 1);
}
END_TEST

START_TEST(test_warned_once)
{
	int i;

	set("u", "0");
	for (i = 0; i < 3; i++)
	{	/* a reload reads the same invalid value again */
		ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 7);
	}
	ck_assert_int_eq(cxtp_test_log_count("invalid value '0'"), 1);
	set("u", "200");
	ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 7);
	ck_assert_int_eq(cxtp_test_log_count("invalid value '200'"), 1);
	set("u", "5");
	ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 5);
	/* invalid again after it was valid: worth a message again */
	set("u", "200");
	ck_assert_int_eq(options->get_uint(options, "u", 7, 1, 100), 7);
	ck_assert_int_eq(cxtp_test_log_count("invalid value '200'"), 2);
	ck_assert_int_eq(cxtp_test_log_total(), 3);
}
END_TEST

START_TEST(test_sections)
{
	enumerator_t *enumerator;
	char *name;

	lib->settings->load_string(lib->settings,
		"test-runner { plugins { test { peers { a%b { port = 99 } } } } }",
		FALSE);
	enumerator = options->create_section_enumerator(options, "peers");
	ck_assert(enumerator->enumerate(enumerator, &name));
	ck_assert_str_eq(name, "a%b");
	ck_assert(!enumerator->enumerate(enumerator, &name));
	enumerator->destroy(enumerator);
	/* the key is not a format string */
	ck_assert_int_eq(options->get_uint(options, "peers.a%b.port", 7, 1, 100),
					 99);
	ck_assert_int_eq(options->get_uint(options, "peers.a%b.port", 7, 1, 10),
					 7);
	ck_assert_int_eq(cxtp_test_log_count("for test-runner.plugins.test.peers.a%b.port,"),
					 1);
}
END_TEST

Suite *options_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp options");

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_missing);
	tcase_add_loop_test(tc, test_time, 0, countof(times));
	tcase_add_loop_test(tc, test_time_invalid, 0, countof(invalid_times));
	tcase_add_test(tc, test_uint);
	tcase_add_test(tc, test_double);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_enum);
	tcase_add_test(tc, test_sections);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_warned_once);
	suite_add_tcase(s, tc);

	return s;
}
