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

#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <collections/array.h>

#include "../../cxtp_settings.h"
#include "../../cxtp_transport.h"
#include "../../cxtp_icmp.h"
#include "../utils/cxtp_test_log.h"

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
	cxtp_test_log_start();
}
END_SETUP

START_TEARDOWN(teardown)
{
	cxtp_test_log_stop();
	lib->processor->set_threads(lib->processor, 0);
	lib->processor->cancel(lib->processor);
}
END_TEARDOWN

START_TEST(test_defaults)
{
	cxtp_settings_t *settings;
	enumerator_t *enumerator;
	cxtp_peer_t *peer;

	settings = cxtp_settings_create();
	ck_assert_int_eq(settings->get_port(settings), CXTP_DEFAULT_PORT);
	ck_assert_int_eq(settings->get_retransmit_timeout(settings), 1000);
	ck_assert_int_eq(settings->get_ctar_retry(settings), 2000);
	ck_assert_int_eq(settings->get_ctar_retry_max(settings), 15000);
	ck_assert_int_eq(settings->get_handover_timeout(settings), 30000);
	ck_assert_int_eq(settings->get_ctar_rate(settings),
					 CXTP_DEFAULT_CTAR_RATE);
	ck_assert_int_eq(settings->get_seq_jump(settings), 4096);
	ck_assert_int_eq(settings->get_seq_rate(settings), 1000000);
	enumerator = settings->create_peer_enumerator(settings);
	ck_assert(!enumerator->enumerate(enumerator, &peer));
	enumerator->destroy(enumerator);
	settings->destroy(settings);
	ck_assert_int_eq(cxtp_test_log_count("invalid"), 0);
}
END_TEST

START_TEST(test_values)
{
	cxtp_settings_t *settings;

	set("ctar_retry", "0.25");
	set("ctar_retry_max", "3");
	set("ctar_rate", "4");
	set("retransmit_timeout", "250ms");
	set("handover_timeout", "2m");
	set("seq_rate", "0");
	settings = cxtp_settings_create();
	ck_assert_int_eq(settings->get_ctar_retry(settings), 250);
	ck_assert_int_eq(settings->get_ctar_retry_max(settings), 3000);
	ck_assert_int_eq(settings->get_ctar_rate(settings), 4);
	ck_assert_int_eq(settings->get_retransmit_timeout(settings), 250);
	ck_assert_int_eq(settings->get_handover_timeout(settings), 120000);
	/* the fixed jump alone */
	ck_assert_int_eq(settings->get_seq_rate(settings), 0);
	settings->destroy(settings);
	ck_assert_int_eq(cxtp_test_log_count("invalid"), 0);
}
END_TEST

/**
 * Check the next peer of an enumerator
 */
static void assert_peer(enumerator_t *enumerator, char *name, char *address,
						uint16_t port, char *secret)
{
	cxtp_peer_t *peer;
	host_t *host;

	ck_assert(enumerator->enumerate(enumerator, &peer));
	ck_assert_str_eq(peer->get_name(peer), name);
	host = host_create_from_string(address, port);
	ck_assert(host->equals(host, peer->get_address(peer)));
	host->destroy(host);
	ck_assert_chunk_eq(peer->get_secret(peer), chunk_from_str(secret));
}

START_TEST(test_peers)
{
	cxtp_settings_t *settings;
	enumerator_t *enumerator;
	cxtp_peer_t *peer;

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
	set_peer("unresolvable", "address", "no such host.invalid");
	set_peer("unresolvable", "secret", "s4");

	settings = cxtp_settings_create();
	ck_assert_int_eq(settings->get_peer_count(settings), 3);
	enumerator = settings->create_peer_enumerator(settings);
	assert_peer(enumerator, "zulu", "192.0.2.1", 7000, "s1");
	assert_peer(enumerator, "alpha", "192.0.2.2", 6000, "s2");
	assert_peer(enumerator, "mike", "192.0.2.4", 6000, "s3");
	ck_assert(!enumerator->enumerate(enumerator, &peer));
	enumerator->destroy(enumerator);
	settings->destroy(settings);

	ck_assert_int_eq(cxtp_test_log_count("peer 'nosecret' misses a secret"), 1);
	/* short secrets are warned about, never logged */
	ck_assert_int_eq(cxtp_test_log_count("the secret of peer 'zulu' has 2 "
										 "characters, use at least 32"), 1);
	ck_assert_int_eq(cxtp_test_log_count("s1"), 0);
	ck_assert_int_eq(cxtp_test_log_count("invalid value '70000' for "
								  "test-runner.plugins.cxtp.peers.mike.port"), 1);
	ck_assert_int_eq(cxtp_test_log_count("unable to resolve address 'no such "
								  "host.invalid' of peer 'unresolvable'"), 1);
}
END_TEST

START_TEST(test_find_peer)
{
	cxtp_settings_t *settings;
	cxtp_peer_t *peer;
	host_t *cxtp, *access, *other;

	set_peer("sun", "address", "fd00:12::2");
	set_peer("sun", "access", "fd00:2::1, 192.168.2.1");
	set_peer("sun", "secret", "s");
	set_peer("moon", "address", "fd00:12::1");
	set_peer("moon", "access", "fd00:1::1, not-an-address");
	set_peer("moon", "secret", "s");
	settings = cxtp_settings_create();
	cxtp = host_create_from_string("fd00:12::2", 1234);
	access = host_create_from_string("192.168.2.1", 0);
	other = host_create_from_string("fd00:2::2", 0);

	peer = settings->find_peer(settings, cxtp, FALSE);
	ck_assert(peer);
	ck_assert_str_eq(peer->get_name(peer), "sun");
	peer->destroy(peer);
	/* access addresses name a peer in CTARs, datagrams come from its
	 * CXTP address */
	ck_assert(!settings->find_peer(settings, access, FALSE));
	peer = settings->find_peer(settings, access, TRUE);
	ck_assert(peer);
	ck_assert_str_eq(peer->get_name(peer), "sun");
	peer->destroy(peer);
	ck_assert(!settings->find_peer(settings, other, TRUE));
	peer = settings->get_peer(settings, "moon");
	ck_assert(peer);
	peer->destroy(peer);
	ck_assert(!settings->get_peer(settings, "mars"));
	ck_assert(!settings->get_peer(settings, NULL));

	cxtp->destroy(cxtp);
	access->destroy(access);
	other->destroy(other);
	settings->destroy(settings);
	ck_assert_int_eq(cxtp_test_log_count("'not-an-address' is no IP address"), 1);
}
END_TEST

START_TEST(test_find_peer_by_spi)
{
	cxtp_settings_t *settings;
	cxtp_peer_t *peer;
	bool own;

	lib->settings->load_string(lib->settings,
		"test-runner { spi_mask = 0x00ff000000000000\n"
		"  spi_label = 0x0001000000000000\n"
		"  plugins { cxtp { peers {\n"
		"    sun { address = 192.0.2.2\n secret = s\n"
		"          spi_label = 0x0002000000000000 }\n"
		"    mars { address = 192.0.2.3\n secret = s }\n"
		"} } } }", FALSE);
	settings = cxtp_settings_create();
	/* the label under the mask names the peer that allocated the SPI */
	peer = settings->find_peer_by_spi(settings,
							htobe64(0x1a02345678901234), &own);
	ck_assert(peer);
	ck_assert_str_eq(peer->get_name(peer), "sun");
	ck_assert(!own);
	peer->destroy(peer);
	/* our own label: nothing to fetch */
	ck_assert(!settings->find_peer_by_spi(settings,
							htobe64(0x1a01345678901234), &own));
	ck_assert(own);
	/* no peer's */
	ck_assert(!settings->find_peer_by_spi(settings,
							htobe64(0x1a03345678901234), &own));
	ck_assert(!own);

	/* reloaded with another label, and without a mask */
	lib->settings->load_string(lib->settings,
		"test-runner { plugins { cxtp { peers {\n"
		"    sun { spi_label = 0x0003000000000000 }\n"
		"} } } }", TRUE);
	settings->reload(settings);
	peer = settings->find_peer_by_spi(settings,
							htobe64(0x1a03345678901234), &own);
	ck_assert(peer);
	ck_assert_str_eq(peer->get_name(peer), "sun");
	peer->destroy(peer);
	lib->settings->set_str(lib->settings, "%s.spi_mask", "0", lib->ns);
	settings->reload(settings);
	ck_assert(!settings->find_peer_by_spi(settings,
							htobe64(0x1a03345678901234), &own));
	ck_assert(own);
	settings->destroy(settings);
}
END_TEST

START_TEST(test_reload)
{
	cxtp_settings_t *settings;
	cxtp_peer_t *kept, *changed, *removed, *peer;

	lib->settings->load_string(lib->settings,
		"test-runner { plugins { cxtp {\n"
		"  port = 6000\n handover_timeout = 30\n"
		"  peers {\n"
		"    kept { address = 192.0.2.1\n secret = s1 }\n"
		"    changed { address = 192.0.2.2\n secret = s2 }\n"
		"    removed { address = 192.0.2.3\n secret = s3 }\n"
		"  }\n"
		"} } }", FALSE);
	settings = cxtp_settings_create();
	kept = settings->get_peer(settings, "kept");
	changed = settings->get_peer(settings, "changed");
	removed = settings->get_peer(settings, "removed");
	ck_assert(kept && changed && removed);

	lib->settings->load_string(lib->settings,
		"test-runner { plugins { cxtp {\n"
		"  port = 6001\n handover_timeout = 5\n"
		"  peers {\n"
		"    kept { address = 192.0.2.1\n secret = s1 }\n"
		"    changed { address = 192.0.2.2\n secret = new }\n"
		"    added { address = 192.0.2.4\n secret = s4 }\n"
		"  }\n"
		"} } }", FALSE);
	settings->reload(settings);

	ck_assert_int_eq(settings->get_handover_timeout(settings), 5000);
	/* the transport's socket stays where it is */
	ck_assert_int_eq(settings->get_port(settings), 6000);
	ck_assert_int_eq(cxtp_test_log_count("port 6001 takes effect when charon "
								  "restarts"), 1);
	ck_assert_int_eq(settings->get_peer_count(settings), 3);
	peer = settings->get_peer(settings, "kept");
	ck_assert(peer == kept);
	peer->destroy(peer);
	peer = settings->get_peer(settings, "changed");
	ck_assert(peer && peer != changed);
	ck_assert_chunk_eq(peer->get_secret(peer), chunk_from_str("new"));
	peer->destroy(peer);
	ck_assert(!settings->get_peer(settings, "removed"));
	peer = settings->get_peer(settings, "added");
	ck_assert(peer);
	peer->destroy(peer);
	/* references taken before the reload stay valid */
	ck_assert_str_eq(removed->get_name(removed), "removed");
	ck_assert_chunk_eq(changed->get_secret(changed), chunk_from_str("s2"));

	kept->destroy(kept);
	changed->destroy(changed);
	removed->destroy(removed);
	settings->destroy(settings);
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
	{ "ctar_retry", "-2", "invalid value '-2' for test-runner.plugins.cxtp.ctar_retry" },
	{ "ctar_retry_max", "100000", "invalid value '100000' for test-runner.plugins.cxtp.ctar_retry_max" },
	{ "handover_timeout", "30x", "invalid value '30x' for test-runner.plugins.cxtp.handover_timeout" },
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
	/* and what swanctl --reload-settings does, twice */
	settings->reload(settings);
	settings->reload(settings);
	DESTROY_IF(icmp);
	transport->destroy(transport);
	settings->destroy(settings);

	for (i = 0; i < countof(invalid); i++)
	{
		ck_assert_msg(cxtp_test_log_count(invalid[i].warning) == 1,
					  "'%s' logged %d times", invalid[i].warning,
					  cxtp_test_log_count(invalid[i].warning));
	}
	ck_assert_int_eq(cxtp_test_log_count("invalid value '99999' for "
								  "test-runner.plugins.cxtp.peers.a.port"), 1);
	ck_assert_int_eq(cxtp_test_log_count("invalid"), countof(invalid) + 1);
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
	tcase_add_test(tc, test_find_peer);
	tcase_add_test(tc, test_find_peer_by_spi);
	tcase_add_test(tc, test_reload);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_warned_once);
	suite_add_tcase(s, tc);

	return s;
}
