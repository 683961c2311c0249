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

#include "cxtp_seq.h"

/**
 * a + b, saturated
 */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * Described in header
 */
uint64_t cxtp_seq_jump(cxtp_seq_jump_t *jump)
{
	uint64_t sent;

	if (!jump->rate || !jump->elapsed)
	{
		return jump->fixed;
	}
	/* rounded up: a packet pAR started to send counts */
	if (jump->elapsed > (UINT64_MAX - 999) / jump->rate)
	{
		return UINT64_MAX;
	}
	sent = (jump->elapsed * jump->rate + 999) / 1000;
	return add_sat(jump->fixed, sent);
}

/*
 * Described in header
 */
bool cxtp_seq_continue(uint64_t seq_out, bool esn, uint64_t jump,
					   uint64_t *counter)
{
	*counter = add_sat(seq_out, jump);
	if (esn)
	{
		return jump <= CXTP_SEQ_ESN_MAX_JUMP && seq_out <= UINT64_MAX - jump;
	}
	if (*counter > UINT32_MAX)
	{
		*counter = UINT32_MAX;
	}
	return *counter <= CXTP_SEQ_REKEY_AT;
}
