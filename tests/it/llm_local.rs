//! The local language model (`[llm] provider = "local"`, feature `local-llm`) answering
//! with a real model: SmolLM2-135M-Instruct (Q4_1 GGUF), which `tests/llm/model.sh`
//! fetches. A missing model fails these tests: it is never skipped.

use empla::llm::{Delta, LlmError, Local, Message, Provider, Request, Stop};
use std::path::PathBuf;
use std::sync::LazyLock;

const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// `EMPLA_TEST_GGUF`, or where `tests/llm/model.sh` puts the model (fetched on first
/// use, as the mail tests install their server).
fn model_path() -> PathBuf {
    if std::env::var_os("EMPLA_TEST_GGUF").is_none() {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/llm/model.sh");
        let out = std::process::Command::new("bash")
            .args([script, "install"])
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "`bash tests/llm/model.sh install` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = match std::env::var_os("EMPLA_TEST_GGUF") {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("EMPLA_MODEL_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/empla-models")
            })
            .join(MODEL_FILE),
    };
    assert!(
        path.is_file(),
        "the local-model tests need SmolLM2 at {}: run `bash tests/llm/model.sh install` \
         (or set EMPLA_TEST_GGUF to a copy of {MODEL_FILE})",
        path.display()
    );
    path
}

/// The longest answer when a request names none, given at load time.
const DEFAULT_MAX: u32 = 20;

/// One model for the whole test binary: loaded once, one answer at a time.
static MODEL: LazyLock<Local> = LazyLock::new(|| {
    let path = model_path();
    Local::load(&path, DEFAULT_MAX).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
});

fn question(text: &str) -> Request {
    Request {
        max_tokens: Some(48),
        ..Request::new(
            "You are a helpful assistant. Answer in one short sentence.",
            text,
        )
    }
}

const CAPITAL: &str = "What is the capital of France?";
const COLOUR: &str = "What colour is the sky on a clear day?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smollm2_answers_a_simple_question_in_english() {
    let answer = MODEL.complete(&question(CAPITAL)).await.expect("an answer");
    let text = answer.text();
    assert!(text.contains("Paris"), "{text:?}");
    assert!(text.split_whitespace().count() >= 3, "a sentence: {text:?}");
    assert_eq!(answer.stop, Stop::EndTurn, "{text:?}");
    assert_eq!(answer.model, MODEL_FILE);
    assert_eq!(MODEL.name(), "local");
    assert_eq!(answer.tool_calls().count(), 0);
    // The ChatML prompt around 20 words of system and question; the answer's tokens,
    // its closing `<|im_end|>` included.
    assert!(
        (25..=60).contains(&answer.usage.input_tokens),
        "{:?}",
        answer.usage
    );
    assert!(
        answer.usage.output_tokens > text.split_whitespace().count() as u64
            && answer.usage.output_tokens < 48,
        "{:?} for {text:?}",
        answer.usage
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_question_gets_the_same_answer_whatever_was_asked_before() {
    let capital = MODEL.complete(&question(CAPITAL)).await.expect("an answer");
    let colour = MODEL.complete(&question(COLOUR)).await.expect("an answer");
    let again = MODEL.complete(&question(CAPITAL)).await.expect("an answer");
    assert_eq!(capital, again, "greedy decoding is deterministic");
    assert_ne!(capital.text(), colour.text());
    assert!(
        colour.text().to_lowercase().contains("blue"),
        "{:?}",
        colour.text()
    );

    // A model that has answered nothing yet gives the same second answer: nothing of
    // the first conversation stays in the attention cache.
    let fresh = Local::load(&model_path(), DEFAULT_MAX).expect("loads");
    assert_eq!(
        fresh.complete(&question(COLOUR)).await.expect("an answer"),
        colour
    );

    // Asked at the same time, one answer waits for the other; both as when asked alone.
    let (colour_q, capital_q) = (question(COLOUR), question(CAPITAL));
    let (a, b) = tokio::join!(MODEL.complete(&colour_q), MODEL.complete(&capital_q));
    assert_eq!(a.expect("an answer"), colour);
    assert_eq!(b.expect("an answer"), capital);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_hands_over_the_answer_piece_by_piece() {
    let whole = MODEL.complete(&question(CAPITAL)).await.expect("an answer");
    let mut pieces = Vec::new();
    let streamed = MODEL
        .stream(&question(CAPITAL), &mut |d| match d {
            Delta::Text(t) => pieces.push(t),
            other => panic!("the local model calls no tools: {other:?}"),
        })
        .await
        .expect("an answer");
    assert_eq!(streamed, whole);
    assert!(pieces.len() > 3, "{pieces:?}");
    assert_eq!(pieces.concat(), whole.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_stops_at_max_tokens_and_says_so() {
    let mut request = Request::new(
        "You are a helpful assistant.",
        "Write a long story about a dragon.",
    );
    request.max_tokens = Some(6);
    let answer = MODEL.complete(&request).await.expect("an answer");
    assert_eq!(answer.stop, Stop::MaxTokens);
    assert_eq!(answer.usage.output_tokens, 6);
    assert!(!answer.text().trim().is_empty());

    // Without a limit in the request, the one given at load time holds.
    request.max_tokens = None;
    let answer = MODEL.complete(&request).await.expect("an answer");
    assert_eq!(answer.stop, Stop::MaxTokens);
    assert_eq!(answer.usage.output_tokens, u64::from(DEFAULT_MAX));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_with_earlier_turns_is_answered_in_context() {
    let request = Request {
        system: "You are a helpful assistant.".into(),
        messages: vec![
            Message::user("My name is Jordan."),
            Message::assistant("Nice to meet you, Jordan!"),
            Message::user("What is my name?"),
        ],
        tools: Vec::new(),
        max_tokens: Some(32),
    };
    let answer = MODEL.complete(&request).await.expect("an answer");
    assert!(answer.text().contains("Jordan"), "{:?}", answer.text());
}

#[test]
fn a_missing_or_wrong_model_file_is_a_config_error_naming_the_path_and_the_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nowhere.gguf");
    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "not a model, just notes\n").expect("write");
    for path in [missing.as_path(), text.as_path(), dir.path()] {
        match Local::load(path, 64) {
            Err(LlmError::Config(message)) => {
                assert!(
                    message.contains(&path.display().to_string())
                        && message.contains("`llm.model`")
                        && message.contains("GGUF"),
                    "{message}"
                );
            }
            other => panic!("{}: {other:?}", path.display()),
        }
    }
}
