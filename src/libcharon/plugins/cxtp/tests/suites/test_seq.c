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

#include "../../cxtp_seq.h"

/**
 * Where nAR's outbound sequence numbers start after a transfer, and when
 * the jump leaves an SA too few of them.
 */

START_TEST(test_jump_reactive)
{
	cxtp_seq_jump_t jump = {
		.fixed = 4096,
		.elapsed = 10000,
	};

	/* the node had left pAR when pAR took the counter */
	ck_assert_int_eq(cxtp_seq_jump(&jump), 4096);
}
END_TEST

START_TEST(test_jump_no_wait)
{
	cxtp_seq_jump_t jump = {
		.fixed = 4096,
		.rate = 1000000,
	};

	ck_assert_int_eq(cxtp_seq_jump(&jump), 4096);
}
END_TEST

START_TEST(test_jump_issue_rates)
{
	/* the issue's runs: 1000 packets/s for 6 s and 9 s overtook the fixed
	 * jump; covered when pAR sends at most at the configured rate */
	cxtp_seq_jump_t jump = {
		.fixed = 4096,
		.rate = 1000,
		.elapsed = 6000,
	};

	ck_assert_int_eq(cxtp_seq_jump(&jump), 4096 + 6000);
	jump.elapsed = 9000;
	ck_assert_int_eq(cxtp_seq_jump(&jump), 4096 + 9000);
	/* 10 s at the default rate */
	jump.rate = 1000000;
	jump.elapsed = 10000;
	ck_assert_int_eq(cxtp_seq_jump(&jump), 4096 + 10000000);
}
END_TEST

START_TEST(test_jump_rounds_up)
{
	cxtp_seq_jump_t jump = {
		.rate = 1500,
		.elapsed = 1,
	};

	/* 1.5 packets in a ms: the second may have left */
	ck_assert_int_eq(cxtp_seq_jump(&jump), 2);
	jump.elapsed = 2;
	ck_assert_int_eq(cxtp_seq_jump(&jump), 3);
}
END_TEST

START_TEST(test_jump_saturates)
{
	cxtp_seq_jump_t jump = {
		.fixed = UINT32_MAX,
		.rate = UINT32_MAX,
		.elapsed = UINT64_MAX / 2,
	};

	ck_assert(cxtp_seq_jump(&jump) == UINT64_MAX);
	/* the longest wait that does not overflow still counts exactly */
	jump.elapsed = (UINT64_MAX - 999) / UINT32_MAX;
	ck_assert(cxtp_seq_jump(&jump) < UINT64_MAX);
	ck_assert(cxtp_seq_jump(&jump) > UINT64_MAX / 1000);
}
END_TEST

START_TEST(test_continue)
{
	uint64_t counter;

	ck_assert(cxtp_seq_continue(1000, FALSE, 4096, &counter));
	ck_assert_int_eq(counter, 5096);
	ck_assert(cxtp_seq_continue(1000, TRUE, 4096, &counter));
	ck_assert_int_eq(counter, 5096);
}
END_TEST

START_TEST(test_continue_half)
{
	uint64_t counter;

	/* up to half of the 32-bit space the SA goes on */
	ck_assert(cxtp_seq_continue(CXTP_SEQ_REKEY_AT - 4096, FALSE, 4096,
								&counter));
	ck_assert(counter == CXTP_SEQ_REKEY_AT);
	/* past it, it is rekeyed at once, sending meanwhile */
	ck_assert(!cxtp_seq_continue(CXTP_SEQ_REKEY_AT - 4095, FALSE, 4096,
								 &counter));
	ck_assert(counter == CXTP_SEQ_REKEY_AT + 1);
}
END_TEST

START_TEST(test_continue_exhausted)
{
	uint64_t counter;

	/* nothing left: the counter stays at its end, so the SA sends no
	 * number the node took for a replay until the rekey */
	ck_assert(!cxtp_seq_continue(UINT32_MAX - 10, FALSE, 4096, &counter));
	ck_assert(counter == UINT32_MAX);
	ck_assert(!cxtp_seq_continue(1000, FALSE, UINT64_MAX, &counter));
	ck_assert(counter == UINT32_MAX);
}
END_TEST

START_TEST(test_continue_esn)
{
	uint64_t counter;

	/* 64 bits: past 2^32 there is no limit */
	ck_assert(cxtp_seq_continue(UINT32_MAX - 10, TRUE, 4096, &counter));
	ck_assert(counter == (uint64_t)UINT32_MAX - 10 + 4096);
	ck_assert(cxtp_seq_continue(1000, TRUE, CXTP_SEQ_ESN_MAX_JUMP, &counter));
	ck_assert(counter == 1000 + CXTP_SEQ_ESN_MAX_JUMP);
	/* but the node places numbers less than 2^32 ahead only */
	ck_assert(!cxtp_seq_continue(1000, TRUE, CXTP_SEQ_ESN_MAX_JUMP + 1,
								 &counter));
	ck_assert(counter == 1001 + CXTP_SEQ_ESN_MAX_JUMP);
	ck_assert(!cxtp_seq_continue(UINT64_MAX - 10, TRUE, 4096, &counter));
	ck_assert(counter == UINT64_MAX);
}
END_TEST

Suite *seq_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("sequence numbers");

	tc = tcase_create("jump");
	tcase_add_test(tc, test_jump_reactive);
	tcase_add_test(tc, test_jump_no_wait);
	tcase_add_test(tc, test_jump_issue_rates);
	tcase_add_test(tc, test_jump_rounds_up);
	tcase_add_test(tc, test_jump_saturates);
	suite_add_tcase(s, tc);

	tc = tcase_create("continue");
	tcase_add_test(tc, test_continue);
	tcase_add_test(tc, test_continue_half);
	tcase_add_test(tc, test_continue_exhausted);
	tcase_add_test(tc, test_continue_esn);
	suite_add_tcase(s, tc);

	return s;
}
