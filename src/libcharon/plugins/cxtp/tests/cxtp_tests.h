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

TEST_SUITE(message_suite_create)
TEST_SUITE_DEPEND(token_suite_create, PRF, PRF_HMAC_SHA1)
TEST_SUITE_DEPEND(token_key_suite_create, KDF, KDF_PRF_PLUS)
TEST_SUITE(encode_suite_create)
TEST_SUITE(icmp_suite_create)
TEST_SUITE(rate_limit_suite_create)
TEST_SUITE(ctar_queue_suite_create)
TEST_SUITE_DEPEND(transport_suite_create, AEAD, ENCR_AES_GCM_ICV16, 32)
TEST_SUITE_DEPEND(par_suite_create, KDF, KDF_PRF_PLUS)
TEST_SUITE_DEPEND(drain_suite_create, KDF, KDF_PRF_PLUS)
TEST_SUITE_DEPEND(nar_suite_create, KDF, KDF_PRF_PLUS)
TEST_SUITE_DEPEND(mn_suite_create, KDF, KDF_PRF_PLUS)
TEST_SUITE(capture_suite_create)
TEST_SUITE(retransmit_suite_create)
TEST_SUITE_DEPEND(settings_suite_create, RNG, RNG_WEAK)
TEST_SUITE(options_suite_create)
TEST_SUITE(seq_suite_create)
TEST_SUITE(leases_suite_create)
TEST_SUITE_DEPEND(pad_suite_create, KDF, KDF_PRF_PLUS)
TEST_SUITE(relabel_suite_create)
TEST_SUITE(ike_index_suite_create)
TEST_SUITE(handovers_suite_create)
