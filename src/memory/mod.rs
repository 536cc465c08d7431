//! Storage behind one [`Store`]: sqlx on SQLite (the embedded default) and PostgreSQL
//! (production), with the same migrations and the same queries on both.
//!
//! Writes on the hot path (accepting events, recording what an employee did with them)
//! go through the [`StoreWriter`], which commits many of them in one transaction (group
//! commit). Every query takes the tenant and filters by it. Nothing here knows about
//! actors.

mod backfill;
mod calendar;
mod consolidate;
pub mod embed;
mod escalations;
pub mod extract;
mod facts;
mod forget;
mod hybrid;
mod knowledge;
mod mail;
pub(crate) mod queue;
mod recall;
mod rows;
mod store;
mod tasks;
pub mod text;
mod vectors;
mod working;
mod writer;

pub use consolidate::{Consolidated, Procedure};
pub use embed::{Embedder, HashEmbedder};
pub use escalations::Decided;
pub use facts::{Fact, NewFact, Visibility};
pub use forget::Forgotten;
pub use knowledge::{Document, Published};
pub use mail::{ChatMessage, Folder};
pub use queue::OutboxRecord;
pub use recall::{Item, Mode, Recall, Source, Viewer};
pub(crate) use store::parse_status;
pub use store::{DirectoryRow, NewHire, Store, StoreError, StoreKind};
pub use tasks::TaskUpdate;
pub use working::{Entry, Retrieval, WorkingMemory, tokens};
pub use writer::{Accepted, Completion, StoreWriter, WriteError};

/// Microseconds since the Unix epoch, as stored.
pub(crate) fn to_micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored time back to a `DateTime`.
pub(crate) fn from_micros(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}
