"""ctypes declarations of include/dllm.h.

Each function is declared by a stub whose annotations are its ctypes signature (the
decorator binds the library function with them) and whose docstring quotes the C
prototype; the structs mirror the header's versioned structs field by field (every one
starts with struct_size, so a library newer than this file still reads them correctly).
scripts/check-abi-mirrors.py checks the functions, layouts and constants against the
header.
"""

import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int,
                    c_int32, c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

from . import _lib

lib = _lib.load()

status_t = c_int32

OK = 0
INVALID_ARGUMENT = 1
IO = 2
FORMAT = 3
UNSUPPORTED = 4
BUFFER_TOO_SMALL = 5
CLOSED = 6
BUSY = 7
STOPPED = 8
CANCELLED = 9
FAILED = 10
INTERNAL = 11
NON_FINITE = 12

# dllm_stop_reason
stop_reason_t = c_int32
STOP_LENGTH = 0
STOP_EOS_BLOCK = 1
STOP_EOS_EARLY = 2
STOP_TOKEN = 3
STOP_CALLBACK = 4
STOP_CANCELLED = 5


class model_p(c_void_p):
    """dllm_model * (opaque)"""


class session_p(c_void_p):
    """dllm_session * (opaque)"""


class load_params(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("threads", c_int32),
        ("kv_cache_f16", c_int32),
        ("no_repack", c_int32),  # since 0.5
    ]


class model_info(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("architecture", c_char * 64),
        ("format", c_char * 16),
        ("vocab_size", c_int32),
        ("context_length", c_int32),
        ("layers", c_int32),
        ("hidden_size", c_int32),
        ("experts", c_int32),
        ("mask_id", c_int32),
        ("eos_id", c_int32),
        ("role_end_id", c_int32),
    ]


class commit(Structure):
    _fields_ = [("pos", c_int32), ("token", c_int32), ("confidence", c_double)]


class edit(Structure):
    _fields_ = [
        ("pos", c_int32),
        ("old_token", c_int32),
        ("new_token", c_int32),
        ("reserved", c_int32),
        ("confidence", c_double),
    ]


class step_event(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("block", c_int32),
        ("step", c_int32),
        ("window", c_int32),
        ("start", c_int32),
        ("masked", c_int32),
        ("post_step", c_int32),
        ("canvas", POINTER(c_int32)),
        ("n_canvas", c_size_t),
        ("committed", POINTER(commit)),
        ("n_committed", c_size_t),
        ("edited", POINTER(edit)),
        ("n_edited", c_size_t),
    ]


# int (*dllm_step_callback)(const dllm_step_event *ev, void *user_data);
step_callback = CFUNCTYPE(c_int, POINTER(step_event), c_void_p)
# int (*dllm_text_callback)(const char *utf8, size_t len, void *user_data);
# (the text arrives as a raw pointer: it is len bytes, decoded by the caller)
text_callback = CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)


class generate_params(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("max_tokens", c_int32),
        ("block_length", c_int32),
        ("steps", c_int32),
        ("max_post_steps", c_int32),
        ("num_to_transfer", c_int32),
        ("top_k", c_int32),
        ("threshold", c_double),
        ("edit_threshold", c_double),
        ("temperature", c_double),
        ("top_p", c_double),
        ("seed", c_uint64),
        ("eos_early_stop", c_int32),
        ("stop_on_role_end", c_int32),
        ("no_cache", c_int32),
        ("reserved", c_int32),
        ("on_step", step_callback),
        ("step_user_data", c_void_p),
        ("on_text", text_callback),
        ("text_user_data", c_void_p),
        ("algorithm", c_char_p),
        ("cfg_scale", c_double),
        ("eps", c_double),
        ("alg_temp", c_double),
        ("eb_gamma", c_double),
        ("cache", c_char_p),
    ]


class stats(Structure):
    _fields_ = [
        ("prompt_tokens", c_int32),
        ("tokens", c_int32),
        ("forwards", c_int32),
        ("model_calls", c_int32),
        ("tokens_per_forward", c_double),
        ("time_to_first_token_ns", c_int64),
        ("duration_ns", c_int64),
        ("tokens_per_second", c_double),
    ]


class result(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("tokens", POINTER(c_int32)),
        ("n_tokens", c_size_t),
        ("text", POINTER(c_char)),
        ("text_len", c_size_t),
        ("stop_reason", c_char_p),
        ("stats", stats),
        ("stop", stop_reason_t),
        ("rows_per_forward", c_double),
    ]


class message(Structure):
    _fields_ = [("role", c_char_p), ("content", c_char_p)]


def _c(stub):
    """Binds the library function named like the stub, typed by its annotations."""
    f = getattr(lib, stub.__name__)
    types = dict(stub.__annotations__)
    f.restype = types.pop("return")
    f.argtypes = list(types.values())
    f.__doc__ = stub.__doc__
    f.__wrapped__ = stub  # help() and inspect.signature show the annotated stub
    return f


@_c
def dllm_status_string(status: status_t) -> c_char_p:
    """const char *dllm_status_string(dllm_status status);"""


@_c
def dllm_version() -> c_uint32:
    """uint32_t dllm_version(void);"""


@_c
def dllm_stop_reason_string(reason: stop_reason_t) -> c_char_p:
    """const char *dllm_stop_reason_string(dllm_stop_reason reason);"""


@_c
def dllm_model_errmsg(m: model_p, buf: c_void_p, len: c_size_t) -> status_t:
    """dllm_status dllm_model_errmsg(dllm_model *m, char *buf, size_t len);"""


@_c
def dllm_session_errmsg(s: session_p, buf: c_void_p, len: c_size_t) -> status_t:
    """dllm_status dllm_session_errmsg(dllm_session *s, char *buf, size_t len);"""


@_c
def dllm_last_errmsg(buf: c_void_p, len: c_size_t) -> status_t:
    """dllm_status dllm_last_errmsg(char *buf, size_t len);"""


@_c
def dllm_free(p: c_void_p) -> None:
    """void dllm_free(void *p);"""


@_c
def dllm_load_default_params(p: POINTER(load_params)) -> status_t:
    """dllm_status dllm_load_default_params(dllm_load_params *p);"""


@_c
def dllm_model_load(
        path: c_char_p,
        params: POINTER(load_params),
        out: POINTER(model_p)) -> status_t:
    """dllm_status dllm_model_load(const char *path, const dllm_load_params *params,
    dllm_model **out);"""


@_c
def dllm_model_free(m: model_p) -> None:
    """void dllm_model_free(dllm_model *m);"""


@_c
def dllm_model_get_info(m: model_p, info: POINTER(model_info)) -> status_t:
    """dllm_status dllm_model_get_info(dllm_model *m, dllm_model_info *info);"""


@_c
def dllm_tokenize(
        m: model_p,
        text: c_char_p,
        parse_special: c_int,
        ids: POINTER(c_int32),
        cap: c_size_t,
        n_ids: POINTER(c_size_t)) -> status_t:
    """dllm_status dllm_tokenize(dllm_model *m, const char *text, int parse_special,
    int32_t *ids, size_t cap, size_t *n_ids);"""


@_c
def dllm_detokenize(
        m: model_p,
        ids: POINTER(c_int32),
        n_ids: c_size_t,
        out: POINTER(c_void_p),
        out_len: POINTER(c_size_t)) -> status_t:
    """dllm_status dllm_detokenize(dllm_model *m, const int32_t *ids, size_t n_ids,
    char **out, size_t *out_len);"""


@_c
def dllm_generate_default_params(p: POINTER(generate_params)) -> status_t:
    """dllm_status dllm_generate_default_params(dllm_generate_params *p);"""


@_c
def dllm_model_default_params(m: model_p, p: POINTER(generate_params)) -> status_t:
    """dllm_status dllm_model_default_params(dllm_model *m, dllm_generate_params *p);"""


@_c
def dllm_generate_quality_params(p: POINTER(generate_params)) -> status_t:
    """dllm_status dllm_generate_quality_params(dllm_generate_params *p);"""


@_c
def dllm_generate_speed_params(p: POINTER(generate_params)) -> status_t:
    """dllm_status dllm_generate_speed_params(dllm_generate_params *p);"""


@_c
def dllm_result_free(r: POINTER(result)) -> None:
    """void dllm_result_free(dllm_result *r);"""


@_c
def dllm_session_new(m: model_p, out: POINTER(session_p)) -> status_t:
    """dllm_status dllm_session_new(dllm_model *m, dllm_session **out);"""


@_c
def dllm_session_free(s: session_p) -> None:
    """void dllm_session_free(dllm_session *s);"""


@_c
def dllm_session_generate(
        s: session_p,
        prompt: c_char_p,
        params: POINTER(generate_params),
        out: POINTER(POINTER(result))) -> status_t:
    """dllm_status dllm_session_generate(dllm_session *s, const char *prompt,
    const dllm_generate_params *params, dllm_result **out);"""


@_c
def dllm_session_generate_ids(
        s: session_p,
        ids: POINTER(c_int32),
        n_ids: c_size_t,
        params: POINTER(generate_params),
        out: POINTER(POINTER(result))) -> status_t:
    """dllm_status dllm_session_generate_ids(dllm_session *s, const int32_t *ids,
    size_t n_ids, const dllm_generate_params *params, dllm_result **out);"""


@_c
def dllm_session_generate_chat(
        s: session_p,
        msgs: POINTER(message),
        n_msgs: c_size_t,
        params: POINTER(generate_params),
        out: POINTER(POINTER(result))) -> status_t:
    """dllm_status dllm_session_generate_chat(dllm_session *s, const dllm_message *msgs,
    size_t n_msgs, const dllm_generate_params *params, dllm_result **out);"""


@_c
def dllm_session_chat(
        s: session_p,
        user: c_char_p,
        params: POINTER(generate_params),
        out: POINTER(POINTER(result))) -> status_t:
    """dllm_status dllm_session_chat(dllm_session *s, const char *user,
    const dllm_generate_params *params, dllm_result **out);"""


@_c
def dllm_session_set_system(s: session_p, text: c_char_p) -> status_t:
    """dllm_status dllm_session_set_system(dllm_session *s, const char *text);"""


@_c
def dllm_session_reset(s: session_p) -> status_t:
    """dllm_status dllm_session_reset(dllm_session *s);"""


@_c
def dllm_session_cancel(s: session_p) -> status_t:
    """dllm_status dllm_session_cancel(dllm_session *s);"""


def string_at(p, n):
    """The n bytes at C pointer p."""
    return ctypes.string_at(p, n) if n else b""
