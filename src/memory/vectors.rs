//! Similarity search: an in-memory index of every memory's sign bits, scanned by
//! Hamming distance, whose closest candidates are then ranked exactly by cosine over
//! their stored vectors (binary quantisation with re-ranking).
//!
//! The index is a cache of the store. Each shelf (one employee's episodes, or one
//! tenant's knowledge) loads on first use and catches up on rows written since, by
//! sequence number; deleting memories drops the tenant's shelves.

use super::embed::{Embedder, HashEmbedder};
use crate::model::{EmployeeId, TenantId};
use crate::store::{Store, StoreError, with_pool};
use dashmap::DashMap;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// What a shelf holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Shelf {
    /// One employee's episodes.
    Episodes(EmployeeId),
    /// The tenant's knowledge chunks.
    Knowledge,
}

#[derive(Default)]
struct Bits {
    /// u64 words per signature.
    words: usize,
    seqs: Vec<i64>,
    sigs: Vec<u64>,
    max_seq: i64,
}

/// The embedder and the index, shared by every clone of a [`Store`].
pub(crate) struct Memory {
    pub(crate) embedder: Arc<dyn Embedder>,
    shelves: DashMap<(TenantId, Shelf), Arc<tokio::sync::Mutex<Bits>>>,
}

impl Default for Memory {
    fn default() -> Self {
        Self::new(Arc::new(HashEmbedder::new(256)))
    }
}

impl Memory {
    pub(crate) fn new(embedder: Arc<dyn Embedder>) -> Self {
        Self {
            embedder,
            shelves: DashMap::new(),
        }
    }

    /// Drops one shelf (it reloads on next use).
    pub(crate) fn invalidate_shelf(&self, tenant: &TenantId, shelf: Shelf) {
        self.shelves.remove(&(tenant.clone(), shelf));
    }

    /// Drops every shelf of `tenant` (after memories were deleted or re-embedded).
    pub(crate) fn invalidate(&self, tenant: &TenantId) {
        self.shelves.retain(|(t, _), _| t != tenant);
    }
}

const SQL_EPISODE_SIGS: &str = "SELECT seq, sig FROM episodes \
    WHERE tenant = $1 AND employee_id = $2 AND seq > $3 AND sig IS NOT NULL ORDER BY seq";
const SQL_KNOWLEDGE_SIGS: &str = "SELECT seq, sig FROM knowledge WHERE tenant = $1 AND seq > $2 AND sig IS NOT NULL ORDER BY seq";

impl Store {
    /// The `n` memories on `shelf` whose sign bits are closest to `query`'s, as
    /// sequence numbers, closest first.
    pub(crate) async fn nearest_signatures(
        &self,
        tenant: &TenantId,
        shelf: Shelf,
        query: &[f32],
        n: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let words = query.len().div_ceil(64);
        let entry = self
            .mem
            .shelves
            .entry((tenant.clone(), shelf.clone()))
            .or_default()
            .clone();
        let mut bits = entry.lock().await;
        if bits.words != words {
            *bits = Bits {
                words,
                ..Bits::default()
            };
        }
        let rows: Vec<(i64, Vec<u8>)> = with_pool!(self, read, |pool| match &shelf {
            Shelf::Episodes(e) => {
                sqlx::query_as(SQL_EPISODE_SIGS)
                    .bind(tenant.as_str())
                    .bind(e.to_string())
                    .bind(bits.max_seq)
                    .fetch_all(pool)
                    .await?
            }
            Shelf::Knowledge => {
                sqlx::query_as(SQL_KNOWLEDGE_SIGS)
                    .bind(tenant.as_str())
                    .bind(bits.max_seq)
                    .fetch_all(pool)
                    .await?
            }
        });
        for (seq, sig) in rows {
            bits.max_seq = bits.max_seq.max(seq);
            if sig.len() != words * 8 && sig.len() != query.len().div_ceil(8) {
                continue; // embedded with another dimension
            }
            bits.seqs.push(seq);
            bits.sigs.extend(pack(&sig, words));
        }
        let q = pack(&super::embed::signature(query), words);
        // A max-heap of the n closest so far: (distance, position).
        let mut heap: BinaryHeap<(u32, usize)> = BinaryHeap::with_capacity(n + 1);
        for (i, sig) in bits.sigs.chunks_exact(words).enumerate() {
            let d: u32 = sig.iter().zip(&q).map(|(a, b)| (a ^ b).count_ones()).sum();
            if heap.len() < n {
                heap.push((d, i));
            } else if heap.peek().is_some_and(|&(worst, _)| d < worst) {
                heap.pop();
                heap.push((d, i));
            }
        }
        let mut near = heap.into_vec();
        near.sort_unstable();
        Ok(near.into_iter().map(|(_, i)| bits.seqs[i]).collect())
    }
}

fn pack(sig: &[u8], words: usize) -> Vec<u64> {
    let mut padded = vec![0u8; words * 8];
    padded[..sig.len()].copy_from_slice(sig);
    padded
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}
