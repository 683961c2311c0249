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


#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>

#include "command.h"

CALLBACK(list_child, int,
	char *ctx, vici_res_t *res, char *name)
{
	printf("  %s: %s %s, SPIs %s_i %s_o\n", name,
		vici_find_str(res, "", "contexts.%s.child-sas.%s.protocol", ctx, name),
		vici_find_str(res, "", "contexts.%s.child-sas.%s.mode", ctx, name),
		vici_find_str(res, "", "contexts.%s.child-sas.%s.spi-in", ctx, name),
		vici_find_str(res, "", "contexts.%s.child-sas.%s.spi-out", ctx, name));
	printf("    sequence numbers: out %s, in %s (window %s%s)\n",
		vici_find_str(res, "", "contexts.%s.child-sas.%s.seq-out", ctx, name),
		vici_find_str(res, "", "contexts.%s.child-sas.%s.seq-in", ctx, name),
		vici_find_str(res, "", "contexts.%s.child-sas.%s.replay-window",
					  ctx, name),
		streq(vici_find_str(res, "no", "contexts.%s.child-sas.%s.esn",
							ctx, name), "yes") ? ", ESN" : "");
	return 0;
}

/**
 * A context being listed, and whether its line of virtual IPs is open
 */
typedef struct {
	char *name;
	bool vips;
} context_t;

CALLBACK(list_vip, int,
	context_t *ctx, vici_res_t *res, char *name, void *value, int len)
{
	if (!ctx->vips)
	{	/* a mobile node lists its peer's, and has none */
		printf("  virtual IPs:");
		ctx->vips = TRUE;
	}
	printf(" %.*s", len, (char*)value);
	return 0;
}

CALLBACK(list_children, int,
	context_t *ctx, vici_res_t *res, char *name)
{
	if (streq(name, "child-sas"))
	{
		/* ends the line of virtual IPs, which come first */
		if (ctx->vips)
		{
			printf("\n");
			ctx->vips = FALSE;
		}
		return vici_parse_cb(res, list_child, NULL, NULL, ctx->name);
	}
	return 0;
}

CALLBACK(list_transfer, int,
	void *not_used, vici_res_t *res, char *name)
{
	char *ike_id, key[32];

	snprintf(key, sizeof(key), "%s", name);
	ike_id = vici_find_str(res, NULL, "transfers.%s.ike-id", key);
	printf("transfer %s %s '%s' (%s): %s, IKE_SA %s%s%s, mobile node %s\n",
		vici_find_str(res, "", "transfers.%s.serial", key),
		streq(vici_find_str(res, "", "transfers.%s.role", key), "par")
			? "to" : "from",
		vici_find_str(res, "", "transfers.%s.peer", key),
		vici_find_str(res, "", "transfers.%s.role", key),
		vici_find_str(res, "", "transfers.%s.state", key),
		ike_id ? "[" : "", ike_id ?: "gone", ike_id ? "]" : "",
		vici_find_str(res, "", "transfers.%s.mobile-node", key));
	printf("  SPIs %s_i %s_r\n",
		vici_find_str(res, "", "transfers.%s.initiator-spi", key),
		vici_find_str(res, "", "transfers.%s.responder-spi", key));
	return 0;
}

CALLBACK(list_context, int,
	void *not_used, vici_res_t *res, char *name)
{
	char *reason, ctx[16];
	context_t context = {
		.name = ctx,
	};

	if (streq(name, "contexts"))
	{
		return vici_parse_cb(res, list_context, NULL, NULL, NULL);
	}
	if (streq(name, "transfers"))
	{
		return vici_parse_cb(res, list_transfer, NULL, NULL, NULL);
	}
	/* the parser reuses its name buffer */
	snprintf(ctx, sizeof(ctx), "%s", name);
	name = ctx;
	printf("%s[%s]: %s\n",
		vici_find_str(res, "", "contexts.%s.name", name), name,
		vici_find_str(res, "", "contexts.%s.state", name));
	printf("  %s ... %s '%s', SPIs %s_i %s_r\n",
		vici_find_str(res, "", "contexts.%s.local-host", name),
		vici_find_str(res, "", "contexts.%s.remote-host", name),
		vici_find_str(res, "", "contexts.%s.remote-id", name),
		vici_find_str(res, "", "contexts.%s.initiator-spi", name),
		vici_find_str(res, "", "contexts.%s.responder-spi", name));
	reason = vici_find_str(res, NULL, "contexts.%s.reason", name);
	if (reason)
	{
		printf("  not transferable: %s\n", reason);
		return 0;
	}
	if (!streq(vici_find_str(res, "", "contexts.%s.state", name), "held"))
	{	/* pending, imported or prepared: the context is in transit */
		return 0;
	}
	printf("  config %s, %s authentication, message IDs %s/%s, "
		   "rekeying in %ss\n",
		vici_find_str(res, "", "contexts.%s.peer-cfg", name),
		vici_find_str(res, "", "contexts.%s.remote-auth", name),
		vici_find_str(res, "", "contexts.%s.message-id-initiate", name),
		vici_find_str(res, "", "contexts.%s.message-id-respond", name),
		vici_find_str(res, "", "contexts.%s.rekey-time", name));
	if (vici_parse_cb(res, list_children, NULL, list_vip, &context) != 0)
	{
		return 1;
	}
	if (context.vips)
	{	/* no CHILD_SA ended it */
		printf("\n");
	}
	return 0;
}

CALLBACK(list_cb, void,
	command_format_options_t *format, char *name, vici_res_t *res)
{
	if (*format & COMMAND_FORMAT_RAW)
	{
		vici_dump(res, name, *format & COMMAND_FORMAT_PRETTY, stdout);
	}
	else
	{
		vici_parse_cb(res, list_context, NULL, NULL, NULL);
	}
}

static int cxtp_list(vici_conn_t *conn)
{
	vici_req_t *req;
	vici_res_t *res;
	command_format_options_t format = COMMAND_FORMAT_NONE;
	char *arg, *ike = NULL;
	int ret = 0;

	while (TRUE)
	{
		switch (command_getopt(&arg))
		{
			case 'h':
				return command_usage(NULL);
			case 'P':
				format |= COMMAND_FORMAT_PRETTY;
				/* fall through to raw */
			case 'r':
				format |= COMMAND_FORMAT_RAW;
				continue;
			case 'i':
				ike = arg;
				continue;
			case EOF:
				break;
			default:
				return command_usage("invalid --cxtp-list option");
		}
		break;
	}

	/* a context or transfer per event, contexts first */
	if (vici_register(conn, "cxtp-list-context", list_cb, &format) != 0 ||
		vici_register(conn, "cxtp-list-transfer", list_cb, &format) != 0)
	{
		ret = errno;
		fprintf(stderr, "registering for contexts failed: %s\n",
				strerror(errno));
		return ret;
	}
	req = vici_begin("cxtp-list");
	if (ike)
	{
		vici_add_key_valuef(req, "ike", "%s", ike);
	}
	res = vici_submit(req, conn);
	if (!res)
	{
		ret = errno;
		fprintf(stderr, "cxtp-list request failed: %s\n", strerror(errno));
		return ret;
	}
	if (format & COMMAND_FORMAT_RAW)
	{
		vici_dump(res, "cxtp-list reply", format & COMMAND_FORMAT_PRETTY,
				  stdout);
	}
	vici_free_res(res);
	return ret;
}

/**
 * Register the command.
 */
static void __attribute__ ((constructor))reg()
{
	command_register((command_t) {
		cxtp_list, 'Y', "cxtp-list",
		"list IKE_SA contexts this gateway holds for context transfer, and transfers",
		{"[--ike <name>] [--raw|--pretty]"},
		{
			{"help",		'h', 0, "show usage information"},
			{"ike",			'i', 1, "filter contexts by IKE_SA name"},
			{"raw",			'r', 0, "dump raw response message"},
			{"pretty",		'P', 0, "dump raw response message in pretty print"},
		}
	});
}
