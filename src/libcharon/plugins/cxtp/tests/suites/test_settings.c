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

#include <stdarg.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <threading/mutex.h>
#include <collections/array.h>

#include "../../cxtp_settings.h"
#include "../../cxtp_transport.h"
#include "../../cxtp_icmp.h"

/**
 * Log messages at level 1, char*, protected by mutex
 */
static array_t *logged;
static mutex_t *mutex;

/**
 * The dbg hook replaced during a test
 */
static void (*dbg_orig)(debug_t group, level_t level, char *fmt, ...);

/**
 * Record level 1 messages
 */
static void dbg_record(debug_t group, level_t level, char *fmt, ...)
{
	char buf[512];
	va_list args;

	if (level > 1)
	{
		return;
	}
	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	mutex->lock(mutex);
	array_insert(logged, ARRAY_TAIL, strdup(buf));
	mutex->unlock(mutex);
}

/**
 * Number of logged messages containing a string
 */
static int count_logged(char *str)
{
	char *msg;
	int i, count = 0;

	mutex->lock(mutex);
	for (i = 0; i < array_count(logged); i++)
	{
		array_get(logged, i, &msg);
		if (strstr(msg, str))
		{
			count++;
		}
	}
	mutex->unlock(mutex);
	return count;
}

/**
 * Drop what the ICMP transport receives
 */
static void icmp_cb(void *data, host_t *src, host_t *dst,
					cxtp_message_t *message)
{
	message->destroy(message);
}

/**
 * Get a free UDP port on the loopback
 */
static uint16_t free_port()
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(addr);
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr*)&addr, sizeof(addr)) == 0);
	ck_assert(getsockname(fd, (struct sockaddr*)&addr, &len) == 0);
	close(fd);
	return ntohs(addr.sin_port);
}

static void set(char *key, char *value)
{
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.%s", value,
						   lib->ns, key);
}

/**
 * Set an option of a peer (the settings split the format, not arguments,
 * at dots)
 */
static void set_peer(char *name, char *key, char *value)
{
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.%s.%s",
						   value, lib->ns, name, key);
}

START_SETUP(setup)
{
	lib->processor->set_threads(lib->processor, 2);
	logged = array_create(0, 0);
	mutex = mutex_create(MUTEX_TYPE_DEFAULT);
	dbg_orig = dbg;
	dbg = dbg_record;
}
END_SETUP

START_TEARDOWN(teardown)
{
	char *msg;

	dbg = dbg_orig;
	while (array_remove(logged, ARRAY_HEAD, &msg))
	{
		free(msg);
	}
	array_destroy(logged);
	mutex->destroy(mutex);
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
}
END_TEARDOWN

START_TEST(test_defaults)
{
	cxtp_settings_t *settings;
	enumerator_t *enumerator;

	settings = cxtp_settings_create();
	ck_assert_int_eq(settings->get_port(settings), CXTP_DEFAULT_PORT);
	ck_assert(settings->get_ctar_retry(settings) == CXTP_DEFAULT_CTAR_RETRY);
	ck_assert(settings->get_ctar_retry_max(settings) ==
			  CXTP_DEFAULT_CTAR_RETRY_MAX);
	ck_assert_int_eq(settings->get_ctar_rate(settings),
					 CXTP_DEFAULT_CTAR_RATE);
	enumerator = settings->create_peer_enumerator(settings);
	ck_assert(!enumerator->enumerate(enumerator, NULL, NULL, NULL, NULL));
	enumerator->destroy(enumerator);
	settings->destroy(settings);
	ck_assert_int_eq(count_logged("invalid"), 0);
}
END_TEST

START_TEST(test_values)
{
	cxtp_settings_t *settings;

	set("ctar_retry", "0.25");
	set("ctar_retry_max", "3");
	set("ctar_rate", "4");
	settings = cxtp_settings_create();
	ck_assert(settings->get_ctar_retry(settings) == 0.25);
	ck_assert(settings->get_ctar_retry_max(settings) == 3.0);
	ck_assert_int_eq(settings->get_ctar_rate(settings), 4);
	settings->destroy(settings);
	ck_assert_int_eq(count_logged("invalid"), 0);
}
END_TEST

START_TEST(test_peers)
{
	cxtp_settings_t *settings;
	enumerator_t *enumerator;
	char *name, *address, *secret;
	uint16_t port;

	set("port", "6000");
	/* in this order, not sorted by name */
	set_peer("zulu", "address", "192.0.2.1");
	set_peer("zulu", "secret", "s1");
	set_peer("zulu", "port", "7000");
	set_peer("alpha", "address", "192.0.2.2");
	set_peer("nosecret", "address", "192.0.2.3");
	set_peer("alpha", "secret", "s2");
	set_peer("mike", "address", "192.0.2.4");
	set_peer("mike", "secret", "s3");
	set_peer("mike", "port", "70000");

	settings = cxtp_settings_create();
	ck_assert_int_eq(settings->get_peer_count(settings), 3);
	enumerator = settings->create_peer_enumerator(settings);
	ck_assert(enumerator->enumerate(enumerator, &name, &address, &secret,
									&port));
	ck_assert_str_eq(name, "zulu");
	ck_assert_str_eq(address, "192.0.2.1");
	ck_assert_str_eq(secret, "s1");
	ck_assert_int_eq(port, 7000);
	ck_assert(enumerator->enumerate(enumerator, &name, &address, &secret,
									&port));
	ck_assert_str_eq(name, "alpha");
	ck_assert_str_eq(address, "192.0.2.2");
	ck_assert_str_eq(secret, "s2");
	ck_assert_int_eq(port, 6000);
	ck_assert(enumerator->enumerate(enumerator, &name, &address, &secret,
									&port));
	ck_assert_str_eq(name, "mike");
	ck_assert_str_eq(secret, "s3");
	ck_assert_int_eq(port, 6000);
	ck_assert(!enumerator->enumerate(enumerator, &name, &address, &secret,
									 &port));
	enumerator->destroy(enumerator);
	settings->destroy(settings);

	ck_assert_int_eq(count_logged("peer 'nosecret' misses a secret"), 1);
	ck_assert_int_eq(count_logged("invalid port 70000 of peer 'mike'"), 1);
}
END_TEST

/**
 * Invalid values and the start of their warning
 */
static struct {
	char *key;
	char *value;
	char *warning;
} invalid[] = {
	{ "port", "0", "invalid value '0' for test-runner.plugins.cxtp.port" },
	{ "retransmit_timeout", "-1", "invalid value '-1' for test-runner.plugins.cxtp.retransmit_timeout" },
	{ "retransmit_tries", "x", "invalid value 'x' for test-runner.plugins.cxtp.retransmit_tries" },
	{ "retransmit_base", "0.5", "invalid value '0.5' for test-runner.plugins.cxtp.retransmit_base" },
	{ "ctar_rate", "0", "invalid value '0' for test-runner.plugins.cxtp.ctar_rate" },
	{ "ctar_retry", "-2", "invalid value -2.000000 for test-runner.plugins.cxtp.ctar_retry" },
	{ "ctar_retry_max", "100000", "invalid value 100000.000000 for test-runner.plugins.cxtp.ctar_retry_max" },
};

START_TEST(test_warned_once)
{
	cxtp_settings_t *settings;
	cxtp_transport_t *transport;
	cxtp_icmp_t *icmp;
	host_t *local;
	int i;

	ck_assert_str_eq(lib->ns, "test-runner");
	set_peer("a", "address", "127.0.0.2");
	set_peer("a", "secret", "secret");
	set_peer("a", "port", "99999");
	for (i = 0; i < countof(invalid); i++)
	{
		set(invalid[i].key, invalid[i].value);
	}
	/* what the plugin creates at start-up, sharing one settings object */
	settings = cxtp_settings_create();
	local = host_create_from_string("127.0.0.1", free_port());
	transport = cxtp_transport_create_bound(settings, local, NULL, NULL);
	local->destroy(local);
	ck_assert(transport);
	/* fails without raw sockets, but would still read its options */
	icmp = cxtp_icmp_create(settings, icmp_cb, NULL);
	DESTROY_IF(icmp);
	transport->destroy(transport);
	settings->destroy(settings);

	for (i = 0; i < countof(invalid); i++)
	{
		ck_assert_msg(count_logged(invalid[i].warning) == 1,
					  "'%s' logged %d times", invalid[i].warning,
					  count_logged(invalid[i].warning));
	}
	ck_assert_int_eq(count_logged("invalid port 99999 of peer 'a'"), 1);
	ck_assert_int_eq(count_logged("invalid"), countof(invalid) + 1);
}
END_TEST

Suite *settings_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("cxtp settings");

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_peers);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_warned_once);
	suite_add_tcase(s, tc);

	return s;
}
