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

#include "mobike_spi_test_task.h"

typedef struct private_test_task_t private_test_task_t;

/**
 * Private data of a test task
 */
struct private_test_task_t {

	/**
	 * Public interface.
	 */
	task_t public;

	/**
	 * What build() does
	 */
	mobike_spi_test_step_t build;

	/**
	 * What process() does
	 */
	mobike_spi_test_step_t process;
};

METHOD(task_t, build, status_t,
	private_test_task_t *this, message_t *message)
{
	return this->build(message);
}

METHOD(task_t, process, status_t,
	private_test_task_t *this, message_t *message)
{
	return this->process(message);
}

METHOD(task_t, get_type, task_type_t,
	private_test_task_t *this)
{
	return TASK_PLUGIN;
}

METHOD(task_t, migrate, void,
	private_test_task_t *this, ike_sa_t *ike_sa)
{
}

METHOD(task_t, destroy, void,
	private_test_task_t *this)
{
	free(this);
}

/*
 * Described in header
 */
task_t *mobike_spi_test_task_create(mobike_spi_test_step_t build,
									mobike_spi_test_step_t process)
{
	private_test_task_t *this;

	INIT(this,
		.public = {
			.build = _build,
			.process = _process,
			.get_type = _get_type,
			.migrate = _migrate,
			.destroy = _destroy,
		},
		.build = build,
		.process = process,
	);
	return &this->public;
}
