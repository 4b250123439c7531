#include "private.h"

/* The C half of the export layer (see private.h). */

int dllmcapi_call_step(dllm_step_callback cb, const dllm_step_event *ev, void *user_data) {
	return cb(ev, user_data);
}

int dllmcapi_call_text(dllm_text_callback cb, const char *utf8, size_t len, void *user_data) {
	return cb(utf8, len, user_data);
}

/* A fixed buffer per thread: nothing to free when a thread exits. Longer messages are
 * truncated here but kept whole on the object they concern. */
static _Thread_local char last_error[1024];
static _Thread_local size_t last_error_len;

void dllmcapi_set_last_error(const char *msg, size_t len) {
	if (len >= sizeof last_error) {
		len = sizeof last_error - 1;
	}
	memcpy(last_error, msg, len);
	last_error[len] = 0;
	last_error_len = len;
}

size_t dllmcapi_last_error(const char **msg) {
	*msg = last_error;
	return last_error_len;
}

static const char *const status_names[] = {
	[DLLM_STATUS_OK] = "OK",
	[DLLM_STATUS_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
	[DLLM_STATUS_IO] = "IO",
	[DLLM_STATUS_FORMAT] = "FORMAT",
	[DLLM_STATUS_UNSUPPORTED] = "UNSUPPORTED",
	[DLLM_STATUS_BUFFER_TOO_SMALL] = "BUFFER_TOO_SMALL",
	[DLLM_STATUS_CLOSED] = "CLOSED",
	[DLLM_STATUS_BUSY] = "BUSY",
	[DLLM_STATUS_STOPPED] = "STOPPED",
	[DLLM_STATUS_CANCELLED] = "CANCELLED",
	[DLLM_STATUS_FAILED] = "FAILED",
	[DLLM_STATUS_INTERNAL] = "INTERNAL",
	[DLLM_STATUS_NON_FINITE] = "NON_FINITE",
};

const char *dllmcapi_status_name(dllm_status status) {
	int n = (int)(sizeof status_names / sizeof status_names[0]);
	if (status < 0 || status >= n || status_names[status] == NULL) {
		return "UNKNOWN";
	}
	return status_names[status];
}
