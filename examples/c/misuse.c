/*
 * Misuse test of the C ABI: NULL handles and strings, invalid UTF-8, options out of
 * range, callbacks that stop, cancel or re-enter, a session used after its model was
 * freed, many sessions on one model in parallel threads, and finally a panic inside
 * the library (which poisons it; only a library built with -tags dllmtest has the
 * function that panics, so against another that part is skipped). Hostile files too: a FIFO as the model or as its
 * config.json (an error, not a hang), a malformed config (FORMAT, and the library stays
 * healthy), a weights file truncated after loading (IO at the next call, not SIGBUS).
 * Every misuse must return a status and a message, never crash; run it under
 * AddressSanitizer or valgrind.
 *
 *   misuse [MODEL]      (default testdata/llada2-micro/hf)
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, mkfifo, realpath, truncate */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "dllm.h"
#include "dllm_test.h"

static int passed, failed;

#define EXPECT(cond)                                                                  \
	do {                                                                              \
		if (cond) {                                                                   \
			passed++;                                                                 \
		} else {                                                                      \
			failed++;                                                                 \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);       \
		}                                                                             \
	} while (0)

/* EXPECT_STATUS checks a status and that the calling thread's last error explains it. */
#define EXPECT_STATUS(call, want)                                                     \
	do {                                                                              \
		dllm_status got_ = (call);                                                    \
		if (got_ == (want)) {                                                         \
			passed++;                                                                 \
			if ((want) != DLLM_STATUS_OK) {                                           \
				char m_[256] = "";                                                    \
				dllm_last_errmsg(m_, sizeof m_);                                      \
				EXPECT(m_[0] != 0);                                                   \
			}                                                                         \
		} else {                                                                      \
			failed++;                                                                 \
			char m_[256] = "";                                                        \
			dllm_last_errmsg(m_, sizeof m_);                                          \
			fprintf(stderr, "%s:%d: FAILED: %s = %s, want %s (%s)\n", __FILE__,       \
			        __LINE__, #call, dllm_status_string(got_),                        \
			        dllm_status_string(want), m_);                                    \
		}                                                                             \
	} while (0)

static dllm_generate_params small_params(void) {
	dllm_generate_params p = {.struct_size = sizeof p};
	dllm_generate_default_params(&p);
	p.max_tokens = 16;
	p.block_length = 8;
	p.steps = 8;
	return p;
}

static void test_no_model(void) {
	EXPECT(dllm_version() == DLLM_VERSION_NUMBER);
	EXPECT(strcmp(dllm_status_string(DLLM_STATUS_OK), "OK") == 0);
	EXPECT(strcmp(dllm_status_string(DLLM_STATUS_INTERNAL), "INTERNAL") == 0);
	EXPECT(strcmp(dllm_status_string(-1), "UNKNOWN") == 0);
	EXPECT(strcmp(dllm_status_string(1000), "UNKNOWN") == 0);
	EXPECT(strcmp(dllm_stop_reason_string(DLLM_STOP_LENGTH), "gen_length") == 0);
	EXPECT(strcmp(dllm_stop_reason_string(DLLM_STOP_CANCELLED), "cancelled") == 0);
	EXPECT(strcmp(dllm_stop_reason_string(-1), "unknown") == 0);
	EXPECT(strcmp(dllm_stop_reason_string(DLLM_STOP_CANCELLED + 1), "unknown") == 0);

	/* Freeing NULL is a no-op. */
	dllm_free(NULL);
	dllm_result_free(NULL);
	dllm_session_free(NULL);
	dllm_model_free(NULL);

	/* Params. */
	EXPECT_STATUS(dllm_generate_default_params(NULL), DLLM_STATUS_INVALID_ARGUMENT);
	dllm_generate_params zero;
	memset(&zero, 0, sizeof zero);
	EXPECT_STATUS(dllm_generate_default_params(&zero), DLLM_STATUS_INVALID_ARGUMENT);
	dllm_generate_params p = {.struct_size = sizeof p};
	EXPECT_STATUS(dllm_generate_quality_params(&p), DLLM_STATUS_OK);
	EXPECT(p.threshold == 0.7 && p.edit_threshold == 0.5 && p.struct_size == sizeof p);
	EXPECT_STATUS(dllm_generate_speed_params(&p), DLLM_STATUS_OK);
	EXPECT(p.threshold == 0.5 && p.edit_threshold == 0);
	EXPECT_STATUS(dllm_generate_default_params(&p), DLLM_STATUS_OK);
	EXPECT(p.max_tokens == 2048 && p.block_length == 32 && p.edit_threshold < 0);
	/* A caller compiled against an older, shorter struct gets only its fields written. */
	unsigned char older[sizeof(size_t) + 8];
	memset(older, 0xab, sizeof older);
	*(size_t *)older = sizeof(size_t) + 4;
	EXPECT_STATUS(dllm_generate_default_params((dllm_generate_params *)older), DLLM_STATUS_OK);
	EXPECT(((int32_t *)(older + sizeof(size_t)))[0] == 2048 && older[sizeof(size_t) + 4] == 0xab);
	EXPECT_STATUS(dllm_load_default_params(NULL), DLLM_STATUS_INVALID_ARGUMENT);
	dllm_load_params lp = {.struct_size = sizeof lp};
	EXPECT_STATUS(dllm_load_default_params(&lp), DLLM_STATUS_OK);
	EXPECT(lp.threads == 0 && lp.kv_cache_f16 == 0 && lp.no_repack == 0);

	/* Loading. */
	dllm_model *m = (dllm_model *)1;
	EXPECT_STATUS(dllm_model_load(NULL, NULL, &m), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(m == NULL);
	EXPECT_STATUS(dllm_model_load("testdata/llada2-micro/hf", NULL, NULL),
	              DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_model_load("/nonexistent/model", NULL, &m), DLLM_STATUS_IO);
	EXPECT(m == NULL);
	char msg[256];
	EXPECT_STATUS(dllm_last_errmsg(msg, sizeof msg), DLLM_STATUS_OK);
	EXPECT(strstr(msg, "nonexistent") != NULL);
	EXPECT_STATUS(dllm_model_load("bad\xff\xfepath", NULL, &m), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_model_load("examples/c/misuse.c", NULL, &m), DLLM_STATUS_FORMAT);
	dllm_model_free(m); /* NULL unless the test above failed */
	m = NULL;
	lp.threads = -1;
	EXPECT_STATUS(dllm_model_load("testdata/llada2-micro/hf", &lp, &m),
	              DLLM_STATUS_INVALID_ARGUMENT);
	lp.threads = INT32_MAX;
	EXPECT_STATUS(dllm_model_load("testdata/llada2-micro/hf", &lp, &m),
	              DLLM_STATUS_INVALID_ARGUMENT);
	lp.struct_size = 0;
	EXPECT_STATUS(dllm_model_load("testdata/llada2-micro/hf", &lp, &m),
	              DLLM_STATUS_INVALID_ARGUMENT);

	/* Error messages. */
	EXPECT_STATUS(dllm_last_errmsg(NULL, 10), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_last_errmsg(msg, 0), DLLM_STATUS_INVALID_ARGUMENT);
	char tiny[4] = "xxx";
	EXPECT(dllm_last_errmsg(tiny, sizeof tiny) == DLLM_STATUS_BUFFER_TOO_SMALL);
	EXPECT(strlen(tiny) == 3);
	EXPECT(dllm_model_errmsg(NULL, msg, sizeof msg) == DLLM_STATUS_OK);
	EXPECT(strstr(msg, "invalid model") != NULL);
	EXPECT(dllm_session_errmsg(NULL, msg, sizeof msg) == DLLM_STATUS_OK);
	EXPECT(strstr(msg, "invalid session") != NULL);

	/* NULL handles. */
	dllm_model_info info = {.struct_size = sizeof info};
	EXPECT_STATUS(dllm_model_get_info(NULL, &info), DLLM_STATUS_INVALID_ARGUMENT);
	size_t n = 0;
	EXPECT_STATUS(dllm_tokenize(NULL, "x", 0, NULL, 0, &n), DLLM_STATUS_INVALID_ARGUMENT);
	char *text = NULL;
	EXPECT_STATUS(dllm_detokenize(NULL, NULL, 0, &text, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	dllm_session *s = (dllm_session *)1;
	EXPECT_STATUS(dllm_session_new(NULL, &s), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(s == NULL);
	dllm_result *r = (dllm_result *)1;
	EXPECT_STATUS(dllm_session_generate(NULL, "x", NULL, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(r == NULL);
	EXPECT_STATUS(dllm_session_chat(NULL, "x", NULL, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_set_system(NULL, "x"), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_reset(NULL), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_cancel(NULL), DLLM_STATUS_INVALID_ARGUMENT);
}

static void test_model(dllm_model *m) {
	dllm_model_info info = {.struct_size = sizeof info};
	EXPECT_STATUS(dllm_model_get_info(m, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	char msg[256];
	EXPECT(dllm_model_errmsg(m, msg, sizeof msg) == DLLM_STATUS_OK && strstr(msg, "info") != NULL);
	info.struct_size = 0;
	EXPECT_STATUS(dllm_model_get_info(m, &info), DLLM_STATUS_INVALID_ARGUMENT);
	info.struct_size = sizeof info;
	EXPECT_STATUS(dllm_model_get_info(m, &info), DLLM_STATUS_OK);
	EXPECT(info.vocab_size > 0 && info.mask_id > 0 && info.eos_id > 0 && info.layers > 0);

	/* Tokenizer. */
	size_t n = 0;
	EXPECT_STATUS(dllm_tokenize(m, NULL, 0, NULL, 0, &n), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_tokenize(m, "hello", 0, NULL, 0, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_tokenize(m, "caf\xc3", 0, NULL, 0, &n), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_tokenize(m, "hello world", 0, NULL, 0, &n),
	              DLLM_STATUS_BUFFER_TOO_SMALL);
	EXPECT(n > 0);
	int32_t ids[64];
	size_t n2 = 0;
	EXPECT_STATUS(dllm_tokenize(m, "hello world", 0, ids, 64, &n2), DLLM_STATUS_OK);
	EXPECT(n2 == n);
	char *text = NULL;
	size_t len = 0;
	EXPECT_STATUS(dllm_detokenize(m, ids, n2, &text, &len), DLLM_STATUS_OK);
	EXPECT(text != NULL && strcmp(text, "hello world") == 0 && len == 11);
	dllm_free(text);
	int32_t bad[2] = {1, info.vocab_size};
	EXPECT_STATUS(dllm_detokenize(m, bad, 2, &text, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(text == NULL);
	EXPECT_STATUS(dllm_detokenize(m, NULL, 3, &text, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_detokenize(m, ids, n2, NULL, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	int32_t special[1] = {info.mask_id};
	EXPECT_STATUS(dllm_detokenize(m, special, 1, &text, NULL), DLLM_STATUS_OK);
	dllm_free(text);
}

static void test_options(dllm_session *s, const dllm_model_info *info) {
	dllm_result *r = NULL;
	dllm_generate_params p;
#define BAD_OPTION(field, value)                                                       \
	do {                                                                               \
		p = small_params();                                                            \
		p.field = value;                                                               \
		EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &r),                       \
		              DLLM_STATUS_INVALID_ARGUMENT);                                   \
		EXPECT(r == NULL);                                                             \
	} while (0)
	BAD_OPTION(max_tokens, 0);
	BAD_OPTION(max_tokens, -5);
	BAD_OPTION(max_tokens, INT32_MAX);
	BAD_OPTION(max_tokens, INT32_MIN);
	BAD_OPTION(max_tokens, info->context_length);
	BAD_OPTION(block_length, 0);
	BAD_OPTION(block_length, -1);
	BAD_OPTION(block_length, 513); /* longer than one forward holds */
	BAD_OPTION(block_length, info->context_length + 1);
	BAD_OPTION(block_length, INT32_MAX);
	BAD_OPTION(block_length, INT32_MIN);
	BAD_OPTION(steps, -1);
	BAD_OPTION(steps, 65537);
	BAD_OPTION(steps, INT32_MAX);
	BAD_OPTION(max_post_steps, 65537);
	BAD_OPTION(max_post_steps, INT32_MAX);
	BAD_OPTION(num_to_transfer, INT32_MIN);
	BAD_OPTION(top_k, INT32_MIN);
	BAD_OPTION(threshold, 1.5);
	BAD_OPTION(threshold, NAN);
	BAD_OPTION(edit_threshold, 2);
	BAD_OPTION(edit_threshold, NAN);
	BAD_OPTION(max_post_steps, -1);
	BAD_OPTION(num_to_transfer, 0);
	BAD_OPTION(temperature, -1);
	BAD_OPTION(temperature, NAN);
	BAD_OPTION(temperature, INFINITY);
	BAD_OPTION(top_k, -3);
	BAD_OPTION(top_p, 0);
	BAD_OPTION(top_p, 1.5);
	BAD_OPTION(struct_size, 0);
	char msg[256];
	EXPECT(dllm_session_errmsg(s, msg, sizeof msg) == DLLM_STATUS_OK && strlen(msg) > 0);
#undef BAD_OPTION
}

static void test_arguments(dllm_session *s, const dllm_model_info *info) {
	dllm_generate_params p = small_params();
	dllm_result *r = NULL;
	EXPECT_STATUS(dllm_session_generate(s, NULL, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_generate(s, "\xc0\xaf invalid", &p, &r),
	              DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_chat(s, "\xed\xa0\x80 surrogate", &p, &r),
	              DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_chat(s, NULL, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_set_system(s, "\xff"), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_set_system(s, NULL), DLLM_STATUS_OK);

	int32_t ids[3] = {1, 2, 3};
	EXPECT_STATUS(dllm_session_generate_ids(s, NULL, 3, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_generate_ids(s, ids, 0, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	ids[1] = -1;
	EXPECT_STATUS(dllm_session_generate_ids(s, ids, 3, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	ids[1] = info->vocab_size;
	EXPECT_STATUS(dllm_session_generate_ids(s, ids, 3, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	ids[1] = info->mask_id; /* a mask in the prompt would be overwritten unreported */
	EXPECT_STATUS(dllm_session_generate_ids(s, ids, 3, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_generate(s, "fill <|mask|> in", &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(r == NULL);
	/* A prompt longer than the context: rejected, not a crash. */
	size_t n_long = (size_t)info->context_length + 1;
	int32_t *long_ids = calloc(n_long, sizeof *long_ids);
	EXPECT_STATUS(dllm_session_generate_ids(s, long_ids, n_long, &p, &r),
	              DLLM_STATUS_INVALID_ARGUMENT);
	/* Long, within the context, but no room left for max_tokens: rejected up front. */
	p.max_tokens = 64;
	EXPECT_STATUS(dllm_session_generate_ids(s, long_ids, n_long - 32, &p, &r),
	              DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(r == NULL);
	free(long_ids);
	p = small_params();

	/* Roles are the chat template's: it names an unknown one, and "tool" is known but
	 * needs a template with tool turns, which this model's lacks. */
	char msg[256];
	dllm_message msgs[2] = {{"user", "hi"}, {"wizard", "abracadabra"}};
	EXPECT_STATUS(dllm_session_generate_chat(s, msgs, 2, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(dllm_session_errmsg(s, msg, sizeof msg) == DLLM_STATUS_OK &&
	       strstr(msg, "unknown role") != NULL);
	msgs[1].role = "tool";
	EXPECT_STATUS(dllm_session_generate_chat(s, msgs, 2, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(dllm_session_errmsg(s, msg, sizeof msg) == DLLM_STATUS_OK &&
	       strstr(msg, "no tool (OBSERVATION) turns") != NULL);
	EXPECT_STATUS(dllm_session_generate_chat(s, msgs, 0, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT_STATUS(dllm_session_generate_chat(s, NULL, 1, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	msgs[1].role = NULL;
	EXPECT_STATUS(dllm_session_generate_chat(s, msgs, 2, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	msgs[1].role = "assistant";
	msgs[1].content = NULL;
	EXPECT_STATUS(dllm_session_generate_chat(s, msgs, 2, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	msgs[1].content = "\xe2\x82";
	EXPECT_STATUS(dllm_session_generate_chat(s, msgs, 2, &p, &r), DLLM_STATUS_INVALID_ARGUMENT);
	EXPECT(r == NULL);
}

static pthread_t main_thread;
static int callbacks_on_other_threads;

struct stopper {
	int calls;
	int stop_after;
	dllm_session *session;
	dllm_model *model_to_free;
	dllm_status reentrant;
	int action; /* 0 stop, 1 cancel, 2 re-enter, 3 free the model */
};

static int stopping_step(const dllm_step_event *ev, void *user_data) {
	struct stopper *st = user_data;
	(void)ev;
	if (!pthread_equal(pthread_self(), main_thread)) {
		callbacks_on_other_threads++;
	}
	if (++st->calls < st->stop_after) {
		return 0;
	}
	switch (st->action) {
	case 1:
		dllm_session_cancel(st->session);
		return 0;
	case 2: {
		dllm_result *r = NULL;
		st->reentrant = dllm_session_generate(st->session, "again", NULL, &r);
		dllm_result_free(r);
		return 1;
	}
	case 3:
		dllm_model_free(st->model_to_free);
		st->model_to_free = NULL;
		return 0;
	}
	return 1;
}

static int stopping_text(const char *utf8, size_t len, void *user_data) {
	struct stopper *st = user_data;
	EXPECT(utf8[len] == 0 && strlen(utf8) == len);
	if (!pthread_equal(pthread_self(), main_thread)) {
		callbacks_on_other_threads++;
	}
	return ++st->calls >= st->stop_after;
}

static void test_callbacks(dllm_session *s) {
	dllm_generate_params p = small_params();
	dllm_result *r = NULL;

	struct stopper st = {0, 2, s, NULL, 0, 0};
	p.on_step = stopping_step;
	p.step_user_data = &st;
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &r), DLLM_STATUS_STOPPED);
	EXPECT(r != NULL && r->stop == DLLM_STOP_CALLBACK && strcmp(r->stop_reason, "stopped") == 0 &&
	       st.calls == 2);
	EXPECT(r != NULL && r->stats.forwards <= 3);
	dllm_result_free(r);
	r = NULL;
	char msg[256];
	EXPECT(dllm_session_errmsg(s, msg, sizeof msg) == DLLM_STATUS_OK && strlen(msg) > 0);

	p = small_params();
	p.eos_early_stop = 0;
	struct stopper tx = {0, 1, s, NULL, 0, 0};
	p.on_text = stopping_text;
	p.text_user_data = &tx;
	dllm_status got = dllm_session_generate(s, "hello", &p, &r);
	/* Stopped at the first text, or OK if the model never produced any. */
	EXPECT(got == DLLM_STATUS_STOPPED || (got == DLLM_STATUS_OK && tx.calls == 0));
	EXPECT(r != NULL);
	dllm_result_free(r);
	r = NULL;

	/* Cancel from inside a callback. */
	p = small_params();
	struct stopper cancel = {0, 1, s, NULL, 0, 1};
	p.on_step = stopping_step;
	p.step_user_data = &cancel;
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &r), DLLM_STATUS_CANCELLED);
	EXPECT(r != NULL && r->stop == DLLM_STOP_CANCELLED && strcmp(r->stop_reason, "cancelled") == 0);
	dllm_result_free(r);
	r = NULL;
	/* Cancelling an idle session is fine. */
	EXPECT_STATUS(dllm_session_cancel(s), DLLM_STATUS_OK);

	/* Re-entering the same session from its own callback is refused. */
	struct stopper again = {0, 1, s, NULL, 0, 2};
	p.step_user_data = &again;
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &r), DLLM_STATUS_STOPPED);
	EXPECT(again.reentrant == DLLM_STATUS_BUSY);
	dllm_result_free(r);
	r = NULL;

	/* Callbacks ran on the calling thread. */
	EXPECT(callbacks_on_other_threads == 0);

	/* An empty prompt is an invalid argument. */
	p = small_params();
	EXPECT_STATUS(dllm_session_generate(s, "", &p, &r), DLLM_STATUS_INVALID_ARGUMENT);

	/* The session still works. */
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &r), DLLM_STATUS_OK);
	EXPECT(r != NULL && r->n_tokens > 0 && r->n_tokens <= 16 && r->text != NULL);
	EXPECT(r != NULL && r->struct_size == sizeof *r && r->stats.forwards > 0);
	dllm_result_free(r);
}

struct worker {
	dllm_model *model;
	const int32_t *want;
	size_t n_want;
	int ok;
};

static void *worker_main(void *arg) {
	struct worker *w = arg;
	dllm_session *s = NULL;
	if (dllm_session_new(w->model, &s) != DLLM_STATUS_OK) {
		return NULL;
	}
	dllm_generate_params p = small_params();
	for (int i = 0; i < 2; i++) {
		dllm_result *r = NULL;
		if (dllm_session_generate(s, "hello", &p, &r) == DLLM_STATUS_OK &&
		    r->n_tokens == w->n_want &&
		    memcmp(r->tokens, w->want, w->n_want * sizeof(int32_t)) == 0) {
			w->ok++;
		}
		dllm_result_free(r);
	}
	dllm_session_free(s);
	return NULL;
}

static void test_threads(dllm_model *m, dllm_session *s) {
	dllm_generate_params p = small_params();
	dllm_result *want = NULL;
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &want), DLLM_STATUS_OK);
	if (want == NULL) {
		return;
	}
	enum { N = 4 };
	pthread_t th[N];
	struct worker w[N];
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){m, want->tokens, want->n_tokens, 0};
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		EXPECT(w[i].ok == 2);
	}
	dllm_result_free(want);
}

static void test_model_freed(const char *path) {
	dllm_model *m = NULL;
	dllm_session *s = NULL, *s2 = NULL;
	EXPECT_STATUS(dllm_model_load(path, NULL, &m), DLLM_STATUS_OK);
	EXPECT_STATUS(dllm_session_new(m, &s), DLLM_STATUS_OK);
	EXPECT_STATUS(dllm_session_new(m, &s2), DLLM_STATUS_OK);

	/* Freeing the model from inside a callback of one of its sessions cancels it. */
	dllm_generate_params p = small_params();
	struct stopper fr = {0, 1, s, m, 0, 3};
	p.on_step = stopping_step;
	p.step_user_data = &fr;
	dllm_result *r = NULL;
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &r), DLLM_STATUS_CANCELLED);
	dllm_result_free(r);
	r = NULL;

	/* Its sessions now report CLOSED, with a message. */
	p = small_params();
	EXPECT_STATUS(dllm_session_generate(s, "hello", &p, &r), DLLM_STATUS_CLOSED);
	EXPECT(r == NULL);
	EXPECT_STATUS(dllm_session_generate(s2, "hello", &p, &r), DLLM_STATUS_CLOSED);
	EXPECT_STATUS(dllm_session_chat(s2, "hello", &p, &r), DLLM_STATUS_CLOSED);
	EXPECT_STATUS(dllm_session_reset(s2), DLLM_STATUS_CLOSED);
	EXPECT_STATUS(dllm_session_set_system(s2, "x"), DLLM_STATUS_CLOSED);
	char msg[256];
	EXPECT(dllm_session_errmsg(s2, msg, sizeof msg) == DLLM_STATUS_OK);
	EXPECT(strstr(msg, "model was freed") != NULL);
	dllm_session_free(s);
	dllm_session_free(s2);
}

/* A generation running in one thread while another thread frees the model. */
struct racer {
	dllm_session *session;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started;
	dllm_status status;
};

static int racer_step(const dllm_step_event *ev, void *user_data) {
	struct racer *r = user_data;
	(void)ev;
	pthread_mutex_lock(&r->mu);
	r->started = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void *racer_main(void *arg) {
	struct racer *r = arg;
	dllm_generate_params p = small_params();
	p.max_tokens = 512;
	p.on_step = racer_step;
	p.step_user_data = r;
	dllm_result *res = NULL;
	r->status = dllm_session_generate(r->session, "hello", &p, &res);
	dllm_result_free(res);
	return NULL;
}

static void test_free_model_while_generating(const char *path) {
	dllm_model *m = NULL;
	struct racer r = {NULL, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1};
	EXPECT_STATUS(dllm_model_load(path, NULL, &m), DLLM_STATUS_OK);
	EXPECT_STATUS(dllm_session_new(m, &r.session), DLLM_STATUS_OK);
	pthread_t th;
	pthread_create(&th, NULL, racer_main, &r);
	pthread_mutex_lock(&r.mu);
	while (!r.started) {
		pthread_cond_wait(&r.cv, &r.mu);
	}
	pthread_mutex_unlock(&r.mu);
	dllm_model_free(m);
	pthread_join(th, NULL);
	/* Cancelled, unless it finished before the free. */
	printf("misuse: generation when its model was freed from another thread: %s\n",
	       dllm_status_string(r.status));
	EXPECT(r.status == DLLM_STATUS_CANCELLED || r.status == DLLM_STATUS_OK);
	dllm_result *res = NULL;
	EXPECT_STATUS(dllm_session_generate(r.session, "hello", NULL, &res), DLLM_STATUS_CLOSED);
	dllm_session_free(r.session);
}

/* The files of a Hugging Face model directory. */
static const char *model_files[] = {"config.json", "model.safetensors", "tokenizer.json",
                                    "tokenizer_config.json"};
enum { N_MODEL_FILES = sizeof model_files / sizeof model_files[0] };

static char *read_all(const char *path, size_t *len) {
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	b[*len] = 0;
	fclose(f);
	return b;
}

static int write_all(const char *path, const char *b, size_t len) {
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		return -1;
	}
	size_t n = fwrite(b, 1, len, f);
	return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Makes dir/name a copy of the model directory src: each file a symlink to the
 * original, except `copy` (copied, so it can be truncated) and `skip` (left out). */
static void model_dir(const char *src, const char *dir, const char *name, const char *skip,
                      const char *copy, char *out, size_t n) {
	snprintf(out, n, "%s/%s", dir, name);
	mkdir(out, 0755);
	for (int i = 0; i < N_MODEL_FILES; i++) {
		const char *f = model_files[i];
		char from[4096], to[4096], real[PATH_MAX];
		snprintf(from, sizeof from, "%s/%s", src, f);
		snprintf(to, sizeof to, "%s/%s", out, f);
		if ((skip != NULL && strcmp(f, skip) == 0) || realpath(from, real) == NULL) {
			continue;
		}
		if (copy != NULL && strcmp(f, copy) == 0) {
			size_t len = 0;
			char *b = read_all(real, &len);
			EXPECT(b != NULL && write_all(to, b, len) == 0);
			free(b);
		} else {
			EXPECT(symlink(real, to) == 0);
		}
	}
}

/* Expects the calling thread's last error to mention s. */
static void expect_message(const char *s) {
	char msg[1024] = "";
	dllm_last_errmsg(msg, sizeof msg);
	if (strstr(msg, s) == NULL) {
		failed++;
		fprintf(stderr, "FAILED: message %s does not mention %s\n", msg, s);
	} else {
		passed++;
	}
}

static void test_hostile_files(const char *path) {
	char dir[] = "/tmp/dllm-misuse-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		failed++;
		return;
	}
	char p[4096], model[1024];
	dllm_model *m = NULL;

	/* A FIFO named like a model, and a FIFO as config.json: errors, not a hang. */
	snprintf(p, sizeof p, "%s/x.gguf", dir);
	EXPECT(mkfifo(p, 0644) == 0);
	EXPECT_STATUS(dllm_model_load(p, NULL, &m), DLLM_STATUS_FORMAT);
	expect_message(p);
	model_dir(path, dir, "fifo-config", "config.json", NULL, model, sizeof model);
	snprintf(p, sizeof p, "%s/config.json", model);
	EXPECT(mkfifo(p, 0644) == 0);
	EXPECT_STATUS(dllm_model_load(model, NULL, &m), DLLM_STATUS_FORMAT);
	expect_message(p);
	EXPECT(m == NULL);

	/* A config whose context (2^62) overflows the size of the RoPE tables: FORMAT, not
	 * a recovered panic that poisons the library... */
	model_dir(path, dir, "huge-context", "config.json", NULL, model, sizeof model);
	snprintf(p, sizeof p, "%s/config.json", path);
	size_t len = 0;
	char *cfg = read_all(p, &len);
	const char *key = "\"max_position_embeddings\": ";
	char *at = cfg == NULL ? NULL : strstr(cfg, key);
	EXPECT(at != NULL);
	if (at != NULL) {
		char *end = at + strlen(key) + strspn(at + strlen(key), "0123456789");
		char *edited = malloc(len + 32);
		int k = snprintf(edited, len + 32, "%.*s4611686018427387904%s", (int)(at + strlen(key) - cfg), cfg, end);
		snprintf(p, sizeof p, "%s/config.json", model);
		EXPECT(write_all(p, edited, (size_t)k) == 0);
		free(edited);
		EXPECT_STATUS(dllm_model_load(model, NULL, &m), DLLM_STATUS_FORMAT);
		expect_message("max_position_embeddings");
	}
	free(cfg);

	/* ...so healthy calls, on a healthy model, keep working. */
	EXPECT_STATUS(dllm_model_load(path, NULL, &m), DLLM_STATUS_OK);
	dllm_session *s = NULL;
	EXPECT_STATUS(dllm_session_new(m, &s), DLLM_STATUS_OK);
	dllm_generate_params gp = small_params();
	dllm_result *r = NULL;
	EXPECT_STATUS(dllm_session_generate(s, "hello", &gp, &r), DLLM_STATUS_OK);
	dllm_result_free(r);
	dllm_session_free(s);
	dllm_model_free(m);

	/* Weights truncated after loading: IO at the next call, naming the file, instead
	 * of SIGBUS. */
	model_dir(path, dir, "truncated", NULL, "model.safetensors", model, sizeof model);
	m = NULL;
	s = NULL;
	EXPECT_STATUS(dllm_model_load(model, NULL, &m), DLLM_STATUS_OK);
	EXPECT_STATUS(dllm_session_new(m, &s), DLLM_STATUS_OK);
	snprintf(p, sizeof p, "%s/model.safetensors", model);
	EXPECT(truncate(p, 4096) == 0);
	r = NULL;
	EXPECT_STATUS(dllm_session_generate(s, "hello", &gp, &r), DLLM_STATUS_IO);
	expect_message(p);
	EXPECT(r == NULL);
	dllm_session *s2 = NULL;
	EXPECT_STATUS(dllm_session_new(m, &s2), DLLM_STATUS_IO);
	dllm_session_free(s);
	dllm_model_free(m);

	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	EXPECT(system(cmd) == 0);
}

int main(int argc, char **argv) {
	const char *path = argc > 1 ? argv[1] : "testdata/llada2-micro/hf";
	main_thread = pthread_self();
	test_no_model();

	dllm_model *m = NULL;
	EXPECT_STATUS(dllm_model_load(path, NULL, &m), DLLM_STATUS_OK);
	if (m == NULL) {
		fprintf(stderr, "cannot load %s\n", path);
		return 1;
	}
	dllm_model_info info = {.struct_size = sizeof info};
	dllm_model_get_info(m, &info);
	test_model(m);
	dllm_session *s = NULL;
	EXPECT_STATUS(dllm_session_new(m, &s), DLLM_STATUS_OK);
	EXPECT_STATUS(dllm_session_new(m, NULL), DLLM_STATUS_INVALID_ARGUMENT);
	test_options(s, &info);
	test_arguments(s, &info);
	test_callbacks(s);
	test_threads(m, s);
	dllm_session_free(s);
	dllm_model_free(m);
	test_model_freed(path);
	test_free_model_while_generating(path);
	test_hostile_files(path);

	/* Last: a panic inside the library poisons it. */
	if (dllm_test_panic == NULL) {
		printf("misuse: library built without -tags dllmtest: poisoning not tested\n");
		printf("misuse: %d passed, %d failed\n", passed, failed);
		return failed != 0;
	}
	EXPECT_STATUS(dllm_test_panic(), DLLM_STATUS_INTERNAL);
	char msg[256];
	EXPECT(dllm_last_errmsg(msg, sizeof msg) == DLLM_STATUS_INTERNAL);
	EXPECT(strstr(msg, "poisoned") != NULL);
	EXPECT(dllm_version() == DLLM_VERSION_NUMBER);
	dllm_model *m2 = NULL;
	EXPECT_STATUS(dllm_model_load(path, NULL, &m2), DLLM_STATUS_INTERNAL);
	EXPECT(m2 == NULL);
	dllm_generate_params p = {.struct_size = sizeof p};
	EXPECT_STATUS(dllm_generate_default_params(&p), DLLM_STATUS_INTERNAL);
	dllm_free(NULL);

	printf("misuse: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
