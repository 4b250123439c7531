/*
 * dllm.h - the C interface of libdllm, a CPU inference library for LLaDA2 diffusion
 * language models.
 *
 * This header is the contract. It is hand-written; the header that cgo emits while
 * building the library is never installed.
 *
 * Conventions
 *
 *   - Objects are opaque pointers (dllm_model, dllm_session) created by a named
 *     constructor and released by a destructor; passing NULL to any destructor or to
 *     dllm_free is a no-op.
 *   - Every function returns a dllm_status, except destructors, dllm_free, dllm_version,
 *     dllm_status_string and dllm_stop_reason_string, and its comment ends with the
 *     list of statuses it can return ("Returns: OK, ..."). On failure the message is available from the object
 *     (dllm_model_errmsg, dllm_session_errmsg) and, for every failing call, from the
 *     calling thread's last error (dllm_last_errmsg), which is how a failed
 *     dllm_model_load is explained.
 *   - Strings are NUL-terminated UTF-8. Invalid UTF-8 is rejected with
 *     DLLM_STATUS_INVALID_ARGUMENT.
 *   - Parameter structs start with `size_t struct_size`, set by the caller to the size
 *     of the struct it was compiled with, so the struct can grow without breaking the
 *     ABI. Start from the defaults:
 *
 *         dllm_generate_params p = { .struct_size = sizeof p };
 *         dllm_generate_default_params(&p);
 *         p.max_tokens = 64;
 *
 *   - Memory returned by the library is released with dllm_free (strings) or
 *     dllm_result_free (results). Memory passed to callbacks is valid only during the
 *     call.
 *   - Callbacks run on the thread that called the generating function, before it
 *     returns. A non-zero return stops generation: the call returns DLLM_STATUS_STOPPED
 *     together with the partial result.
 *   - A model may be shared by many sessions, each used from its own thread. One session
 *     serves one call at a time (a concurrent call returns DLLM_STATUS_BUSY).
 *   - If the library ever panics internally, the call returns DLLM_STATUS_INTERNAL and
 *     the library is poisoned: every later call returns DLLM_STATUS_INTERNAL.
 *
 * Model files: a malformed, inconsistent or special file (a FIFO, a device) fails
 * dllm_model_load with DLLM_STATUS_FORMAT and a message naming the path; it never
 * poisons the library. Weights are memory-mapped, not copied: do not truncate or
 * rewrite a model file in place while it is loaded (replace it by renaming a new file
 * over it). The library checks each file's size and times before every new session and
 * generation and returns DLLM_STATUS_IO once one changed (reload the model), but a file
 * truncated during a generation can still kill the process with SIGBUS.
 *
 * Runtime caveats (the library embeds the Go runtime): it cannot be unloaded
 * (do not dlclose it), do not fork() a process that has called into it and then use it
 * in the child, and load at most one Go-built shared library per process.
 */
#ifndef DLLM_H
#define DLLM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(__GNUC__)
#  ifdef DLLM_BUILD
#    define DLLM_API __declspec(dllexport)
#  else
#    define DLLM_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define DLLM_API __attribute__((visibility("default")))
#else
#  define DLLM_API
#endif

/* Version of this header, the one definition of the version: the library returns it
 * from dllm_version() and the bindings' copies are checked against it. A library is
 * compatible with this header when the major versions agree and the library's minor
 * version is at least the header's (a minor version adds to the ABI, never changes
 * it). */
#define DLLM_VERSION_MAJOR 0
#define DLLM_VERSION_MINOR 5
#define DLLM_VERSION_PATCH 0
#define DLLM_VERSION_NUMBER \
	(DLLM_VERSION_MAJOR * 10000 + DLLM_VERSION_MINOR * 100 + DLLM_VERSION_PATCH)

/* ---- status codes ------------------------------------------------------------ */

typedef int32_t dllm_status;

enum {
	DLLM_STATUS_OK = 0,
	DLLM_STATUS_INVALID_ARGUMENT = 1, /* NULL where an object or string is required,
	                                     an object never created, invalid UTF-8,
	                                     option out of range, unknown token id or
	                                     chat role */
	DLLM_STATUS_IO = 2,               /* a file could not be read, or a loaded
	                                     model's file changed on disk */
	DLLM_STATUS_FORMAT = 3,           /* a model file is malformed */
	DLLM_STATUS_UNSUPPORTED = 4,      /* a valid model this library cannot run */
	DLLM_STATUS_BUFFER_TOO_SMALL = 5, /* the result did not fit; see the function */
	DLLM_STATUS_CLOSED = 6,           /* the session's model was freed (dllm_model_free) */
	DLLM_STATUS_BUSY = 7,             /* the session is serving another call */
	DLLM_STATUS_STOPPED = 8,          /* a callback returned non-zero; partial result */
	DLLM_STATUS_CANCELLED = 9,        /* dllm_session_cancel; partial result */
	DLLM_STATUS_FAILED = 10,          /* any other failure; see the message */
	DLLM_STATUS_INTERNAL = 11,        /* the library panicked and is now poisoned */
	DLLM_STATUS_NON_FINITE = 12       /* a forward pass produced NaN or infinite logits
	                                     (a corrupt weight or overflow); the message
	                                     names the tensor and layer where they first
	                                     appeared */
};

/* The name of a status ("OK", "INVALID_ARGUMENT", ...), a static string; "UNKNOWN"
 * for a value not listed above. */
DLLM_API const char *dllm_status_string(dllm_status status);

/* DLLM_VERSION_NUMBER of the library (compare with the header's macros). */
DLLM_API uint32_t dllm_version(void);

/* ---- stop reasons ------------------------------------------------------------ */

/* Why a generation ended (dllm_result.stop). */
typedef int32_t dllm_stop_reason;

enum {
	DLLM_STOP_LENGTH = 0,    /* max_tokens were generated */
	DLLM_STOP_EOS_BLOCK = 1, /* a finished block contained the end-of-text token */
	DLLM_STOP_EOS_EARLY = 2, /* eos_early_stop saw a final end-of-text token */
	DLLM_STOP_TOKEN = 3,     /* a finished block contained the end-of-turn token */
	DLLM_STOP_CALLBACK = 4,  /* a callback returned non-zero (DLLM_STATUS_STOPPED) */
	DLLM_STOP_CANCELLED = 5  /* dllm_session_cancel, or the session or its model
	                            freed meanwhile (DLLM_STATUS_CANCELLED) */
};

/* The name of a stop reason, as dllm_result.stop_reason, the Go package and JSON output
 * spell it ("gen_length", "eos_block", "eos_early_stop", "stop_token", "stopped",
 * "cancelled"), a static string; "unknown" for a value not listed above. */
DLLM_API const char *dllm_stop_reason_string(dllm_stop_reason reason);

/* ---- errors and memory ------------------------------------------------------- */

typedef struct dllm_model dllm_model;
typedef struct dllm_session dllm_session;

/* Each errmsg function copies a message, NUL-terminated, into buf (capacity len bytes)
 * and returns DLLM_STATUS_OK, or DLLM_STATUS_BUFFER_TOO_SMALL when it had to truncate
 * (buf then holds the truncated, still terminated message), or
 * DLLM_STATUS_INVALID_ARGUMENT when buf is NULL or len is 0. The message is empty when
 * there was no error. A message is never cleared by a successful call. Once the
 * library is poisoned they copy the poisoning message and return INTERNAL. */

/* The message of the last failed call on m (including calls on its sessions that
 * failed because of m). A NULL m gives "invalid model ...". (Like every function, it
 * must not be given an object already freed: that memory is gone.)
 * Returns: OK, BUFFER_TOO_SMALL, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_model_errmsg(dllm_model *m, char *buf, size_t len);

/* The message of the last failed call on s. A NULL s gives "invalid session ...".
 * Returns: OK, BUFFER_TOO_SMALL, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_session_errmsg(dllm_session *s, char *buf, size_t len);

/* The message of the last call that failed on the calling thread, whatever the
 * object; the only explanation of a failed dllm_model_load.
 * Returns: OK, BUFFER_TOO_SMALL, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_last_errmsg(char *buf, size_t len);

/* Releases memory returned by the library (strings). NULL is a no-op. */
DLLM_API void dllm_free(void *p);

/* ---- models ------------------------------------------------------------------ */

typedef struct dllm_load_params {
	size_t struct_size;   /* sizeof(dllm_load_params) */
	int32_t threads;      /* worker threads, 0..4096; 0 = one per CPU; default 0 */
	int32_t kv_cache_f16; /* non-zero stores the KV cache in float16; default 0 */
	int32_t no_repack;    /* since 0.5: non-zero keeps every weight in the mapped file.
	                         By default loading copies the matrices the kernels read
	                         faster into a layout of their own (on x86-64 with AVX2:
	                         Q4_K, Q6_K and Q8_0), reading those weights and taking as
	                         much memory again; default 0 */
} dllm_load_params;

/* Fills *p (of p->struct_size bytes) with the defaults.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_load_default_params(dllm_load_params *p);

/* Loads a model from a Hugging Face directory (config.json, tokenizer.json,
 * *.safetensors), a .gguf file, or a folder holding exactly one of those. The path
 * "demo" loads the built-in demo model (a 2.4 MB LLaDA2 compiled into the library,
 * trained to answer simple questions such as "What is 3+4?" in chat format) unless a
 * file or folder named "demo" exists in the working directory, which then wins.
 * params may be NULL for the defaults. On success *out is the new model; on failure
 * *out is set to NULL and the reason, naming the file, is in dllm_last_errmsg. The
 * files are memory-mapped and must not be modified in place while the model is loaded
 * (see "Model files" above).
 * Returns: OK, INVALID_ARGUMENT, IO (unreadable), FORMAT (malformed, inconsistent or not
 * a regular file), UNSUPPORTED, INTERNAL. */
DLLM_API dllm_status dllm_model_load(const char *path, const dllm_load_params *params,
                                     dllm_model **out);

/* Releases the model. Its sessions stay valid objects that must still be freed, but
 * every call on them that needs the model (generating, dllm_session_set_system,
 * dllm_session_reset) returns DLLM_STATUS_CLOSED; dllm_session_errmsg,
 * dllm_session_cancel and dllm_session_free still work. Generations running on its
 * sessions in other threads are cancelled; the memory is released when they return. */
DLLM_API void dllm_model_free(dllm_model *m);

typedef struct dllm_model_info {
	size_t struct_size;     /* sizeof(dllm_model_info), set by the caller */
	char architecture[64];  /* the family: "llada2", "llada", "llada-moe", "dream" or
	                           "rnd1", NUL-terminated */
	char format[16];        /* "safetensors" or "gguf" */
	int32_t vocab_size;
	int32_t context_length;
	int32_t layers;
	int32_t hidden_size;
	int32_t experts;
	int32_t mask_id;        /* the diffusion mask token */
	int32_t eos_id;         /* end of text */
	int32_t role_end_id;    /* end of a chat turn; -1 if the vocabulary has none */
} dllm_model_info;

/* Fills *info (of info->struct_size bytes) with facts about the model.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_model_get_info(dllm_model *m, dllm_model_info *info);

/* Encodes text into token ids. With parse_special non-zero, special tokens written in
 * the text (e.g. "<|role_end|>") become their ids. Two-call sizing: *n_ids receives
 * the number of ids; when it exceeds cap (ids may then be NULL) the call returns
 * DLLM_STATUS_BUFFER_TOO_SMALL and writes nothing.
 * Returns: OK, BUFFER_TOO_SMALL, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_tokenize(dllm_model *m, const char *text, int parse_special,
                                   int32_t *ids, size_t cap, size_t *n_ids);

/* Decodes ids into text. *out receives a NUL-terminated string to release with
 * dllm_free; *out_len (may be NULL) its length in bytes. Unknown ids are
 * DLLM_STATUS_INVALID_ARGUMENT.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_detokenize(dllm_model *m, const int32_t *ids, size_t n_ids,
                                     char **out, size_t *out_len);

/* ---- generation parameters and callbacks -------------------------------------- */

typedef struct dllm_commit {
	int32_t pos;       /* absolute canvas position (the prompt starts at 0) */
	int32_t token;
	double confidence; /* probability of the token (for some algorithms of the other
	                      families their ranking score: Go's Commit.Confidence) */
} dllm_commit;

typedef struct dllm_edit {
	int32_t pos;       /* absolute canvas position */
	int32_t old_token;
	int32_t new_token;
	int32_t reserved;
	double confidence;
} dllm_edit;

/* What one forward pass changed. All pointers are valid only during the callback. For
 * the bidirectional families (LLaDA, LLaDA-MoE, Dream, RND1) canvas is the whole
 * generated region (start = the prompt length) and masked counts its masked positions. */
typedef struct dllm_step_event {
	size_t struct_size;           /* sizeof(dllm_step_event) of the library */
	int32_t block;                /* block index (blocks are aligned to position 0) */
	int32_t step;                 /* iteration within the block, from 0 */
	int32_t window;               /* canvas positions the model saw */
	int32_t start;                /* absolute position of canvas[0] */
	int32_t masked;               /* masked positions in the block before the step */
	int32_t post_step;            /* LLaDA2.1: iterations after the block had no mask */
	const int32_t *canvas;        /* the block's tokens after the step (mask id where
	                                 still masked) */
	size_t n_canvas;
	const dllm_commit *committed; /* positions filled by this step */
	size_t n_committed;
	const dllm_edit *edited;      /* filled positions rewritten by this step (LLaDA2.1) */
	size_t n_edited;
} dllm_step_event;

/* Called after every forward pass. Return 0 to continue, non-zero to stop. */
typedef int (*dllm_step_callback)(const dllm_step_event *ev, void *user_data);

/* Called with newly final text, left to right, never splitting a UTF-8 character.
 * utf8 holds len bytes and is NUL-terminated. Return 0 to continue, non-zero to stop. */
typedef int (*dllm_text_callback)(const char *utf8, size_t len, void *user_data);

/* Generation parameters. Start from dllm_model_default_params (the loaded family's
 * recommended settings) or, for LLaDA2, one of the presets; the defaults below are
 * LLaDA2's. On the other families (LLaDA, LLaDA-MoE, Dream, RND1) block_length,
 * num_to_transfer and threshold may be 0 (no block or the family's, unused, no
 * threshold: the exact schedule), a field the family does not use must keep the value
 * dllm_model_default_params wrote (else DLLM_STATUS_INVALID_ARGUMENT naming it), and
 * unless cache asks for an approximate one there is no KV cache: every step recomputes
 * the whole window. */
typedef struct dllm_generate_params {
	size_t struct_size;      /* sizeof(dllm_generate_params) */
	int32_t max_tokens;      /* new tokens at most, > 0; default 2048 */
	int32_t block_length;    /* positions decoded together, > 0; default 32 */
	int32_t steps;           /* denoising iterations per block, > 0; default 32 (the
	                            other families: in all) */
	int32_t max_post_steps;  /* LLaDA2.1 editing iterations after a block is full, >= 0 */
	int32_t num_to_transfer; /* LLaDA2.1 minimum positions filled per iteration, > 0 */
	int32_t top_k;           /* 0 = no top-k filter */
	double threshold;        /* fill a mask when its confidence exceeds this, [0,1] */
	double edit_threshold;   /* LLaDA2.1 editing when >= 0 (at most 1); < 0 disables */
	double temperature;      /* 0 = greedy; >= 0 */
	double top_p;            /* (0,1]; 1 = no nucleus filter */
	uint64_t seed;           /* sampling seed */
	int32_t eos_early_stop;  /* non-zero: stop as soon as end-of-text is final */
	int32_t stop_on_role_end; /* non-zero: the end-of-turn token also ends the output;
	                             default 1 */
	int32_t no_cache;        /* non-zero: recompute the whole window every forward */
	int32_t reserved;        /* set to 0 */
	dllm_step_callback on_step; /* may be NULL */
	void *step_user_data;
	dllm_text_callback on_text; /* may be NULL */
	void *text_user_data;
	/* Since 0.3: the bidirectional families' options (README "Run LLaDA, LLaDA-MoE,
	 * Dream and RND1"); a caller compiled before them gets the defaults. */
	const char *algorithm;   /* NULL or "": the family's; e.g. "low_confidence",
	                            "entropy", "llama.cpp:confidence" (dllm inspect lists
	                            them) */
	double cfg_scale;        /* classifier-free guidance (LLaDA, LLaDA-MoE); 0 = off */
	double eps;              /* Dream's and llama.cpp's last timestep, (0,1); 0 = 1e-3 */
	double alg_temp;         /* Dream's alg_temp; 0 = the most confident positions */
	double eb_gamma;         /* RND1's entropy-bounded budget; > 0 selects it */
	/* Approximate caching within a block; a caller compiled before it gets the exact
	 * schedule. */
	const char *cache;       /* NULL or "": none, exact. LLaDA, LLaDA-MoE, Dream:
	                            Fast-dLLM's "prefix" (the prompt and the finished
	                            blocks) or "dual" (also the blocks after the current
	                            one); steps go block by block (block_length; 0: 32).
	                            LLaDA2.0: "block" (steps after a block's first run
	                            only the masked and just-filled rows), "block:N"
	                            (also a full step every N), "window:W" or
	                            "window:W:N" ("block" decoding the first W masked
	                            positions at a time). Approximate: faster, the
	                            output may differ from the exact one's. Otherwise
	                            (RND1, llama.cpp algorithms, LLaDA2.1 editing):
	                            INVALID_ARGUMENT unless NULL or "" */
} dllm_generate_params;

/* Since 0.3. Fills *p (of p->struct_size bytes) with the recommended settings of m's
 * family (for LLaDA2 those of dllm_generate_default_params), no callbacks, algorithm
 * NULL (the family's recommended one, which threshold or eb_gamma may switch), cache
 * NULL.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_model_default_params(dllm_model *m, dllm_generate_params *p);

/* The presets fill *p (of p->struct_size bytes). */

/* LLaDA2.0 threshold decoding: block 32, steps 32, threshold 0.95, greedy, no editing,
 * no callbacks.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_generate_default_params(dllm_generate_params *p);

/* LLaDA2.1 "quality" preset: threshold 0.7, edit threshold 0.5.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_generate_quality_params(dllm_generate_params *p);

/* LLaDA2.1 "speed" preset: threshold 0.5, edit threshold 0.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_generate_speed_params(dllm_generate_params *p);

/* ---- results ------------------------------------------------------------------ */

typedef struct dllm_stats {
	int32_t prompt_tokens;
	int32_t tokens;                  /* generated tokens */
	int32_t forwards;                /* denoising forward passes */
	int32_t model_calls;             /* every forward: denoising, prefill, cache commits */
	double tokens_per_forward;
	int64_t time_to_first_token_ns;
	int64_t duration_ns;
	double tokens_per_second;
} dllm_stats;

typedef struct dllm_result {
	size_t struct_size;      /* sizeof(dllm_result) of the library */
	int32_t *tokens;         /* generated ids, excluding the prompt */
	size_t n_tokens;
	char *text;              /* their text, NUL-terminated */
	size_t text_len;
	const char *stop_reason; /* dllm_stop_reason_string(stop) */
	dllm_stats stats;
	dllm_stop_reason stop;   /* why generation ended (since 0.2) */
	double rows_per_forward; /* since 0.4: positions a LLaDA2 denoising forward ran, on
	                            average: the block length when exact, fewer with the
	                            cache "block" or "window:W"; 0 for the other families */
} dllm_result;

/* Releases a result and everything it points to. NULL is a no-op. */
DLLM_API void dllm_result_free(dllm_result *r);

/* ---- sessions ----------------------------------------------------------------- */

/* A session holds the decoding state (KV cache) and, for dllm_session_chat, the
 * conversation.
 * Returns: OK, INVALID_ARGUMENT, CLOSED, IO, FAILED, INTERNAL. */
DLLM_API dllm_status dllm_session_new(dllm_model *m, dllm_session **out);

/* Releases the session; a generation running on it in another thread is cancelled.
 * NULL is a no-op. */
DLLM_API void dllm_session_free(dllm_session *s);

/* The generating functions below set *out to a result to release with
 * dllm_result_free when they return DLLM_STATUS_OK, DLLM_STATUS_STOPPED or
 * DLLM_STATUS_CANCELLED (a partial result for the last two), and to NULL otherwise.
 * params may be NULL for dllm_generate_default_params. They, and dllm_session_new,
 * return DLLM_STATUS_IO when a file of the model was truncated or rewritten since it
 * was loaded. Option and prompt bounds are those of the Go package's
 * GenerateOptions.Validate and session; breaking one is DLLM_STATUS_INVALID_ARGUMENT. */

/* Generates a continuation of raw text (special tokens in it are parsed). A prompt
 * containing the mask token (here or in dllm_session_generate_ids) is
 * DLLM_STATUS_INVALID_ARGUMENT: infilling is not supported.
 * Returns: OK, STOPPED, CANCELLED, INVALID_ARGUMENT, CLOSED, BUSY, IO, NON_FINITE, FAILED,
 * INTERNAL. */
DLLM_API dllm_status dllm_session_generate(dllm_session *s, const char *prompt,
                                           const dllm_generate_params *params,
                                           dllm_result **out);

/* Generates a continuation of token ids.
 * Returns: OK, STOPPED, CANCELLED, INVALID_ARGUMENT, CLOSED, BUSY, IO, NON_FINITE, FAILED,
 * INTERNAL. */
DLLM_API dllm_status dllm_session_generate_ids(dllm_session *s, const int32_t *ids,
                                               size_t n_ids,
                                               const dllm_generate_params *params,
                                               dllm_result **out);

typedef struct dllm_message {
	const char *role;    /* "system", "user", "assistant" or "tool" (also spelled
	                        "observation"): the roles of the model's chat template */
	const char *content;
} dllm_message;

/* Renders messages with the model's chat template plus the generation prompt and
 * generates the assistant's reply. The session's conversation is not changed.
 * Message contents are plain text: special-token text in them (such as
 * "<|role_end|>" or "<|mask|>") is encoded as ordinary characters, so a message cannot
 * forge a turn; to pass special tokens on purpose, render the prompt yourself and use
 * dllm_session_generate.
 * Returns: OK, STOPPED, CANCELLED, INVALID_ARGUMENT, CLOSED, BUSY, IO, NON_FINITE, FAILED,
 * INTERNAL. */
DLLM_API dllm_status dllm_session_generate_chat(dllm_session *s, const dllm_message *msgs,
                                                size_t n_msgs,
                                                const dllm_generate_params *params,
                                                dllm_result **out);

/* Multi-turn chat: appends the user message to the session's conversation, generates
 * the reply and keeps it in the conversation (reusing the cached prefix). Messages are
 * plain text, as for dllm_session_generate_chat.
 * Returns: OK, STOPPED, CANCELLED, INVALID_ARGUMENT, CLOSED, BUSY, IO, NON_FINITE, FAILED,
 * INTERNAL. */
DLLM_API dllm_status dllm_session_chat(dllm_session *s, const char *user,
                                       const dllm_generate_params *params,
                                       dllm_result **out);

/* Sets the system message of the conversation (NULL or "" removes it).
 * Returns: OK, INVALID_ARGUMENT, CLOSED, BUSY, INTERNAL. */
DLLM_API dllm_status dllm_session_set_system(dllm_session *s, const char *text);

/* Forgets the conversation (the system message stays).
 * Returns: OK, INVALID_ARGUMENT, CLOSED, BUSY, INTERNAL. */
DLLM_API dllm_status dllm_session_reset(dllm_session *s);

/* Asks the generation running on s (in another thread) to stop; it returns
 * DLLM_STATUS_CANCELLED. OK when nothing runs.
 * Returns: OK, INVALID_ARGUMENT, INTERNAL. */
DLLM_API dllm_status dllm_session_cancel(dllm_session *s);

#ifdef __cplusplus
}
#endif

#endif /* DLLM_H */
