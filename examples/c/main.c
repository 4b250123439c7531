/*
 * Loads a model, generates a chat reply with both callbacks and prints statistics.
 *
 *   main [--raw] [--json] [--max-tokens N] [--block-length N] [--steps N] [MODEL [PROMPT]]
 *
 * MODEL defaults to "demo" (the built-in demo model) and PROMPT to "What is 12+9?". The
 * prompt is sent as one user message through the chat template unless --raw is given.
 * --json prints only {"tokens":[...],"text":...,"stop_reason":...} (for the
 * cross-language test).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dllm.h"

struct progress {
	int steps;
	int committed;
	int edited;
	int quiet;
};

static int on_step(const dllm_step_event *ev, void *user_data) {
	struct progress *p = user_data;
	p->steps++;
	p->committed += (int)ev->n_committed;
	p->edited += (int)ev->n_edited;
	return 0;
}

static int on_text(const char *utf8, size_t len, void *user_data) {
	struct progress *p = user_data;
	if (!p->quiet) {
		fwrite(utf8, 1, len, stdout);
		fflush(stdout);
	}
	return 0;
}

static int check(dllm_status st, const char *what) {
	if (st == DLLM_STATUS_OK) {
		return 0;
	}
	char msg[512];
	dllm_last_errmsg(msg, sizeof msg);
	fprintf(stderr, "%s: %s: %s\n", what, dllm_status_string(st), msg);
	return 1;
}

static void print_json_string(const char *s) {
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

int main(int argc, char **argv) {
	const char *path = "demo";
	const char *prompt = "What is 12+9?";
	int raw = 0, json = 0, npos = 0;
	dllm_generate_params params = {.struct_size = sizeof params};
	if (check(dllm_generate_default_params(&params), "default params")) {
		return 1;
	}
	params.max_tokens = 64;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--raw") == 0) {
			raw = 1;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--max-tokens") == 0 && i + 1 < argc) {
			params.max_tokens = atoi(argv[++i]);
		} else if (strcmp(a, "--block-length") == 0 && i + 1 < argc) {
			params.block_length = atoi(argv[++i]);
		} else if (strcmp(a, "--steps") == 0 && i + 1 < argc) {
			params.steps = atoi(argv[++i]);
		} else if (a[0] == '-') {
			fprintf(stderr, "usage: %s [--raw] [--json] [--max-tokens N] [--block-length N] "
			                "[--steps N] [MODEL [PROMPT]]\n", argv[0]);
			return 2;
		} else if (npos++ == 0) {
			path = a;
		} else {
			prompt = a;
		}
	}

	if (dllm_version() / 10000 != DLLM_VERSION_MAJOR) {
		fprintf(stderr, "libdllm %u does not match dllm.h %d\n", dllm_version(),
		        DLLM_VERSION_NUMBER);
		return 1;
	}

	dllm_model *model = NULL;
	dllm_session *session = NULL;
	dllm_result *res = NULL;
	int rc = 1;
	if (check(dllm_model_load(path, NULL, &model), "load")) {
		goto out;
	}
	dllm_model_info info = {.struct_size = sizeof info};
	if (check(dllm_model_get_info(model, &info), "info")) {
		goto out;
	}
	if (!json) {
		fprintf(stderr, "model: %s (%s), %d layers, hidden %d, vocab %d\n", info.architecture,
		        info.format, info.layers, info.hidden_size, info.vocab_size);
	}
	if (check(dllm_session_new(model, &session), "session")) {
		goto out;
	}

	struct progress progress = {0, 0, 0, json};
	params.on_step = on_step;
	params.step_user_data = &progress;
	params.on_text = on_text;
	params.text_user_data = &progress;
	dllm_status st;
	if (raw) {
		st = dllm_session_generate(session, prompt, &params, &res);
	} else {
		dllm_message msg = {"user", prompt};
		st = dllm_session_generate_chat(session, &msg, 1, &params, &res);
	}
	if (check(st, "generate")) {
		goto out;
	}

	if (json) {
		printf("{\"tokens\":[");
		for (size_t i = 0; i < res->n_tokens; i++) {
			printf("%s%d", i ? "," : "", res->tokens[i]);
		}
		printf("],\"text\":");
		print_json_string(res->text);
		printf(",\"stop_reason\":\"%s\"}\n", res->stop_reason);
	} else {
		const dllm_stats *s = &res->stats;
		printf("\n");
		fflush(stdout);
		fprintf(stderr,
		        "stop: %s; prompt %d tokens, generated %d tokens in %d forwards "
		        "(%.2f tokens/forward, %d model calls), first token %.1f ms, total %.1f ms, "
		        "%.1f tokens/s\n"
		        "callbacks: %d steps, %d commits, %d edits\n",
		        res->stop_reason, s->prompt_tokens, s->tokens, s->forwards,
		        s->tokens_per_forward, s->model_calls, s->time_to_first_token_ns / 1e6, s->duration_ns / 1e6,
		        s->tokens_per_second, progress.steps, progress.committed, progress.edited);
		if (progress.steps != s->forwards && progress.steps == 0) {
			fprintf(stderr, "the step callback was never called\n");
			goto out;
		}
	}
	rc = 0;
out:
	dllm_result_free(res);
	dllm_session_free(session);
	dllm_model_free(model);
	return rc;
}
