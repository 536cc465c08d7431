//! Shared knowledge (seed 7.4): documents published by employees or ingested from the
//! company's files, stored in chunks for full-text and vector search, with the facts
//! they state plainly added to the graph. Each document has a visibility; a tenant
//! never sees another's.

use super::facts::{NewFact, Visibility};
use super::{embed, extract, text};
use crate::model::{EmployeeId, TenantId};
use crate::store::hex;
use crate::store::to_micros;
use crate::store::{Store, StoreError, with_pool};
use chrono::{DateTime, Utc};

/// Target size of a chunk, in characters; paragraphs are kept whole where they fit.
const CHUNK: usize = 1200;

/// A document to publish.
#[derive(Debug, Clone)]
pub struct Document {
    /// Title (for ingested files, the first heading or the file name).
    pub title: String,
    /// The text (Markdown or plain).
    pub text: String,
    /// Where it comes from: a path, a URL, an employee. Publishing again from the same
    /// source replaces the earlier version.
    pub source: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// The publishing employee (needed for private and team documents).
    pub owner: Option<EmployeeId>,
    /// The owner's team.
    pub team: Option<String>,
    /// When it was published.
    pub at: DateTime<Utc>,
}

/// What publishing stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Published {
    /// Document id (the same for every version from one source).
    pub id: String,
    /// Chunks stored.
    pub chunks: usize,
    /// Facts extracted and stored.
    pub facts: usize,
}

const SQLITE_INSERT: &str = "INSERT INTO knowledge (tenant, id, doc, chunk, title, source, visibility, owner, team, text, at, vec, sig) \
    SELECT value->>'tn', value->>'id', value->>'d', value->>'n', value->>'ti', value->>'src', value->>'v', value->>'ow', value->>'tm', \
    value->>'x', value->>'at', unhex(value->>'vec'), unhex(value->>'sig') FROM jsonb_each($1) WHERE true RETURNING seq, id";
const SQLITE_TERMS: &str =
    "INSERT INTO knowledge_fts (rowid, terms) SELECT value->>'r', value->>'w' FROM jsonb_each($1)";
const PG_INSERT: &str = "INSERT INTO knowledge (tenant, id, doc, chunk, title, source, visibility, owner, team, text, terms, at, vec, sig) \
    SELECT x->>'tn', x->>'id', x->>'d', (x->>'n')::int, x->>'ti', x->>'src', x->>'v', x->>'ow', x->>'tm', x->>'x', \
    to_tsvector('simple', x->>'w'), (x->>'at')::bigint, decode(x->>'vec', 'hex'), decode(x->>'sig', 'hex') \
    FROM jsonb_array_elements($1::jsonb) AS a(x) RETURNING seq, id";
const SQLITE_DROP_TERMS: &str = "DELETE FROM knowledge_fts WHERE rowid IN (SELECT seq FROM knowledge WHERE tenant = $1 AND doc = $2)";
const DROP_DOC: &str = "DELETE FROM knowledge WHERE tenant = $1 AND doc = $2";

impl Store {
    /// Publishes `doc`: replaces any earlier version from the same source, stores its
    /// chunks (embedded) and the facts it states plainly, with the document's
    /// visibility.
    pub async fn publish(
        &self,
        tenant: &TenantId,
        doc: &Document,
    ) -> Result<Published, StoreError> {
        let id = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_URL,
            format!(
                "{tenant}\u{1f}{}\u{1f}{}",
                doc.source,
                doc.owner.map(|o| o.to_string()).unwrap_or_default()
            )
            .as_bytes(),
        )
        .to_string();
        let chunks = chunks(&doc.text);
        let embedder = self.embedder().clone();
        // The local embedder's vectors are recomputed when needed; only a remote
        // provider's are stored.
        let store_vectors = embedder.embed_now("").is_none();
        let vectors: Vec<Option<Vec<f32>>> = match embedder.embed(&chunks).await {
            Ok(v) => v.into_iter().map(Some).collect(),
            Err(e) => {
                // Stored without vectors; the background embedder fills them in.
                tracing::warn!(error = %e, "knowledge stored without vectors for now");
                vec![None; chunks.len()]
            }
        };
        let owner = doc.owner.map(|o| o.to_string());
        let rows: Vec<serde_json::Value> = chunks
            .iter()
            .zip(&vectors)
            .enumerate()
            .map(|(n, (c, v))| {
                serde_json::json!({
                    "tn": tenant.as_str(), "id": format!("{id}#{n}"), "d": id, "n": n, "ti": doc.title,
                    "src": doc.source, "v": doc.visibility.as_str(), "ow": owner, "tm": doc.team,
                    "x": c, "w": text::term_string(&format!("{}\n{c}", doc.title)), "at": to_micros(doc.at),
                    "vec": v.as_deref().filter(|_| store_vectors).map(|v| hex(&embed::quantise(v))),
                    "sig": v.as_deref().map(|v| hex(&embed::signature(v))),
                })
            })
            .collect();
        let body = serde_json::to_string(&rows).expect("chunks serialise");
        let sqlite = self.kind() == crate::store::StoreKind::Sqlite;
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            if sqlite {
                sqlx::query(SQLITE_DROP_TERMS)
                    .bind(tenant.as_str())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(DROP_DOC)
                .bind(tenant.as_str())
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            let stored: Vec<(i64, String)> =
                sqlx::query_as(if sqlite { SQLITE_INSERT } else { PG_INSERT })
                    .bind(&body)
                    .fetch_all(&mut *tx)
                    .await?;
            if sqlite {
                let terms: Vec<serde_json::Value> = stored
                    .iter()
                    .filter_map(|(seq, cid)| {
                        let n: usize = cid.rsplit('#').next()?.parse().ok()?;
                        Some(serde_json::json!({"r": seq, "w": rows[n]["w"]}))
                    })
                    .collect();
                sqlx::query(SQLITE_TERMS)
                    .bind(serde_json::to_string(&terms).expect("terms serialise"))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        // A replaced version's chunks may still be on the vector shelf.
        self.mem
            .invalidate_shelf(tenant, super::vectors::Shelf::Knowledge);
        let facts: Vec<NewFact> = extract::facts(&doc.text)
            .into_iter()
            .map(|(subject, predicate, object)| NewFact {
                subject,
                predicate,
                object,
                confidence: 0.9,
                source: doc.source.clone(),
                visibility: doc.visibility,
                owner: doc.owner,
                team: doc.team.clone(),
                at: doc.at,
            })
            .collect();
        self.put_facts(tenant, &facts).await?;
        Ok(Published {
            id,
            chunks: chunks.len(),
            facts: facts.len(),
        })
    }
}

/// Splits `text` into chunks of about [`CHUNK`] characters at paragraph boundaries; a
/// heading starts a new chunk, and a paragraph longer than a chunk is split at
/// sentence ends.
pub(crate) fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        let t = cur.trim();
        if !t.is_empty() {
            out.push(t.to_string());
        }
        cur.clear();
    };
    for para in text.split("\n\n") {
        let para = para.trim();
        if para.is_empty() {
            continue;
        }
        if para.starts_with('#') || cur.len() + para.len() > CHUNK {
            flush(&mut cur, &mut out);
        }
        if para.len() > CHUNK {
            for sentence in para.split_inclusive(". ") {
                if cur.len() + sentence.len() > CHUNK {
                    flush(&mut cur, &mut out);
                }
                cur.push_str(sentence);
            }
        } else {
            if !cur.is_empty() {
                cur.push_str("\n\n");
            }
            cur.push_str(para);
        }
    }
    flush(&mut cur, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_paragraphs_and_start_at_headings() {
        let text = "# Pricing\n\nStarter is $49.\n\nPro is $99.\n\n# Support\n\nEmail us.";
        assert_eq!(
            chunks(text),
            vec![
                "# Pricing\n\nStarter is $49.\n\nPro is $99.",
                "# Support\n\nEmail us."
            ]
        );
        let long = "A sentence that goes on. ".repeat(200);
        let c = chunks(&long);
        assert!(
            c.len() > 3 && c.iter().all(|c| c.len() <= CHUNK),
            "{}",
            c.len()
        );
    }
}
