/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of proxy-d's stage driver (cmd/proxy-d/stage.c, linked in
 * by the Makefile's TEST_OBJS_test_proxy_stage) over stages of the
 * test's own: the order of starts and cancels, waits and their ends,
 * a done that comes inside its own start, a stage that answers, a
 * client that goes while a stage waits, and the record of each request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proxy.h"

/* What the test stages do when started. */
enum act {
	ACT_NEXT,
	ACT_WAIT,
	ACT_DONE_INSIDE,	/* stage_done(NEXT), then return WAIT */
	ACT_ANSWER,		/* end the request, return STOP */
};

static enum act	 acts[4];
static char	 trace[256];
static int	 completed;
static int	 records;
static struct request_record last_record;

static void	note(const char *, int);
static enum stage_result t_start(struct session *, int);
static enum stage_result t_start0(struct session *);
static enum stage_result t_start1(struct session *);
static enum stage_result t_start2(struct session *);
static enum stage_result t_start3(struct session *);
static void	t_cancel0(struct session *);
static void	t_cancel1(struct session *);
static void	t_cancel2(struct session *);
static void	t_cancel3(struct session *);
static void	record_hook(struct proxy *, const struct session *,
		    const struct request_record *);
static struct session *new_session(void);
static void	free_session(struct session *);
static int	setup(void **);
static void	test_all_next(void **);
static void	test_wait(void **);
static void	test_done_inside(void **);
static void	test_answer(void **);
static void	test_client_gone(void **);
static void	test_record(void **);

/* The stages proxy-d links in, unused here: the test has its own. */
const struct stage stage_authz = { "authz", t_start0, NULL, 0 };
const struct stage stage_route = { "route", t_start0, NULL, 0 };
const struct stage stage_fault = { "fault", t_start0, NULL, 0 };
const struct stage stage_direct = { "direct", t_start0, NULL, 0 };
const struct stage stage_cluster = { "cluster", t_start0, NULL, 0 };
const struct stage stage_upstream = { "upstream", t_start0, NULL, 1 };
const struct stage stage_response = { "response", t_start0, NULL, 1 };

static const struct stage t0 = { "t0", t_start0, t_cancel0, 0 };
static const struct stage t1 = { "t1", t_start1, t_cancel1, 0 };
static const struct stage t2 = { "t2", t_start2, t_cancel2, 1 };
static const struct stage t3 = { "t3", t_start3, t_cancel3, 1 };
static const struct stage *const tlist[] = { &t0, &t1, &t2, &t3 };
static const struct pipeline tpipe = { tlist, 4 };

/* session.c's, stubbed: a stage holds the request back. */
void
session_hold(struct session *s)
{
	note("hold", -1);
}

/* session.c's, stubbed: the request is complete. */
void
session_complete(struct session *s)
{
	completed++;
	note("complete", -1);
}

static void
note(const char *what, int i)
{
	char	 buf[32];

	if (i >= 0)
		snprintf(buf, sizeof(buf), "%s%d ", what, i);
	else
		snprintf(buf, sizeof(buf), "%s ", what);
	strncat(trace, buf, sizeof(trace) - strlen(trace) - 1);
}

static enum stage_result
t_start(struct session *s, int i)
{
	note("start", i);
	switch (acts[i]) {
	case ACT_NEXT:
		return STAGE_NEXT;
	case ACT_WAIT:
		return STAGE_WAIT;
	case ACT_DONE_INSIDE:
		stage_done(s, STAGE_NEXT);
		return STAGE_WAIT;
	case ACT_ANSWER:
		s->status = 403;
		stage_end(s);
		return STAGE_STOP;
	}
	return STAGE_STOP;
}

static enum stage_result
t_start0(struct session *s)
{
	return t_start(s, 0);
}

static enum stage_result
t_start1(struct session *s)
{
	return t_start(s, 1);
}

static enum stage_result
t_start2(struct session *s)
{
	return t_start(s, 2);
}

static enum stage_result
t_start3(struct session *s)
{
	return t_start(s, 3);
}

static void
t_cancel0(struct session *s)
{
	note("cancel", 0);
}

static void
t_cancel1(struct session *s)
{
	note("cancel", 1);
}

static void
t_cancel2(struct session *s)
{
	note("cancel", 2);
}

static void
t_cancel3(struct session *s)
{
	note("cancel", 3);
}

static void
record_hook(struct proxy *p, const struct session *s,
    const struct request_record *r)
{
	records++;
	last_record = *r;
	note("record", -1);
}

static struct session *
new_session(void)
{
	struct proxy	*p = calloc(1, sizeof(*p));
	struct session	*s = calloc(1, sizeof(*s));

	assert_non_null(p);
	assert_non_null(s);
	p->pipeline = &tpipe;
	s->proxy = p;
	strcpy(s->client_addr, "127.0.0.1:5000");
	return s;
}

static void
free_session(struct session *s)
{
	free(s->proxy);
	free(s);
}

static int
setup(void **state)
{
	size_t	 i;

	for (i = 0; i < 4; i++)
		acts[i] = ACT_NEXT;
	trace[0] = '\0';
	completed = 0;
	records = 0;
	memset(&last_record, 0, sizeof(last_record));
	return 0;
}

static void
test_all_next(void **state)
{
	struct session	*s = new_session();

	stage_begin(s);
	assert_string_equal(trace, "start0 start1 start2 start3 cancel3 "
	    "cancel2 cancel1 cancel0 complete ");
	assert_int_equal(completed, 1);
	assert_int_equal(s->run.state, STAGE_IDLE);
	assert_string_equal(stage_name(s), "none");
	/* a second end changes nothing */
	stage_end(s);
	assert_int_equal(completed, 1);
	free_session(s);
}

static void
test_wait(void **state)
{
	struct session	*s = new_session();

	acts[1] = ACT_WAIT;
	acts[2] = ACT_WAIT;
	stage_begin(s);
	assert_string_equal(trace, "start0 start1 hold ");
	assert_true(stage_waiting(s));
	assert_string_equal(stage_name(s), "t1");
	/* a stage that holds the request back: the client is not read */
	assert_int_equal(s->state, SESSION_WAIT);
	stage_done(s, STAGE_NEXT);
	assert_string_equal(trace, "start0 start1 hold start2 ");
	/* a stage that streams the body: forwarding */
	assert_int_equal(s->state, SESSION_FORWARD);
	assert_string_equal(stage_name(s), "t2");
	stage_done(s, STAGE_NEXT);
	assert_string_equal(trace, "start0 start1 hold start2 start3 "
	    "cancel3 cancel2 cancel1 cancel0 complete ");
	assert_int_equal(completed, 1);
	free_session(s);
}

static void
test_done_inside(void **state)
{
	struct session	*s = new_session();

	/* a cached answer: done comes before the start returns */
	acts[0] = ACT_DONE_INSIDE;
	acts[1] = ACT_DONE_INSIDE;
	stage_begin(s);
	assert_string_equal(trace, "start0 start1 start2 start3 cancel3 "
	    "cancel2 cancel1 cancel0 complete ");
	assert_int_equal(completed, 1);
	free_session(s);
}

static void
test_answer(void **state)
{
	struct session	*s = new_session();

	/* a stage answers: the later ones never start, nor complete */
	acts[1] = ACT_ANSWER;
	stage_begin(s);
	assert_string_equal(trace, "start0 start1 cancel1 cancel0 ");
	assert_int_equal(completed, 0);
	assert_int_equal(s->run.state, STAGE_IDLE);
	free_session(s);
}

static void
test_client_gone(void **state)
{
	struct session	*s = new_session();

	acts[2] = ACT_WAIT;
	stage_begin(s);
	assert_string_equal(trace, "start0 start1 start2 ");
	/* the client goes while t2 waits */
	stage_end(s);
	assert_string_equal(trace, "start0 start1 start2 cancel2 cancel1 "
	    "cancel0 ");
	/* the answer it waited for comes late: nothing happens */
	stage_done(s, STAGE_NEXT);
	assert_string_equal(trace, "start0 start1 start2 cancel2 cancel1 "
	    "cancel0 ");
	assert_int_equal(completed, 0);
	free_session(s);
}

static void
test_record(void **state)
{
	struct session	*s = new_session();

	s->proxy->hooks.request_done = record_hook;
	s->req.method = STR_LIT("GET");
	s->req.path = STR_LIT("/x");
	s->bytes_in = 40;
	s->bytes_out = 100;
	strcpy(s->request_id, "rid");
	strcpy(s->flags, "UAEX");
	acts[0] = ACT_ANSWER;
	stage_begin(s);
	assert_int_equal(records, 1);
	assert_string_equal(trace, "start0 cancel0 record ");
	assert_int_equal(last_record.status, 403);
	assert_int_equal(last_record.bytes_in, 40);
	assert_int_equal(last_record.bytes_out, 100);
	assert_int_equal(last_record.method_len, 3);
	assert_memory_equal(last_record.method, "GET", 3);
	assert_string_equal(last_record.flags, "UAEX");
	assert_string_equal(last_record.client, "127.0.0.1:5000");
	assert_string_equal(last_record.endpoint, "");
	assert_string_equal(last_record.peer_identity, "");
	assert_int_equal(last_record.request_id_len, 3);

	/* one record per request, whatever ends it */
	setup(NULL);
	acts[3] = ACT_WAIT;
	stage_begin(s);
	stage_end(s);
	stage_end(s);
	assert_int_equal(records, 1);
	free_session(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_all_next, setup),
		cmocka_unit_test_setup(test_wait, setup),
		cmocka_unit_test_setup(test_done_inside, setup),
		cmocka_unit_test_setup(test_answer, setup),
		cmocka_unit_test_setup(test_client_gone, setup),
		cmocka_unit_test_setup(test_record, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
