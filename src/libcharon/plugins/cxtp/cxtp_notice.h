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
 * @defgroup cxtp_notice cxtp_notice
 * @{ @ingroup cxtp
 */

#ifndef CXTP_NOTICE_H_
#define CXTP_NOTICE_H_

#include <library.h>

typedef struct cxtp_notice_t cxtp_notice_t;

/**
 * Counts events that anyone may cause in numbers (forged messages), and
 * says when one is due a log line: at most once a second, with the number
 * since the last line and in all.
 */
struct cxtp_notice_t {

	/**
	 * Count an event.
	 *
	 * @param since		receives the events since the last line, this one
	 *					included, if one is due
	 * @param total		receives the events in all, if a line is due
	 * @return			TRUE if a log line is due
	 */
	bool (*count)(cxtp_notice_t *this, u_int *since, uint64_t *total);

	/**
	 * Destroy a cxtp_notice_t.
	 */
	void (*destroy)(cxtp_notice_t *this);
};

/**
 * Create a cxtp_notice_t.
 *
 * @return			instance
 */
cxtp_notice_t *cxtp_notice_create();

#endif /** CXTP_NOTICE_H_ @}*/
