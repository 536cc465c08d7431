//! The right to be forgotten through the node (`POST /api/v1/memory/forget`, `empla
//! forget`): every copy the node holds of a person goes — their records (mail with its
//! attachment files, chat, tasks, actions and approvals for them, escalations,
//! meetings; see [`crate::store::Swept`]), what each employee holds of them in its
//! state, what employees remember (episodes, facts, knowledge), their CRM contacts
//! with what was logged and written for them, and their candidacies in the recruiting
//! pipeline with their CVs. Records of others that only mention
//! them are kept with the mentions redacted.
//!
//! The order matters. What employees recorded so far is committed first, so it is
//! swept too. Records go before employees' state, so the actions cancelled with them
//! are known to the intentions waiting on them. Memory goes last, after every running
//! employee has committed what it was handling, so an episode recorded meanwhile is
//! caught. It is one sweep at one time: something about the person that arrives while
//! it runs (a mail being taken in, an action being sent) may be kept; forgetting again
//! finds it.

use super::{MemoryError, Node};
use crate::actors::employee::EmployeeMsg;
use crate::actors::employee::forget::forget_in_stored;
use crate::actors::registry::{self, RuntimeState};
use crate::memory::Forgotten;
use crate::model::{EmployeeId, Forgetting, Person};
use crate::store::StoreError;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How long a running employee is given to forget.
const FORGET_TIMEOUT_MS: u64 = 30_000;

impl Node {
    /// Removes every copy the node holds of a person ("Name", "address" or "Name
    /// <address>"), and answers what went, per kind (see the module).
    pub async fn forget(&self, person: &str) -> Result<Forgotten, MemoryError> {
        let mut f = self.forget_here(person).await?;
        // In a cluster, the employees the other nodes run forget there, in their state.
        f.state += super::cluster::forget_on_peers(&self.rt, person).await?;
        Ok(f)
    }

    /// [`Node::forget`] on this node alone: the records (shared by every node, so this is
    /// done again harmlessly on each) and the state of the employees this node runs, or
    /// that no node runs.
    pub async fn forget_here(&self, person: &str) -> Result<Forgotten, MemoryError> {
        let parsed = Person::parse(person);
        if parsed.is_empty() {
            return Err(MemoryError::Invalid(
                "`person` is empty; give a name, an address or \"Name <address>\"".into(),
            ));
        }
        let rt = &self.rt;
        rt.writer.flush().await;
        let mut who = Forgetting::new(parsed);
        let swept = rt.store.sweep_person(&rt.tenant, &mut who).await?;
        let who = Arc::new(who);
        let mut state = 0;
        for id in rt.store.employee_ids(&rt.tenant).await? {
            let cancelled = swept.cancelled.get(&id).cloned().unwrap_or_default();
            state += self.forget_in_employee(id, &who, &cancelled).await?;
        }
        let mut f = rt.store.forget(&rt.tenant, person).await?;
        // Records kept per person (CRM contacts, candidacies) go for each one named:
        // "Ana Torres, bob@example.com" is two people.
        let (mut contacts, mut activities, mut documents) = (0, 0, Vec::new());
        let (mut candidacies, mut cv_files) = (0, Vec::new());
        for one in person.split([',', ';']).filter(|p| !p.trim().is_empty()) {
            let (c, a, d) = rt.store.forget_contacts(&rt.tenant, one).await?;
            (contacts, activities) = (contacts + c, activities + a);
            documents.extend(d);
            let gone = rt.store.forget_candidates(&rt.tenant, one).await?;
            candidacies += gone.candidates;
            cv_files.extend(gone.cv_files);
        }
        let dir = rt.hands.mail.intake.attachments_dir.clone();
        let files: Vec<PathBuf> = swept
            .attachment_files
            .iter()
            .chain(&cv_files)
            .map(PathBuf::from)
            .chain(
                documents
                    .iter()
                    .map(|id| dir.join("documents").join(format!("{id}.pdf"))),
            )
            .collect();
        let attachments = tokio::task::spawn_blocking(move || remove_files(&dir, files))
            .await
            .unwrap_or(0);
        f.events += swept.events;
        f.crm_contacts = contacts;
        f.crm_activities = activities + swept.crm_activities;
        f.documents = documents.len() as u64;
        f.mail = swept.mail;
        f.attachments = attachments;
        f.outbox = swept.outbox;
        f.approvals = swept.approvals;
        f.chat = swept.chat;
        f.tasks = swept.tasks;
        f.escalations = swept.escalations;
        f.calendar = swept.calendar;
        f.state = state as u64;
        f.redacted = swept.redacted;
        f.candidates = candidacies;
        f.backlog = rt.store.forget_requester(&rt.tenant, person).await?;
        tracing::info!(?f, "forgot a person");
        Ok(f)
    }

    /// One employee forgets: a running one in its own handler, one that is not running
    /// in its stored snapshot — and, should it have been activated from the snapshot
    /// before that was rewritten, in its handler too.
    async fn forget_in_employee(
        &self,
        id: EmployeeId,
        who: &Arc<Forgetting>,
        cancelled: &BTreeSet<u64>,
    ) -> Result<usize, StoreError> {
        if let Some(c) = &self.rt.cluster
            && !c.owns(id)
            && self.rt.store.owner_of(&self.rt.tenant, id).await?.is_some()
        {
            // Its owner forgets it, in its running state.
            return Ok(0);
        }
        if self.running(id)
            && let Some(n) = self.forget_in_actor(id, who, cancelled).await
        {
            return Ok(n);
        }
        let rt = &self.rt;
        let mut n = 0;
        if let Some(bytes) = rt.store.snapshot(&rt.tenant, id).await?
            && let Some((redacted, m)) = forget_in_stored(&bytes, who, cancelled)
        {
            rt.store.replace_snapshot(&rt.tenant, id, &redacted).await?;
            n = m;
        }
        if self.running(id)
            && let Some(m) = self.forget_in_actor(id, who, cancelled).await
        {
            n += m;
        }
        Ok(n)
    }

    /// Whether the employee's tree is up or coming up (it holds its state in memory).
    fn running(&self, id: EmployeeId) -> bool {
        matches!(
            self.rt.directory.runtime_state(id),
            Some(RuntimeState::Active | RuntimeState::Activating | RuntimeState::Passivating)
        )
    }

    /// Asks the running employee to forget; none when it could not.
    async fn forget_in_actor(
        &self,
        id: EmployeeId,
        who: &Arc<Forgetting>,
        cancelled: &BTreeSet<u64>,
    ) -> Option<usize> {
        let actor = registry::live_actor(&self.rt, id).await.ok()?;
        ractor::call_t!(
            actor,
            EmployeeMsg::Forget,
            FORGET_TIMEOUT_MS,
            who.clone(),
            cancelled.clone()
        )
        .ok()
        .flatten()
    }
}

/// Deletes `files` that lie under `dir` (a path elsewhere is left and logged), and the
/// folders they leave empty there; answers how many went. Blocking.
pub(super) fn remove_files(dir: &Path, files: Vec<PathBuf>) -> u64 {
    let Ok(root) = dir.canonicalize() else {
        return 0;
    };
    let mut n = 0;
    for file in files {
        // A file already gone is not counted.
        let Ok(path) = file.canonicalize() else {
            continue;
        };
        if !path.starts_with(&root) || path == root {
            tracing::warn!(path = %path.display(), "an attachment outside the node's attachments folder is left where it is");
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                n += 1;
                if let Some(folder) = path.parent()
                    && folder != root
                {
                    // Fails, as it should, while the folder holds other files.
                    let _ = std::fs::remove_dir(folder);
                }
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "an attachment could not be deleted")
            }
        }
    }
    n
}
