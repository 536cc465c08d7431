//! Embeddings: one [`Embedder`] trait, a built-in offline embedder (feature hashing over
//! words, word pairs and character trigrams; deterministic, nothing to download) and a
//! provider speaking the OpenAI-compatible `/embeddings` API.
//!
//! Stored vectors are quantised to one signed byte per dimension (cosine similarity
//! does not depend on scale, so none is kept) plus one sign bit per dimension, which
//! the in-memory index scans before re-ranking the closest candidates exactly.

use super::text;
use crate::config::{EmbedderKind, MemoryConfig};
use std::sync::Arc;
use std::time::Duration;

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The provider could not be reached or answered with an error.
    #[error("embedding provider at {url}: {reason}")]
    Provider {
        /// The provider's address.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// Turns texts into vectors of a fixed dimension.
#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// Dimensions of every vector.
    fn dim(&self) -> usize;
    /// Embeds `text` at once when that is cheap and local (the built-in embedder); a
    /// remote provider answers `None` and its vectors are filled in the background.
    fn embed_now(&self, text: &str) -> Option<Vec<f32>>;
    /// Embeds `texts`, one vector each, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// The embedder `cfg` asks for.
pub fn from_config(cfg: &MemoryConfig) -> Result<Arc<dyn Embedder>, String> {
    Ok(match cfg.embedder {
        EmbedderKind::Builtin => Arc::new(HashEmbedder::new(cfg.dimensions.unwrap_or(256))),
        EmbedderKind::Openai => Arc::new(OpenAiEmbedder::from_config(cfg)?),
    })
}

/// The built-in embedder: signed feature hashing of a text's words (weight 1), adjacent
/// word pairs (0.7) and each word's character trigrams (0.25), L2-normalised. Texts
/// that share words, phrases or word stems land close together.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dim: usize,
}

impl HashEmbedder {
    /// An embedder of `dim` dimensions (at least 8).
    pub fn new(dim: usize) -> Self {
        Self { dim: dim.max(8) }
    }

    /// Embeds `text`.
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dim];
        let mut add = |h: u64, w: f32| {
            let i = (h % self.dim as u64) as usize;
            v[i] += if h >> 63 == 0 { w } else { -w };
        };
        let words: Vec<String> = text::terms(text)
            .filter(|t| !text::is_stopword(t))
            .collect();
        for (i, w) in words.iter().enumerate() {
            add(hash(1, w.as_bytes()), 1.0);
            if let Some(next) = words.get(i + 1) {
                add(hash(hash(2, w.as_bytes()), next.as_bytes()), 0.7);
            }
            if w.chars().count() >= 4 {
                let padded: Vec<char> = std::iter::once('^')
                    .chain(w.chars())
                    .chain(std::iter::once('$'))
                    .collect();
                for tri in padded.windows(3) {
                    let mut buf = [0u8; 12];
                    let mut n = 0;
                    for c in tri {
                        n += c.encode_utf8(&mut buf[n..]).len();
                    }
                    add(hash(3, &buf[..n]), 0.25);
                }
            }
        }
        normalise(&mut v);
        v
    }
}

#[async_trait::async_trait]
impl Embedder for HashEmbedder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn embed_now(&self, text: &str) -> Option<Vec<f32>> {
        Some(self.vector(text))
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

/// FNV-1a over `bytes` from `seed`, then a SplitMix64 finish so every bit is mixed.
fn hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// A provider of the OpenAI-compatible embeddings API: `POST {url}/embeddings` with
/// `{"model", "input": [...]}`, answered by `{"data": [{"index", "embedding"}]}`.
pub struct OpenAiEmbedder {
    client: reqwest::Client,
    url: String,
    model: String,
    key: Option<String>,
    dim: usize,
}

impl OpenAiEmbedder {
    fn from_config(cfg: &MemoryConfig) -> Result<Self, String> {
        let url = cfg.embeddings_url.clone().ok_or(
            "memory.embedder = \"openai\" needs memory.embeddings_url, e.g. \"https://api.openai.com/v1\"",
        )?;
        let dim = cfg.dimensions.ok_or(
            "memory.embedder = \"openai\" needs memory.dimensions, the model's vector size (1536 for text-embedding-3-small)",
        )?;
        let key = match &cfg.embeddings_api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                format!(
                    "memory.embeddings_api_key_env names {var}, which is not set in the environment"
                )
            })?),
            None => None,
        };
        crate::telemetry::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot build the HTTP client for embeddings: {e}"))?;
        Ok(Self {
            client,
            url: url.trim_end_matches('/').to_string(),
            model: cfg.embeddings_model.clone(),
            key,
            dim,
        })
    }
}

#[derive(serde::Deserialize)]
struct EmbeddingsAnswer {
    data: Vec<EmbeddingItem>,
}

#[derive(serde::Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

#[async_trait::async_trait]
impl Embedder for OpenAiEmbedder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn embed_now(&self, _: &str) -> Option<Vec<f32>> {
        None
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let endpoint = format!("{}/embeddings", self.url);
        let err = |reason: String| EmbedError::Provider {
            url: endpoint.clone(),
            reason,
        };
        let mut req = self.client.post(&endpoint).json(
            &serde_json::json!({"model": self.model, "input": texts, "encoding_format": "float"}),
        );
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.map_err(|e| err(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(err(format!(
                "answered {status}: {}",
                body.chars().take(300).collect::<String>()
            )));
        }
        let answer: EmbeddingsAnswer = resp
            .json()
            .await
            .map_err(|e| err(format!("unreadable answer: {e}")))?;
        let mut out = vec![Vec::new(); texts.len()];
        for item in answer.data {
            if item.index >= texts.len() || item.embedding.len() != self.dim {
                return Err(err(format!(
                    "answered a vector of {} dimensions at index {}; memory.dimensions is {} for {} inputs",
                    item.embedding.len(),
                    item.index,
                    self.dim,
                    texts.len()
                )));
            }
            let mut v = item.embedding;
            normalise(&mut v);
            out[item.index] = v;
        }
        if out.iter().any(Vec::is_empty) {
            return Err(err("answered fewer vectors than inputs".into()));
        }
        Ok(out)
    }
}

/// A vector as stored: one signed byte per dimension, scaled so the largest component
/// is ±127.
pub fn quantise(v: &[f32]) -> Vec<u8> {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { 127.0 / max } else { 0.0 };
    v.iter()
        .map(|x| ((x * scale).round() as i8) as u8)
        .collect()
}

/// The sign bits of a vector, one per dimension, packed little-endian into bytes.
pub fn signature(v: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; v.len().div_ceil(8)];
    for (i, x) in v.iter().enumerate() {
        if *x > 0.0 {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}

/// Cosine similarity of a query vector and a stored (quantised) one.
pub fn cosine(query: &[f32], stored: &[u8]) -> f32 {
    let (mut dot, mut norm) = (0f32, 0f32);
    for (q, s) in query.iter().zip(stored) {
        let s = *s as i8 as f32;
        dot += q * s;
        norm += s * s;
    }
    if norm == 0.0 { 0.0 } else { dot / norm.sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_builtin_embedder_is_deterministic_and_puts_related_texts_close() {
        let e = HashEmbedder::new(256);
        let a = e.vector("Contract renewal for Northwind is due next month");
        assert_eq!(
            a,
            e.vector("Contract renewal for Northwind is due next month")
        );
        let related = e.vector("When is the Northwind contract up for renewal?");
        let unrelated = e.vector("Team lunch on Friday at the Italian place");
        assert!(cos(&a, &related) > 0.3, "{}", cos(&a, &related));
        assert!(
            cos(&a, &related) > cos(&a, &unrelated).abs() + 0.25,
            "{} vs {}",
            cos(&a, &related),
            cos(&a, &unrelated)
        );
        // Stems share trigrams.
        assert!(cos(&e.vector("renewals"), &e.vector("renewal")) > 0.2);
        assert!(cos(&e.vector("renewals"), &e.vector("lunch")).abs() < 0.1);
    }

    #[test]
    fn quantised_vectors_keep_their_cosine() {
        let e = HashEmbedder::new(256);
        let a = e.vector("quarterly business review with the customer");
        let b = e.vector("customer quarterly review meeting");
        let exact = cos(&a, &b);
        let approx = cosine(&a, &quantise(&b));
        assert!((exact - approx).abs() < 0.02, "{exact} vs {approx}");
        assert_eq!(
            signature(&[1.0, -1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]),
            vec![0b101, 1]
        );
    }
}
