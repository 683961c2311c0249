/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/*
 * Fuzzes the PAD CDB decoder: a block it accepts must encode again and
 * decode to the same identity and secret.
 */

#include "fuzz.h"

#include <cxtp_encode.h>

/**
 * Same type and encoding: equals() does not hold for a DN it cannot parse,
 * even against itself
 */
static bool ids_same(identification_t *a, identification_t *b)
{
	if (!a || !b)
	{
		return a == b;
	}
	return a->get_type(a) == b->get_type(b) &&
		   fuzz_chunk_eq(a->get_encoding(a), b->get_encoding(b));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return fuzz_init("fuzz_cxtp_decode_pad");
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	cxtp_context_t *ctx, *again;
	chunk_t encoding;

	ctx = cxtp_context_create();
	if (cxtp_decode_pad(chunk_create((u_char*)buf, len), &ctx->pad))
	{
		encoding = cxtp_encode_pad(&ctx->pad);
		fuzz_assert(encoding.len);
		again = cxtp_context_create();
		fuzz_assert(cxtp_decode_pad(encoding, &again->pad));
		fuzz_assert(fuzz_chunk_eq(again->pad.secret, ctx->pad.secret));
		fuzz_assert(ids_same(again->pad.id, ctx->pad.id));
		fuzz_assert(ids_same(again->pad.cert_subject, ctx->pad.cert_subject));
		again->destroy(again);
		chunk_clear(&encoding);
	}
	ctx->destroy(ctx);
	return 0;
}
