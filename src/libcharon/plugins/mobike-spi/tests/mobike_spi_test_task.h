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
 * @defgroup mobike_spi_test_task mobike_spi_test_task
 * @{ @ingroup mobike_spi
 */

#ifndef MOBIKE_SPI_TEST_TASK_H_
#define MOBIKE_SPI_TEST_TASK_H_

#include <sa/task.h>

/**
 * What a test task does in build() or process()
 *
 * @param message		message being built or processed
 * @return				task_t's status
 */
typedef status_t (*mobike_spi_test_step_t)(message_t *message);

/**
 * Create a task of type TASK_PLUGIN that plays a peer's part in a test
 * (crafted notifies, a tampered COOKIE2) the way plugins take part in
 * exchanges, instead of changing messages from bus hooks.
 *
 * @param build			called in build()
 * @param process		called in process()
 * @return				task
 */
task_t *mobike_spi_test_task_create(mobike_spi_test_step_t build,
									mobike_spi_test_step_t process);

#endif /** MOBIKE_SPI_TEST_TASK_H_ @}*/
