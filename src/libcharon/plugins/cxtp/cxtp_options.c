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

#include "cxtp_options.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>

#include <utils/debug.h>
#include <collections/hashtable.h>
#include <threading/mutex.h>

/**
 * Longest time accepted, in ms (about 31 years, far below 2^53)
 */
#define MAX_TIME_MS 1000000000000ULL

typedef struct private_cxtp_options_t private_cxtp_options_t;

/**
 * Private data of a cxtp_options_t object.
 */
struct private_cxtp_options_t {

	/**
	 * Public interface
	 */
	cxtp_options_t public;

	/**
	 * Name of the plugin
	 */
	char *plugin;

	/**
	 * Full option name => warned_t, the invalid value last logged for it
	 */
	hashtable_t *warned;

	/**
	 * Protects warned
	 */
	mutex_t *mutex;
};

/**
 * An invalid value that was logged
 */
typedef struct {
	/** full name of the option, the key */
	char *name;
	/** the value */
	char *value;
} warned_t;

static void warned_destroy(warned_t *warned)
{
	free(warned->name);
	free(warned->value);
	free(warned);
}

/**
 * Units of times and their length in ms
 */
static struct {
	char *name;
	uint64_t ms;
} units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
	{ "d", 24 * 60 * 60 * 1000 },
};

/**
 * Append a string to a format string, with '%' escaped
 */
static void append_escaped(char **pos, char *end, char *str)
{
	while (*str && *pos < end - 2)
	{
		if (*str == '%')
		{
			*(*pos)++ = '%';
		}
		*(*pos)++ = *str++;
	}
	**pos = '\0';
}

/**
 * The format string of an option for lib->settings, with lib->ns as its
 * only argument: the settings split the format at dots, not the arguments,
 * so the key must be part of it
 */
static void format(private_cxtp_options_t *this, char *key, char *buf,
				   size_t len)
{
	char *pos = buf, *end = buf + len;

	pos += snprintf(buf, len, "%%s.plugins.");
	append_escaped(&pos, end, this->plugin);
	append_escaped(&pos, end, ".");
	append_escaped(&pos, end, key);
}

/**
 * The raw value of an option, NULL if missing or empty
 */
static char *get_value(private_cxtp_options_t *this, char *key)
{
	char fmt[BUF_LEN], *value;

	format(this, key, fmt, sizeof(fmt));
	value = lib->settings->get_str(lib->settings, fmt, NULL, lib->ns);
	return (value && *value) ? value : NULL;
}

/**
 * Forget a warning once the option is valid again
 */
static void valid(private_cxtp_options_t *this, char *key)
{
	char name[BUF_LEN];
	warned_t *warned;

	snprintf(name, sizeof(name), "%s.plugins.%s.%s", lib->ns, this->plugin,
			 key);
	this->mutex->lock(this->mutex);
	warned = this->warned->remove(this->warned, name);
	this->mutex->unlock(this->mutex);
	if (warned)
	{
		warned_destroy(warned);
	}
}

METHOD(cxtp_options_t, warn, void,
	private_cxtp_options_t *this, char *key, char *value, char *fmt, ...)
{
	char name[BUF_LEN], what[BUF_LEN];
	warned_t *warned;
	bool again;
	va_list args;

	snprintf(name, sizeof(name), "%s.plugins.%s.%s", lib->ns, this->plugin,
			 key);
	this->mutex->lock(this->mutex);
	warned = this->warned->get(this->warned, name);
	again = warned && streq(warned->value, value);
	if (!again)
	{
		INIT(warned,
			.name = strdup(name),
			.value = strdup(value),
		);
		warned = this->warned->put(this->warned, warned->name, warned);
	}
	this->mutex->unlock(this->mutex);
	if (again)
	{
		return;
	}
	if (warned)
	{	/* the value logged before, replaced */
		warned_destroy(warned);
	}
	va_start(args, fmt);
	vsnprintf(what, sizeof(what), fmt, args);
	va_end(args);
	DBG1(DBG_CFG, "%s: invalid value '%s' for %s, %s", this->plugin, value,
		 name, what);
}

METHOD(cxtp_options_t, get_uint, uint64_t,
	private_cxtp_options_t *this, char *key, uint64_t def, uint64_t min,
	uint64_t max)
{
	char *value, *end;
	uint64_t val;

	value = get_value(this, key);
	if (!value)
	{
		valid(this, key);
		return def;
	}
	errno = 0;
	val = strtoull(value, &end, 10);
	if (errno || end == value || *end || strchr(value, '-') ||
		val < min || val > max)
	{
		warn(this, key, value, "expected an integer in %"PRIu64"..%"PRIu64
			 ", using default %"PRIu64, min, max, def);
		return def;
	}
	valid(this, key);
	return val;
}

/**
 * Parse a decimal number, the rest of the string in end
 */
static bool parse_number(char *value, double *val, char **end)
{
	if (!isdigit(*value) && *value != '.')
	{	/* no sign, "inf", "nan" or blanks */
		return FALSE;
	}
	errno = 0;
	*val = strtod(value, end);
	return !errno && *end != value && isfinite(*val);
}

METHOD(cxtp_options_t, get_double, double,
	private_cxtp_options_t *this, char *key, double def, double min)
{
	char *value, *end;
	double val;

	value = get_value(this, key);
	if (!value)
	{
		valid(this, key);
		return def;
	}
	if (!parse_number(value, &val, &end) || *end || val < min)
	{
		warn(this, key, value, "expected a number of at least %g, using "
			 "default %g", min, def);
		return def;
	}
	valid(this, key);
	return val;
}

/**
 * Parse a time with an optional unit into ms
 */
static bool parse_time(char *value, char *unit, uint64_t *ms)
{
	double val;
	char *end;
	int i;

	if (!parse_number(value, &val, &end))
	{
		return FALSE;
	}
	while (*end == ' ')
	{
		end++;
	}
	if (!*end)
	{
		end = unit;
	}
	for (i = 0; i < countof(units); i++)
	{
		if (streq(end, units[i].name))
		{
			val *= units[i].ms;
			if (val > MAX_TIME_MS)
			{
				return FALSE;
			}
			*ms = val + 0.5;
			return TRUE;
		}
	}
	return FALSE;
}

/*
 * Described in header
 */
char *cxtp_options_print_time(uint64_t ms, char *buf, size_t len)
{
	if (ms && ms % 1000 == 0)
	{
		snprintf(buf, len, "%"PRIu64"s", ms / 1000);
	}
	else
	{
		snprintf(buf, len, "%"PRIu64"ms", ms);
	}
	return buf;
}

METHOD(cxtp_options_t, get_time, uint64_t,
	private_cxtp_options_t *this, char *key, char *unit, uint64_t def,
	uint64_t min, uint64_t max)
{
	char *value, smin[32], smax[32], sdef[32];
	uint64_t ms;

	value = get_value(this, key);
	if (!value)
	{
		valid(this, key);
		return def;
	}
	if (!parse_time(value, unit, &ms) || ms < min || ms > max)
	{
		warn(this, key, value, "expected a time in %s..%s (a number with "
			 "ms, s, m, h or d, %s without), using default %s",
			 cxtp_options_print_time(min, smin, sizeof(smin)),
			 cxtp_options_print_time(max, smax, sizeof(smax)), unit,
			 cxtp_options_print_time(def, sdef, sizeof(sdef)));
		return def;
	}
	valid(this, key);
	return ms;
}

METHOD(cxtp_options_t, get_bool, bool,
	private_cxtp_options_t *this, char *key, bool def)
{
	char *value;
	bool val;

	value = get_value(this, key);
	if (!value)
	{
		valid(this, key);
		return def;
	}
	val = settings_value_as_bool(value, TRUE);
	if (val != settings_value_as_bool(value, FALSE))
	{
		warn(this, key, value, "expected yes or no, using default %s",
			 def ? "yes" : "no");
		return def;
	}
	valid(this, key);
	return val;
}

METHOD(cxtp_options_t, get_enum, int,
	private_cxtp_options_t *this, char *key, enum_name_t *names, int def)
{
	char *value, expected[BUF_LEN], *pos = expected;
	size_t left = sizeof(expected);
	int val, i, len;

	value = get_value(this, key);
	if (!value)
	{
		valid(this, key);
		return def;
	}
	if (enum_from_name(names, value, &val))
	{
		valid(this, key);
		return val;
	}
	expected[0] = '\0';
	for (i = names->first; i <= names->last && left > 1; i++)
	{
		len = snprintf(pos, left, "%s%s", i == names->first ? "" : ", ",
					   names->names[i - names->first]);
		if (len < 0 || len >= left)
		{
			break;
		}
		pos += len;
		left -= len;
	}
	warn(this, key, value, "expected one of %s, using default %N", expected,
		 names, def);
	return def;
}

METHOD(cxtp_options_t, get_str, char*,
	private_cxtp_options_t *this, char *key)
{
	return get_value(this, key);
}

METHOD(cxtp_options_t, create_section_enumerator, enumerator_t*,
	private_cxtp_options_t *this, char *key)
{
	char fmt[BUF_LEN];

	format(this, key, fmt, sizeof(fmt));
	return lib->settings->create_section_enumerator(lib->settings, fmt,
													lib->ns);
}

CALLBACK(destroy_warned, void,
	warned_t *warned, const void *key)
{
	warned_destroy(warned);
}

METHOD(cxtp_options_t, destroy, void,
	private_cxtp_options_t *this)
{
	this->warned->destroy_function(this->warned, destroy_warned);
	this->mutex->destroy(this->mutex);
	free(this->plugin);
	free(this);
}

/*
 * Described in header
 */
cxtp_options_t *cxtp_options_create(char *plugin)
{
	private_cxtp_options_t *this;

	INIT(this,
		.public = {
			.get_uint = _get_uint,
			.get_double = _get_double,
			.get_time = _get_time,
			.get_bool = _get_bool,
			.get_enum = _get_enum,
			.get_str = _get_str,
			.create_section_enumerator = _create_section_enumerator,
			.warn = _warn,
			.destroy = _destroy,
		},
		.plugin = strdup(plugin),
		.warned = hashtable_create(hashtable_hash_str, hashtable_equals_str, 8),
		.mutex = mutex_create(MUTEX_TYPE_DEFAULT),
	);
	return &this->public;
}
