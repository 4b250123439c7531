//! Raw declarations of libdllm's C ABI, written by hand to match `include/dllm.h`.
//! Every struct is `#[repr(C)]` in the header's field order; see the header for the
//! documentation of each function. `scripts/check-abi-mirrors.py` checks the functions,
//! the struct layouts and the constants declared here against the header.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub const DLLM_VERSION_MAJOR: u32 = 0;
pub const DLLM_VERSION_MINOR: u32 = 5;
pub const DLLM_VERSION_PATCH: u32 = 0;
pub const DLLM_VERSION_NUMBER: u32 =
    DLLM_VERSION_MAJOR * 10000 + DLLM_VERSION_MINOR * 100 + DLLM_VERSION_PATCH;

pub type dllm_status = i32;

pub const DLLM_STATUS_OK: dllm_status = 0;
pub const DLLM_STATUS_INVALID_ARGUMENT: dllm_status = 1;
pub const DLLM_STATUS_IO: dllm_status = 2;
pub const DLLM_STATUS_FORMAT: dllm_status = 3;
pub const DLLM_STATUS_UNSUPPORTED: dllm_status = 4;
pub const DLLM_STATUS_BUFFER_TOO_SMALL: dllm_status = 5;
pub const DLLM_STATUS_CLOSED: dllm_status = 6;
pub const DLLM_STATUS_BUSY: dllm_status = 7;
pub const DLLM_STATUS_STOPPED: dllm_status = 8;
pub const DLLM_STATUS_CANCELLED: dllm_status = 9;
pub const DLLM_STATUS_FAILED: dllm_status = 10;
pub const DLLM_STATUS_INTERNAL: dllm_status = 11;
pub const DLLM_STATUS_NON_FINITE: dllm_status = 12;

pub type dllm_stop_reason = i32;

pub const DLLM_STOP_LENGTH: dllm_stop_reason = 0;
pub const DLLM_STOP_EOS_BLOCK: dllm_stop_reason = 1;
pub const DLLM_STOP_EOS_EARLY: dllm_stop_reason = 2;
pub const DLLM_STOP_TOKEN: dllm_stop_reason = 3;
pub const DLLM_STOP_CALLBACK: dllm_stop_reason = 4;
pub const DLLM_STOP_CANCELLED: dllm_stop_reason = 5;

/// Opaque model.
#[repr(C)]
pub struct dllm_model {
    _private: [u8; 0],
}

/// Opaque session.
#[repr(C)]
pub struct dllm_session {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dllm_load_params {
    pub struct_size: usize,
    pub threads: i32,
    pub kv_cache_f16: i32,
    /// Since 0.5.
    pub no_repack: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dllm_model_info {
    pub struct_size: usize,
    pub architecture: [c_char; 64],
    pub format: [c_char; 16],
    pub vocab_size: i32,
    pub context_length: i32,
    pub layers: i32,
    pub hidden_size: i32,
    pub experts: i32,
    pub mask_id: i32,
    pub eos_id: i32,
    pub role_end_id: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct dllm_commit {
    pub pos: i32,
    pub token: i32,
    pub confidence: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct dllm_edit {
    pub pos: i32,
    pub old_token: i32,
    pub new_token: i32,
    pub reserved: i32,
    pub confidence: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dllm_step_event {
    pub struct_size: usize,
    pub block: i32,
    pub step: i32,
    pub window: i32,
    pub start: i32,
    pub masked: i32,
    pub post_step: i32,
    pub canvas: *const i32,
    pub n_canvas: usize,
    pub committed: *const dllm_commit,
    pub n_committed: usize,
    pub edited: *const dllm_edit,
    pub n_edited: usize,
}

pub type dllm_step_callback =
    Option<unsafe extern "C" fn(ev: *const dllm_step_event, user_data: *mut c_void) -> c_int>;
pub type dllm_text_callback =
    Option<unsafe extern "C" fn(utf8: *const c_char, len: usize, user_data: *mut c_void) -> c_int>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dllm_generate_params {
    pub struct_size: usize,
    pub max_tokens: i32,
    pub block_length: i32,
    pub steps: i32,
    pub max_post_steps: i32,
    pub num_to_transfer: i32,
    pub top_k: i32,
    pub threshold: f64,
    pub edit_threshold: f64,
    pub temperature: f64,
    pub top_p: f64,
    pub seed: u64,
    pub eos_early_stop: i32,
    pub stop_on_role_end: i32,
    pub no_cache: i32,
    pub reserved: i32,
    pub on_step: dllm_step_callback,
    pub step_user_data: *mut c_void,
    pub on_text: dllm_text_callback,
    pub text_user_data: *mut c_void,
    pub algorithm: *const c_char,
    pub cfg_scale: f64,
    pub eps: f64,
    pub alg_temp: f64,
    pub eb_gamma: f64,
    pub cache: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct dllm_stats {
    pub prompt_tokens: i32,
    pub tokens: i32,
    pub forwards: i32,
    pub model_calls: i32,
    pub tokens_per_forward: f64,
    pub time_to_first_token_ns: i64,
    pub duration_ns: i64,
    pub tokens_per_second: f64,
}

#[repr(C)]
#[derive(Debug)]
pub struct dllm_result {
    pub struct_size: usize,
    pub tokens: *mut i32,
    pub n_tokens: usize,
    pub text: *mut c_char,
    pub text_len: usize,
    pub stop_reason: *const c_char,
    pub stats: dllm_stats,
    pub stop: dllm_stop_reason,
    /// Since 0.4.
    pub rows_per_forward: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dllm_message {
    pub role: *const c_char,
    pub content: *const c_char,
}

extern "C" {
    pub fn dllm_status_string(status: dllm_status) -> *const c_char;
    pub fn dllm_version() -> u32;
    pub fn dllm_stop_reason_string(reason: dllm_stop_reason) -> *const c_char;

    pub fn dllm_model_errmsg(m: *mut dllm_model, buf: *mut c_char, len: usize) -> dllm_status;
    pub fn dllm_session_errmsg(s: *mut dllm_session, buf: *mut c_char, len: usize) -> dllm_status;
    pub fn dllm_last_errmsg(buf: *mut c_char, len: usize) -> dllm_status;
    pub fn dllm_free(p: *mut c_void);

    pub fn dllm_load_default_params(p: *mut dllm_load_params) -> dllm_status;
    pub fn dllm_model_load(
        path: *const c_char,
        params: *const dllm_load_params,
        out: *mut *mut dllm_model,
    ) -> dllm_status;
    pub fn dllm_model_free(m: *mut dllm_model);
    pub fn dllm_model_get_info(m: *mut dllm_model, info: *mut dllm_model_info) -> dllm_status;
    pub fn dllm_tokenize(
        m: *mut dllm_model,
        text: *const c_char,
        parse_special: c_int,
        ids: *mut i32,
        cap: usize,
        n_ids: *mut usize,
    ) -> dllm_status;
    pub fn dllm_detokenize(
        m: *mut dllm_model,
        ids: *const i32,
        n_ids: usize,
        out: *mut *mut c_char,
        out_len: *mut usize,
    ) -> dllm_status;

    pub fn dllm_generate_default_params(p: *mut dllm_generate_params) -> dllm_status;
    pub fn dllm_model_default_params(
        m: *mut dllm_model,
        p: *mut dllm_generate_params,
    ) -> dllm_status;
    pub fn dllm_generate_quality_params(p: *mut dllm_generate_params) -> dllm_status;
    pub fn dllm_generate_speed_params(p: *mut dllm_generate_params) -> dllm_status;

    pub fn dllm_result_free(r: *mut dllm_result);

    pub fn dllm_session_new(m: *mut dllm_model, out: *mut *mut dllm_session) -> dllm_status;
    pub fn dllm_session_free(s: *mut dllm_session);
    pub fn dllm_session_generate(
        s: *mut dllm_session,
        prompt: *const c_char,
        params: *const dllm_generate_params,
        out: *mut *mut dllm_result,
    ) -> dllm_status;
    pub fn dllm_session_generate_ids(
        s: *mut dllm_session,
        ids: *const i32,
        n_ids: usize,
        params: *const dllm_generate_params,
        out: *mut *mut dllm_result,
    ) -> dllm_status;
    pub fn dllm_session_generate_chat(
        s: *mut dllm_session,
        msgs: *const dllm_message,
        n_msgs: usize,
        params: *const dllm_generate_params,
        out: *mut *mut dllm_result,
    ) -> dllm_status;
    pub fn dllm_session_chat(
        s: *mut dllm_session,
        user: *const c_char,
        params: *const dllm_generate_params,
        out: *mut *mut dllm_result,
    ) -> dllm_status;
    pub fn dllm_session_set_system(s: *mut dllm_session, text: *const c_char) -> dllm_status;
    pub fn dllm_session_reset(s: *mut dllm_session) -> dllm_status;
    pub fn dllm_session_cancel(s: *mut dllm_session) -> dllm_status;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    // Layouts on 64-bit targets, as the C compiler lays out dllm.h.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn layouts() {
        assert_eq!(size_of::<dllm_load_params>(), 24);
        assert_eq!(size_of::<dllm_model_info>(), 120);
        assert_eq!(size_of::<dllm_commit>(), 16);
        assert_eq!(size_of::<dllm_edit>(), 24);
        assert_eq!(size_of::<dllm_step_event>(), 80);
        assert_eq!(size_of::<dllm_generate_params>(), 168);
        assert_eq!(size_of::<dllm_stats>(), 48);
        assert_eq!(size_of::<dllm_result>(), 112);
        assert_eq!(size_of::<dllm_message>(), 16);
    }

    #[test]
    fn version_matches_the_library() {
        let v = unsafe { dllm_version() };
        assert_eq!(v / 10000, DLLM_VERSION_MAJOR);
        assert!(v / 100 % 100 >= DLLM_VERSION_MINOR);
    }
}
