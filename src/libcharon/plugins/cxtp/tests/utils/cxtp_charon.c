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

#include "cxtp_charon.h"
#include "../../cxtp_token.h"

#include <exchange_test_helper.h>
#include <mock_ipsec.h>
#include <mock_net.h>
#include <collections/array.h>

/**
 * SAs and allocated SPIs of the mock kernel, cxtp_test_sa_t*
 */
static array_t *sas;

/**
 * SPI counter of the mock kernel
 */
static refcount_t spis;

/**
 * Whether the mock kernel refuses to install SAs
 */
static bool refuse_sas;

/**
 * Addresses the mock kernel reports as ours, host_t*
 */
static array_t *addresses;

/**
 * Addresses of ours that are still tentative, host_t*
 */
static array_t *tentative;

/**
 * Default router of the mock kernel
 */
static host_t *router;

/**
 * ESP packets the mock kernel reports received on any SA, 0 for none
 */
static uint64_t received;

/**
 * Events reported, cxtp_test_event_t*
 */
static array_t *events;

/**
 * Config backend providing pAR's connection by name, as nAR has it
 */
static backend_t backend;

/**
 * pAR's connection, provided by the backend
 */
static peer_cfg_t *connection;

host_t *cxtp_test_host(char *address)
{
	host_t *host = host_create_from_string(address, IKEV2_UDP_PORT);

	ck_assert(host);
	return host;
}

static void mock_sa_destroy(cxtp_test_sa_t *sa)
{
	chunk_free(&sa->bitmap);
	DESTROY_IF(sa->src);
	DESTROY_IF(sa->dst);
	free(sa);
}

static void sent_destroy(cxtp_test_sent_t *sent)
{
	free(sent->peer);
	DESTROY_IF(sent->src);
	DESTROY_IF(sent->dst);
	sent->message->destroy(sent->message);
	free(sent);
}

static void event_destroy(cxtp_test_event_t *event)
{
	free(event->who);
	free(event->name);
	free(event->peer);
	DESTROY_IF(event->mn);
	free(event->error);
	free(event);
}

/**
 * Unique ID of the IKE_SA on the bus, 0 if none
 */
static u_int bus_ike_id()
{
	ike_sa_t *ike_sa = charon->bus->get_sa(charon->bus);

	return ike_sa ? ike_sa->get_unique_id(ike_sa) : 0;
}

METHOD(kernel_ipsec_t, get_spi, status_t,
	kernel_ipsec_t *this, host_t *src, host_t *dst, uint8_t protocol,
	uint32_t *spi)
{
	cxtp_test_sa_t *sa;

	*spi = htonl(0xc0000000 | ref_get(&spis));
	INIT(sa,
		.spi = *spi,
		.ike_id = bus_ike_id(),
	);
	array_insert(sas, ARRAY_TAIL, sa);
	return SUCCESS;
}

/**
 * Whether an inbound SA with the SPI is installed at dst (any SA with it if
 * NULL); allocated SPIs don't count, as SPIs the mobile node's and pAR's
 * CHILD_SAs allocated are never released here
 */
static bool spi_taken(uint32_t spi, host_t *dst)
{
	cxtp_test_sa_t *sa;
	int i;

	for (i = 0; i < array_count(sas); i++)
	{
		array_get(sas, i, &sa);
		if (sa->spi == spi && sa->dst && (!dst ||
			(sa->inbound && sa->dst->ip_equals(sa->dst, dst))))
		{
			return TRUE;
		}
	}
	return FALSE;
}

METHOD(kernel_ipsec_t, query_spi, status_t,
	kernel_ipsec_t *this, kernel_ipsec_sa_id_t *id)
{
	return spi_taken(id->spi, id->dst) ? SUCCESS : NOT_FOUND;
}

METHOD(kernel_ipsec_t, add_sa, status_t,
	kernel_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_add_sa_t *data)
{
	cxtp_test_sa_t *sa;

	if (refuse_sas)
	{
		return FAILED;
	}
	if (data->inbound && !data->update && spi_taken(id->spi, id->dst))
	{	/* as XFRM (EEXIST) and libipsec do */
		return FAILED;
	}
	INIT(sa,
		.spi = id->spi,
		.inbound = data->inbound,
		.src = id->src->clone(id->src),
		.dst = id->dst->clone(id->dst),
		.ike_id = bus_ike_id(),
		.has_replay = data->replay != NULL,
	);
	if (data->replay)
	{
		sa->seq_in = data->replay->seq_in;
		sa->seq_out = data->replay->seq_out;
		sa->window = data->replay->window;
		sa->bitmap = chunk_clone(data->replay->bitmap);
	}
	array_insert(sas, ARRAY_TAIL, sa);
	return SUCCESS;
}

/**
 * Find an installed SA by SPI and destination, preferring the one of the
 * IKE_SA on the bus (the mobile node's and pAR's share SPIs here)
 */
static int find_sa(kernel_ipsec_sa_id_t *id)
{
	cxtp_test_sa_t *sa;
	u_int ike_id = bus_ike_id();
	int i, found = -1;

	for (i = 0; i < array_count(sas); i++)
	{
		array_get(sas, i, &sa);
		if (sa->dst && sa->spi == id->spi && sa->dst->ip_equals(sa->dst, id->dst))
		{
			if (!ike_id || sa->ike_id == ike_id)
			{
				return i;
			}
			found = found < 0 ? i : found;
		}
	}
	return found;
}

METHOD(kernel_ipsec_t, update_sa, status_t,
	kernel_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_update_sa_t *data)
{
	cxtp_test_sa_t *sa;
	int i;

	i = find_sa(id);
	if (i >= 0)
	{
		array_get(sas, i, &sa);
		sa->src->destroy(sa->src);
		sa->dst->destroy(sa->dst);
		sa->src = data->new_src->clone(data->new_src);
		sa->dst = data->new_dst->clone(data->new_dst);
	}
	return SUCCESS;
}

METHOD(kernel_ipsec_t, query_sa, status_t,
	kernel_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_query_sa_t *data, uint64_t *bytes, uint64_t *packets,
	time_t *time)
{
	if (!received)
	{
		return NOT_SUPPORTED;
	}
	*bytes = received * 100;
	*packets = received;
	*time = time_monotonic(NULL);
	return SUCCESS;
}

METHOD(kernel_ipsec_t, query_replay, status_t,
	kernel_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_query_sa_t *data, kernel_ipsec_replay_t *replay)
{
	*replay = (kernel_ipsec_replay_t){
		.seq_out = TRAFFIC_SEQ_OUT,
		.seq_in = TRAFFIC_SEQ_IN,
		.window = TRAFFIC_WINDOW,
		.bitmap = chunk_clone(TRAFFIC_BITMAP),
	};
	return SUCCESS;
}

METHOD(kernel_ipsec_t, del_sa, status_t,
	kernel_ipsec_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_del_sa_t *data)
{
	cxtp_test_sa_t *sa;
	int i;

	i = find_sa(id);
	if (i >= 0)
	{
		array_remove(sas, i, &sa);
		mock_sa_destroy(sa);
	}
	return SUCCESS;
}

METHOD(kernel_ipsec_t, ipsec_destroy, void,
	kernel_ipsec_t *this)
{
	free(this);
}

static kernel_ipsec_t *mock_kernel_create()
{
	kernel_ipsec_t *this;

	INIT(this,
		.get_spi = _get_spi,
		.get_cpi = (void*)return_failed,
		.add_sa = _add_sa,
		.update_sa = _update_sa,
		.query_sa = _query_sa,
		.query_replay = _query_replay,
		.query_spi = _query_spi,
		.del_sa = _del_sa,
		.flush_sas = (void*)return_failed,
		.add_policy = (void*)return_success,
		.query_policy = (void*)return_failed,
		.del_policy = (void*)return_success,
		.flush_policies = (void*)return_failed,
		.bypass_socket = (void*)return_true,
		.enable_udp_decap = (void*)return_true,
		.destroy = _ipsec_destroy,
	);
	return this;
}

void cxtp_test_kernel_occupy(uint32_t spi, char *address)
{
	cxtp_test_sa_t *sa;

	INIT(sa,
		.spi = spi,
		.inbound = TRUE,
		.src = cxtp_test_host(ROUTER),
		.dst = cxtp_test_host(address),
	);
	array_insert(sas, ARRAY_TAIL, sa);
}

void cxtp_test_kernel_refuse(bool refuse)
{
	refuse_sas = refuse;
}

void cxtp_test_kernel_set_received(uint64_t packets)
{
	received = packets;
}

cxtp_test_sa_t *cxtp_test_kernel_find(u_int ike_id, uint32_t spi, bool inbound)
{
	cxtp_test_sa_t *sa, *found = NULL;
	int i;

	for (i = 0; i < array_count(sas); i++)
	{
		array_get(sas, i, &sa);
		if (sa->dst && sa->ike_id == ike_id && sa->spi == spi &&
			sa->inbound == inbound)
		{
			found = sa;
		}
	}
	return found;
}

u_int cxtp_test_kernel_count(u_int ike_id)
{
	cxtp_test_sa_t *sa;
	u_int count = 0;
	int i;

	for (i = 0; i < array_count(sas); i++)
	{
		array_get(sas, i, &sa);
		if (sa->dst && sa->ike_id == ike_id)
		{
			count++;
		}
	}
	return count;
}

/**
 * Whether an address is in a list
 */
static bool contains(array_t *list, host_t *host)
{
	host_t *current;
	int i;

	for (i = 0; i < array_count(list); i++)
	{
		array_get(list, i, &current);
		if (current->ip_equals(current, host))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * Whether an address is ours
 */
static bool is_ours(host_t *host)
{
	return contains(addresses, host);
}

METHOD(kernel_net_t, get_source_addr, host_t*,
	kernel_net_t *this, host_t *dest, host_t *src)
{
	host_t *found = NULL;

	/* our newest address, as routing would pick on a single link */
	if (array_get(addresses, ARRAY_TAIL, &found))
	{
		found = found->clone(found);
	}
	return found;
}

METHOD(kernel_net_t, get_nexthop, host_t*,
	kernel_net_t *this, host_t *dest, int prefix, host_t *src, char **iface)
{
	host_t *hop;

	hop = router ? router->clone(router) : NULL;
	return hop;
}

METHOD(kernel_net_t, get_interface, bool,
	kernel_net_t *this, host_t *host, char **name)
{
	bool found;

	found = is_ours(host);
	if (found && name)
	{
		*name = strdup("eth0");
	}
	return found;
}

METHOD(kernel_net_t, net_destroy, void,
	kernel_net_t *this)
{
	free(this);
}

static kernel_net_t *mock_net_create_steered()
{
	kernel_net_t *this;

	INIT(this,
		.get_source_addr = _get_source_addr,
		.get_nexthop = _get_nexthop,
		.get_interface = _get_interface,
		.create_address_enumerator = (void*)enumerator_create_empty,
		.create_local_subnet_enumerator = (void*)enumerator_create_empty,
		.add_ip = (void*)return_failed,
		.del_ip = (void*)return_failed,
		.add_route = (void*)return_failed,
		.del_route = (void*)return_failed,
		.destroy = _net_destroy,
	);
	return this;
}

/**
 * Add an address to a list, or remove it
 */
static void set_in(array_t *list, char *address, bool present)
{
	host_t *host = cxtp_test_host(address), *current;
	int i;

	for (i = array_count(list) - 1; i >= 0; i--)
	{
		array_get(list, i, &current);
		if (current->ip_equals(current, host))
		{
			array_remove(list, i, NULL);
			current->destroy(current);
		}
	}
	if (present)
	{
		array_insert(list, ARRAY_TAIL, host->clone(host));
	}
	host->destroy(host);
}

void cxtp_test_net_set_address(char *address, bool present)
{
	set_in(addresses, address, present);
}

void cxtp_test_net_set_tentative(char *address, bool is_tentative)
{
	set_in(tentative, address, is_tentative);
}

bool cxtp_test_net_usable(host_t *address)
{
	return is_ours(address) && !contains(tentative, address);
}

void cxtp_test_net_set_router(char *address)
{
	DESTROY_IF(router);
	router = address ? cxtp_test_host(address) : NULL;
}

/**
 * A job scheduled, with its delay
 */
typedef struct {
	job_t *job;
	uint32_t ms;
} scheduled_t;

/**
 * The processor and scheduler of the tests: they hold jobs until a test
 * runs them
 */
static struct {
	processor_t processor;
	scheduler_t scheduler;
	/** the real ones, restored in cxtp_charon_stop() */
	processor_t *real_processor;
	scheduler_t *real_scheduler;
	/** jobs queued, job_t* */
	array_t *queued;
	/** jobs scheduled, scheduled_t */
	array_t *scheduled;
} jobs;

METHOD(processor_t, queue_job, void,
	processor_t *this, job_t *job)
{
	job->status = JOB_STATUS_QUEUED;
	array_insert(jobs.queued, ARRAY_TAIL, job);
}

METHOD(processor_t, execute_job, void,
	processor_t *this, job_t *job)
{
	job->execute(job);
	job->destroy(job);
}

METHOD(processor_t, get_job_load, u_int,
	processor_t *this, job_priority_t prio)
{
	job_t *job;
	u_int count = 0;
	int i;

	for (i = 0; i < array_count(jobs.queued); i++)
	{
		array_get(jobs.queued, i, &job);
		count += job->get_priority(job) == prio;
	}
	return count;
}

METHOD(processor_t, get_threads, u_int,
	processor_t *this)
{
	return 0;
}

METHOD(processor_t, get_working_threads, u_int,
	processor_t *this, job_priority_t prio)
{
	return 0;
}

METHOD(scheduler_t, schedule_job_ms, void,
	scheduler_t *this, job_t *job, uint32_t ms)
{
	scheduled_t scheduled = {
		.job = job,
		.ms = ms,
	};

	array_insert(jobs.scheduled, ARRAY_TAIL, &scheduled);
}

METHOD(scheduler_t, schedule_job, void,
	scheduler_t *this, job_t *job, uint32_t s)
{
	schedule_job_ms(this, job, s * 1000);
}

METHOD(scheduler_t, schedule_job_tv, void,
	scheduler_t *this, job_t *job, timeval_t tv)
{
	timeval_t now;

	time_monotonic(&now);
	schedule_job_ms(this, job, timercmp(&tv, &now, >) ?
					(tv.tv_sec - now.tv_sec) * 1000 +
					(tv.tv_usec - now.tv_usec) / 1000 : 0);
}

METHOD(scheduler_t, get_scheduled_load, u_int,
	scheduler_t *this)
{
	return array_count(jobs.scheduled);
}

/**
 * Take over the processor and scheduler
 */
static void hold_jobs()
{
	jobs.processor = (processor_t){
		.get_total_threads = _get_threads,
		.get_idle_threads = _get_threads,
		.get_working_threads = _get_working_threads,
		.get_job_load = _get_job_load,
		.queue_job = _queue_job,
		.execute_job = _execute_job,
		.set_threads = (void*)nop,
		.cancel = (void*)nop,
	};
	jobs.scheduler = (scheduler_t){
		.schedule_job = _schedule_job,
		.schedule_job_ms = _schedule_job_ms,
		.schedule_job_tv = _schedule_job_tv,
		.get_job_load = _get_scheduled_load,
		.flush = (void*)nop,
	};
	jobs.queued = array_create(0, 0);
	jobs.scheduled = array_create(sizeof(scheduled_t), 0);
	jobs.real_processor = lib->processor;
	jobs.real_scheduler = lib->scheduler;
	lib->processor = &jobs.processor;
	lib->scheduler = &jobs.scheduler;
}

/**
 * Drop the jobs that did not run and give the processor and scheduler back
 */
static void release_jobs()
{
	scheduled_t scheduled;
	job_t *job;

	lib->processor = jobs.real_processor;
	lib->scheduler = jobs.real_scheduler;
	while (array_remove(jobs.queued, ARRAY_HEAD, &job))
	{
		job->destroy(job);
	}
	while (array_remove(jobs.scheduled, ARRAY_HEAD, &scheduled))
	{
		scheduled.job->destroy(scheduled.job);
	}
	array_destroy(jobs.queued);
	array_destroy(jobs.scheduled);
}

/**
 * Run a job as a processor thread would
 */
static void run_job(job_t *job)
{
	job_requeue_t requeue;

	job->status = JOB_STATUS_EXECUTING;
	requeue = job->execute(job);
	/* the plugin's jobs run once */
	ck_assert_int_eq(requeue.type, JOB_REQUEUE_TYPE_NONE);
	job->destroy(job);
}

bool cxtp_charon_run_job()
{
	job_t *job, *next;
	int i, index = 0;

	if (!array_count(jobs.queued))
	{
		return FALSE;
	}
	array_get(jobs.queued, 0, &next);
	for (i = 1; i < array_count(jobs.queued); i++)
	{
		array_get(jobs.queued, i, &job);
		if (job->get_priority(job) < next->get_priority(next))
		{
			index = i;
			next = job;
		}
	}
	array_remove(jobs.queued, index, NULL);
	run_job(next);
	return TRUE;
}

u_int cxtp_charon_run_jobs()
{
	u_int count = 0;

	while (cxtp_charon_run_job())
	{
		count++;
	}
	return count;
}

u_int cxtp_charon_scheduled(uint32_t ms)
{
	scheduled_t scheduled;
	u_int count = 0;
	int i;

	for (i = 0; i < array_count(jobs.scheduled); i++)
	{
		array_get(jobs.scheduled, i, &scheduled);
		count += scheduled.ms == ms;
	}
	return count;
}

void cxtp_charon_run_scheduled(uint32_t ms)
{
	scheduled_t scheduled;
	int i;

	for (i = 0; i < array_count(jobs.scheduled); i++)
	{
		array_get(jobs.scheduled, i, &scheduled);
		if (scheduled.ms == ms)
		{
			array_remove(jobs.scheduled, i, NULL);
			run_job(scheduled.job);
			cxtp_charon_run_jobs();
			return;
		}
	}
	ck_assert_msg(FALSE, "no job scheduled in %u ms", ms);
}

METHOD(backend_t, get_peer_cfg_by_name, peer_cfg_t*,
	backend_t *this, char *name)
{
	if (connection && streq(name, connection->get_name(connection)))
	{
		return connection->get_ref(connection);
	}
	return NULL;
}

/**
 * Configure the plugin: nAR knows pAR by its access address, which CTARs
 * name
 */
static void configure()
{
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.par.address",
						   "203.0.113.1", lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.par.access",
						   PAR, lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.par.secret",
						   "secret", lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.nar.address",
						   "203.0.113.2", lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.nar.access",
						   NAR, lib->ns);
	lib->settings->set_str(lib->settings, "%s.plugins.cxtp.peers.nar.secret",
						   "secret", lib->ns);
	lib->settings->set_int(lib->settings, "%s.plugins.cxtp.handover_timeout",
						   HANDOVER_TIMEOUT, lib->ns);
}

/**
 * Point an IKE_SA at its addresses in the tests
 */
static void set_hosts(ike_sa_t *ike_sa, char *me, char *other)
{
	charon->bus->set_sa(charon->bus, ike_sa);
	ike_sa->set_my_host(ike_sa, cxtp_test_host(me));
	ike_sa->set_other_host(ike_sa, cxtp_test_host(other));
	charon->bus->set_sa(charon->bus, NULL);
}

cxtp_charon_t *cxtp_charon_setup()
{
	cxtp_charon_t *this;
	char *plugins;

	sas = array_create(0, 0);
	addresses = array_create(0, 0);
	tentative = array_create(0, 0);
	events = array_create(0, 0);
	spis = 0;
	refuse_sas = FALSE;
	received = 0;

	ck_assert(libcharon_init());
	plugins = getenv("TESTS_PLUGINS") ?:
				lib->settings->get_str(lib->settings, "tests.load", PLUGINS);
	exchange_test_helper_init(plugins);
	/* ours records replay state, addresses, and any SPI nAR installs */
	ck_assert(charon->kernel->remove_ipsec_interface(charon->kernel,
													  mock_ipsec_create));
	ck_assert(charon->kernel->add_ipsec_interface(charon->kernel,
												   mock_kernel_create));
	ck_assert(charon->kernel->remove_net_interface(charon->kernel,
													mock_net_create));
	ck_assert(charon->kernel->add_net_interface(charon->kernel,
												 mock_net_create_steered));
	backend = (backend_t){
		.create_ike_cfg_enumerator = (void*)enumerator_create_empty,
		.create_peer_cfg_enumerator = (void*)enumerator_create_empty,
		.get_peer_cfg_by_name = _get_peer_cfg_by_name,
	};
	charon->backends->add_backend(charon->backends, &backend);
	configure();

	INIT(this,
		.capture = cxtp_capture_create(),
		.settings = cxtp_settings_create(),
	);
	this->transfers = cxtp_transfers_create(this->capture);
	exchange_test_helper->add_listener(exchange_test_helper,
									   &this->capture->listener);
	exchange_test_helper->add_listener(exchange_test_helper,
									   &this->transfers->listener);
	this->index = cxtp_ike_index_create();
	exchange_test_helper->add_listener(exchange_test_helper,
									   &this->index->listener);
	exchange_test_helper->establish_sa(exchange_test_helper, &this->mn,
									   &this->par, NULL);
	ck_assert_int_eq(this->mn->get_state(this->mn), IKE_ESTABLISHED);
	ck_assert_int_eq(this->par->get_state(this->par), IKE_ESTABLISHED);
	set_hosts(this->mn, MN_OLD, PAR);
	set_hosts(this->par, PAR, MN_OLD);
	/* moved without a hook, as our import does */
	this->index->record(this->index, this->mn);
	this->index->record(this->index, this->par);
	connection = this->par->get_peer_cfg(this->par);
	connection = connection->get_ref(connection);
	cxtp_test_net_set_address(MN_OLD, TRUE);
	hold_jobs();
	return this;
}

/**
 * Destroy an IKE_SA unless it was put into the manager, where it may be gone
 */
static void destroy_unmanaged(cxtp_charon_t *this, ike_sa_t *ike_sa)
{
	bool managed;

	managed = ike_sa == this->mn ? this->mn_managed : this->par_managed;
	if (!managed)
	{
		call_ikesa(ike_sa, destroy);
	}
}

void cxtp_charon_stop()
{
	release_jobs();
}

void cxtp_charon_teardown(cxtp_charon_t *this)
{
	destroy_unmanaged(this, this->mn);
	destroy_unmanaged(this, this->par);
	exchange_test_helper_deinit();
	this->transfers->destroy(this->transfers);
	this->capture->destroy(this->capture);
	this->index->destroy(this->index);
	this->settings->destroy(this->settings);
	charon->backends->remove_backend(charon->backends, &backend);
	connection->destroy(connection);
	connection = NULL;
	libcharon_deinit();
	free(this);

	array_destroy_function(sas, (void*)mock_sa_destroy, NULL);
	array_destroy_offset(addresses, offsetof(host_t, destroy));
	array_destroy_offset(tentative, offsetof(host_t, destroy));
	array_destroy_function(events, (void*)event_destroy, NULL);
	DESTROY_IF(router);
	router = NULL;
}

u_int cxtp_charon_checkin(cxtp_charon_t *this, ike_sa_t *ike_sa)
{
	if (ike_sa == this->mn)
	{
		this->mn_managed = TRUE;
	}
	if (ike_sa == this->par)
	{
		this->par_managed = TRUE;
	}
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return ike_sa->get_unique_id(ike_sa);
}

void cxtp_charon_remove(u_int id)
{
	ike_sa_t *ike_sa;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	ck_assert(ike_sa);
	charon->ike_sa_manager->checkin_and_destroy(charon->ike_sa_manager, ike_sa);
}

void cxtp_charon_move(u_int id, char *other)
{
	ike_sa_t *ike_sa;
	host_t *me, *host;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	ck_assert(ike_sa);
	me = ike_sa->get_my_host(ike_sa)->clone(ike_sa->get_my_host(ike_sa));
	host = cxtp_test_host(other);
	ike_sa->update_hosts(ike_sa, me, host, UPDATE_HOSTS_FORCE_ADDRS);
	host->destroy(host);
	me->destroy(me);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
}

ike_sa_state_t cxtp_charon_state(u_int id)
{
	ike_sa_t *ike_sa;
	ike_sa_state_t state;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	if (!ike_sa)
	{
		return IKE_DESTROYING;
	}
	state = ike_sa->get_state(ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return state;
}

void cxtp_charon_info(u_int id, cxtp_test_ike_sa_info_t *info)
{
	ike_sa_t *ike_sa;
	ike_sa_id_t *ike_sa_id;

	*info = (cxtp_test_ike_sa_info_t){};
	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, id);
	if (ike_sa)
	{
		ike_sa_id = ike_sa->get_id(ike_sa);
		*info = (cxtp_test_ike_sa_info_t){
			.found = TRUE,
			.state = ike_sa->get_state(ike_sa),
			.me = ike_sa->get_my_host(ike_sa)->clone(ike_sa->get_my_host(ike_sa)),
			.other = ike_sa->get_other_host(ike_sa)->clone(
											ike_sa->get_other_host(ike_sa)),
			.spi_i = ike_sa_id->get_initiator_spi(ike_sa_id),
			.spi_r = ike_sa_id->get_responder_spi(ike_sa_id),
			.children = ike_sa->get_child_count(ike_sa),
		};
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	}
}

void cxtp_test_ike_sa_info_clear(cxtp_test_ike_sa_info_t *info)
{
	DESTROY_IF(info->me);
	DESTROY_IF(info->other);
	*info = (cxtp_test_ike_sa_info_t){};
}

bool cxtp_test_host_is(host_t *host, char *address)
{
	host_t *expected = cxtp_test_host(address);
	bool is;

	is = host && expected->ip_equals(expected, host);
	expected->destroy(expected);
	return is;
}

u_int cxtp_charon_count()
{
	return charon->ike_sa_manager->get_count(charon->ike_sa_manager);
}

/**
 * Parse a message back from its encoding, as the peer would see it
 */
cxtp_message_t *cxtp_test_message_copy(cxtp_message_t *message)
{
	cxtp_message_t *copy;
	chunk_t encoding;

	encoding = message->encode(message);
	ck_assert(encoding.len);
	copy = cxtp_message_parse(encoding);
	chunk_free(&encoding);
	ck_assert(copy);
	return copy;
}

/**
 * Record a sent message
 */
static void record(array_t *array, bool reliable, char *peer, host_t *src,
				   host_t *dst, uint32_t id, cxtp_message_t *message)
{
	cxtp_test_sent_t *sent;

	INIT(sent,
		.reliable = reliable,
		.peer = strdupnull(peer),
		.src = src ? src->clone(src) : NULL,
		.dst = dst ? dst->clone(dst) : NULL,
		.id = id,
		.message = cxtp_test_message_copy(message),
	);
	array_insert(array, ARRAY_TAIL, sent);
}

static u_int count_sent(array_t *array, cxtp_message_type_t type)
{
	cxtp_test_sent_t *sent;
	u_int count = 0;
	int i;

	for (i = 0; i < array_count(array); i++)
	{
		array_get(array, i, &sent);
		if (!type || sent->message->get_type(sent->message) == type)
		{
			count++;
		}
	}
	return count;
}

static cxtp_test_sent_t *get_sent(array_t *array, cxtp_message_type_t type,
								  u_int n)
{
	cxtp_test_sent_t *sent, *found = NULL;
	int i;

	for (i = 0; i < array_count(array); i++)
	{
		array_get(array, i, &sent);
		if ((!type || sent->message->get_type(sent->message) == type) &&
			n-- == 0)
		{
			found = sent;
			break;
		}
	}
	ck_assert_msg(found, "no message of type %d sent", type);
	return found;
}

static bool has_id(array_t *array, uint32_t id)
{
	uint32_t current;
	bool found = FALSE;
	int i;

	for (i = 0; i < array_count(array); i++)
	{
		array_get(array, i, &current);
		found = found || current == id;
	}
	return found;
}

static void add_id(array_t *array, uint32_t id)
{
	array_insert(array, ARRAY_TAIL, &id);
}

METHOD(cxtp_transport_t, transport_send, bool,
	cxtp_test_transport_t *this, char *peer, cxtp_message_t *message)
{
	record(this->sent, FALSE, peer, NULL, NULL, 0, message);
	return TRUE;
}

METHOD(cxtp_transport_t, transport_send_reliable, bool,
	cxtp_test_transport_t *this, char *peer, cxtp_message_t *message,
	uint32_t id)
{
	if (this->fail)
	{
		return FALSE;
	}
	record(this->sent, TRUE, peer, NULL, NULL, id, message);
	if (this->corked)
	{
		cxtp_test_sent_t *sent;

		array_get(this->sent, ARRAY_TAIL, &sent);
		sent->corked = TRUE;
	}
	return TRUE;
}

METHOD(cxtp_transport_t, transport_cork, void,
	cxtp_test_transport_t *this, char *peer)
{
	this->corked++;
	this->corks++;
}

METHOD(cxtp_transport_t, transport_uncork, void,
	cxtp_test_transport_t *this, char *peer)
{
	ck_assert(this->corked);
	this->corked--;
}

METHOD(cxtp_transport_t, transport_acknowledge, void,
	cxtp_test_transport_t *this, uint32_t id)
{
	add_id(this->acked, id);
}

METHOD(cxtp_transport_t, transport_set_timeout_cb, void,
	cxtp_test_transport_t *this, cxtp_transport_timeout_cb_t cb, void *data)
{
	this->timeout = cb;
	this->timeout_data = data;
}

METHOD(cxtp_transport_t, transport_destroy, void,
	cxtp_test_transport_t *this)
{
	array_destroy_function(this->sent, (void*)sent_destroy, NULL);
	array_destroy(this->acked);
	free(this);
}

cxtp_test_transport_t *cxtp_test_transport_create()
{
	cxtp_test_transport_t *this;

	INIT(this,
		.transport = {
			.send = _transport_send,
			.send_reliable = _transport_send_reliable,
			.acknowledge = _transport_acknowledge,
			.cork = _transport_cork,
			.uncork = _transport_uncork,
			.set_timeout_cb = _transport_set_timeout_cb,
			.destroy = _transport_destroy,
		},
		.sent = array_create(0, 0),
		.acked = array_create(sizeof(uint32_t), 0),
	);
	return this;
}

cxtp_transport_t *cxtp_test_transport_constructor(void *data,
								cxtp_transport_receive_cb_t cb, void *cb_data)
{
	cxtp_test_transport_t *this = data;

	this->receive = cb;
	this->receive_data = cb_data;
	return &this->transport;
}

void cxtp_test_transport_deliver(cxtp_test_transport_t *this, char *peer,
								 cxtp_message_t *message)
{
	host_t *from;

	from = cxtp_test_host(streq(peer, "par") ? "203.0.113.1" : "203.0.113.2");

	this->receive(this->receive_data, peer, from, message);
	from->destroy(from);
}

u_int cxtp_test_transport_count(cxtp_test_transport_t *this,
								cxtp_message_type_t type)
{
	return count_sent(this->sent, type);
}

cxtp_test_sent_t *cxtp_test_transport_get(cxtp_test_transport_t *this,
										  cxtp_message_type_t type, u_int n)
{
	return get_sent(this->sent, type, n);
}

bool cxtp_test_transport_acked(cxtp_test_transport_t *this, uint32_t id)
{
	return has_id(this->acked, id);
}

METHOD(cxtp_icmp_t, icmp_send, bool,
	cxtp_test_icmp_t *this, host_t *src, host_t *dst, cxtp_message_t *message)
{
	if (this->fail)
	{
		return FALSE;
	}
	record(this->sent, FALSE, NULL, src, dst, 0, message);
	return TRUE;
}

METHOD(cxtp_icmp_t, icmp_send_reliable, bool,
	cxtp_test_icmp_t *this, host_t *src, host_t *dst, cxtp_message_t *message,
	uint32_t sequence)
{
	if (this->fail)
	{
		return FALSE;
	}
	record(this->sent, TRUE, NULL, src, dst, sequence, message);
	return TRUE;
}

METHOD(cxtp_icmp_t, icmp_acknowledge, bool,
	cxtp_test_icmp_t *this, uint32_t sequence)
{
	add_id(this->acked, sequence);
	return TRUE;
}

METHOD(cxtp_icmp_t, icmp_set_timeout_cb, void,
	cxtp_test_icmp_t *this, cxtp_icmp_timeout_cb_t cb, void *data)
{
	this->timeout = cb;
	this->timeout_data = data;
}

METHOD(cxtp_icmp_t, icmp_destroy, void,
	cxtp_test_icmp_t *this)
{
	array_destroy_function(this->sent, (void*)sent_destroy, NULL);
	array_destroy(this->acked);
	free(this);
}

cxtp_test_icmp_t *cxtp_test_icmp_create()
{
	cxtp_test_icmp_t *this;

	INIT(this,
		.icmp = {
			.send = _icmp_send,
			.send_reliable = _icmp_send_reliable,
			.acknowledge = _icmp_acknowledge,
			.set_timeout_cb = _icmp_set_timeout_cb,
			.destroy = _icmp_destroy,
		},
		.sent = array_create(0, 0),
		.acked = array_create(sizeof(uint32_t), 0),
	);
	return this;
}

cxtp_icmp_t *cxtp_test_icmp_constructor(void *data, cxtp_icmp_receive_cb_t cb,
										void *cb_data)
{
	cxtp_test_icmp_t *this = data;

	this->receive = cb;
	this->receive_data = cb_data;
	return &this->icmp;
}

void cxtp_test_icmp_deliver(cxtp_test_icmp_t *this, char *src, char *dst,
							cxtp_message_t *message)
{
	host_t *from = cxtp_test_host(src), *to = cxtp_test_host(dst);

	this->receive(this->receive_data, from, to, message);
	from->destroy(from);
	to->destroy(to);
}

u_int cxtp_test_icmp_count(cxtp_test_icmp_t *this, cxtp_message_type_t type)
{
	return count_sent(this->sent, type);
}

cxtp_test_sent_t *cxtp_test_icmp_get(cxtp_test_icmp_t *this,
									 cxtp_message_type_t type, u_int n)
{
	return get_sent(this->sent, type, n);
}

bool cxtp_test_icmp_acked(cxtp_test_icmp_t *this, uint32_t sequence)
{
	return has_id(this->acked, sequence);
}

void cxtp_test_event_cb(void *data, cxtp_event_t name, u_int ike_id, char *peer,
						host_t *mn, char *error)
{
	cxtp_test_event_t *event;

	INIT(event,
		.who = strdup(data),
		.name = strdup(enum_to_name(cxtp_event_names, name)),
		.ike_id = ike_id,
		.peer = strdupnull(peer),
		.mn = mn ? mn->clone(mn) : NULL,
		.error = strdupnull(error),
	);
	array_insert(events, ARRAY_TAIL, event);
}

u_int cxtp_test_events_count(char *who, char *name)
{
	cxtp_test_event_t *event;
	u_int count = 0;
	int i;

	for (i = 0; i < array_count(events); i++)
	{
		array_get(events, i, &event);
		if (streq(event->who, who) && streq(event->name, name))
		{
			count++;
		}
	}
	return count;
}

cxtp_test_event_t *cxtp_test_events_get(char *who, char *name, u_int n)
{
	cxtp_test_event_t *event, *found = NULL;
	int i;

	for (i = 0; i < array_count(events); i++)
	{
		array_get(events, i, &event);
		if (streq(event->who, who) && streq(event->name, name) && n-- == 0)
		{
			found = event;
			break;
		}
	}
	ck_assert_msg(found, "no '%s' event of %s", name, who);
	return found;
}

uint32_t cxtp_charon_transfers(cxtp_charon_t *this, u_int ike_id)
{
	ike_sa_t *ike_sa;
	uint32_t counter;

	ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager,
													ike_id);
	ck_assert(ike_sa);
	counter = this->transfers->get_transfers(this->transfers, ike_sa);
	charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
	return counter;
}

chunk_t cxtp_test_token_key_for(cxtp_charon_t *this, ike_sa_t *ike_sa,
								uint32_t counter)
{
	chunk_t key;

	ck_assert(this->transfers->derive_token_key(this->transfers, ike_sa,
												counter, &key));
	return key;
}

chunk_t cxtp_test_token_key(cxtp_charon_t *this, ike_sa_t *ike_sa)
{
	return cxtp_test_token_key_for(this, ike_sa,
						this->transfers->get_transfers(this->transfers, ike_sa));
}

cxtp_message_t *cxtp_test_mn_request(cxtp_charon_t *this,
									 cxtp_message_type_t type, char *ar,
									 uint32_t sequence, uint32_t token_seq,
									 bool ack, char *src, char *dst)
{
	cxtp_message_t *message;
	host_t *mn = cxtp_test_host(MN_OLD), *router, *from, *to;
	chunk_t key;
	uint32_t token;

	from = cxtp_test_host(src);
	to = cxtp_test_host(dst);
	message = cxtp_message_create(type, mn);
	if (ar)
	{
		router = cxtp_test_host(ar);
		ck_assert(message->set_ar_address(message, router));
		router->destroy(router);
	}
	if (type == CXTP_CTREQ)
	{
		ck_assert(message->set_ctar_addresses(message, from, to));
	}
	message->set_sequence(message, token_seq);
	message->set_ack(message, ack);
	key = cxtp_test_token_key(this, this->mn);
	/* forged: the token of another sequence number */
	ck_assert(message->sign_token(message, key, from, to));
	token = message->get_token(message);
	message->set_sequence(message, sequence);
	message->set_token(message, token);
	chunk_clear(&key);
	mn->destroy(mn);
	from->destroy(from);
	to->destroy(to);
	return message;
}

cxtp_test_ar_t *cxtp_test_ar_create(cxtp_charon_t *env, char *name)
{
	cxtp_test_ar_t *ar;
	cxtp_transport_t *transport;
	cxtp_icmp_t *icmp;

	INIT(ar,
		.transport = cxtp_test_transport_create(),
		.icmp = cxtp_test_icmp_create(),
		.pad = cxtp_pad_create(env->settings),
		.leases = cxtp_leases_create(),
	);
	charon->attributes->add_provider(charon->attributes, &ar->leases->provider);
	charon->bus->add_listener(charon->bus, &ar->leases->listener);
	ar->dispatcher = cxtp_dispatcher_create_with(env->settings, env->index,
								cxtp_test_icmp_constructor, ar->icmp,
								cxtp_test_transport_constructor, ar->transport);
	transport = ar->dispatcher->get_transport(ar->dispatcher);
	icmp = ar->dispatcher->get_icmp(ar->dispatcher);
	ck_assert(transport == &ar->transport->transport);
	ck_assert(icmp == &ar->icmp->icmp);
	ar->freeze = cxtp_freeze_create();
	ar->par = cxtp_par_create(env->capture, env->transfers, env->settings,
							  transport, ar->freeze, env->index);
	ar->nar = cxtp_nar_create(env->transfers, env->settings, transport, icmp,
							  ar->pad, ar->leases);
	ar->par->set_event_cb(ar->par, cxtp_test_event_cb, name);
	ar->nar->set_event_cb(ar->nar, cxtp_test_event_cb, name);
	charon->bus->add_listener(charon->bus, &ar->par->listener);
	charon->kernel->add_listener(charon->kernel, &ar->freeze->listener);
	charon->bus->add_listener(charon->bus, &ar->nar->listener);
	ar->dispatcher->set_roles(ar->dispatcher, ar->par, ar->nar, NULL);
	return ar;
}

void cxtp_test_ar_destroy(cxtp_test_ar_t *ar)
{
	charon->bus->remove_listener(charon->bus, &ar->par->listener);
	charon->kernel->remove_listener(charon->kernel, &ar->freeze->listener);
	charon->bus->remove_listener(charon->bus, &ar->nar->listener);
	ar->dispatcher->destroy(ar->dispatcher);
	ar->par->destroy(ar->par);
	ar->freeze->destroy(ar->freeze);
	ar->nar->destroy(ar->nar);
	ar->pad->destroy(ar->pad);
	charon->bus->remove_listener(charon->bus, &ar->leases->listener);
	charon->attributes->remove_provider(charon->attributes,
										&ar->leases->provider);
	ar->leases->destroy(ar->leases);
	free(ar);
}
