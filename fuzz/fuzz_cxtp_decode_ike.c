/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Fuzzes the IKE_SA CDB decoder: a block it accepts must encode again and
 * decode to the same SPIs and keys.
 */

#include "fuzz.h"

#include <cxtp_encode.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return fuzz_init("fuzz_cxtp_decode_ike");
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	cxtp_context_t *ctx, *again;
	chunk_t encoding;

	ctx = cxtp_context_create();
	if (cxtp_decode_ike(chunk_create((u_char*)buf, len), &ctx->ike))
	{
		encoding = cxtp_encode_ike(&ctx->ike);
		fuzz_assert(encoding.len);
		again = cxtp_context_create();
		fuzz_assert(cxtp_decode_ike(encoding, &again->ike));
		fuzz_assert(again->ike.spi_i == ctx->ike.spi_i &&
					again->ike.spi_r == ctx->ike.spi_r);
		fuzz_assert(fuzz_chunk_eq(again->ike.keys.sk_d, ctx->ike.keys.sk_d));
		again->destroy(again);
		chunk_clear(&encoding);
	}
	ctx->destroy(ctx);
	return 0;
}
