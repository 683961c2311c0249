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

/**
 * @defgroup cxtp_seq cxtp_seq
 * @{ @ingroup cxtp
 */

#ifndef CXTP_SEQ_H_
#define CXTP_SEQ_H_

#include <library.h>

/**
 * Highest jump for an SA with extended sequence numbers: a receiver infers
 * the upper 32 bits of a sequence number from its window (RFC 4303,
 * appendix A2), which works for numbers less than 2^32 minus the window
 * above the highest one it saw.
 */
#define CXTP_SEQ_ESN_MAX_JUMP (1ULL << 31)

/**
 * Counter of an SA without extended sequence numbers past which the new
 * access router rekeys it at once, so a jump never leaves it without
 * numbers: half of the 32-bit space.
 */
#define CXTP_SEQ_REKEY_AT (1ULL << 31)

/**
 * How far the new access router's outbound ESP sequence numbers jump ahead
 * of the counter the previous access router (pAR) reported in a context.
 *
 * pAR took the counter when it exported the context; in a predictive
 * transfer it keeps sending on the same SA, and the mobile node receives
 * those packets, until the node moves. Whatever pAR sent in between must lie
 * below nAR's first number, or the node drops nAR's packets as replays. The
 * jump therefore covers the fixed seq_jump plus the highest rate a router
 * sends to one node (seq_rate) for as long as pAR may have kept sending.
 * In a reactive transfer pAR took the counter after the node had left, so
 * the fixed part suffices.
 */
typedef struct {

	/** fixed part, packets (seq_jump) */
	uint32_t fixed;

	/** packets per second pAR may send to the node at most (seq_rate), 0
	 *  if the node had left pAR when pAR took the counter */
	uint32_t rate;

	/** ms pAR may have sent since it took the counter */
	uint64_t elapsed;

} cxtp_seq_jump_t;

/**
 * The jump for a transfer.
 *
 * @param jump		what the jump covers
 * @return			packets to skip, saturated at UINT64_MAX
 */
uint64_t cxtp_seq_jump(cxtp_seq_jump_t *jump);

/**
 * The outbound counter nAR installs an SA with: the last sequence number
 * sent as far as the SA is concerned, the first one nAR sends is one more.
 *
 * An SA without extended sequence numbers has 32 bits: if the jump takes it
 * past CXTP_SEQ_REKEY_AT it must be rekeyed at once, and if past 2^32 - 1
 * it is installed with the counter at its end, so it sends nothing (rather
 * than numbers the node takes for replays) until the rekey replaced it. An
 * SA with extended sequence numbers must be rekeyed at once if the jump is
 * more than CXTP_SEQ_ESN_MAX_JUMP, as the node could not place nAR's numbers.
 *
 * @param seq_out	last sequence number pAR sent when it took the counter
 * @param esn		whether the SA uses extended sequence numbers
 * @param jump		packets to skip, from cxtp_seq_jump()
 * @param counter	receives the counter to install
 * @return			TRUE if the SA may continue, FALSE if it must be
 *					rekeyed at once
 */
bool cxtp_seq_continue(uint64_t seq_out, bool esn, uint64_t jump,
					   uint64_t *counter);

#endif /** CXTP_SEQ_H_ @}*/
