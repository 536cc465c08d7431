//! `[llm] provider = "local"`: a GGUF language model run in this process on the CPU
//! (candle's quantized Llama), no server and no network. Built only with the `local-llm`
//! cargo feature.
//!
//! The weights are read once, at [`Local::load`], and shared: one answer is generated at
//! a time (a mutex around the model), each with a fresh attention cache, so one request
//! never sees another's conversation. Generation is CPU-bound and runs on tokio's
//! blocking pool, never on the async workers. Decoding is greedy (the likeliest token
//! each time): the same request gives the same answer. The model is offered no tools.
//!
//! Speed: candle computes Q4_1 weights with scalar code (about 3 tokens/s for SmolLM2-135M
//! on 2 cores); `CANDLE_DEQUANTIZE_ALL=1` in the node's environment widens the weights to
//! f32 at load (about 5x the memory) and decodes about 8 times faster.

mod chat;

use self::chat::{ChatTokenizer, Vocabulary};
use crate::llm::{Block, Delta, LlmError, Provider, Request, Response, Stop, Usage};
use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::{MAX_SEQ_LEN, ModelWeights};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use tokio::sync::mpsc;

/// The provider's name in config.
const NAME: &str = "local";

/// Pieces of a streamed answer waiting for the caller before generation pauses.
const STREAM_BUFFER: usize = 64;

/// A GGUF model (Llama architecture, ChatML-trained, such as SmolLM2-135M-Instruct) run
/// in this process.
pub struct Local {
    /// The model file's name, reported as the model that answered.
    model: String,
    /// The model file.
    path: PathBuf,
    /// Longest answer when the request names none.
    max_tokens: u32,
    /// The weights and the tokenizer: one generation at a time.
    engine: Arc<Mutex<Engine>>,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local")
            .field("path", &self.path)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl Local {
    /// Reads the model at `path` (a GGUF file: weights and tokenizer tables); answers
    /// are at most `max_tokens` long unless a request says otherwise. Blocking: it reads
    /// the whole file (about 100 MB for SmolLM2-135M), so call it from a blocking task
    /// or before the runtime is busy.
    ///
    /// A missing or unreadable file, or one that is not a GGUF Llama model with a ChatML
    /// vocabulary, is [`LlmError::Config`] naming the path and what to set.
    pub fn load(path: &Path, max_tokens: u32) -> Result<Local, LlmError> {
        let started = Instant::now();
        let shown = path.display().to_string();
        let fix = "set `llm.model` to the path of a GGUF model file (for example \
                   SmolLM2-135M-Instruct.Q4_1.gguf)";
        let meta = std::fs::metadata(path).map_err(|e| {
            LlmError::Config(format!("{shown}: cannot read the local model ({e}); {fix}"))
        })?;
        if !meta.is_file() {
            return Err(LlmError::Config(format!(
                "{shown}: the local model must be a file, this is a directory; {fix}"
            )));
        }
        let mut file = std::fs::File::open(path).map_err(|e| {
            LlmError::Config(format!("{shown}: cannot open the local model ({e}); {fix}"))
        })?;
        let content = Content::read(&mut file).map_err(|e| {
            LlmError::Config(format!("{shown} is not a GGUF model file ({e}); {fix}"))
        })?;
        let arch = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if arch != "llama" {
            return Err(LlmError::Config(format!(
                "{shown}: a `{arch}` model; the local provider runs Llama-architecture GGUF \
                 models (SmolLM2, TinyLlama, Llama): {fix}"
            )));
        }
        let context = content
            .metadata
            .get("llama.context_length")
            .and_then(|v| v.to_u32().ok())
            .map_or(MAX_SEQ_LEN, |n| (n as usize).min(MAX_SEQ_LEN));
        let chat = ChatTokenizer::new(Vocabulary::from_gguf(&content, &shown)?, &shown)?;
        let weights = ModelWeights::from_gguf(content, &mut file, &Device::Cpu).map_err(|e| {
            LlmError::Config(format!("{shown}: cannot load its weights ({e}); {fix}"))
        })?;
        let model = path
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        tracing::info!(
            model = %model,
            context,
            ms = started.elapsed().as_millis() as u64,
            "local language model loaded"
        );
        Ok(Local {
            model,
            path: path.to_path_buf(),
            max_tokens,
            engine: Arc::new(Mutex::new(Engine {
                weights,
                chat,
                context,
            })),
        })
    }

    /// Generates on the blocking pool; `sink` gets each decoded piece.
    async fn generate(
        &self,
        request: &Request,
        sink: Option<mpsc::Sender<String>>,
    ) -> Result<Response, LlmError> {
        let engine = Arc::clone(&self.engine);
        let request = request.clone();
        let budget = request.max_tokens.unwrap_or(self.max_tokens) as usize;
        // Set when the caller stops waiting (its future dropped): generation stops too.
        let abandoned = Arc::new(AtomicBool::new(false));
        let _watch = Abandon(Arc::clone(&abandoned));
        let task = tokio::task::spawn_blocking(move || {
            let mut engine = engine.lock().unwrap_or_else(PoisonError::into_inner);
            let prompt = engine.chat.prompt(&request)?;
            engine.run(&prompt, budget, &mut |piece| {
                !abandoned.load(Ordering::Relaxed)
                    && sink
                        .as_ref()
                        .is_none_or(|tx| tx.blocking_send(piece.to_string()).is_ok())
            })
        });
        let done = task.await.map_err(|e| LlmError::Malformed {
            provider: NAME.into(),
            message: format!("the local model's generation stopped: {e}"),
        })??;
        Ok(Response {
            content: if done.text.is_empty() {
                Vec::new()
            } else {
                vec![Block::Text { text: done.text }]
            },
            stop: done.stop,
            usage: Usage {
                input_tokens: done.input as u64,
                output_tokens: done.output as u64,
            },
            model: self.model.clone(),
        })
    }
}

/// Marks a generation abandoned when the future waiting for it is dropped.
struct Abandon(Arc<AtomicBool>);

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[async_trait::async_trait]
impl Provider for Local {
    fn name(&self) -> &str {
        NAME
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        self.generate(request, None).await
    }

    async fn stream(
        &self,
        request: &Request,
        on: &mut (dyn FnMut(Delta) + Send),
    ) -> Result<Response, LlmError> {
        let (tx, mut rx) = mpsc::channel(STREAM_BUFFER);
        let answer = self.generate(request, Some(tx));
        tokio::pin!(answer);
        // Hand pieces over as they come; once the answer is complete, hand over the rest.
        loop {
            tokio::select! {
                biased;
                Some(piece) = rx.recv() => on(Delta::Text(piece)),
                result = &mut answer => {
                    while let Ok(piece) = rx.try_recv() {
                        on(Delta::Text(piece));
                    }
                    return result;
                }
            }
        }
    }
}

/// The model and its tokenizer, used by one generation at a time.
struct Engine {
    weights: ModelWeights,
    chat: ChatTokenizer,
    /// Longest prompt plus answer, in tokens.
    context: usize,
}

/// What one generation gave.
struct Generated {
    text: String,
    stop: Stop,
    /// Prompt tokens.
    input: usize,
    /// Tokens the model produced, the one that ended its turn included.
    output: usize,
}

impl Engine {
    /// Greedy decoding of at most `budget` tokens after `prompt`, from an empty attention
    /// cache; `on` gets each decoded piece and returns false to stop.
    fn run(
        &mut self,
        prompt: &[u32],
        budget: usize,
        on: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generated, LlmError> {
        if prompt.len() >= self.context {
            return Err(LlmError::Refused {
                provider: NAME.into(),
                status: 400,
                message: format!(
                    "the prompt is {} tokens and the model's context holds {}: shorten the \
                     conversation",
                    prompt.len(),
                    self.context
                ),
                key: "llm.model".into(),
            });
        }
        let budget = budget.min(self.context - prompt.len());
        let failed = |e: candle_core::Error| LlmError::Malformed {
            provider: NAME.into(),
            message: format!("the local model failed: {e}"),
        };
        self.weights.clear_kv_cache();
        let mut decoder = self.chat.tokenizer().decode_stream(true);
        let mut input = Tensor::new(prompt, &Device::Cpu)
            .and_then(|t| t.unsqueeze(0))
            .map_err(failed)?;
        let (mut position, mut output) = (0, 0);
        let mut text = String::new();
        let mut stop = Stop::MaxTokens;
        while output < budget {
            let logits = self.weights.forward(&input, position).map_err(failed)?;
            position += input.dim(1).map_err(failed)?;
            let next = logits
                .squeeze(0)
                .and_then(|l| l.argmax(0))
                .and_then(|t| t.to_scalar::<u32>())
                .map_err(failed)?;
            output += 1;
            if self.chat.is_stop(next) {
                stop = Stop::EndTurn;
                break;
            }
            let piece = decoder.step(next).map_err(|e| LlmError::Malformed {
                provider: NAME.into(),
                message: format!("cannot decode token {next}: {e}"),
            })?;
            if let Some(piece) = piece {
                text.push_str(&piece);
                if !on(&piece) {
                    break;
                }
            }
            input = Tensor::new(&[next], &Device::Cpu)
                .and_then(|t| t.unsqueeze(0))
                .map_err(failed)?;
        }
        self.weights.clear_kv_cache();
        Ok(Generated {
            text,
            stop,
            input: prompt.len(),
            output,
        })
    }
}
