//! The local language model on this machine's CPU: decoding speed and the time to a
//! 150-token reply, with SmolLM2-135M-Instruct (Q4_1) through the provider's own code.
//!
//! ```text
//! bash tests/llm/model.sh install
//! cargo bench --features local-llm --bench llm_local            # 5 replies of 150 tokens
//! cargo bench --features local-llm --bench llm_local -- 10 150  # 10 replies, 150 tokens
//! ```
//!
//! Each reply is asked for with a prompt that calls for a long answer and `max_tokens`
//! 150, streamed: the time to the first piece is the prompt's evaluation plus one token;
//! decoding speed is the tokens after the first over the time after it. The model is
//! found as the tests find it: `EMPLA_TEST_GGUF`, or where `tests/llm/model.sh` puts it.
//!
//! Measured (2 cores shared with other builds, load ~5): Q4_1 as stored, 2.7 tokens/s and
//! 59 s to a 150-token reply (candle has no SIMD kernel for Q4_1); with
//! `CANDLE_DEQUANTIZE_ALL=1` in the environment (weights widened to f32 at load, about
//! 540 MB instead of 100 MB), 20.4 tokens/s, 7.5 s to 150 tokens, 0.2 s to the first piece.

use anyhow::{Context, Result, bail};
use empla::llm::{Local, Provider, Request, Stop};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let runs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let tokens: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(150);
    let path = model_path()?;
    let started = Instant::now();
    let local = Local::load(&path, tokens)?;
    let load = started.elapsed();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let request = Request {
        max_tokens: Some(tokens),
        ..Request::new(
            "You are a helpful assistant who writes long, detailed answers.",
            "Write a long essay about the history of the city of Paris, from Roman times \
             to today, with many details about each century.",
        )
    };
    println!(
        "local model {} on {} cores, {runs} replies of at most {tokens} tokens",
        local.model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("load: {:.0} ms", ms(load));
    let mut replies = Vec::new();
    let mut firsts = Vec::new();
    let mut speeds = Vec::new();
    for run in 0..=runs {
        let started = Instant::now();
        let mut first = None;
        let answer = runtime.block_on(local.stream(&request, &mut |_| {
            first.get_or_insert_with(|| started.elapsed());
        }))?;
        let total = started.elapsed();
        let first = first.context("the model gave no text")?;
        let produced = answer.usage.output_tokens;
        if run == 0 {
            // A warm-up: pages in the weights, sizes the allocator.
            let text = answer.text();
            let start: String = text.chars().take(120).collect();
            println!(
                "prompt: {} tokens; reply: {produced} tokens, stop {:?}: {start:?}...",
                answer.usage.input_tokens, answer.stop
            );
            if answer.stop != Stop::MaxTokens {
                bail!("the reply ended after {produced} tokens, before the {tokens} asked");
            }
            continue;
        }
        let speed = (produced - 1) as f64 / (total - first).as_secs_f64();
        println!(
            "run {run}: {produced} tokens in {:.0} ms; first piece after {:.0} ms; \
             decoding {speed:.1} tokens/s",
            ms(total),
            ms(first)
        );
        replies.push(total);
        firsts.push(first);
        speeds.push(speed);
    }
    replies.sort();
    firsts.sort();
    speeds.sort_by(f64::total_cmp);
    println!(
        "median of {runs}: time to a {tokens}-token reply {:.0} ms (min {:.0}, max {:.0}); \
         first piece {:.0} ms; decoding {:.1} tokens/s",
        ms(replies[runs / 2]),
        ms(replies[0]),
        ms(replies[runs - 1]),
        ms(firsts[runs / 2]),
        speeds[runs / 2]
    );
    println!("command: cargo bench --features local-llm --bench llm_local -- {runs} {tokens}");
    Ok(())
}

/// `EMPLA_TEST_GGUF`, or the file `tests/llm/model.sh` fetches.
fn model_path() -> Result<PathBuf> {
    let path = match std::env::var_os("EMPLA_TEST_GGUF") {
        Some(p) => PathBuf::from(p),
        None => {
            let cache = std::env::var_os("EMPLA_MODEL_CACHE").map_or_else(
                || {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/empla-models")
                },
                PathBuf::from,
            );
            cache.join("SmolLM2-135M-Instruct.Q4_1.gguf")
        }
    };
    if !path.is_file() {
        bail!(
            "no model at {}: run `bash tests/llm/model.sh install` (or set EMPLA_TEST_GGUF)",
            path.display()
        );
    }
    Ok(path)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
