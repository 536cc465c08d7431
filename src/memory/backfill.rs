//! Vectors from a remote embedding provider, filled in the background: episodes and
//! knowledge are stored (and searchable by full text) at once, and get their vectors
//! when the provider answers. The local embedder never needs this.

use crate::model::TenantId;
use crate::store::hex;
use crate::store::{Store, StoreError, with_pool};

const PENDING_EPISODES: &str = "SELECT seq, employee_id, text FROM episodes WHERE tenant = $1 AND sig IS NULL ORDER BY seq LIMIT $2";
const PENDING_KNOWLEDGE: &str =
    "SELECT seq, text FROM knowledge WHERE tenant = $1 AND sig IS NULL ORDER BY seq LIMIT $2";
const SQLITE_SET_EPISODES: &str = "UPDATE episodes SET vec = unhex(j.value->>'v'), sig = unhex(j.value->>'g') \
    FROM json_each($1) j WHERE episodes.seq = j.value->>'r'";
const PG_SET_EPISODES: &str = "UPDATE episodes SET vec = decode(x->>'v', 'hex'), sig = decode(x->>'g', 'hex') \
    FROM jsonb_array_elements($1::jsonb) AS a(x) WHERE episodes.seq = (x->>'r')::bigint";
const SQLITE_SET_KNOWLEDGE: &str = "UPDATE knowledge SET vec = unhex(j.value->>'v'), sig = unhex(j.value->>'g') \
    FROM json_each($1) j WHERE knowledge.seq = j.value->>'r'";
const PG_SET_KNOWLEDGE: &str = "UPDATE knowledge SET vec = decode(x->>'v', 'hex'), sig = decode(x->>'g', 'hex') \
    FROM jsonb_array_elements($1::jsonb) AS a(x) WHERE knowledge.seq = (x->>'r')::bigint";

impl Store {
    /// Embeds up to `limit` of the tenant's episodes and knowledge chunks that have no
    /// vector yet; returns how many were embedded. A provider error leaves them for
    /// the next try.
    pub async fn embed_pending(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let episodes: Vec<(i64, String, String)> = with_pool!(self, read, |pool| {
            sqlx::query_as(PENDING_EPISODES)
                .bind(tenant.as_str())
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        });
        let knowledge: Vec<(i64, String)> = with_pool!(self, read, |pool| {
            sqlx::query_as(PENDING_KNOWLEDGE)
                .bind(tenant.as_str())
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        });
        let sqlite = self.kind() == crate::store::StoreKind::Sqlite;
        let mut done = 0;
        let batches: [(Vec<(i64, String)>, &str); 2] = [
            (
                episodes.iter().map(|(s, _, t)| (*s, t.clone())).collect(),
                if sqlite {
                    SQLITE_SET_EPISODES
                } else {
                    PG_SET_EPISODES
                },
            ),
            (
                knowledge,
                if sqlite {
                    SQLITE_SET_KNOWLEDGE
                } else {
                    PG_SET_KNOWLEDGE
                },
            ),
        ];
        for (rows, sql) in batches {
            if rows.is_empty() {
                continue;
            }
            let texts: Vec<String> = rows.iter().map(|(_, t)| t.clone()).collect();
            let vectors = self
                .embedder()
                .embed(&texts)
                .await
                .map_err(|e| StoreError::Embedder(e.to_string()))?;
            let body: Vec<serde_json::Value> = rows
                .iter()
                .zip(&vectors)
                .map(|((seq, _), v)| {
                    serde_json::json!({"r": seq, "v": hex(&super::embed::quantise(v)), "g": hex(&super::embed::signature(v))})
                })
                .collect();
            let body = serde_json::to_string(&body).expect("vectors serialise");
            with_pool!(self, write, |pool| {
                sqlx::query(sql).bind(&body).execute(pool).await?;
            });
            done += rows.len();
        }
        if done > 0 {
            // Vectors arrived for rows the similarity index has passed: reload it.
            self.mem.invalidate(tenant);
        }
        Ok(done)
    }
}
