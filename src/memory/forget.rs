//! Retention and the right to be forgotten: deleting episodes past the tenant's
//! retention, and everything about one person from every kind of memory.

use super::text;
use crate::model::{EmployeeId, TenantId};
use crate::store::{Store, StoreError, with_pool};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Episodes deleted per transaction, so deleting never holds the writer for long.
const BATCH: i64 = 2000;

/// What forgetting a person removed, counted per kind. Records of others that only
/// mention them are kept with each mention redacted (`redacted`), not counted as removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Forgotten {
    /// Episodes (with their full-text and participant rows).
    pub episodes: u64,
    /// Inbox events: those the episodes recorded, and those naming the person that were
    /// waiting for an employee or set aside.
    pub events: u64,
    /// Facts naming the person.
    pub facts: u64,
    /// Knowledge chunks naming the person.
    pub knowledge: u64,
    /// CRM contacts of the person (by address, or by name when no address is given).
    #[serde(default)]
    pub crm_contacts: u64,
    /// CRM activities logged against those contacts, or copying their mail.
    #[serde(default)]
    pub crm_activities: u64,
    /// Documents written for those contacts.
    #[serde(default)]
    pub documents: u64,
    /// Mail messages from or to the person (every mailbox's copy).
    #[serde(default)]
    pub mail: u64,
    /// Files deleted from the data directory: attachments of that mail, and the PDFs
    /// of those documents.
    #[serde(default)]
    pub attachments: u64,
    /// Outbox actions for the person or about their mail and tasks (pending ones never
    /// run).
    #[serde(default)]
    pub outbox: u64,
    /// Approvals of such actions (pending ones are cancelled).
    #[serde(default)]
    pub approvals: u64,
    /// Chat messages the person wrote or that were written to them.
    #[serde(default)]
    pub chat: u64,
    /// Tasks the person asked for.
    #[serde(default)]
    pub tasks: u64,
    /// Escalations of their mail.
    #[serde(default)]
    pub escalations: u64,
    /// Their copies of meetings, meetings they organised, and times offered to them.
    #[serde(default)]
    pub calendar: u64,
    /// Entries of employees' state: beliefs and intentions in their state snapshots,
    /// messages watched, working-memory entries.
    #[serde(default)]
    pub state: u64,
    /// Records of others kept with the mentions of the person replaced by
    /// `[forgotten]` (mail, chat, tasks, actions, approvals, escalations, meetings,
    /// CRM activities, intentions).
    #[serde(default)]
    pub redacted: u64,
    /// Their candidacies in the recruiting pipeline, each with its stage history,
    /// interviews and the panel's feedback (their CV files count as attachments).
    #[serde(default)]
    pub candidates: u64,
    /// Product backlog requests and votes that named the person (the requests stay,
    /// without them).
    #[serde(default)]
    pub backlog: u64,
}

const SQLITE_EPISODES_NAMING: &str = "SELECT e.seq FROM episodes_fts CROSS JOIN episodes e \
    ON e.seq = episodes_fts.rowid WHERE episodes_fts MATCH $1 AND e.tenant = $2";
const PG_EPISODES_NAMING: &str =
    "SELECT seq FROM episodes WHERE tenant = $2 AND terms @@ phraseto_tsquery('simple', $1)";
const SQLITE_KNOWLEDGE_NAMING: &str = "SELECT k.seq FROM knowledge_fts CROSS JOIN knowledge k \
    ON k.seq = knowledge_fts.rowid WHERE knowledge_fts MATCH $1 AND k.tenant = $2";
const PG_KNOWLEDGE_NAMING: &str =
    "SELECT seq FROM knowledge WHERE tenant = $2 AND terms @@ phraseto_tsquery('simple', $1)";

/// Deletes the episodes `$1` (a JSON array of sequence numbers) of tenant `$2`, with
/// their full-text and participant rows and the processed events they recorded.
macro_rules! delete_episodes {
    ($each:literal) => {
        [
            concat!("DELETE FROM inbox WHERE tenant = $2 AND processed_at IS NOT NULL AND id IN \
                     (SELECT event_id FROM episodes WHERE tenant = $2 AND kind = 'event' AND seq IN (", $each, "))"),
            concat!("DELETE FROM episodes WHERE tenant = $2 AND seq IN (", $each, ")"),
        ]
    };
}
const SQLITE_DELETE: [&str; 2] = delete_episodes!("SELECT value FROM json_each($1)");
const PG_DELETE: [&str; 2] =
    delete_episodes!("SELECT jsonb_array_elements_text($1::jsonb)::bigint");
/// SQLite's full-text rows of the tenant's episodes `$1`, deleted before the episodes.
const SQLITE_DELETE_TERMS: &str = "DELETE FROM episodes_fts WHERE rowid IN \
    (SELECT seq FROM episodes WHERE tenant = $2 AND seq IN (SELECT value FROM json_each($1)))";
const SQLITE_DELETE_KNOWLEDGE: [&str; 2] = [
    "DELETE FROM knowledge_fts WHERE rowid IN \
     (SELECT seq FROM knowledge WHERE tenant = $2 AND seq IN (SELECT value FROM json_each($1)))",
    "DELETE FROM knowledge WHERE tenant = $2 AND seq IN (SELECT value FROM json_each($1))",
];
const PG_DELETE_KNOWLEDGE: &str = "DELETE FROM knowledge WHERE tenant = $2 AND seq IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)";
const DELETE_FACTS: &str =
    "DELETE FROM facts WHERE tenant = $1 AND (subject_key = $2 OR object_key = $2)";
/// The oldest recorded first: episodes are recorded in time order.
const OLD_EPISODES: &str = "SELECT seq FROM episodes WHERE tenant = $1 AND employee_id = $2 AND at < $3 ORDER BY seq LIMIT $4";

impl Store {
    /// Removes everything about `person` ("Name", "address" or "Name <address>") from
    /// the tenant's memory: episodes naming them or involving them (and the events
    /// those recorded), facts about them, knowledge that names them.
    pub async fn forget(&self, tenant: &TenantId, person: &str) -> Result<Forgotten, StoreError> {
        let keys = crate::model::Person::parse(person).keys();
        let mut out = Forgotten::default();
        if keys.is_empty() {
            return Ok(out);
        }
        let phrases: Vec<String> = keys.iter().map(|k| text::term_string(k)).collect();
        let sqlite = self.kind() == crate::store::StoreKind::Sqlite;
        // Episodes naming them: participants' names and addresses are in the text too.
        let mut seqs: Vec<i64> = Vec::new();
        let mut chunks: Vec<i64> = Vec::new();
        for p in &phrases {
            let (ep, kn, expr) = if sqlite {
                (
                    SQLITE_EPISODES_NAMING,
                    SQLITE_KNOWLEDGE_NAMING,
                    format!("\"{p}\""),
                )
            } else {
                (PG_EPISODES_NAMING, PG_KNOWLEDGE_NAMING, p.clone())
            };
            let (found, found_chunks): (Vec<i64>, Vec<i64>) = with_pool!(self, read, |pool| {
                let a = sqlx::query_scalar(ep)
                    .bind(&expr)
                    .bind(tenant.as_str())
                    .fetch_all(pool)
                    .await?;
                let b = sqlx::query_scalar(kn)
                    .bind(&expr)
                    .bind(tenant.as_str())
                    .fetch_all(pool)
                    .await?;
                (a, b)
            });
            seqs.extend(found);
            chunks.extend(found_chunks);
        }
        seqs.sort_unstable();
        seqs.dedup();
        for batch in seqs.chunks(BATCH as usize) {
            let (episodes, events) = self.delete_episodes(tenant, batch).await?;
            out.episodes += episodes;
            out.events += events;
        }
        chunks.sort_unstable();
        chunks.dedup();
        let chunks_json = serde_json::to_string(&chunks).expect("numbers serialise");
        let (knowledge, facts) = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let knowledge = if sqlite {
                let [terms, rows] = SQLITE_DELETE_KNOWLEDGE;
                sqlx::query(terms)
                    .bind(&chunks_json)
                    .bind(tenant.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(rows)
                    .bind(&chunks_json)
                    .bind(tenant.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                sqlx::query(PG_DELETE_KNOWLEDGE)
                    .bind(&chunks_json)
                    .bind(tenant.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            };
            let mut facts = 0;
            for k in &phrases {
                facts += sqlx::query(DELETE_FACTS)
                    .bind(tenant.as_str())
                    .bind(k)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            (knowledge, facts)
        });
        out.knowledge = knowledge;
        out.facts = facts;
        self.mem.invalidate(tenant);
        Ok(out)
    }

    /// Deletes an employee's episodes older than `before` (the tenant's retention);
    /// returns how many.
    pub async fn expire_episodes(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let seqs: Vec<i64> = with_pool!(self, read, |pool| {
                sqlx::query_scalar(OLD_EPISODES)
                    .bind(tenant.as_str())
                    .bind(employee.to_string())
                    .bind(crate::store::to_micros(before))
                    .bind(BATCH)
                    .fetch_all(pool)
                    .await?
            });
            if seqs.is_empty() {
                break;
            }
            total += self.delete_episodes(tenant, &seqs).await?.0;
            if (seqs.len() as i64) < BATCH {
                break;
            }
        }
        if total > 0 {
            self.mem.invalidate(tenant);
        }
        Ok(total)
    }

    /// Deletes the tenant's episodes `seqs` in one transaction; returns the episodes
    /// and events deleted.
    async fn delete_episodes(
        &self,
        tenant: &TenantId,
        seqs: &[i64],
    ) -> Result<(u64, u64), StoreError> {
        let json = serde_json::to_string(seqs).expect("numbers serialise");
        let sqlite = self.kind() == crate::store::StoreKind::Sqlite;
        Ok(with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let [events, episodes] = if sqlite { SQLITE_DELETE } else { PG_DELETE };
            if sqlite {
                sqlx::query(SQLITE_DELETE_TERMS)
                    .bind(&json)
                    .bind(tenant.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let ev = sqlx::query(events)
                .bind(&json)
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let ep = sqlx::query(episodes)
                .bind(&json)
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            (ep, ev)
        }))
    }
}
