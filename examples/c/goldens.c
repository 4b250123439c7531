/*
 * Reproduces generation goldens of the micro fixture through the C ABI with the step
 * callback, LLaDA2.1 editing (edit threshold, post steps) included, which no other C
 * program runs.
 *
 *   goldens MODEL GOLDEN.json...
 *
 * Each golden's prompt ids are generated with its parameters; the tokens, the stop
 * reason, the number of forwards and every forward's block, step, post step, commits
 * and edits (position and tokens exactly, confidence within 1e-4) must agree. Exits 1
 * on the first difference.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dllm.h"

/* ---- a JSON reader, just enough for the goldens ---------------------------------- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct json {
	int type;
	double num;          /* J_NUM, J_BOOL */
	char *str;           /* J_STR */
	char *key;           /* the name of an object member */
	struct json *kids;   /* J_ARR, J_OBJ */
	size_t n;
} json;

static const char *skip(const char *p) {
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
		p++;
	}
	return p;
}

/* Parses a string at p (after the quote) into a new allocation; escapes other than
 * \" and \\ keep their letter, which is enough to compare keys. */
static const char *parse_string(const char *p, char **out) {
	size_t cap = 16, n = 0;
	char *s = malloc(cap);
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		}
		if (n + 2 > cap) {
			s = realloc(s, cap *= 2);
		}
		s[n++] = *p;
	}
	s[n] = 0;
	*out = s;
	return *p ? p + 1 : NULL;
}

static const char *parse(const char *p, json *v) {
	memset(v, 0, sizeof *v);
	p = skip(p);
	if (*p == '{' || *p == '[') {
		int obj = *p == '{';
		v->type = obj ? J_OBJ : J_ARR;
		size_t cap = 0;
		p = skip(p + 1);
		while (p && *p != (obj ? '}' : ']')) {
			if (v->n == cap) {
				cap = cap ? 2 * cap : 8;
				v->kids = realloc(v->kids, cap * sizeof *v->kids);
			}
			json *k = &v->kids[v->n++];
			memset(k, 0, sizeof *k);
			char *key = NULL;
			if (obj) {
				p = skip(p);
				if (*p != '"' || !(p = parse_string(p + 1, &key)) || *(p = skip(p)) != ':') {
					free(key);
					return NULL;
				}
				p++;
			}
			p = parse(p, k);
			k->key = key;
			if (!p) {
				return NULL;
			}
			p = skip(p);
			if (*p == ',') {
				p = skip(p + 1);
			}
		}
		return p ? p + 1 : NULL;
	}
	if (*p == '"') {
		v->type = J_STR;
		return parse_string(p + 1, &v->str);
	}
	if (strncmp(p, "null", 4) == 0) {
		return p + 4;
	}
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
		v->type = J_BOOL;
		v->num = *p == 't';
		return p + (*p == 't' ? 4 : 5);
	}
	char *end;
	v->type = J_NUM;
	v->num = strtod(p, &end);
	return end == p ? NULL : end;
}

static void json_free(json *v) {
	for (size_t i = 0; i < v->n; i++) {
		json_free(&v->kids[i]);
	}
	free(v->kids);
	free(v->str);
	free(v->key);
}

/* The member key of an object; a J_NULL value when absent. */
static const json *get(const json *v, const char *key) {
	static const json none;
	for (size_t i = 0; v->type == J_OBJ && i < v->n; i++) {
		if (strcmp(v->kids[i].key, key) == 0) {
			return &v->kids[i];
		}
	}
	return &none;
}

static double num(const json *v, const char *key) { return get(v, key)->num; }

/* ---- the recorded trace -------------------------------------------------------------- */

typedef struct {
	int32_t block, step, post_step;
	dllm_commit *committed;
	size_t n_committed;
	dllm_edit *edited;
	size_t n_edited;
} forward;

typedef struct {
	forward *f;
	size_t n, cap;
} trace;

static void *dup_array(const void *p, size_t n, size_t size) {
	void *q = malloc(n ? n * size : 1);
	if (n) {
		memcpy(q, p, n * size);
	}
	return q;
}

static int on_step(const dllm_step_event *ev, void *user_data) {
	trace *t = user_data;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->f = realloc(t->f, t->cap * sizeof *t->f);
	}
	t->f[t->n++] = (forward){ev->block, ev->step, ev->post_step,
	                         dup_array(ev->committed, ev->n_committed, sizeof *ev->committed),
	                         ev->n_committed,
	                         dup_array(ev->edited, ev->n_edited, sizeof *ev->edited), ev->n_edited};
	return 0;
}

static void trace_free(trace *t) {
	for (size_t i = 0; i < t->n; i++) {
		free(t->f[i].committed);
		free(t->f[i].edited);
	}
	free(t->f);
}

/* ---- comparison -------------------------------------------------------------------- */

static const char *name;

static int fail(const char *what, size_t at, double got, double want) {
	fprintf(stderr, "goldens: %s: %s [%zu]: got %g, want %g\n", name, what, at, got, want);
	return 1;
}

/* Return from compare on the first difference. */
#define SAME(what, at, got, want) \
	do { \
		if ((double)(got) != (double)(want)) \
			return fail(what, at, got, want); \
	} while (0)
#define CLOSE(what, at, got, want) \
	do { \
		if (!(fabs((got) - (want)) <= 1e-4)) \
			return fail(what, at, got, want); \
	} while (0)

static int compare(const json *g, const dllm_result *r, const trace *t) {
	const json *out = get(g, "output_ids"), *tr = get(g, "trace");
	SAME("number of tokens", 0, r->n_tokens, out->n);
	for (size_t i = 0; i < out->n; i++) {
		SAME("token", i, r->tokens[i], out->kids[i].num);
	}
	/* The reason by its code, named by the library as the goldens name it. */
	const char *want = get(g, "stop_reason")->str;
	if (!want || strcmp(dllm_stop_reason_string(r->stop), want) != 0 ||
	    strcmp(r->stop_reason, want) != 0) {
		fprintf(stderr, "goldens: %s: stop reason %s, want %s\n", name, r->stop_reason,
		        want ? want : "(none)");
		return 1;
	}
	SAME("forwards", 0, r->stats.forwards, num(get(g, "stats"), "forwards"));
	SAME("step events", 0, t->n, tr->n);
	for (size_t i = 0; i < tr->n; i++) {
		const json *w = &tr->kids[i], *wc = get(w, "committed"), *we = get(w, "edited");
		const forward *f = &t->f[i];
		SAME("block of forward", i, f->block, num(w, "block"));
		SAME("step of forward", i, f->step, num(w, "step"));
		SAME("post_step of forward", i, f->post_step, num(w, "post_step"));
		SAME("commits of forward", i, f->n_committed, wc->n);
		SAME("edits of forward", i, f->n_edited, we->n);
		for (size_t j = 0; j < wc->n; j++) {
			const json *c = wc->kids[j].kids;
			SAME("commit position", j, f->committed[j].pos, c[0].num);
			SAME("commit token", j, f->committed[j].token, c[1].num);
			CLOSE("commit confidence", j, f->committed[j].confidence, c[2].num);
		}
		for (size_t j = 0; j < we->n; j++) {
			const json *e = we->kids[j].kids;
			SAME("edit position", j, f->edited[j].pos, e[0].num);
			SAME("edit old token", j, f->edited[j].old_token, e[1].num);
			SAME("edit new token", j, f->edited[j].new_token, e[2].num);
			CLOSE("edit confidence", j, f->edited[j].confidence, e[3].num);
		}
	}
	return 0;
}

static char *read_file(const char *path) {
	FILE *f = fopen(path, "rb");
	if (!f) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	size_t got = fread(s, 1, (size_t)n, f);
	fclose(f);
	s[got] = 0;
	return s;
}

static int run(dllm_session *s, const json *g) {
	const json *p = get(g, "params"), *ids = get(g, "prompt_ids");
	dllm_generate_params params = {.struct_size = sizeof params};
	dllm_generate_default_params(&params);
	params.max_tokens = (int32_t)num(p, "gen_length");
	params.block_length = (int32_t)num(p, "block_length");
	params.steps = (int32_t)num(p, "steps");
	params.threshold = num(p, "threshold");
	if (get(p, "editing_threshold")->type == J_NUM) { /* LLaDA2.1 */
		params.edit_threshold = num(p, "editing_threshold");
		params.max_post_steps = (int32_t)num(p, "max_post_steps");
		params.num_to_transfer = (int32_t)num(p, "num_to_transfer");
	}
	params.eos_early_stop = (int32_t)num(p, "eos_early_stop");
	params.stop_on_role_end = 0; /* the reference stops on end-of-text only */
	trace t = {0};
	params.on_step = on_step;
	params.step_user_data = &t;

	int32_t *prompt = malloc(ids->n * sizeof *prompt);
	for (size_t i = 0; i < ids->n; i++) {
		prompt[i] = (int32_t)ids->kids[i].num;
	}
	dllm_result *r = NULL;
	dllm_status st = dllm_session_generate_ids(s, prompt, ids->n, &params, &r);
	int rc = 1;
	if (st != DLLM_STATUS_OK) {
		char msg[512];
		dllm_session_errmsg(s, msg, sizeof msg);
		fprintf(stderr, "goldens: %s: %s: %s\n", name, dllm_status_string(st), msg);
	} else if (r->struct_size < offsetof(dllm_result, rows_per_forward) + sizeof r->rows_per_forward ||
	           r->rows_per_forward != params.block_length) {
		/* exact decoding runs the whole block at every forward */
		fprintf(stderr, "goldens: %s: %g rows per forward, want the block length %d\n", name,
		        r->rows_per_forward, params.block_length);
	} else if (compare(g, r, &t) == 0) {
		size_t edits = 0;
		for (size_t i = 0; i < t.n; i++) {
			edits += t.f[i].n_edited;
		}
		printf("goldens: %s: %zu tokens, %zu forwards, %zu edits, stop %s\n", name,
		       r->n_tokens, t.n, edits, r->stop_reason);
		rc = 0;
	}
	dllm_result_free(r);
	free(prompt);
	trace_free(&t);
	return rc;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODEL GOLDEN.json...\n", argv[0]);
		return 2;
	}
	dllm_model *m = NULL;
	dllm_session *s = NULL;
	dllm_load_params lp = {.struct_size = sizeof lp};
	dllm_load_default_params(&lp);
	lp.threads = 2;
	if (dllm_model_load(argv[1], &lp, &m) != DLLM_STATUS_OK || dllm_session_new(m, &s) != DLLM_STATUS_OK) {
		char msg[512];
		dllm_last_errmsg(msg, sizeof msg);
		fprintf(stderr, "goldens: %s: %s\n", argv[1], msg);
		dllm_model_free(m);
		return 1;
	}
	int rc = 0;
	for (int i = 2; i < argc && rc == 0; i++) {
		name = argv[i];
		char *text = read_file(name);
		json g = {0};
		if (!text || !parse(text, &g) || g.type != J_OBJ) {
			fprintf(stderr, "goldens: %s: cannot read the golden\n", name);
			rc = 1;
		} else {
			rc = run(s, &g);
		}
		json_free(&g);
		free(text);
	}
	dllm_session_free(s);
	dllm_model_free(m);
	return rc;
}
