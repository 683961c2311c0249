/* Needs patches/0004-keymat-v2-import-derived-ike-keys.patch (keymat_v2_t.import_ike_keys). */
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

#include "test_suite.h"

#include <daemon.h>
#include <sa/ikev2/keymat_v2.h>
#include <crypto/proposal/proposal.h>

/**
 * IKE and ESP proposals tested, AEAD and traditional
 */
static struct {
	char *ike;
	char *esp;
	size_t sk_a_len;
	size_t sk_e_len;
} tests[] = {
	/* AES-GCM key with 4 bytes salt, no integrity keys */
	{ "aes128gcm16-prfsha256-curve25519", "aes128gcm16", 0, 20 },
	/* AES-CBC-128 and HMAC-SHA2-256-128 */
	{ "aes128-sha256-prfsha256-curve25519", "aes128-sha256", 32, 16 },
};

/**
 * A set of IKE_SA keys
 */
typedef struct {
	chunk_t sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
} ike_keys_t;

/**
 * Keys announced last on the bus, and how many times keys were announced
 */
static ike_keys_t captured;
static int announced;

/**
 * Keys derived by A (and B), owned by the test
 */
static ike_keys_t keys;

/**
 * A: initiator, B: responder (both derived), C: initiator, D: responder
 * (both imported)
 */
static keymat_v2_t *a, *b, *c, *d;

/**
 * Selected IKE proposal
 */
static proposal_t *proposal;

/**
 * Sequence number for IV generation, IVs must not be reused
 */
static uint64_t seq;

static void keys_clear(ike_keys_t *k)
{
	chunk_clear(&k->sk_d);
	chunk_clear(&k->sk_ai);
	chunk_clear(&k->sk_ar);
	chunk_clear(&k->sk_ei);
	chunk_clear(&k->sk_er);
	chunk_clear(&k->sk_pi);
	chunk_clear(&k->sk_pr);
}

static void keys_clone(ike_keys_t *dst, ike_keys_t *src)
{
	*dst = (ike_keys_t){
		.sk_d = chunk_clone(src->sk_d),
		.sk_ai = chunk_clone(src->sk_ai),
		.sk_ar = chunk_clone(src->sk_ar),
		.sk_ei = chunk_clone(src->sk_ei),
		.sk_er = chunk_clone(src->sk_er),
		.sk_pi = chunk_clone(src->sk_pi),
		.sk_pr = chunk_clone(src->sk_pr),
	};
}

static void keys_assert_eq(ike_keys_t *x, ike_keys_t *y)
{
	ck_assert_chunk_eq(x->sk_d, y->sk_d);
	ck_assert_chunk_eq(x->sk_ai, y->sk_ai);
	ck_assert_chunk_eq(x->sk_ar, y->sk_ar);
	ck_assert_chunk_eq(x->sk_ei, y->sk_ei);
	ck_assert_chunk_eq(x->sk_er, y->sk_er);
	ck_assert_chunk_eq(x->sk_pi, y->sk_pi);
	ck_assert_chunk_eq(x->sk_pr, y->sk_pr);
}

METHOD(listener_t, ike_derived_keys, bool,
	listener_t *this, ike_sa_t *ike_sa, chunk_t sk_d, chunk_t sk_ai,
	chunk_t sk_ar, chunk_t sk_ei, chunk_t sk_er, chunk_t sk_pi, chunk_t sk_pr)
{
	ike_keys_t k = {
		.sk_d = sk_d, .sk_ai = sk_ai, .sk_ar = sk_ar, .sk_ei = sk_ei,
		.sk_er = sk_er, .sk_pi = sk_pi, .sk_pr = sk_pr,
	};

	keys_clear(&captured);
	keys_clone(&captured, &k);
	announced++;
	return TRUE;
}

/**
 * Listener capturing announced IKE_SA keys
 */
static listener_t listener;

static void keymat_destroy(keymat_v2_t **keymat)
{
	if (*keymat)
	{
		(*keymat)->keymat.destroy(&(*keymat)->keymat);
		*keymat = NULL;
	}
}

START_SETUP(setup)
{
	/* the cxtp test runner does not initialize libcharon, libcharon_tests
	 * does; libcharon_init() only takes a reference in that case */
	ck_assert(libcharon_init());
	listener = (listener_t){
		.ike_derived_keys = _ike_derived_keys,
	};
	charon->bus->add_listener(charon->bus, &listener);
	announced = 0;
	seq = 0;
}
END_SETUP

START_TEARDOWN(teardown)
{
	charon->bus->remove_listener(charon->bus, &listener);
	keymat_destroy(&a);
	keymat_destroy(&b);
	keymat_destroy(&c);
	keymat_destroy(&d);
	DESTROY_IF(proposal);
	proposal = NULL;
	keys_clear(&keys);
	keys_clear(&captured);
	libcharon_deinit();
}
END_TEARDOWN

/**
 * Run a real CURVE_25519 key exchange and let A (initiator) and B (responder)
 * derive their IKE_SA keys, keep A's announced keys in "keys"
 */
static void derive_pair(int i)
{
	key_exchange_t *ke_i, *ke_r;
	chunk_t pub_i, pub_r, nonce_i, nonce_r;
	ike_sa_id_t *id;

	nonce_i = chunk_alloca(32);
	memset(nonce_i.ptr, 0x11, nonce_i.len);
	nonce_r = chunk_alloca(32);
	memset(nonce_r.ptr, 0x22, nonce_r.len);

	proposal = proposal_create_from_string(PROTO_IKE, tests[i].ike);
	ck_assert(proposal);

	ke_i = lib->crypto->create_ke(lib->crypto, CURVE_25519);
	ke_r = lib->crypto->create_ke(lib->crypto, CURVE_25519);
	ck_assert(ke_i && ke_r);
	ck_assert(ke_i->get_public_key(ke_i, &pub_i));
	ck_assert(ke_r->set_public_key(ke_r, pub_i));
	ck_assert(ke_r->get_public_key(ke_r, &pub_r));
	ck_assert(ke_i->set_public_key(ke_i, pub_r));
	chunk_free(&pub_i);
	chunk_free(&pub_r);

	id = ike_sa_id_create(IKEV2, 0x0102030405060708ULL,
						  0x1112131415161718ULL, TRUE);
	a = keymat_v2_create(TRUE);
	b = keymat_v2_create(FALSE);

	ck_assert(a->derive_ike_keys(a, proposal, ke_i, nonce_i, nonce_r, id,
								 PRF_UNDEFINED, chunk_empty));
	ck_assert_int_eq(announced, 1);
	keys = captured;
	captured = (ike_keys_t){};

	ck_assert(b->derive_ike_keys(b, proposal, ke_r, nonce_i, nonce_r, id,
								 PRF_UNDEFINED, chunk_empty));
	ck_assert_int_eq(announced, 2);
	/* both ends derived the same keys */
	keys_assert_eq(&keys, &captured);

	ck_assert_int_eq(keys.sk_d.len, 32);
	ck_assert_int_eq(keys.sk_pi.len, 32);
	ck_assert_int_eq(keys.sk_pr.len, 32);
	ck_assert_int_eq(keys.sk_ai.len, tests[i].sk_a_len);
	ck_assert_int_eq(keys.sk_ar.len, tests[i].sk_a_len);
	ck_assert_int_eq(keys.sk_ei.len, tests[i].sk_e_len);
	ck_assert_int_eq(keys.sk_er.len, tests[i].sk_e_len);

	id->destroy(id);
	ke_i->destroy(ke_i);
	ke_r->destroy(ke_r);
}

/**
 * Import the given keys into a new keymat
 */
static keymat_v2_t *import(bool initiator, ike_keys_t *k)
{
	keymat_v2_t *keymat;

	keymat = keymat_v2_create(initiator);
	ck_assert(keymat->import_ike_keys(keymat, proposal, k->sk_d, k->sk_ai,
									  k->sk_ar, k->sk_ei, k->sk_er, k->sk_pi,
									  k->sk_pr));
	return keymat;
}

/**
 * Protect a message (inline, as encrypted_payload_t does) with the outbound
 * AEAD of "out" and check whether the inbound AEAD of "in" verifies and
 * decrypts it
 */
static void check_aead(keymat_v2_t *out, keymat_v2_t *in, bool expected)
{
	aead_t *aead_out, *aead_in;
	iv_gen_t *iv_gen;
	chunk_t plain, buf, assoc, iv, encrypted;

	aead_out = out->keymat.get_aead(&out->keymat, FALSE);
	aead_in = in->keymat.get_aead(&in->keymat, TRUE);
	ck_assert(aead_out && aead_in);

	plain = chunk_alloca(4 * 16);
	memset(plain.ptr, 0x42, plain.len);
	ck_assert(plain.len % aead_out->get_block_size(aead_out) == 0);
	/* plain data followed by space for the ICV */
	buf = chunk_alloca(plain.len + aead_out->get_icv_size(aead_out));
	memcpy(buf.ptr, plain.ptr, plain.len);
	assoc = chunk_from_str("IKE header and encrypted payload header");
	iv = chunk_alloca(aead_out->get_iv_size(aead_out));
	iv_gen = aead_out->get_iv_gen(aead_out);
	ck_assert(iv_gen->get_iv(iv_gen, ++seq, iv.len, iv.ptr));

	ck_assert(aead_out->encrypt(aead_out, chunk_create(buf.ptr, plain.len),
								assoc, iv, NULL));
	ck_assert(!memeq(buf.ptr, plain.ptr, plain.len));
	encrypted = chunk_clone(buf);
	if (expected)
	{
		ck_assert(aead_in->decrypt(aead_in, buf, assoc, iv, NULL));
		ck_assert_chunk_eq(plain, chunk_create(buf.ptr, plain.len));
		/* a modified message fails to verify */
		memcpy(buf.ptr, encrypted.ptr, buf.len);
		buf.ptr[0] ^= 0x01;
	}
	ck_assert(!aead_in->decrypt(aead_in, buf, assoc, iv, NULL));
	chunk_free(&encrypted);
}

/**
 * Check that x and y create the same AUTH octets/PSK signatures, where x
 * builds/verifies as given by verify_x, and y as given by verify_y
 */
static void check_auth(keymat_v2_t *x, bool verify_x,
					   keymat_v2_t *y, bool verify_y)
{
	identification_t *id;
	chunk_t init, nonce, secret, ppk, ox, oy;
	char reserved[3] = {};
	int i;

	id = identification_create_from_string("moon.strongswan.org");
	init = chunk_from_str("IKE_SA_INIT message");
	nonce = chunk_from_str("peer nonce");

	for (i = 0; i < 2; i++)
	{
		ppk = i ? chunk_from_str("postquantum preshared key") : chunk_empty;

		ck_assert(x->get_auth_octets(x, verify_x, init, nonce, ppk, id,
									 reserved, &ox, NULL));
		ck_assert(y->get_auth_octets(y, verify_y, init, nonce, ppk, id,
									 reserved, &oy, NULL));
		ck_assert_chunk_eq(ox, oy);
		chunk_free(&ox);
		chunk_free(&oy);

		/* PSK */
		secret = chunk_from_str("shared secret");
		ck_assert(x->get_psk_sig(x, verify_x, init, nonce, secret, ppk, id,
								 reserved, &ox));
		ck_assert(y->get_psk_sig(y, verify_y, init, nonce, secret, ppk, id,
								 reserved, &oy));
		ck_assert_chunk_eq(ox, oy);
		chunk_free(&ox);
		chunk_free(&oy);

		/* EAP without MSK, uses SK_p as secret */
		ck_assert(x->get_psk_sig(x, verify_x, init, nonce, chunk_empty, ppk,
								 id, reserved, &ox));
		ck_assert(y->get_psk_sig(y, verify_y, init, nonce, chunk_empty, ppk,
								 id, reserved, &oy));
		ck_assert_chunk_eq(ox, oy);
		chunk_free(&ox);
		chunk_free(&oy);
	}
	id->destroy(id);
}

/**
 * Check that x and y derive the same CHILD_SA keys
 */
static void check_child_keys(keymat_v2_t *x, keymat_v2_t *y, char *esp)
{
	proposal_t *child;
	chunk_t nonce_i, nonce_r;
	chunk_t ei_x, ai_x, er_x, ar_x, ei_y, ai_y, er_y, ar_y;

	child = proposal_create_from_string(PROTO_ESP, esp);
	ck_assert(child);
	nonce_i = chunk_from_str("CHILD_SA nonce i");
	nonce_r = chunk_from_str("CHILD_SA nonce r");

	ck_assert(x->derive_child_keys(x, child, NULL, nonce_i, nonce_r,
								   &ei_x, &ai_x, &er_x, &ar_x));
	ck_assert(y->derive_child_keys(y, child, NULL, nonce_i, nonce_r,
								   &ei_y, &ai_y, &er_y, &ar_y));
	ck_assert(ei_x.len > 0);
	ck_assert_chunk_eq(ei_x, ei_y);
	ck_assert_chunk_eq(ai_x, ai_y);
	ck_assert_chunk_eq(er_x, er_y);
	ck_assert_chunk_eq(ar_x, ar_y);

	chunk_clear(&ei_x);
	chunk_clear(&ai_x);
	chunk_clear(&er_x);
	chunk_clear(&ar_x);
	chunk_clear(&ei_y);
	chunk_clear(&ai_y);
	chunk_clear(&er_y);
	chunk_clear(&ar_y);
	child->destroy(child);
}

START_TEST(test_derive)
{
	derive_pair(_i);

	check_aead(a, b, TRUE);
	check_aead(b, a, TRUE);
	/* different keys in each direction */
	check_aead(a, a, FALSE);
	check_aead(b, b, FALSE);

	check_auth(a, FALSE, b, TRUE);
	check_auth(a, TRUE, b, FALSE);
	check_child_keys(a, b, tests[_i].esp);
}
END_TEST

START_TEST(test_import)
{
	pseudo_random_function_t prf_a, prf_c;
	ike_keys_t copy;
	chunk_t skd_a, skd_c;

	derive_pair(_i);

	/* import from a copy that is wiped right after, the keymat clones */
	keys_clone(&copy, &keys);
	announced = 0;
	c = import(TRUE, &copy);
	keys_clear(&copy);
	/* imported keys are announced like derived ones */
	ck_assert_int_eq(announced, 1);
	keys_assert_eq(&keys, &captured);

	/* C talks to B in both directions */
	check_aead(c, b, TRUE);
	check_aead(b, c, TRUE);
	check_aead(c, c, FALSE);

	prf_a = a->get_skd(a, &skd_a);
	prf_c = c->get_skd(c, &skd_c);
	ck_assert_int_eq(prf_a, PRF_HMAC_SHA2_256);
	ck_assert_int_eq(prf_c, prf_a);
	ck_assert_chunk_eq(skd_a, skd_c);

	check_auth(a, FALSE, c, FALSE);
	check_auth(a, TRUE, c, TRUE);
	check_auth(c, FALSE, b, TRUE);
	check_auth(c, TRUE, b, FALSE);
	check_child_keys(a, c, tests[_i].esp);

	/* the responder role imports the same keys */
	d = import(FALSE, &keys);
	ck_assert_int_eq(announced, 2);
	check_aead(c, d, TRUE);
	check_aead(d, c, TRUE);
	check_aead(a, d, TRUE);
	check_aead(d, a, TRUE);
	check_auth(b, FALSE, d, FALSE);
	check_auth(b, TRUE, d, TRUE);
	check_child_keys(b, d, tests[_i].esp);
}
END_TEST

/**
 * Import must fail with the given keys and leave the keymat without AEADs
 */
static void check_import_fails(ike_keys_t *k)
{
	ck_assert(!c->import_ike_keys(c, proposal, k->sk_d, k->sk_ai, k->sk_ar,
								  k->sk_ei, k->sk_er, k->sk_pi, k->sk_pr));
	ck_assert(!c->keymat.get_aead(&c->keymat, TRUE));
	ck_assert(!c->keymat.get_aead(&c->keymat, FALSE));
	ck_assert_int_eq(announced, 0);
}

START_TEST(test_import_wrong_length)
{
	ike_keys_t bad;

	derive_pair(_i);
	c = keymat_v2_create(TRUE);
	announced = 0;

	/* SK_ei one byte short */
	bad = keys;
	bad.sk_ei.len--;
	check_import_fails(&bad);

	/* SK_er one byte short */
	bad = keys;
	bad.sk_er.len--;
	check_import_fails(&bad);

	/* SK_d one byte short */
	bad = keys;
	bad.sk_d.len--;
	check_import_fails(&bad);

	/* SK_pr one byte too long */
	bad = keys;
	bad.sk_pr = chunk_cata("cc", keys.sk_pr, chunk_from_chars(0x00));
	check_import_fails(&bad);

	/* integrity keys with an AEAD, or none with a traditional algorithm */
	bad = keys;
	if (keys.sk_ai.len)
	{
		bad.sk_ai = chunk_empty;
	}
	else
	{
		bad.sk_ai = keys.sk_d;
	}
	check_import_fails(&bad);

	/* a failed import leaves the keymat usable for a correct one */
	ck_assert(c->import_ike_keys(c, proposal, keys.sk_d, keys.sk_ai,
								 keys.sk_ar, keys.sk_ei, keys.sk_er,
								 keys.sk_pi, keys.sk_pr));
	ck_assert_int_eq(announced, 1);
	check_aead(c, b, TRUE);
	check_aead(b, c, TRUE);
}
END_TEST

Suite *keymat_import_suite_create()
{
	Suite *s;
	TCase *tc;

	s = suite_create("keymat import");

	tc = tcase_create("derive");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_derive, 0, countof(tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("import");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_import, 0, countof(tests));
	suite_add_tcase(s, tc);

	tc = tcase_create("import wrong length");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_import_wrong_length, 0, countof(tests));
	suite_add_tcase(s, tc);

	return s;
}
