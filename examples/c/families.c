/*
 * families.c - the C ABI on the bidirectional families (LLaDA, Dream, RND1): starting
 * from dllm_model_default_params, the family options reproduce the official code's
 * goldens (testdata/families/<family>/golden), Fast-dLLM's prefix cache reproduces its
 * golden, a caller compiled before those options or before cache (a shorter
 * dllm_generate_params) still generates the exact tokens, and an option the family does not
 * use is INVALID_ARGUMENT.
 *
 *     families testdata/families
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dllm.h"

static int failed, passed;

#define EXPECT(cond)                                                                  \
	do {                                                                              \
		if (cond) {                                                                   \
			passed++;                                                                 \
		} else {                                                                      \
			failed++;                                                                 \
			char m_[512] = "";                                                        \
			dllm_last_errmsg(m_, sizeof m_);                                          \
			fprintf(stderr, "%s:%d: FAILED: %s (%s)\n", __FILE__, __LINE__, #cond, m_); \
		}                                                                             \
	} while (0)

/* One golden: the prompt and the official output (no stop token before its end). */
typedef struct golden {
	const char *model; /* under the fixtures folder */
	const char *name;
	int32_t prompt[64];
	size_t n_prompt;
	int32_t output[64];
	size_t n_output;
} golden;

/* llada/golden/gen_lowconf_b8_s16.json: steps 16, gen_length 32, block_length 8. */
static const golden llada = {
	"llada/hf", "gen_lowconf_b8_s16",
	{1018, 1021, 84, 82, 260, 1022, 443, 54, 426, 310, 259, 273, 64, 79, 299, 348, 297, 485, 81, 302, 416, 30, 1023, 1021,
	 298, 82, 539, 302, 83, 1022, 443},
	31,
	{971, 971, 971, 910, 910, 347, 242, 971, 37, 524, 910, 347, 849, 849, 37, 955, 910, 499, 347, 437, 437, 996, 910, 524,
	 347, 438, 865, 437, 499, 524, 347, 242},
	32,
};

/* llada/golden/fast_prefix_cache_threshold09.json: Fast-dLLM's prefix cache, steps 32,
 * gen_length 32, block_length 8, threshold 0.9 (the prompt is llada's). */
static const golden llada_prefix = {
	"llada/hf", "fast_prefix_cache_threshold09",
	{1018, 1021, 84, 82, 260, 1022, 443, 54, 426, 310, 259, 273, 64, 79, 299, 348, 297, 485, 81, 302, 416, 30, 1023, 1021,
	 298, 82, 539, 302, 83, 1022, 443},
	31,
	{83, 971, 971, 910, 347, 347, 242, 971, 37, 811, 524, 347, 347, 971, 37, 955, 910, 524, 897, 910, 996, 834, 910, 499,
	 437, 971, 996, 996, 996, 713, 347, 242},
	32,
};

/* dream/golden/gen_entropy_greedy.json: max_new_tokens 24, steps 12, alg entropy. */
static const golden dream = {
	"dream/hf", "gen_entropy_greedy",
	{1019, 82, 88, 279, 417, 198, 56, 277, 447, 258, 964, 536, 75, 423, 82, 539, 302, 83, 13, 1020, 198, 1019, 84, 82, 260,
	 198, 54, 543, 68, 258, 493, 664, 292, 78, 417, 406, 259, 336, 64, 13, 1020, 198, 1019, 298, 82, 539, 302, 83, 198},
	49,
	{471, 943, 905, 752, 291, 128, 521, 769, 254, 254, 254, 254, 291, 859, 291, 69, 949, 291, 128, 521, 457, 784, 254, 254},
	24,
};

/* rnd1/golden/gen_greedy_t1_eb_gamma05.json: 24 new tokens, 12 steps, greedy at
 * temperature 1, eb_gamma 0.5 (the last token is the pad, a stop token). */
static const golden rnd1 = {
	"rnd1/hf", "gen_greedy_t1_eb_gamma05",
	{736, 329, 313, 25, 705, 310, 259, 273, 64, 79, 299, 348, 297, 485, 81, 302, 416, 602, 734, 440, 260, 25},
	22,
	{696, 589, 294, 589, 342, 342, 941, 180, 342, 342, 342, 342, 342, 342, 941, 180, 342, 342, 342, 342, 342, 941, 342, 1018},
	24,
};

static dllm_model *load(const char *dir, const char *model) {
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, model);
	dllm_load_params lp = {.struct_size = sizeof lp};
	dllm_load_default_params(&lp);
	lp.threads = 1;
	dllm_model *m = NULL;
	if (dllm_model_load(path, &lp, &m) != DLLM_STATUS_OK) {
		char msg[512] = "";
		dllm_last_errmsg(msg, sizeof msg);
		fprintf(stderr, "families: load %s: %s\n", path, msg);
		exit(1);
	}
	return m;
}

static int steps_seen;

static int on_step(const dllm_step_event *ev, void *ud) {
	(void)ud;
	steps_seen++;
	return ev->n_canvas == 0; /* the whole generated region, never empty */
}

/* run generates g's prompt with p and checks the tokens. */
static void run(dllm_model *m, const golden *g, const dllm_generate_params *p) {
	dllm_session *s = NULL;
	EXPECT(dllm_session_new(m, &s) == DLLM_STATUS_OK);
	dllm_result *r = NULL;
	dllm_status st = dllm_session_generate_ids(s, g->prompt, g->n_prompt, p, &r);
	EXPECT(st == DLLM_STATUS_OK);
	if (st == DLLM_STATUS_OK) {
		int same = r->n_tokens == g->n_output && memcmp(r->tokens, g->output, g->n_output * sizeof(int32_t)) == 0;
		if (!same) {
			fprintf(stderr, "families: %s: %zu tokens differ from the golden's\n", g->name, r->n_tokens);
		}
		EXPECT(same);
	}
	dllm_result_free(r);
	dllm_session_free(s);
}

/* invalid expects p to be refused with a message containing want. */
static void invalid(dllm_model *m, const dllm_generate_params *p, const char *want) {
	dllm_session *s = NULL;
	EXPECT(dllm_session_new(m, &s) == DLLM_STATUS_OK);
	dllm_result *r = NULL;
	int32_t ids[] = {300, 301, 302};
	EXPECT(dllm_session_generate_ids(s, ids, 3, p, &r) == DLLM_STATUS_INVALID_ARGUMENT);
	char msg[512] = "";
	dllm_session_errmsg(s, msg, sizeof msg);
	if (strstr(msg, want) == NULL) {
		fprintf(stderr, "families: message %s lacks %s\n", msg, want);
		failed++;
	}
	EXPECT(r == NULL);
	dllm_session_free(s);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: families FIXTURES_DIR\n");
		return 2;
	}
	const char *dir = argv[1];

	dllm_model *m = load(dir, llada.model);
	dllm_model_info info = {.struct_size = sizeof info};
	EXPECT(dllm_model_get_info(m, &info) == DLLM_STATUS_OK && strcmp(info.architecture, "llada") == 0);
	dllm_generate_params p = {.struct_size = sizeof p};
	EXPECT(dllm_model_default_params(m, &p) == DLLM_STATUS_OK);
	EXPECT(p.max_tokens == 128 && p.steps == 128 && p.block_length == 32 && p.threshold == 0 && p.algorithm == NULL &&
	       p.cache == NULL);
	p.max_tokens = 32;
	p.steps = 16;
	p.block_length = 8;
	p.on_step = on_step;
	run(m, &llada, &p);
	EXPECT(steps_seen == 16);
	/* A caller compiled before the family options: they take the defaults. */
	dllm_generate_params old = p;
	old.struct_size = offsetof(dllm_generate_params, algorithm);
	old.algorithm = "random"; /* beyond its struct: never read */
	old.cfg_scale = 1;
	old.cache = "prefix";
	run(m, &llada, &old);
	/* One compiled before cache: the exact schedule. */
	old = p;
	old.struct_size = offsetof(dllm_generate_params, cache);
	old.cache = "dual"; /* beyond its struct: never read */
	run(m, &llada, &old);
	dllm_generate_params cached = p;
	cached.on_step = NULL;
	cached.steps = 32;
	cached.threshold = 0.9;
	cached.cache = "prefix";
	run(m, &llada_prefix, &cached);
	cached.cache = ""; /* "" is NULL: exact */
	cached.steps = 16;
	cached.threshold = 0;
	run(m, &llada, &cached);
	dllm_generate_params bad = p;
	bad.eps = 0.1;
	invalid(m, &bad, "Eps is not an option of LLaDA");
	bad = p;
	bad.algorithm = "entropy";
	invalid(m, &bad, "is not one of LLaDA's");
	bad = p;
	bad.cache = "full";
	invalid(m, &bad, "Cache must be");
	bad = p;
	dllm_generate_default_params(&bad); /* LLaDA2's: its editing steps are refused */
	invalid(m, &bad, "MaxPostSteps is LLaDA2.1 editing");
	dllm_model_free(m);

	m = load(dir, dream.model);
	p = (dllm_generate_params){.struct_size = sizeof p};
	EXPECT(dllm_model_default_params(m, &p) == DLLM_STATUS_OK);
	EXPECT(p.max_tokens == 512 && p.block_length == 0 && p.eps == 1e-3 && p.algorithm == NULL);
	p.max_tokens = 24;
	p.steps = 12;
	p.temperature = 0; /* greedy; the golden's top-k is the default 50, its top-p none */
	p.top_p = 1;
	run(m, &dream, &p);
	bad = p;
	bad.cfg_scale = 1;
	invalid(m, &bad, "CFGScale is not an option of Dream");
	dllm_model_free(m);

	m = load(dir, rnd1.model);
	p = (dllm_generate_params){.struct_size = sizeof p};
	EXPECT(dllm_model_default_params(m, &p) == DLLM_STATUS_OK);
	EXPECT(p.top_k == 1 && p.temperature == 1);
	p.max_tokens = 24;
	p.steps = 12;
	p.eb_gamma = 0.5; /* selects entropy_bounded */
	run(m, &rnd1, &p);
	bad = p;
	bad.cache = "prefix";
	invalid(m, &bad, "Cache is not an option of RND1");
	dllm_model_free(m);

	EXPECT(dllm_model_default_params(NULL, &p) == DLLM_STATUS_INVALID_ARGUMENT);
	printf("families: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
