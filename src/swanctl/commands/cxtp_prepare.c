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

static int cxtp_prepare(vici_conn_t *conn)
{
	vici_req_t *req;
	vici_res_t *res;
	command_format_options_t format = COMMAND_FORMAT_NONE;
	char *arg, *ike = NULL, *address = NULL;
	int ret = 0, ike_id = 0;

	while (TRUE)
	{
		switch (command_getopt(&arg))
		{
			case 'h':
				return command_usage(NULL);
			case 'i':
				ike = arg;
				continue;
			case 'I':
				ike_id = atoi(arg);
				if (ike_id <= 0)
				{
					return command_usage("invalid IKE_SA unique ID");
				}
				continue;
			case 'a':
				address = arg;
				continue;
			case 'P':
				format |= COMMAND_FORMAT_PRETTY;
				/* fall through to raw */
			case 'r':
				format |= COMMAND_FORMAT_RAW;
				continue;
			case EOF:
				break;
			default:
				return command_usage("invalid --cxtp-prepare option");
		}
		break;
	}
	if (!address || (!ike && !ike_id))
	{
		return command_usage("--address and --ike or --ike-id are required");
	}

	req = vici_begin("cxtp-prepare");
	if (ike)
	{
		vici_add_key_valuef(req, "ike", "%s", ike);
	}
	if (ike_id)
	{
		vici_add_key_valuef(req, "ike-id", "%d", ike_id);
	}
	vici_add_key_valuef(req, "address", "%s", address);
	res = vici_submit(req, conn);
	if (!res)
	{
		ret = errno;
		fprintf(stderr, "cxtp-prepare request failed: %s\n", strerror(errno));
		return ret;
	}
	if (format & COMMAND_FORMAT_RAW)
	{
		vici_dump(res, "cxtp-prepare reply", format & COMMAND_FORMAT_PRETTY,
				  stdout);
	}
	else if (streq(vici_find_str(res, "no", "success"), "yes"))
	{
		printf("context transfer to %s requested\n", address);
	}
	else
	{
		fprintf(stderr, "context transfer request failed: %s\n",
				vici_find_str(res, "", "errmsg"));
		ret = 1;
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
		cxtp_prepare, 'W', "cxtp-prepare",
		"as mobile node, have the access router push an IKE_SA's context to the next",
		{"--ike <name> | --ike-id <id> --address <next router> [--raw|--pretty]"},
		{
			{"help",		'h', 0, "show usage information"},
			{"ike",			'i', 1, "transfer the IKE_SA with this name"},
			{"ike-id",		'I', 1, "transfer the IKE_SA with this unique ID"},
			{"address",		'a', 1, "address of the next access router"},
			{"raw",			'r', 0, "dump raw response message"},
			{"pretty",		'P', 0, "dump raw response message in pretty print"},
		}
	});
}
