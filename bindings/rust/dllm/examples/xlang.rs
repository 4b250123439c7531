//! Prints the tokens of one generation as JSON, for the cross-language test:
//!     xlang chat|raw MODEL PROMPT MAX_TOKENS
use dllm::{GenerateParams, Message, Model};

fn main() -> Result<(), dllm::Error> {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 5,
        "usage: xlang chat|raw MODEL PROMPT MAX_TOKENS"
    );
    let model = Model::load(&args[2])?;
    let mut s = model.session()?;
    let max: i32 = args[4].parse().expect("MAX_TOKENS");
    let params = GenerateParams::new().max_tokens(max);
    let g = match args[1].as_str() {
        "chat" => s.generate_chat(&[Message::user(&args[3])], &params)?,
        "raw" => s.generate(&args[3], &params)?,
        mode => panic!("unknown mode {mode}"),
    };
    let ids: Vec<String> = g.tokens.iter().map(|t| t.to_string()).collect();
    println!(
        "{{\"tokens\":[{}],\"stop_reason\":\"{}\"}}",
        ids.join(","),
        g.stop_reason
    );
    Ok(())
}
