//! Prints the layout of every struct as "STRUCT FIELD OFFSET" and "STRUCT sizeof SIZE"
//! lines; scripts/check-abi-mirrors.py compares them with the C compiler's.
use dllm_sys::*;
use std::mem::{offset_of, size_of};

macro_rules! layout {
    ($t:ident { $($f:ident),* $(,)? }) => {
        println!("{} sizeof {}", stringify!($t), size_of::<$t>());
        $( println!("{} {} {}", stringify!($t), stringify!($f), offset_of!($t, $f)); )*
    };
}

fn main() {
    layout!(dllm_load_params {
        struct_size,
        threads,
        kv_cache_f16,
        no_repack
    });
    layout!(dllm_model_info {
        struct_size,
        architecture,
        format,
        vocab_size,
        context_length,
        layers,
        hidden_size,
        experts,
        mask_id,
        eos_id,
        role_end_id,
    });
    layout!(dllm_commit {
        pos,
        token,
        confidence
    });
    layout!(dllm_edit {
        pos,
        old_token,
        new_token,
        reserved,
        confidence
    });
    layout!(dllm_step_event {
        struct_size,
        block,
        step,
        window,
        start,
        masked,
        post_step,
        canvas,
        n_canvas,
        committed,
        n_committed,
        edited,
        n_edited,
    });
    layout!(dllm_generate_params {
        struct_size,
        max_tokens,
        block_length,
        steps,
        max_post_steps,
        num_to_transfer,
        top_k,
        threshold,
        edit_threshold,
        temperature,
        top_p,
        seed,
        eos_early_stop,
        stop_on_role_end,
        no_cache,
        reserved,
        on_step,
        step_user_data,
        on_text,
        text_user_data,
    });
    layout!(dllm_stats {
        prompt_tokens,
        tokens,
        forwards,
        model_calls,
        tokens_per_forward,
        time_to_first_token_ns,
        duration_ns,
        tokens_per_second,
    });
    layout!(dllm_result {
        struct_size,
        tokens,
        n_tokens,
        text,
        text_len,
        stop_reason,
        stats,
        stop,
        rows_per_forward
    });
    layout!(dllm_message { role, content });
}
