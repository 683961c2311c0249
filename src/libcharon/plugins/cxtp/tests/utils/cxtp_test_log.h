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
 * Records the level 1 log messages of a test, to check what an operator
 * would read.
 *
 * @defgroup cxtp_test_log cxtp_test_log
 * @{ @ingroup cxtp
 */

#ifndef CXTP_TEST_LOG_H_
#define CXTP_TEST_LOG_H_

#include <library.h>

/**
 * Start recording level 1 messages, replacing the dbg() hook.
 */
void cxtp_test_log_start();

/**
 * Number of recorded messages containing a string.
 *
 * @param str			string to look for
 * @return				number of messages
 */
int cxtp_test_log_count(char *str);

/**
 * Number of recorded messages.
 *
 * @return				number of messages
 */
int cxtp_test_log_total();

/**
 * Stop recording, restoring the dbg() hook, and forget what was recorded.
 */
void cxtp_test_log_stop();

#endif /** CXTP_TEST_LOG_H_ @}*/
