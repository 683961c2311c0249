/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Fuzzes the CHILD_SA CDB decoder: a block it accepts must encode again and
 * decode to the same SPIs and traffic selectors.
 */

#include "fuzz.h"

#include <cxtp_encode.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return fuzz_init("fuzz_cxtp_decode_child");
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	cxtp_child_context_t *child, *again;
	chunk_t encoding;

	child = cxtp_decode_child(chunk_create((u_char*)buf, len));
	if (child)
	{
		encoding = cxtp_encode_child(child);
		fuzz_assert(encoding.len);
		again = cxtp_decode_child(encoding);
		fuzz_assert(again);
		fuzz_assert(again->spi_in == child->spi_in &&
					again->spi_out == child->spi_out);
		fuzz_assert(again->local_ts->get_count(again->local_ts) ==
					child->local_ts->get_count(child->local_ts));
		fuzz_assert(again->remote_ts->get_count(again->remote_ts) ==
					child->remote_ts->get_count(child->remote_ts));
		cxtp_child_context_destroy(again);
		cxtp_child_context_destroy(child);
		chunk_clear(&encoding);
	}
	return 0;
}
