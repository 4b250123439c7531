/*
 * Private declarations of the export layer: the boxes behind the opaque handles, the
 * const typedefs that make cgo's prototypes of the exports agree with dllm.h, and the
 * C helpers Go calls (function pointers can only be called from C).
 *
 * Everything here is hidden from the shared library's dynamic symbol table; only the
 * functions declared in dllm.h are exported.
 */
#ifndef DLLM_CAPI_PRIVATE_H
#define DLLM_CAPI_PRIVATE_H

#include <stdlib.h>
#include <string.h>
#include "dllm.h"

/* cgo writes an export's parameter types from its Go signature; these names let a Go
 * signature say "pointer to const", so the prototype cgo emits is compatible with the
 * one in dllm.h and the C compiler checks the two against each other. */
typedef const char cchar_t;
typedef const int32_t cint32_t;
typedef const dllm_load_params cdllm_load_params;
typedef const dllm_generate_params cdllm_generate_params;
typedef const dllm_message cdllm_message;

/* The boxes: C memory holding a handle id into the Go-side tables. Go pointers never
 * reach C. */
struct dllm_model {
	uint64_t handle;
};
struct dllm_session {
	uint64_t handle;
};

#define DLLMCAPI_HIDDEN __attribute__((visibility("hidden")))

/* Call the user's callbacks. */
DLLMCAPI_HIDDEN int dllmcapi_call_step(dllm_step_callback cb, const dllm_step_event *ev,
                                       void *user_data);
DLLMCAPI_HIDDEN int dllmcapi_call_text(dllm_text_callback cb, const char *utf8, size_t len,
                                       void *user_data);

/* The calling thread's last error message. */
DLLMCAPI_HIDDEN void dllmcapi_set_last_error(const char *msg, size_t len);
DLLMCAPI_HIDDEN size_t dllmcapi_last_error(const char **msg);

/* The static name of a status ("UNKNOWN" for others). */
DLLMCAPI_HIDDEN const char *dllmcapi_status_name(dllm_status status);

#endif
