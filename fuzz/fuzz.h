/*
 * Copyright (C) 2026 strongswan-cxtp developers
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 */

/**
 * @defgroup cxtp_fuzz fuzz
 * @{ @ingroup cxtp
 *
 * Shared set up of the libFuzzer targets: libstrongswan with the plugins
 * the parsers need (PLUGINS, from PLUGINDIR), and no debug output, which
 * would cost more than the parsing itself, unless FUZZ_DEBUG gives a level
 * (to see why a target rejects an input).
 */

#ifndef CXTP_FUZZ_H_
#define CXTP_FUZZ_H_

#include <library.h>
#include <utils/debug.h>

/**
 * ASan's printf checks do not know strongSwan's %N, %H, %B; with FUZZ_DEBUG
 * they would only warn.
 */
const char *__asan_default_options()
{
	return "check_printf=0";
}

/**
 * Initialize libstrongswan once per fuzzer process.
 *
 * @param name		name of the target
 * @return			0 on success, as LLVMFuzzerInitialize() returns it
 */
static inline int fuzz_init(char *name)
{
	char *level = getenv("FUZZ_DEBUG");

	dbg_default_set_level(level ? atoi(level) : -1);
	if (!library_init(NULL, name))
	{
		return 1;
	}
	plugin_loader_add_plugindirs(PLUGINDIR, PLUGINS);
	if (!lib->plugins->load(lib->plugins, PLUGINS))
	{
		return 1;
	}
	return 0;
}

/**
 * Stop the run: an invariant of a parser does not hold. abort() makes
 * libFuzzer keep the input as a crash.
 */
#define fuzz_assert(x) do { if (!(x)) { \
	fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #x); \
	abort(); } } while (0)

/**
 * Compare two chunks, empty ones equal too (unlike chunk_equals())
 */
static inline bool fuzz_chunk_eq(chunk_t a, chunk_t b)
{
	return a.len == b.len && (!a.len || memeq(a.ptr, b.ptr, a.len));
}

#endif /** CXTP_FUZZ_H_ @}*/
