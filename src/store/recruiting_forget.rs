//! Forgetting candidates: a person's candidacies (`empla forget`) and, under the
//! tenant's retention, those who left the pipeline long ago — each with its stage
//! history, interviews and the panel's feedback about it, in one transaction. The CV
//! files are the caller's to delete: their paths are answered.

use crate::model::TenantId;
use crate::store::{Store, StoreError, to_micros, with_pool};
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

/// Deletes, in one transaction, the candidates matching `cond` (SQL over
/// `recruiting_candidates` with `$2` bound to `key`) and what is recorded of them
/// (a macro: the key is text or a time, bound as its own type).
macro_rules! delete_where {
    ($store:expr, $tenant:expr, $cond:expr, $key:expr) => {{
        let (cond, key) = ($cond, $key);
        let of = format!("SELECT id FROM recruiting_candidates WHERE tenant = $1 AND {cond}");
        let gone = with_pool!($store, write, |pool| {
            let mut tx = pool.begin().await?;
            let mut g = CandidatesGone::default();
            for (table, count) in [
                ("recruiting_stages", None),
                ("recruiting_interviews", Some(&mut g.interviews)),
                ("recruiting_feedback", Some(&mut g.feedback)),
            ] {
                let n = sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE tenant = $1 AND candidate IN ({of})"
                )))
                .bind($tenant.as_str())
                .bind(&key)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if let Some(c) = count {
                    *c = n;
                }
            }
            let cvs: Vec<Option<String>> = sqlx::query_scalar(AssertSqlSafe(format!(
                "DELETE FROM recruiting_candidates WHERE tenant = $1 AND {cond} RETURNING cv_path"
            )))
            .bind($tenant.as_str())
            .bind(&key)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            g.candidates = cvs.len() as u64;
            g.cv_files = cvs.into_iter().flatten().collect();
            Ok::<_, sqlx::Error>(g)
        })?;
        Ok(gone)
    }};
}

/// What forgetting candidates removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidatesGone {
    /// Candidacies deleted (one per requisition).
    pub candidates: u64,
    /// Feedback about them deleted.
    pub feedback: u64,
    /// Interviews deleted.
    pub interviews: u64,
    /// Their CV files (paths as stored), to delete.
    pub cv_files: Vec<String>,
}

/// The stages a candidate has left the pipeline in.
const LEFT: &str = "stage IN ('declined', 'withdrawn', 'hired')";

impl Store {
    /// Deletes the candidacies of a person (by address, or by name without case when no
    /// address is given) with everything recorded of them.
    pub async fn forget_candidates(
        &self,
        tenant: &TenantId,
        person: &str,
    ) -> Result<CandidatesGone, StoreError> {
        let (by, key) = match crate::model::person_key(person) {
            (true, address) => ("email_key = $2", address),
            (false, name) => ("lower(name) = $2", name),
        };
        delete_where!(self, tenant, by, key)
    }

    /// Deletes the candidates who left the pipeline (declined, withdrawn, hired) and
    /// whose record has not changed since `before`: the tenant's retention.
    pub async fn expire_candidates(
        &self,
        tenant: &TenantId,
        before: DateTime<Utc>,
    ) -> Result<CandidatesGone, StoreError> {
        let cond = format!("{LEFT} AND updated_at < $2");
        delete_where!(self, tenant, cond.as_str(), to_micros(before))
    }
}
