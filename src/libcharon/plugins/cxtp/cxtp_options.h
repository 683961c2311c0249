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
 * @defgroup cxtp_options cxtp_options
 * @{ @ingroup cxtp
 */

#ifndef CXTP_OPTIONS_H_
#define CXTP_OPTIONS_H_

#include <library.h>

typedef struct cxtp_options_t cxtp_options_t;

/**
 * Reads and checks the options of a plugin, charon.plugins.<plugin>.<key>
 * in strongswan.conf, for the cxtp and mobike-spi plugins alike.
 *
 * A missing or empty option yields the default. An invalid one yields the
 * default too, with one log message naming the option, the value and what
 * is expected; reading the same invalid value again (e.g. on every reload)
 * logs nothing more, a different invalid value is logged again.
 *
 * Keys may name subsections ("peers.<name>.port"); they are taken as they
 * are, a '%' in them is no format directive.
 *
 * Times are numbers with an optional unit, ms, s, m, h or d ("1.5",
 * "250ms", "2m"), without a unit in the unit the option documents; they are
 * returned in milliseconds.
 */
struct cxtp_options_t {

	/**
	 * Read an unsigned decimal integer.
	 *
	 * @param key		option below charon.plugins.<plugin>
	 * @param def		default
	 * @param min		smallest valid value
	 * @param max		largest valid value
	 * @return			value, or the default
	 */
	uint64_t (*get_uint)(cxtp_options_t *this, char *key, uint64_t def,
						 uint64_t min, uint64_t max);

	/**
	 * Read a finite decimal number.
	 *
	 * @param key		option below charon.plugins.<plugin>
	 * @param def		default
	 * @param min		smallest valid value
	 * @return			value, or the default
	 */
	double (*get_double)(cxtp_options_t *this, char *key, double def,
						 double min);

	/**
	 * Read a time.
	 *
	 * @param key		option below charon.plugins.<plugin>
	 * @param unit		unit of a number without one: "ms" or "s"
	 * @param def		default in ms
	 * @param min		shortest valid time in ms
	 * @param max		longest valid time in ms
	 * @return			time in ms, or the default
	 */
	uint64_t (*get_time)(cxtp_options_t *this, char *key, char *unit,
						 uint64_t def, uint64_t min, uint64_t max);

	/**
	 * Read a boolean (yes/no, true/false, ...).
	 *
	 * @param key		option below charon.plugins.<plugin>
	 * @param def		default
	 * @return			value, or the default
	 */
	bool (*get_bool)(cxtp_options_t *this, char *key, bool def);

	/**
	 * Read one of the names of an enum.
	 *
	 * @param key		option below charon.plugins.<plugin>
	 * @param names		names of the enum's values
	 * @param def		default
	 * @return			value, or the default
	 */
	int (*get_enum)(cxtp_options_t *this, char *key, enum_name_t *names,
					int def);

	/**
	 * Read a string.
	 *
	 * @param key		option below charon.plugins.<plugin>
	 * @return			value (owned by lib->settings), NULL if missing or
	 *					empty
	 */
	char* (*get_str)(cxtp_options_t *this, char *key);

	/**
	 * Enumerate the subsections of a section.
	 *
	 * @param key		section below charon.plugins.<plugin>
	 * @return			enumerator over char* section names
	 */
	enumerator_t* (*create_section_enumerator)(cxtp_options_t *this,
											   char *key);

	/**
	 * Log a value the caller found invalid itself, once per value as for
	 * the readers.
	 *
	 * @param key		option below charon.plugins.<plugin>
	 * @param value		invalid value
	 * @param fmt		what was expected and what is used instead
	 */
	void (*warn)(cxtp_options_t *this, char *key, char *value, char *fmt, ...);

	/**
	 * Destroy a cxtp_options_t.
	 */
	void (*destroy)(cxtp_options_t *this);
};

/**
 * Print a time for log messages, as "30s" or "1500ms".
 *
 * @param ms			time in ms
 * @param buf			buffer
 * @param len			size of buf
 * @return				buf
 */
char *cxtp_options_print_time(uint64_t ms, char *buf, size_t len);

/**
 * Create a cxtp_options_t.
 *
 * @param plugin		name of the plugin, e.g. "cxtp"
 * @return				instance
 */
cxtp_options_t *cxtp_options_create(char *plugin);

#endif /** CXTP_OPTIONS_H_ @}*/
