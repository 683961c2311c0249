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
 * The context transfer commands that ask charon to do something for an
 * IKE_SA: cxtp-push and cxtp-cancel (operator, on the current access
 * router), cxtp-prepare and cxtp-activate (mobile node, before and after its
 * move).
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>

#include "command.h"

/**
 * Options of the commands, each uses some
 */
typedef struct {
	char *ike;
	int ike_id;
	char *peer;
	char *address;
	bool ack;
	bool wait;
	bool takeover;
	bool all;
	command_format_options_t format;
} args_t;

/**
 * Exit status of cxtp-push and cxtp-cancel with --wait, by outcome
 */
static struct {
	char *outcome;
	int status;
	char *says;
} outcomes[] = {
	{ "activated",	0,	"activated there, IKE_SA removed here" },
	{ "failed",		1,	"failed" },
	{ "thawed",		2,	"not activated, IKE_SA thawed here" },
	{ "cancelled",	3,	"cancelled, IKE_SA thawed here" },
	{ "superseded",	4,	"superseded by a new IKE_SA of the mobile node there, "
						"IKE_SA removed here" },
};

/**
 * Parse the options of the active command
 *
 * @param args		receives the options
 * @param ret		exit code if parsing fails
 * @return			TRUE if the command can go on
 */
static bool parse_args(args_t *args, int *ret)
{
	char *arg;

	while (TRUE)
	{
		switch (command_getopt(&arg))
		{
			case 'h':
				*ret = command_usage(NULL);
				return FALSE;
			case 'i':
				args->ike = arg;
				continue;
			case 'I':
				args->ike_id = atoi(arg);
				if (args->ike_id <= 0)
				{
					*ret = command_usage("invalid IKE_SA unique ID");
					return FALSE;
				}
				continue;
			case 'p':
				args->peer = arg;
				continue;
			case 'a':
				args->address = arg;
				continue;
			case 'A':
				args->ack = TRUE;
				continue;
			case 'w':
				args->wait = TRUE;
				continue;
			case 'T':
				args->takeover = TRUE;
				continue;
			case 'l':
				args->all = TRUE;
				continue;
			case 'P':
				args->format |= COMMAND_FORMAT_PRETTY;
				/* fall through to raw */
			case 'r':
				args->format |= COMMAND_FORMAT_RAW;
				continue;
			case EOF:
				break;
			default:
				*ret = command_usage("invalid option");
				return FALSE;
		}
		break;
	}
	if (!args->ike && !args->ike_id && !args->all)
	{
		*ret = command_usage("--ike, --ike-id or --all is required");
		return FALSE;
	}
	return TRUE;
}

/**
 * Start a request naming the IKE_SA
 */
static vici_req_t *begin(char *name, args_t *args)
{
	vici_req_t *req = vici_begin(name);

	if (args->ike)
	{
		vici_add_key_valuef(req, "ike", "%s", args->ike);
	}
	if (args->ike_id)
	{
		vici_add_key_valuef(req, "ike-id", "%d", args->ike_id);
	}
	if (args->all)
	{
		vici_add_key_valuef(req, "all", "yes");
	}
	return req;
}

/**
 * Print the outcome of a transfer waited for, return the exit status
 */
static int report_outcome(vici_res_t *res, char *what)
{
	char *outcome, *reason;
	int i;

	outcome = vici_find_str(res, "", "outcome");
	reason = vici_find_str(res, NULL, "reason");
	for (i = 0; i < countof(outcomes); i++)
	{
		if (streq(outcome, outcomes[i].outcome))
		{
			printf("%s: %s%s%s\n", what, outcomes[i].says,
				   reason ? ": " : "", reason ?: "");
			return outcomes[i].status;
		}
	}
	fprintf(stderr, "%s: outcome %s%s%s\n", what, outcome,
			reason ? ": " : "", reason ?: "");
	return 1;
}

/**
 * Print what a drain of several IKE_SAs did, return the exit status: with
 * --wait 0 only if every IKE_SA selected was activated there
 */
static int report_drain(vici_res_t *res, args_t *args)
{
	u_int selected, skipped, activated;

	selected = atoi(vici_find_str(res, "0", "selected"));
	skipped = atoi(vici_find_str(res, "0", "skipped"));
	activated = atoi(vici_find_str(res, "0", "activated"));
	if (!args->wait)
	{
		printf("context transfer of %u IKE_SA%s to '%s' started (drain %s): "
			   "%s pushed, %s waiting for the window, %u skipped\n", selected,
			   selected == 1 ? "" : "s", args->peer, vici_find_str(res, "", "drain"),
			   vici_find_str(res, "0", "pushed"),
			   vici_find_str(res, "0", "queued"), skipped);
		return 0;
	}
	printf("context transfer of %u IKE_SA%s to '%s' %s: %u activated, %s "
		   "failed, %s thawed, %s cancelled, %s superseded, %u skipped\n",
		   selected, selected == 1 ? "" : "s", args->peer,
		   streq(vici_find_str(res, "no", "done"), "yes") ? "ended"
				: "ended without an outcome for all in time",
		   activated, vici_find_str(res, "0", "failed"),
		   vici_find_str(res, "0", "thawed"),
		   vici_find_str(res, "0", "cancelled"),
		   vici_find_str(res, "0", "superseded"), skipped);
	return activated == selected ? 0 : 1;
}

/**
 * Submit a request and report its outcome
 *
 * @param done		printed on success
 * @param failed	printed before charon's error message
 */
static int submit(vici_conn_t *conn, vici_req_t *req, char *name,
				  args_t *args, char *done, char *failed)
{
	vici_res_t *res;
	char reply[64];
	int ret = 0;

	res = vici_submit(req, conn);
	if (!res)
	{
		ret = errno;
		fprintf(stderr, "%s request failed: %s\n", name, strerror(errno));
		return ret;
	}
	if (args->format & COMMAND_FORMAT_RAW)
	{
		snprintf(reply, sizeof(reply), "%s reply", name);
		vici_dump(res, reply, args->format & COMMAND_FORMAT_PRETTY, stdout);
	}
	else if (streq(vici_find_str(res, "no", "success"), "yes") &&
			 vici_find_str(res, NULL, "drain"))
	{
		ret = report_drain(res, args);
	}
	else if (streq(vici_find_str(res, "no", "success"), "yes") &&
			 vici_find_str(res, NULL, "outcome"))
	{
		ret = report_outcome(res, done);
	}
	else if (streq(vici_find_str(res, "no", "success"), "yes"))
	{
		printf("%s\n", done);
	}
	else
	{
		fprintf(stderr, "%s: %s\n", failed, vici_find_str(res, "", "errmsg"));
		ret = 1;
	}
	vici_free_res(res);
	return ret;
}

/**
 * Run one of the commands: the vici request named after it, with the
 * option it requires (the peer to push to, or a router's address)
 */
static int run(vici_conn_t *conn, char *name)
{
	args_t args = {};
	vici_req_t *req;
	char done[128], *failed;
	int ret;

	if (!parse_args(&args, &ret))
	{
		return ret;
	}
	if (streq(name, "cxtp-push") && !args.peer)
	{
		return command_usage("--peer is required");
	}
	req = begin(name, &args);
	if (args.wait)
	{
		vici_add_key_valuef(req, "wait", "yes");
	}
	if (streq(name, "cxtp-push"))
	{
		vici_add_key_valuef(req, "peer", "%s", args.peer);
		if (args.takeover)
		{
			vici_add_key_valuef(req, "takeover", "yes");
		}
		snprintf(done, sizeof(done), "context transfer to '%s' %s",
				 args.peer, args.wait ? "ended" : "started");
		failed = "context transfer failed";
	}
	else if (streq(name, "cxtp-cancel"))
	{
		snprintf(done, sizeof(done), "context transfer %s",
				 args.wait ? "withdrawn" : "being withdrawn");
		failed = "cancelling the context transfer failed";
	}
	else
	{
		if (args.address)
		{
			vici_add_key_valuef(req, "address", "%s", args.address);
		}
		vici_add_key_valuef(req, "ack", "%s", args.ack ? "yes" : "no");
		if (streq(name, "cxtp-prepare"))
		{
			snprintf(done, sizeof(done), "prepared for the handover%s%s",
					 args.address ? ", context transfer to " : "",
					 args.address ?: "");
			failed = "preparing the handover failed";
		}
		else
		{
			snprintf(done, sizeof(done), "context activation requested from "
					 "%s", args.address ?: "the default router");
			failed = "context activation failed";
		}
	}
	return submit(conn, req, name, &args, done, failed);
}

static int cxtp_push(vici_conn_t *conn)
{
	return run(conn, "cxtp-push");
}

static int cxtp_cancel(vici_conn_t *conn)
{
	return run(conn, "cxtp-cancel");
}

static int cxtp_prepare(vici_conn_t *conn)
{
	return run(conn, "cxtp-prepare");
}

static int cxtp_activate(vici_conn_t *conn)
{
	return run(conn, "cxtp-activate");
}

/**
 * Register the commands.
 */
static void __attribute__ ((constructor))reg()
{
	command_register((command_t) {
		cxtp_push, 'X', "cxtp-push",
		"push the context of an IKE_SA to another access router",
		{"--ike <name> | --ike-id <id> | --all --peer <gateway> [--takeover] [--wait] [--raw|--pretty]"},
		{
			{"help",		'h', 0, "show usage information"},
			{"ike",			'i', 1, "push the IKE_SAs with this name"},
			{"ike-id",		'I', 1, "push the IKE_SA with this unique ID"},
			{"all",			'l', 0, "push all IKE_SAs that can be pushed"},
			{"peer",		'p', 1, "CXTP peer gateway to push to"},
			{"takeover",	'T', 0, "the gateway address moves there, not the node: activate at once"},
			{"wait",		'w', 0, "wait for the outcome: exit 0 activated, 1 failed, 2 thawed, 3 cancelled, 4 superseded; of several IKE_SAs: 0 all activated, 1 not"},
			{"raw",			'r', 0, "dump raw response message"},
			{"pretty",		'P', 0, "dump raw response message in pretty print"},
		}
	});
	command_register((command_t) {
		cxtp_cancel, 'K', "cxtp-cancel",
		"withdraw the context of an IKE_SA pushed to another access router",
		{"--ike <name> | --ike-id <id> [--wait] [--raw|--pretty]"},
		{
			{"help",		'h', 0, "show usage information"},
			{"ike",			'i', 1, "withdraw the context of the IKE_SA with this name"},
			{"ike-id",		'I', 1, "withdraw the context of the IKE_SA with this unique ID"},
			{"wait",		'w', 0, "wait for the outcome, exit status as cxtp-push"},
			{"raw",			'r', 0, "dump raw response message"},
			{"pretty",		'P', 0, "dump raw response message in pretty print"},
		}
	});
	command_register((command_t) {
		cxtp_prepare, 'W', "cxtp-prepare",
		"as mobile node, activate an IKE_SA on the next access router once moved",
		{"--ike <name> | --ike-id <id> [--address <next router>] [--ack] [--raw|--pretty]"},
		{
			{"help",		'h', 0, "show usage information"},
			{"ike",			'i', 1, "transfer the IKE_SA with this name"},
			{"ike-id",		'I', 1, "transfer the IKE_SA with this unique ID"},
			{"address",		'a', 1, "next access router, have the current one push to it"},
			{"ack",			'A', 0, "ask for a CTAA after the move, too"},
			{"raw",			'r', 0, "dump raw response message"},
			{"pretty",		'P', 0, "dump raw response message in pretty print"},
		}
	});
	command_register((command_t) {
		cxtp_activate, 'Z', "cxtp-activate",
		"as mobile node, activate an IKE_SA's context on a new access router",
		{"--ike <name> | --ike-id <id> [--address <router>] [--ack] [--raw|--pretty]"},
		{
			{"help",		'h', 0, "show usage information"},
			{"ike",			'i', 1, "activate the IKE_SA with this name"},
			{"ike-id",		'I', 1, "activate the IKE_SA with this unique ID"},
			{"address",		'a', 1, "new access router (default: the default router)"},
			{"ack",			'A', 0, "ask for a CTAA, too"},
			{"raw",			'r', 0, "dump raw response message"},
			{"pretty",		'P', 0, "dump raw response message in pretty print"},
		}
	});
}
