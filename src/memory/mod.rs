//! What an employee remembers: episodic memory (every event, decision, action and
//! outcome, findable by full text, participant, time, similarity and cause), semantic
//! memory (a knowledge graph of facts, and the company's shared knowledge), procedural
//! memory (how each workflow fares) and working memory (the bounded context it works
//! with); recall across them, and the daily consolidation that turns episodes into
//! facts and procedures.
//!
//! It lives on the same [`crate::store::Store`] as the runtime's rows, and never knows
//! about actors.

mod backfill;
mod config;
mod consolidate;
pub mod embed;
mod episodes;
pub mod extract;
mod facts;
mod forget;
mod hybrid;
mod knowledge;
mod people;
mod recall;
pub mod text;
pub(crate) mod vectors;
mod working;

pub use config::{EmbedderKind, MemoryConfig};
pub use consolidate::{Consolidated, Procedure};
pub use embed::{Embedder, HashEmbedder};
pub use facts::{Fact, NewFact, Visibility};
pub use forget::Forgotten;
pub use knowledge::{Document, Published};
pub use recall::{Item, Mode, Recall, Source, Viewer};
pub use working::{Entry, Retrieval, WorkingMemory, tokens};
