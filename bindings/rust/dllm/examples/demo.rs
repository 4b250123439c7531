//! The demo: a question in, the answer out, with the block denoising shown step by step.
//!
//!     cargo run --example demo [MODEL] [QUESTION]
//!
//! With no MODEL, the demo model built into the library ("demo").
use std::io::Write;

use dllm::{Callbacks, GenerateParams, Message, Model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map(String::as_str).unwrap_or("demo");
    let question = args.get(2).map(String::as_str).unwrap_or("What is 12+9?");
    let model = Model::load(path)?;
    let mut session = model.session()?;
    let mut on_step = |ev: &dllm::StepEvent<'_>| {
        eprintln!(
            "[block {} step {}] filled {}",
            ev.block,
            ev.step,
            ev.committed.len()
        );
        true
    };
    let mut on_text = |text: &str| {
        print!("{text}");
        std::io::stdout().flush().is_ok()
    };
    let mut cbs = Callbacks {
        on_step: Some(&mut on_step),
        on_text: Some(&mut on_text),
    };
    let g =
        session.generate_chat_with(&[Message::user(question)], &GenerateParams::new(), &mut cbs)?;
    println!();
    eprintln!(
        "[{} tokens, {} forwards filling {:.2} positions each, {:.1} tokens/s, stop: {}]",
        g.stats.tokens,
        g.stats.forwards,
        g.stats.tokens_per_forward,
        g.stats.tokens_per_second,
        g.stop_reason
    );
    Ok(())
}
