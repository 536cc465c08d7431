//! The node's face onto employees' memory: recall, the facts they know, why they did
//! something, and the knowledge the company shares.

use super::Node;
use crate::memory::{Document, Fact, Item, Published, Recall, Viewer, Visibility};
use crate::model::{EmployeeId, Episode, EpisodeId};
use crate::store::StoreError;

/// Why a memory request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// No such employee.
    #[error("no such employee")]
    NotFound,
    /// The request is not valid; the message says what to change.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The employee could not be reached.
    #[error("the employee cannot answer now: {0}")]
    Unavailable(String),
}

/// A document to publish to shared knowledge.
#[derive(Debug, Clone)]
pub struct Publish {
    /// Title.
    pub title: String,
    /// Text (Markdown or plain).
    pub text: String,
    /// Where it comes from; publishing again from the same source replaces it.
    pub source: Option<String>,
    /// Who may see it.
    pub visibility: Visibility,
    /// The publishing employee (needed for private and team knowledge).
    pub employee: Option<EmployeeId>,
}

impl Node {
    async fn viewer(&self, id: EmployeeId) -> Result<Viewer, MemoryError> {
        let profile = self.employee(id).await?.ok_or(MemoryError::NotFound)?;
        Ok(Viewer {
            employee: id,
            team: profile.team,
        })
    }

    /// Recalls what an employee remembers, best first.
    pub async fn recall(&self, id: EmployeeId, r: &Recall) -> Result<Vec<Item>, MemoryError> {
        let viewer = self.viewer(id).await?;
        let items = self.rt.store.recall(&self.rt.tenant, &viewer, r).await?;
        // An active employee keeps what it recalled in working memory (an idle one is
        // not woken for it).
        if !r.q.trim().is_empty()
            && self.rt.directory.runtime_state(id) == Some(super::RuntimeState::Active)
            && let Ok(actor) = crate::actors::registry::live_actor(&self.rt, id).await
        {
            let texts = items.iter().map(|i| i.text.clone()).collect();
            let _ = actor.send_message(super::EmployeeMsg::Retrieved(r.q.clone(), texts));
        }
        Ok(items)
    }

    /// An employee's working memory (activating it if idle).
    pub async fn working_memory(
        &self,
        id: EmployeeId,
    ) -> Result<crate::memory::WorkingMemory, MemoryError> {
        self.viewer(id).await?;
        let actor = crate::actors::registry::live_actor(&self.rt, id)
            .await
            .map_err(|e| MemoryError::Unavailable(e.to_string()))?;
        ractor::call_t!(actor, super::EmployeeMsg::Working, 10_000)
            .map_err(|e| MemoryError::Unavailable(e.to_string()))
    }

    /// The facts an employee knows within `depth` hops of `subject` (every fact it may
    /// see, newest first, without one).
    pub async fn facts(
        &self,
        id: EmployeeId,
        subject: Option<&str>,
        depth: usize,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Fact>, MemoryError> {
        let viewer = self.viewer(id).await?;
        let seeds: Vec<String> = subject
            .map(crate::memory::text::term_string)
            .filter(|s| !s.is_empty())
            .into_iter()
            .collect();
        Ok(self
            .rt
            .store
            .facts(&self.rt.tenant, &viewer, &seeds, depth, limit, offset)
            .await?)
    }

    /// An episode and the chain of what caused it.
    pub async fn why(
        &self,
        id: EmployeeId,
        episode: EpisodeId,
    ) -> Result<Vec<Episode>, MemoryError> {
        self.viewer(id).await?;
        Ok(self
            .rt
            .store
            .cause_chain(&self.rt.tenant, id, episode)
            .await?)
    }

    /// Publishes a document to shared knowledge.
    pub async fn publish(&self, p: Publish) -> Result<Published, MemoryError> {
        if p.text.trim().is_empty() {
            return Err(MemoryError::Invalid(
                "`text` is empty; send the document's text".into(),
            ));
        }
        let (owner, team) = match p.employee {
            Some(id) => {
                let v = self.viewer(id).await?;
                (Some(id), Some(v.team))
            }
            None if p.visibility != Visibility::Company => {
                return Err(MemoryError::Invalid(format!(
                    "`visibility` {} needs `employee`, the employee publishing it",
                    p.visibility.as_str()
                )));
            }
            None => (None, None),
        };
        let source = p.source.unwrap_or_else(|| format!("published:{}", p.title));
        let doc = Document {
            title: p.title,
            text: p.text,
            source,
            visibility: p.visibility,
            owner,
            team,
            at: chrono::Utc::now(),
        };
        Ok(self.rt.store.publish(&self.rt.tenant, &doc).await?)
    }
}

impl Node {
    /// Consolidates an employee's `day` now (the node does it daily at
    /// `memory.consolidate_at` for the day before); running it again changes nothing.
    pub async fn consolidate(
        &self,
        id: EmployeeId,
        day: chrono::NaiveDate,
    ) -> Result<crate::memory::Consolidated, MemoryError> {
        self.viewer(id).await?;
        Ok(self.rt.store.consolidate(&self.rt.tenant, id, day).await?)
    }

    /// Procedural memory: how each workflow has fared for each kind of task, best first.
    pub async fn procedures(
        &self,
        id: EmployeeId,
        task: Option<&str>,
    ) -> Result<Vec<crate::memory::Procedure>, MemoryError> {
        self.viewer(id).await?;
        Ok(self.rt.store.procedures(&self.rt.tenant, id, task).await?)
    }
}

/// The node's daily memory upkeep: at `memory.consolidate_at`, every employee's
/// previous day is consolidated and episodes past `memory.retention` are deleted, as
/// are candidates who left the recruiting pipeline that long ago (with their CVs, kept
/// under `attachments_dir`).
pub(crate) async fn upkeep(
    store: crate::store::Store,
    tenant: crate::model::TenantId,
    cfg: crate::config::MemoryConfig,
    attachments_dir: std::path::PathBuf,
) {
    let Ok(six) = crate::config::normalize_cron(&cfg.consolidate_at) else {
        return; // validated with the config
    };
    let Ok(cron) = crate::config::parse_cron6(&six) else {
        return;
    };
    loop {
        let now = chrono::Utc::now();
        let Ok(next) = cron.find_next_occurrence(&now, false) else {
            return;
        };
        tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
        let day = (next - chrono::Duration::days(1)).date_naive();
        let ids = match store.employee_ids(&tenant).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(error = %e, "memory upkeep could not list employees; trying again at the next run");
                continue;
            }
        };
        let (mut consolidated, mut expired) = (0, 0);
        for id in ids {
            match store.consolidate(&tenant, id, day).await {
                Ok(c) if c.summary.is_some() => consolidated += 1,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, employee = %id, %day, "consolidation failed"),
            }
            if let Some(keep) = cfg.retention {
                let before =
                    next - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
                match store.expire_episodes(&tenant, id, before).await {
                    Ok(n) => expired += n,
                    Err(e) => tracing::error!(error = %e, employee = %id, "retention failed"),
                }
            }
        }
        if let Some(keep) = cfg.retention {
            let before = next - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
            match store.expire_candidates(&tenant, before).await {
                Ok(gone) => {
                    let dir = attachments_dir.clone();
                    let files = gone.cv_files.iter().map(std::path::PathBuf::from).collect();
                    let _ = tokio::task::spawn_blocking(move || {
                        super::forget::remove_files(&dir, files)
                    })
                    .await;
                    expired += gone.candidates;
                }
                Err(e) => tracing::error!(error = %e, "retention of candidates failed"),
            }
        }
        if let Err(e) = store.analyze().await {
            tracing::warn!(error = %e, "could not refresh the planner's statistics");
        }
        tracing::info!(%day, consolidated, expired, "memory upkeep done");
    }
}

/// Fills in vectors from a remote embedding provider in the background (a local
/// embedder needs none of this and the task ends at once).
pub(crate) async fn embed_backfill(store: crate::store::Store, tenant: crate::model::TenantId) {
    if store.embedder().embed_now("").is_some() {
        return;
    }
    let mut idle = std::time::Duration::from_millis(200);
    loop {
        match store.embed_pending(&tenant, 64).await {
            Ok(n) if n > 0 => {
                idle = std::time::Duration::from_millis(200);
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "embedding provider failed; vectors will be filled in later");
                idle = (idle * 2).min(std::time::Duration::from_secs(30));
            }
        }
        tokio::time::sleep(idle).await;
    }
}
