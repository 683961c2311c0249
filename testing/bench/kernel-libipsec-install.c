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

/*
 * What a gateway's data plane costs per CHILD_SA as it holds more of them:
 * charon's kernel interface with kernel-libipsec (and kernel-netlink for the
 * routes) installs, for peer i, the two ESP SAs and the policies child_sa.c
 * installs for a tunnel to the peer's virtual IP (in, fwd in, out, fwd out),
 * as an import or a set-up does. Resident peers are added up to each count
 * given, and at each count ROUNDS more peers are installed and removed again
 * and timed. Run it in a network namespace of its own (see the script of the
 * same name): it creates a TUN device and installs a route per peer.
 *
 * Usage: kernel-libipsec-install CONF ROUNDS N...
 *        kernel-libipsec-install CONF check
 * Prints one line per N: N, then the process's CPU time in us per policy
 * added, per CHILD_SA added (SAs and policies) and removed, and the wall
 * time per CHILD_SA added (which other load on the machine inflates).
 * "check" checks instead that routes come and go with the policies, and
 * exits with 1 if not (testing/selftest/kernel-libipsec.sh).
 */

#include <stdio.h>
#include <time.h>

#include <library.h>
#include <daemon.h>

/* kernel-libipsec's SAs and policies, not kernel-netlink's, as it comes first */
#define PLUGINS "random nonce openssl socket-default kernel-libipsec " \
				"kernel-netlink"

/** The gateway: IKE address and the network behind it (a local address) */
static host_t *me;
static traffic_selector_t *my_ts;

static double now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/**
 * Peer i: IKE address 198.18.0.0/15, virtual IP 10.64.0.0/10, reqid i + 1
 */
typedef struct {
	host_t *addr;
	traffic_selector_t *ts;
	uint32_t reqid;
} peer_t;

static void peer_init(peer_t *peer, int i)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "198.%d.%d.%d", 18 + (i >> 16), (i >> 8) & 0xff,
			 i & 0xff);
	peer->addr = host_create_from_string(buf, 4500);
	snprintf(buf, sizeof(buf), "10.%d.%d.%d/32", 64 + (i >> 16),
			 (i >> 8) & 0xff, i & 0xff);
	peer->ts = traffic_selector_create_from_cidr(buf, 0, 0, 65535);
	peer->reqid = i + 1;
}

static void peer_clear(peer_t *peer)
{
	peer->addr->destroy(peer->addr);
	peer->ts->destroy(peer->ts);
}

static bool sa(peer_t *peer, int i, bool inbound, bool add)
{
	uint8_t key[20] = { i, i >> 8, i >> 16, inbound };
	lifetime_cfg_t lifetime = {};
	kernel_ipsec_sa_id_t id = {
		.src = inbound ? peer->addr : me,
		.dst = inbound ? me : peer->addr,
		.spi = htonl(0xc0000000 | (i << 1) | inbound),
		.proto = IPPROTO_ESP,
	};
	kernel_ipsec_add_sa_t data = {
		.reqid = peer->reqid,
		.mode = MODE_TUNNEL,
		.lifetime = &lifetime,
		.enc_alg = ENCR_AES_GCM_ICV16,
		.enc_key = chunk_from_thing(key),
		.int_alg = AUTH_UNDEFINED,
		.replay_window = 32,
		.encap = TRUE,
		.inbound = inbound,
	};
	kernel_ipsec_del_sa_t del = {};

	if (add)
	{
		return charon->kernel->add_sa(charon->kernel, &id, &data) == SUCCESS;
	}
	return charon->kernel->del_sa(charon->kernel, &id, &del) == SUCCESS;
}

static bool policy(peer_t *peer, policy_dir_t dir, bool inbound, bool add)
{
	ipsec_sa_cfg_t cfg = {
		.mode = MODE_TUNNEL,
		.reqid = dir == POLICY_FWD && !inbound ? 0 : peer->reqid,
		.esp = {
			.use = TRUE,
			.spi = 1,
		},
	};
	kernel_ipsec_policy_id_t id = {
		.dir = dir,
		.src_ts = inbound ? peer->ts : my_ts,
		.dst_ts = inbound ? my_ts : peer->ts,
	};
	kernel_ipsec_manage_policy_t data = {
		.type = POLICY_IPSEC,
		.prio = dir == POLICY_FWD && !inbound ? POLICY_PRIORITY_ROUTED
											  : POLICY_PRIORITY_DEFAULT,
		.src = inbound ? peer->addr : me,
		.dst = inbound ? me : peer->addr,
		.sa = &cfg,
	};

	if (add)
	{
		return charon->kernel->add_policy(charon->kernel, &id, &data) == SUCCESS;
	}
	return charon->kernel->del_policy(charon->kernel, &id, &data) == SUCCESS;
}

/**
 * Install or remove a peer's policies as child_sa.c does: in, fwd, out, fwd
 * (out); removal the other way round
 */
static bool policies(peer_t *peer, bool add)
{
	if (add)
	{
		return policy(peer, POLICY_IN, TRUE, TRUE) &&
			   policy(peer, POLICY_FWD, TRUE, TRUE) &&
			   policy(peer, POLICY_OUT, FALSE, TRUE) &&
			   policy(peer, POLICY_FWD, FALSE, TRUE);
	}
	return policy(peer, POLICY_OUT, FALSE, FALSE) &&
		   policy(peer, POLICY_FWD, FALSE, FALSE) &&
		   policy(peer, POLICY_IN, TRUE, FALSE) &&
		   policy(peer, POLICY_FWD, TRUE, FALSE);
}

/**
 * Install or remove peer i's CHILD_SA as child_sa.c does: SAs first, then
 * policies; removal the other way round. The CPU time spent in
 * add_policy() is added to policy_us.
 */
static bool child(int i, bool add, double *policy_us)
{
	peer_t peer;
	double start;
	bool ok = TRUE;

	peer_init(&peer, i);
	if (add)
	{
		ok = sa(&peer, i, TRUE, TRUE) && sa(&peer, i, FALSE, TRUE);
		start = now(CLOCK_PROCESS_CPUTIME_ID);
		ok = ok && policies(&peer, TRUE);
		if (policy_us)
		{
			*policy_us += now(CLOCK_PROCESS_CPUTIME_ID) - start;
		}
	}
	else
	{
		ok = policies(&peer, FALSE) &&
			 sa(&peer, i, TRUE, FALSE) && sa(&peer, i, FALSE, FALSE);
	}
	peer_clear(&peer);
	if (!ok)
	{
		fprintf(stderr, "%s CHILD_SA %d failed\n", add ? "adding" : "removing",
				i);
	}
	return ok;
}

/**
 * Whether the route to peer i's virtual IP is in charon's routing table
 */
static bool has_route(int i)
{
	char cmd[128], line[256];
	bool found = FALSE;
	FILE *ip;

	snprintf(cmd, sizeof(cmd), "ip route show table 220 10.%d.%d.%d/32",
			 64 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
	ip = popen(cmd, "r");
	if (ip)
	{
		found = fgets(line, sizeof(line), ip) != NULL;
		pclose(ip);
	}
	return found;
}

/**
 * Peer i's policies installed or removed again, as a rekey or a make-
 * before-break reauthentication does while the first CHILD_SA stays
 */
static bool again(int i, bool add)
{
	peer_t peer;
	bool ok;

	peer_init(&peer, i);
	ok = policies(&peer, add);
	peer_clear(&peer);
	return ok;
}

#define CHECK(what, cond) do { \
	if (!(cond)) { \
		printf("FAILED: %s\n", what); \
		return 1; \
	} \
	printf("ok: %s\n", what); \
} while (0)

/**
 * What a user notices of the policies kernel-libipsec keeps: the route of a
 * tunnel stays as long as any CHILD_SA installed its policies, and goes
 * with the last one or a flush
 */
static int check()
{
	int i;

	for (i = 0; i < 3; i++)
	{
		CHECK("CHILD_SA installed", child(i, TRUE, NULL));
	}
	CHECK("a route per peer", has_route(0) && has_route(1) && has_route(2));
	CHECK("peer 1's policies installed again", again(1, TRUE));
	CHECK("removed once", again(1, FALSE));
	CHECK("peer 1's route stays while a CHILD_SA has its policies",
		  has_route(1));
	CHECK("peer 1's CHILD_SA removed", child(1, FALSE, NULL));
	CHECK("peer 1's route goes with its last CHILD_SA",
		  !has_route(1) && has_route(0) && has_route(2));
	CHECK("policies removed once too often fail", !again(1, FALSE));
	CHECK("the others' routes stay", has_route(0) && has_route(2));
	CHECK("peer 1's policies installed after their removal", again(1, TRUE));
	CHECK("its route is back", has_route(1));
	CHECK("flushed",
		  charon->kernel->flush_policies(charon->kernel) == SUCCESS);
	CHECK("no routes after a flush",
		  !has_route(0) && !has_route(1) && !has_route(2));
	CHECK("peer 0's policies installed after the flush", again(0, TRUE));
	CHECK("its route is back", has_route(0));
	return 0;
}

int main(int argc, char *argv[])
{
	double start, wall, add_us, del_us, policy_us;
	int rounds, resident = 0, n, i, j;
	level_t levels[DBG_MAX];

	if (argc < 3 || (argc < 4 && !streq(argv[2], "check")))
	{
		fprintf(stderr, "usage: %s CONF ROUNDS N...|check\n", argv[0]);
		return 2;
	}
	rounds = atoi(argv[2]);
	dbg_default_set_level(0);
	if (!library_init(argv[1], "charon") || !libcharon_init())
	{
		fprintf(stderr, "initializing charon failed\n");
		return 1;
	}
	/* LEVEL in the environment: charon's log on stderr */
	for (i = 0; i < DBG_MAX; i++)
	{
		levels[i] = getenv("LEVEL") ? atoi(getenv("LEVEL")) : LEVEL_SILENT;
	}
	charon->set_default_loggers(charon, levels, TRUE);
	charon->load_loggers(charon);
	if (!charon->initialize(charon, PLUGINS))
	{
		fprintf(stderr, "initializing charon failed\n");
		return 1;
	}
	me = host_create_from_string("192.0.2.1", 4500);
	my_ts = traffic_selector_create_from_cidr("10.0.0.0/24", 0, 0, 65535);
	if (streq(argv[2], "check"))
	{
		return check();
	}

	printf("%8s %12s %14s %14s %14s\n", "resident", "CPU us per",
		   "CPU us per", "CPU us per", "wall us per");
	printf("%8s %12s %14s %14s %14s\n", "CHILD_SAs", "policy add",
		   "CHILD_SA add", "CHILD_SA del", "CHILD_SA add");
	for (j = 3; j < argc; j++)
	{
		n = atoi(argv[j]);
		for (; resident < n; resident++)
		{
			if (!child(resident, TRUE, NULL))
			{
				return 1;
			}
		}
		policy_us = 0;
		wall = now(CLOCK_MONOTONIC);
		start = now(CLOCK_PROCESS_CPUTIME_ID);
		for (i = resident; i < resident + rounds; i++)
		{
			if (!child(i, TRUE, &policy_us))
			{
				return 1;
			}
		}
		add_us = now(CLOCK_PROCESS_CPUTIME_ID) - start;
		wall = now(CLOCK_MONOTONIC) - wall;
		start = now(CLOCK_PROCESS_CPUTIME_ID);
		for (i = resident; i < resident + rounds; i++)
		{
			if (!child(i, FALSE, NULL))
			{
				return 1;
			}
		}
		del_us = now(CLOCK_PROCESS_CPUTIME_ID) - start;
		printf("%8d %12.1f %14.1f %14.1f %14.1f\n", resident,
			   policy_us / rounds / 4, add_us / rounds, del_us / rounds,
			   wall / rounds);
		fflush(stdout);
	}
	/* the residents go with the namespace */
	me->destroy(me);
	my_ts->destroy(my_ts);
	libcharon_deinit();
	library_deinit();
	return 0;
}
