//! Prints the tokens a chat generation produces as JSON, for the cross-language test:
//!     xlang MODEL PROMPT MAX_TOKENS
use dllm::{GenerateParams, Message, Model};

fn main() -> Result<(), dllm::Error> {
    let args: Vec<String> = std::env::args().collect();
    let model = Model::load(&args[1])?;
    let mut s = model.session()?;
    let max: i32 = args[3].parse().expect("MAX_TOKENS");
    let g = s.generate_chat(
        &[Message::user(&args[2])],
        &GenerateParams::new().max_tokens(max),
    )?;
    let ids: Vec<String> = g.tokens.iter().map(|t| t.to_string()).collect();
    println!(
        "{{\"tokens\":[{}],\"stop_reason\":\"{}\"}}",
        ids.join(","),
        g.stop_reason
    );
    Ok(())
}
