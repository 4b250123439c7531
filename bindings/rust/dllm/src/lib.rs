//! Safe Rust bindings of libdllm (`include/dllm.h`): diffusion language models on CPUs.
//!
//! ```no_run
//! let model = dllm::Model::load("demo")?; // the demo model built into the library
//! let mut session = model.session()?;
//! let params = dllm::GenerateParams::new().max_tokens(32);
//! let out = session.generate_chat(&[dllm::Message::user("What is 12+9?")], &params)?;
//! println!("{} ({} tokens/s)", out.text, out.stats.tokens_per_second);
//! # Ok::<(), dllm::Error>(())
//! ```
//!
//! A [`Model`] is shared (`Send + Sync`); each [`Session`] borrows it, so no session can
//! outlive its model, and is used by one thread at a time; a [`CancelHandle`] stops its
//! generation from any thread. Callbacks are closures; a panic inside one stops
//! generation and resumes unwinding once the C call has returned.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dllm_sys as sys;

pub use sys::{dllm_commit as Commit, dllm_edit as Edit};

/// Status codes of the C API (everything but OK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InvalidArgument,
    Io,
    Format,
    Unsupported,
    BufferTooSmall,
    Closed,
    Busy,
    Stopped,
    Cancelled,
    Failed,
    Internal,
    NonFinite,
    Unknown(i32),
}

impl Status {
    fn from_code(code: sys::dllm_status) -> Status {
        match code {
            sys::DLLM_STATUS_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::DLLM_STATUS_IO => Status::Io,
            sys::DLLM_STATUS_FORMAT => Status::Format,
            sys::DLLM_STATUS_UNSUPPORTED => Status::Unsupported,
            sys::DLLM_STATUS_BUFFER_TOO_SMALL => Status::BufferTooSmall,
            sys::DLLM_STATUS_CLOSED => Status::Closed,
            sys::DLLM_STATUS_BUSY => Status::Busy,
            sys::DLLM_STATUS_STOPPED => Status::Stopped,
            sys::DLLM_STATUS_CANCELLED => Status::Cancelled,
            sys::DLLM_STATUS_FAILED => Status::Failed,
            sys::DLLM_STATUS_INTERNAL => Status::Internal,
            sys::DLLM_STATUS_NON_FINITE => Status::NonFinite,
            c => Status::Unknown(c),
        }
    }
}

/// Why a generation ended (`dllm_stop_reason`). Display gives the library's name of the
/// reason ("gen_length", "stopped", ...), as the Go package and JSON output spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// `max_tokens` were generated.
    Length,
    /// A finished block contained the end-of-text token.
    EosBlock,
    /// `eos_early_stop` saw a final end-of-text token.
    EosEarly,
    /// A finished block contained the end-of-turn token.
    Token,
    /// A callback returned false.
    Callback,
    /// A [`CancelHandle`] cancelled the generation.
    Cancelled,
    /// A reason this binding does not know (from a newer library).
    Unknown(i32),
}

impl StopReason {
    fn from_code(code: sys::dllm_stop_reason) -> StopReason {
        match code {
            sys::DLLM_STOP_LENGTH => StopReason::Length,
            sys::DLLM_STOP_EOS_BLOCK => StopReason::EosBlock,
            sys::DLLM_STOP_EOS_EARLY => StopReason::EosEarly,
            sys::DLLM_STOP_TOKEN => StopReason::Token,
            sys::DLLM_STOP_CALLBACK => StopReason::Callback,
            sys::DLLM_STOP_CANCELLED => StopReason::Cancelled,
            c => StopReason::Unknown(c),
        }
    }

    fn code(self) -> sys::dllm_stop_reason {
        match self {
            StopReason::Length => sys::DLLM_STOP_LENGTH,
            StopReason::EosBlock => sys::DLLM_STOP_EOS_BLOCK,
            StopReason::EosEarly => sys::DLLM_STOP_EOS_EARLY,
            StopReason::Token => sys::DLLM_STOP_TOKEN,
            StopReason::Callback => sys::DLLM_STOP_CALLBACK,
            StopReason::Cancelled => sys::DLLM_STOP_CANCELLED,
            StopReason::Unknown(c) => c,
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: the library returns a static NUL-terminated string for any value.
        let name = unsafe { CStr::from_ptr(sys::dllm_stop_reason_string(self.code())) };
        f.write_str(&name.to_string_lossy())
    }
}

/// The one error type: a status and the library's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dllm: {:?}: {}", self.status, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn read_msg(f: impl FnOnce(*mut c_char, usize) -> sys::dllm_status) -> String {
    let mut buf = vec![0u8; 4096];
    f(buf.as_mut_ptr().cast(), buf.len());
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn last_error(code: sys::dllm_status) -> Error {
    // SAFETY: the buffer is valid for its length.
    let message = read_msg(|b, n| unsafe { sys::dllm_last_errmsg(b, n) });
    Error {
        status: Status::from_code(code),
        message,
    }
}

fn check(code: sys::dllm_status) -> Result<()> {
    if code == sys::DLLM_STATUS_OK {
        Ok(())
    } else {
        Err(last_error(code))
    }
}

fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error {
        status: Status::InvalidArgument,
        message: format!("{what} contains a NUL byte"),
    })
}

/// The library's version as (major, minor, patch).
pub fn library_version() -> (u32, u32, u32) {
    // SAFETY: no arguments.
    let v = unsafe { sys::dllm_version() };
    (v / 10000, v / 100 % 100, v % 100)
}

/// Options for [`Model::load_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadParams {
    /// Worker threads; 0 uses every CPU.
    pub threads: u32,
    /// Store the KV cache in float16.
    pub kv_cache_f16: bool,
    /// Keep every weight in the memory-mapped file instead of copying, at load, the
    /// matrices the kernels read faster into a layout of their own (on x86-64 with
    /// AVX2: Q4_K, Q6_K and Q8_0; as much memory again as those weights).
    pub no_repack: bool,
}

/// Facts about a loaded model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub architecture: String,
    pub format: String,
    pub vocab_size: i32,
    pub context_length: i32,
    pub layers: i32,
    pub hidden_size: i32,
    pub experts: i32,
    pub mask_id: i32,
    pub eos_id: i32,
    pub role_end_id: i32,
}

/// A loaded model.
pub struct Model {
    ptr: NonNull<sys::dllm_model>,
}

// SAFETY: libdllm's models are immutable after loading and every model function is
// safe to call from any thread concurrently (the C ABI guards its handle tables with a
// mutex); the handle is only freed by Drop, which needs exclusive ownership.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Loads a Hugging Face directory or a .gguf file with default parameters.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Model::load_with(path, LoadParams::default())
    }

    pub fn load_with(path: impl AsRef<Path>, params: LoadParams) -> Result<Model> {
        let path = path.as_ref();
        let path = path.to_str().ok_or_else(|| Error {
            status: Status::InvalidArgument,
            message: format!("path {} is not valid UTF-8", path.display()),
        })?;
        let cpath = cstring(path, "path")?;
        let mut p = sys::dllm_load_params {
            struct_size: std::mem::size_of::<sys::dllm_load_params>(),
            threads: 0,
            kv_cache_f16: 0,
            no_repack: 0,
        };
        // SAFETY: p is a valid struct of the size it declares.
        check(unsafe { sys::dllm_load_default_params(&mut p) })?;
        p.threads = i32::try_from(params.threads).unwrap_or(i32::MAX);
        p.kv_cache_f16 = params.kv_cache_f16 as i32;
        p.no_repack = params.no_repack as i32;
        let mut out = ptr::null_mut();
        // SAFETY: valid NUL-terminated path, params and out pointer.
        check(unsafe { sys::dllm_model_load(cpath.as_ptr(), &p, &mut out) })?;
        let ptr = NonNull::new(out).ok_or_else(|| Error {
            status: Status::Internal,
            message: "dllm_model_load returned OK and NULL".into(),
        })?;
        Ok(Model { ptr })
    }

    fn err(&self, code: sys::dllm_status) -> Error {
        // SAFETY: the model is alive and the buffer valid.
        let message = read_msg(|b, n| unsafe { sys::dllm_model_errmsg(self.ptr.as_ptr(), b, n) });
        Error {
            status: Status::from_code(code),
            message,
        }
    }

    fn check(&self, code: sys::dllm_status) -> Result<()> {
        if code == sys::DLLM_STATUS_OK {
            Ok(())
        } else {
            Err(self.err(code))
        }
    }

    pub fn info(&self) -> Result<ModelInfo> {
        // SAFETY: dllm_model_info is plain data; all-zero is a valid value.
        let mut i: sys::dllm_model_info = unsafe { std::mem::zeroed() };
        i.struct_size = std::mem::size_of::<sys::dllm_model_info>();
        // SAFETY: the model is alive; i is valid for its declared size.
        self.check(unsafe { sys::dllm_model_get_info(self.ptr.as_ptr(), &mut i) })?;
        let s = |a: &[c_char]| {
            // SAFETY: the library NUL-terminates these arrays.
            unsafe { CStr::from_ptr(a.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        };
        Ok(ModelInfo {
            architecture: s(&i.architecture),
            format: s(&i.format),
            vocab_size: i.vocab_size,
            context_length: i.context_length,
            layers: i.layers,
            hidden_size: i.hidden_size,
            experts: i.experts,
            mask_id: i.mask_id,
            eos_id: i.eos_id,
            role_end_id: i.role_end_id,
        })
    }

    /// The recommended parameters of the model's family (`dllm_model_default_params`):
    /// LLaDA2's default preset, or the model card's settings of LLaDA, LLaDA-MoE, Dream
    /// and RND1 (the README's "Run LLaDA, LLaDA-MoE, Dream and RND1").
    pub fn default_params(&self) -> Result<GenerateParams> {
        // SAFETY: plain data; callbacks None, user data, algorithm and cache null.
        let mut raw: sys::dllm_generate_params = unsafe { std::mem::zeroed() };
        raw.struct_size = std::mem::size_of::<sys::dllm_generate_params>();
        // SAFETY: the model is alive; raw is valid for its declared size.
        self.check(unsafe { sys::dllm_model_default_params(self.ptr.as_ptr(), &mut raw) })?;
        Ok(GenerateParams {
            raw,
            algorithm: None,
            cache: None,
        })
    }

    /// Encodes text; with `parse_special`, special tokens written in it become their ids.
    pub fn tokenize(&self, text: &str, parse_special: bool) -> Result<Vec<i32>> {
        let c = cstring(text, "text")?;
        let mut ids: Vec<i32> = Vec::new();
        loop {
            let mut n = 0usize;
            // SAFETY: ids has capacity for ids.capacity() elements.
            let st = unsafe {
                sys::dllm_tokenize(
                    self.ptr.as_ptr(),
                    c.as_ptr(),
                    parse_special as c_int,
                    ids.as_mut_ptr(),
                    ids.capacity(),
                    &mut n,
                )
            };
            if st == sys::DLLM_STATUS_BUFFER_TOO_SMALL && n > ids.capacity() {
                ids.reserve_exact(n);
                continue;
            }
            self.check(st)?;
            // SAFETY: the library wrote n <= capacity ids.
            unsafe { ids.set_len(n) };
            return Ok(ids);
        }
    }

    pub fn detokenize(&self, ids: &[i32]) -> Result<String> {
        let mut out: *mut c_char = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: ids is valid for its length; out receives a library allocation.
        self.check(unsafe {
            sys::dllm_detokenize(
                self.ptr.as_ptr(),
                ids.as_ptr(),
                ids.len(),
                &mut out,
                &mut len,
            )
        })?;
        // SAFETY: out holds len bytes; freed with dllm_free.
        let text = unsafe { std::slice::from_raw_parts(out.cast::<u8>(), len) };
        let s = String::from_utf8_lossy(text).into_owned();
        unsafe { sys::dllm_free(out.cast()) };
        Ok(s)
    }

    /// A new session on this model; it borrows the model.
    pub fn session(&self) -> Result<Session<'_>> {
        let mut out = ptr::null_mut();
        // SAFETY: the model is alive.
        self.check(unsafe { sys::dllm_session_new(self.ptr.as_ptr(), &mut out) })?;
        let ptr = NonNull::new(out).ok_or_else(|| Error {
            status: Status::Internal,
            message: "dllm_session_new returned OK and NULL".into(),
        })?;
        Ok(Session {
            raw: Arc::new(RawSession {
                ptr,
                closed: AtomicBool::new(false),
            }),
            _model: PhantomData,
            _not_sync: PhantomData,
        })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the handle came from dllm_model_load and is freed once; sessions
        // borrow the model, so none is alive.
        unsafe { sys::dllm_model_free(self.ptr.as_ptr()) }
    }
}

/// Generation parameters, a builder over `dllm_generate_params`. Start from
/// [`Model::default_params`] (the model's family's recommended settings) or, for LLaDA2,
/// a preset.
#[derive(Clone)]
pub struct GenerateParams {
    raw: sys::dllm_generate_params,
    /// The algorithm `raw.algorithm` points at during a call (None: NULL).
    algorithm: Option<CString>,
    /// The cache mode `raw.cache` points at during a call (None: NULL).
    cache: Option<CString>,
}

impl fmt::Debug for GenerateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.raw;
        f.debug_struct("GenerateParams")
            .field("max_tokens", &r.max_tokens)
            .field("block_length", &r.block_length)
            .field("steps", &r.steps)
            .field("threshold", &r.threshold)
            .field("edit_threshold", &r.edit_threshold)
            .field("temperature", &r.temperature)
            .field("seed", &r.seed)
            .field("algorithm", &self.algorithm)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Default for GenerateParams {
    fn default() -> Self {
        GenerateParams::new()
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $t:ty => $field:ident $(as $conv:ty)?;)*) => {
        $( $(#[$doc])* pub fn $name(mut self, v: $t) -> Self {
            self.raw.$field = v $(as $conv)?;
            self
        } )*
    };
}

impl GenerateParams {
    fn preset(f: unsafe extern "C" fn(*mut sys::dllm_generate_params) -> sys::dllm_status) -> Self {
        // SAFETY: plain data; callbacks None, user data null.
        let mut raw: sys::dllm_generate_params = unsafe { std::mem::zeroed() };
        raw.struct_size = std::mem::size_of::<sys::dllm_generate_params>();
        // SAFETY: raw is valid for its declared size. Only fails when poisoned; the
        // generating call then reports it.
        let _ = unsafe { f(&mut raw) };
        GenerateParams {
            raw,
            algorithm: None,
            cache: None,
        }
    }

    /// LLaDA2.0 threshold decoding (block 32, steps 32, threshold 0.95, greedy).
    pub fn new() -> Self {
        Self::preset(sys::dllm_generate_default_params)
    }

    /// LLaDA2.1 "quality" preset.
    pub fn quality() -> Self {
        Self::preset(sys::dllm_generate_quality_params)
    }

    /// LLaDA2.1 "speed" preset.
    pub fn speed() -> Self {
        Self::preset(sys::dllm_generate_speed_params)
    }

    setters! {
        /// New tokens at most.
        max_tokens: i32 => max_tokens;
        block_length: i32 => block_length;
        steps: i32 => steps;
        max_post_steps: i32 => max_post_steps;
        num_to_transfer: i32 => num_to_transfer;
        top_k: i32 => top_k;
        threshold: f64 => threshold;
        /// >= 0 enables LLaDA2.1 editing; negative disables it.
        edit_threshold: f64 => edit_threshold;
        temperature: f64 => temperature;
        top_p: f64 => top_p;
        seed: u64 => seed;
        eos_early_stop: bool => eos_early_stop as i32;
        /// The end-of-turn token also ends the output (default true).
        stop_on_role_end: bool => stop_on_role_end as i32;
        no_cache: bool => no_cache as i32;
        /// Classifier-free guidance scale (LLaDA, LLaDA-MoE); 0 = off.
        cfg_scale: f64 => cfg_scale;
        /// Last timestep of Dream's and llama.cpp's timestep schedule, in (0,1).
        eps: f64 => eps;
        /// Dream's alg_temp: draw the positions to reveal at this temperature.
        alg_temp: f64 => alg_temp;
        /// RND1's entropy-bounded sampler budget; > 0 selects it.
        eb_gamma: f64 => eb_gamma;
    }

    /// The decoding algorithm of LLaDA, LLaDA-MoE, Dream and RND1 ("low_confidence",
    /// "entropy", "llama.cpp:confidence", …; the README's "Run LLaDA, LLaDA-MoE, Dream and
    /// RND1" lists them); not calling it keeps the family's recommended one. A name the
    /// family lacks is an `InvalidArgument` error when generating.
    pub fn algorithm(mut self, name: &str) -> Self {
        // No algorithm name holds a NUL: replaced, the name stays one the library refuses.
        self.algorithm = Some(CString::new(name.replace('\0', "\u{FFFD}")).expect("no NUL left"));
        self
    }

    /// Fast-dLLM's KV cache (LLaDA, LLaDA-MoE, Dream): "" (or not calling it) is exact,
    /// no cache; "prefix" (the prompt and the finished blocks) and "dual" (also the
    /// blocks after the current one) are approximate and faster, so the tokens may differ
    /// from the exact ones'. Steps then go block by block (`block_length`, 0: 32).
    /// LLaDA2.0 takes "block" (steps after a block's first compute only the masked and
    /// just-filled rows), "block:N" (also a full step every N), "window:W" or
    /// "window:W:N" ("block" decoding the first W masked positions at a time),
    /// approximate too. Any
    /// other mode, or a mode on another family, is an `InvalidArgument` error when
    /// generating.
    pub fn cache(mut self, mode: &str) -> Self {
        // No mode holds a NUL: replaced, the mode stays one the library refuses.
        self.cache = Some(CString::new(mode.replace('\0', "\u{FFFD}")).expect("no NUL left"));
        self
    }
}

/// Generation statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub prompt_tokens: i32,
    pub tokens: i32,
    pub forwards: i32,
    /// Every forward: denoising, prompt prefill and KV-cache commits.
    pub model_calls: i32,
    pub tokens_per_forward: f64,
    pub time_to_first_token: std::time::Duration,
    pub duration: std::time::Duration,
    pub tokens_per_second: f64,
    /// Positions a LLaDA2 denoising forward ran, on average: the block length when
    /// exact, fewer with the cache "block" or "window:W"; 0 for the other families.
    pub rows_per_forward: f64,
}

/// What a generation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub tokens: Vec<i32>,
    pub text: String,
    pub stop_reason: StopReason,
    pub stats: Stats,
}

/// One forward pass, as seen by a step callback.
#[derive(Debug, Clone, Copy)]
pub struct StepEvent<'a> {
    pub block: i32,
    pub step: i32,
    pub window: i32,
    pub start: i32,
    pub masked: i32,
    pub post_step: i32,
    pub canvas: &'a [i32],
    pub committed: &'a [Commit],
    pub edited: &'a [Edit],
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Message {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }
    pub fn system(content: &str) -> Message {
        Message::new("system", content)
    }
    pub fn user(content: &str) -> Message {
        Message::new("user", content)
    }
    pub fn assistant(content: &str) -> Message {
        Message::new("assistant", content)
    }
}

/// Closures called during generation; each returns `true` to continue, `false` to stop.
#[derive(Default)]
pub struct Callbacks<'c> {
    pub on_step: Option<&'c mut dyn FnMut(&StepEvent<'_>) -> bool>,
    pub on_text: Option<&'c mut dyn FnMut(&str) -> bool>,
}

struct CallbackState<'a, 'c> {
    cbs: &'a mut Callbacks<'c>,
    panic: Option<Box<dyn std::any::Any + Send + 'static>>,
}

fn slice<'a, T>(p: *const T, n: usize) -> &'a [T] {
    if n == 0 || p.is_null() {
        &[]
    } else {
        // SAFETY: the library passes n valid elements, alive during the callback.
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

unsafe extern "C" fn step_trampoline(ev: *const sys::dllm_step_event, ud: *mut c_void) -> c_int {
    // SAFETY: ud is the CallbackState of the running call; ev is valid during the call.
    let state = unsafe { &mut *(ud as *mut CallbackState<'_, '_>) };
    let ev = unsafe { &*ev };
    if state.panic.is_some() {
        return 1;
    }
    let Some(f) = state.cbs.on_step.as_mut() else {
        return 0;
    };
    let event = StepEvent {
        block: ev.block,
        step: ev.step,
        window: ev.window,
        start: ev.start,
        masked: ev.masked,
        post_step: ev.post_step,
        canvas: slice(ev.canvas, ev.n_canvas),
        committed: slice(ev.committed, ev.n_committed),
        edited: slice(ev.edited, ev.n_edited),
    };
    match panic::catch_unwind(AssertUnwindSafe(|| f(&event))) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(p) => {
            state.panic = Some(p);
            1
        }
    }
}

unsafe extern "C" fn text_trampoline(utf8: *const c_char, len: usize, ud: *mut c_void) -> c_int {
    // SAFETY: as in step_trampoline; utf8 holds len bytes.
    let state = unsafe { &mut *(ud as *mut CallbackState<'_, '_>) };
    if state.panic.is_some() {
        return 1;
    }
    let Some(f) = state.cbs.on_text.as_mut() else {
        return 0;
    };
    let bytes = slice(utf8.cast::<u8>(), len);
    let text = String::from_utf8_lossy(bytes);
    match panic::catch_unwind(AssertUnwindSafe(|| f(&text))) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(p) => {
            state.panic = Some(p);
            1
        }
    }
}

/// A decoding state (KV cache) and a conversation on a model.
pub struct Session<'m> {
    raw: Arc<RawSession>,
    _model: PhantomData<&'m Model>,
    // Send but not Sync: a session serves one call at a time, which &mut self enforces.
    _not_sync: PhantomData<std::cell::Cell<()>>,
}

/// The library's session object, shared by a [`Session`] and its cancel handles and
/// freed when the last of them goes, so that a handle never points at freed memory.
struct RawSession {
    ptr: NonNull<sys::dllm_session>,
    /// The [`Session`] was dropped: handles report `Closed`, as Python's do.
    closed: AtomicBool,
}

// SAFETY: a session may move between threads (the C API has no thread affinity), and
// the only call made through a shared RawSession, dllm_session_cancel, is documented to
// be made from other threads while a generation runs.
unsafe impl Send for RawSession {}
unsafe impl Sync for RawSession {}

impl Drop for RawSession {
    fn drop(&mut self) {
        // SAFETY: created by dllm_session_new, freed once, by the last owner.
        unsafe { sys::dllm_session_free(self.ptr.as_ptr()) }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.raw.closed.store(true, Ordering::SeqCst);
    }
}

/// Cancels the generation running on a session, from any thread or from inside one of
/// its callbacks: the generating call returns its partial result with stop reason
/// "cancelled". Cancelling when nothing runs does nothing. Once the session is dropped,
/// [`CancelHandle::cancel`] returns a `Closed` error.
#[derive(Clone)]
pub struct CancelHandle {
    raw: Arc<RawSession>,
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle").finish_non_exhaustive()
    }
}

impl CancelHandle {
    pub fn cancel(&self) -> Result<()> {
        if self.raw.closed.load(Ordering::SeqCst) {
            return Err(Error {
                status: Status::Closed,
                message: "the session is closed".into(),
            });
        }
        // SAFETY: the session object lives as long as raw.
        check(unsafe { sys::dllm_session_cancel(self.raw.ptr.as_ptr()) })
    }
}

impl<'m> Session<'m> {
    fn ptr(&self) -> *mut sys::dllm_session {
        self.raw.ptr.as_ptr()
    }

    /// A handle that cancels this session's generations from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            raw: Arc::clone(&self.raw),
        }
    }

    fn err(&self, code: sys::dllm_status) -> Error {
        // SAFETY: the session is alive and the buffer valid.
        let message = read_msg(|b, n| unsafe { sys::dllm_session_errmsg(self.ptr(), b, n) });
        Error {
            status: Status::from_code(code),
            message,
        }
    }

    fn check(&self, code: sys::dllm_status) -> Result<()> {
        if code == sys::DLLM_STATUS_OK {
            Ok(())
        } else {
            Err(self.err(code))
        }
    }

    fn run(
        &mut self,
        params: &GenerateParams,
        cbs: &mut Callbacks<'_>,
        call: impl FnOnce(
            *mut sys::dllm_session,
            *const sys::dllm_generate_params,
            *mut *mut sys::dllm_result,
        ) -> sys::dllm_status,
    ) -> Result<Generation> {
        let mut state = CallbackState { cbs, panic: None };
        let mut raw = params.raw;
        raw.algorithm = params
            .algorithm
            .as_ref()
            .map_or(ptr::null(), |c| c.as_ptr());
        raw.cache = params.cache.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        let ud = &mut state as *mut CallbackState<'_, '_> as *mut c_void;
        if state.cbs.on_step.is_some() {
            raw.on_step = Some(step_trampoline);
            raw.step_user_data = ud;
        }
        if state.cbs.on_text.is_some() {
            raw.on_text = Some(text_trampoline);
            raw.text_user_data = ud;
        }
        let mut out: *mut sys::dllm_result = ptr::null_mut();
        let st = call(self.ptr(), &raw, &mut out);
        let generation = NonNull::new(out).map(|r| {
            // SAFETY: a library result, read then freed once.
            let g = unsafe { convert(r.as_ref()) };
            unsafe { sys::dllm_result_free(r.as_ptr()) };
            g
        });
        if let Some(p) = state.panic.take() {
            panic::resume_unwind(p);
        }
        match st {
            sys::DLLM_STATUS_OK | sys::DLLM_STATUS_STOPPED | sys::DLLM_STATUS_CANCELLED => {
                generation.ok_or_else(|| Error {
                    status: Status::Internal,
                    message: "no result".into(),
                })
            }
            code => Err(self.err(code)),
        }
    }

    /// Generates a continuation of raw text (special tokens parsed).
    pub fn generate(&mut self, prompt: &str, params: &GenerateParams) -> Result<Generation> {
        self.generate_with(prompt, params, &mut Callbacks::default())
    }

    pub fn generate_with(
        &mut self,
        prompt: &str,
        params: &GenerateParams,
        cbs: &mut Callbacks<'_>,
    ) -> Result<Generation> {
        let c = cstring(prompt, "prompt")?;
        // SAFETY: all pointers valid for the call.
        self.run(params, cbs, |s, p, o| unsafe {
            sys::dllm_session_generate(s, c.as_ptr(), p, o)
        })
    }

    /// Generates a continuation of token ids.
    pub fn generate_ids(&mut self, ids: &[i32], params: &GenerateParams) -> Result<Generation> {
        self.generate_ids_with(ids, params, &mut Callbacks::default())
    }

    pub fn generate_ids_with(
        &mut self,
        ids: &[i32],
        params: &GenerateParams,
        cbs: &mut Callbacks<'_>,
    ) -> Result<Generation> {
        // SAFETY: ids valid for its length.
        self.run(params, cbs, |s, p, o| unsafe {
            sys::dllm_session_generate_ids(s, ids.as_ptr(), ids.len(), p, o)
        })
    }

    /// Renders messages with the chat template and generates the assistant's reply.
    pub fn generate_chat(
        &mut self,
        msgs: &[Message],
        params: &GenerateParams,
    ) -> Result<Generation> {
        self.generate_chat_with(msgs, params, &mut Callbacks::default())
    }

    pub fn generate_chat_with(
        &mut self,
        msgs: &[Message],
        params: &GenerateParams,
        cbs: &mut Callbacks<'_>,
    ) -> Result<Generation> {
        let owned = msgs
            .iter()
            .map(|m| Ok((cstring(&m.role, "role")?, cstring(&m.content, "content")?)))
            .collect::<Result<Vec<_>>>()?;
        let cmsgs: Vec<sys::dllm_message> = owned
            .iter()
            .map(|(r, c)| sys::dllm_message {
                role: r.as_ptr(),
                content: c.as_ptr(),
            })
            .collect();
        // SAFETY: cmsgs and the strings it points to outlive the call.
        self.run(params, cbs, |s, p, o| unsafe {
            sys::dllm_session_generate_chat(s, cmsgs.as_ptr(), cmsgs.len(), p, o)
        })
    }

    /// Multi-turn chat: the user message and the reply join the session's conversation.
    pub fn chat(&mut self, user: &str, params: &GenerateParams) -> Result<Generation> {
        self.chat_with(user, params, &mut Callbacks::default())
    }

    pub fn chat_with(
        &mut self,
        user: &str,
        params: &GenerateParams,
        cbs: &mut Callbacks<'_>,
    ) -> Result<Generation> {
        let c = cstring(user, "user")?;
        // SAFETY: all pointers valid for the call.
        self.run(params, cbs, |s, p, o| unsafe {
            sys::dllm_session_chat(s, c.as_ptr(), p, o)
        })
    }

    /// Sets (or with `None` removes) the conversation's system message.
    pub fn set_system(&mut self, text: Option<&str>) -> Result<()> {
        let c = text.map(|t| cstring(t, "system")).transpose()?;
        let p = c.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        // SAFETY: the session is alive; p is NULL or a valid string.
        self.check(unsafe { sys::dllm_session_set_system(self.ptr(), p) })
    }

    /// Forgets the conversation.
    pub fn reset(&mut self) -> Result<()> {
        // SAFETY: the session is alive.
        self.check(unsafe { sys::dllm_session_reset(self.ptr()) })
    }
}

/// Copies a library result.
///
/// # Safety
/// `r` must be a result returned by the library and not yet freed.
unsafe fn convert(r: &sys::dllm_result) -> Generation {
    let tokens = slice(r.tokens, r.n_tokens).to_vec();
    let text = String::from_utf8_lossy(slice(r.text.cast::<u8>(), r.text_len)).into_owned();
    let stop_reason = StopReason::from_code(r.stop);
    let s = r.stats;
    let dur = |ns: i64| std::time::Duration::from_nanos(ns.max(0) as u64);
    Generation {
        tokens,
        text,
        stop_reason,
        stats: Stats {
            prompt_tokens: s.prompt_tokens,
            tokens: s.tokens,
            forwards: s.forwards,
            model_calls: s.model_calls,
            tokens_per_forward: s.tokens_per_forward,
            time_to_first_token: dur(s.time_to_first_token_ns),
            duration: dur(s.duration_ns),
            tokens_per_second: s.tokens_per_second,
            rows_per_forward: r.rows_per_forward,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        assert_eq!(Status::from_code(sys::DLLM_STATUS_CLOSED), Status::Closed);
        assert_eq!(Status::from_code(99), Status::Unknown(99));
    }

    #[test]
    fn stop_reasons_round_trip() {
        for r in [
            StopReason::Length,
            StopReason::Callback,
            StopReason::Unknown(99),
        ] {
            assert_eq!(StopReason::from_code(r.code()), r);
        }
        assert_eq!(StopReason::Length.to_string(), "gen_length");
        assert_eq!(StopReason::Callback.to_string(), "stopped");
        assert_eq!(StopReason::Unknown(99).to_string(), "unknown");
    }

    #[test]
    fn params_builder() {
        let p = GenerateParams::new().max_tokens(7).eos_early_stop(true);
        assert_eq!(p.raw.max_tokens, 7);
        assert_eq!(p.raw.eos_early_stop, 1);
        assert_eq!(p.raw.block_length, 32);
        assert!(GenerateParams::quality().raw.edit_threshold >= 0.0);
    }
}
