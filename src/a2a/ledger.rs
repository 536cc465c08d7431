//! The ledger of A2A tasks, on the node's store: a task is opened with the inbox event
//! that tells its employee (so it exists before its caller is answered), changed only by
//! appending numbered updates (a status, an artifact), and read back as the task or as
//! its updates in order. Subscribers are woken in process as updates are stored and
//! poll the store as a fallback, so a subscriber that reconnects — to this node after a
//! restart, or to another node on the same PostgreSQL — gets the task and every later
//! update, in order.

use super::states;
use crate::model::{EmployeeId, Event, TenantId};
use crate::store::{A2aTaskFilter, A2aTaskRow, Appended, Store, StoreError};
use a2a::{
    Artifact, Message, Part, Role, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState,
    TaskStatus, TaskStatusUpdateEvent,
};
use chrono::Utc;
use futures::stream::BoxStream;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// Updates a subscriber reads from the store at a time.
const EVENTS_PAGE: i64 = 256;
/// How often a waiting subscriber looks at the store without being woken (updates made
/// by another node).
const POLL: Duration = Duration::from_secs(1);

/// What went wrong with an A2A task.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No such task (or not this agent's).
    #[error("task {0} was not found")]
    NotFound(String),
    /// The task has ended and cannot be canceled.
    #[error("task {0} has already ended ({1}) and cannot be canceled")]
    NotCancelable(String, String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored task or update could not be read back.
    #[error("stored A2A data is corrupt: {0}")]
    Corrupt(String),
}

/// A change to a task, as the employee's work makes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new state, with a line for the caller (why it failed, what it waits for).
    State(TaskState, Option<String>),
    /// A result: a text artifact.
    Text {
        /// The artifact's name.
        name: String,
        /// Its text.
        text: String,
    },
    /// A result of another kind: a data artifact (what an action gave) or a file (a
    /// document written).
    Part {
        /// The artifact's name.
        name: String,
        /// Its one part.
        part: Part,
    },
}

/// What recording changes did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Stored: the task as it now is.
    Stored(Box<Task>),
    /// The task had already ended: nothing changed.
    Ended,
    /// These changes were recorded before (a retried action): nothing changed.
    Duplicate,
    /// A later action of the employee's changed the task already (actions of different
    /// cycles run side by side): these older changes are not applied.
    Superseded,
    /// No such task.
    Missing,
}

/// The node's A2A tasks. Cheap to share (`Arc`).
pub struct Ledger {
    store: Store,
    tenant: TenantId,
    updated: broadcast::Sender<String>,
    /// Only the tasks this node changed (what a cluster relays to the other nodes).
    local: broadcast::Sender<String>,
    /// Woken when a push notification may be due.
    pub(crate) push_due: Arc<Notify>,
}

fn corrupt(e: serde_json::Error) -> LedgerError {
    LedgerError::Corrupt(e.to_string())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, LedgerError> {
    serde_json::to_string(v).map_err(corrupt)
}

/// An agent's message saying `text`.
pub fn agent_message(task: &Task, text: &str) -> Message {
    let mut m = Message::new(Role::Agent, vec![Part::text(text)]);
    m.task_id = Some(task.id.clone());
    m.context_id = Some(task.context_id.clone());
    m
}

/// Applies `changes` to `task`, answering the updates they make.
pub fn apply(task: &mut Task, changes: &[Change]) -> Vec<StreamResponse> {
    let now = Utc::now();
    let mut out = Vec::new();
    for c in changes {
        match c {
            Change::State(state, line) => {
                task.status = TaskStatus {
                    state: state.clone(),
                    message: line.as_deref().map(|l| agent_message(task, l)),
                    timestamp: Some(now),
                };
                out.push(StreamResponse::StatusUpdate(TaskStatusUpdateEvent {
                    task_id: task.id.clone(),
                    context_id: task.context_id.clone(),
                    status: task.status.clone(),
                    metadata: None,
                }));
            }
            Change::Text { .. } | Change::Part { .. } => {
                let (name, part) = match c {
                    Change::Text { name, text } => (name, Part::text(text)),
                    Change::Part { name, part } => (name, part.clone()),
                    Change::State(..) => unreachable!("matched above"),
                };
                let artifact = Artifact {
                    artifact_id: uuid::Uuid::now_v7().to_string(),
                    name: Some(name.clone()),
                    description: None,
                    parts: vec![part],
                    metadata: None,
                    extensions: None,
                };
                task.artifacts
                    .get_or_insert_with(Vec::new)
                    .push(artifact.clone());
                out.push(StreamResponse::ArtifactUpdate(TaskArtifactUpdateEvent {
                    task_id: task.id.clone(),
                    context_id: task.context_id.clone(),
                    artifact,
                    append: None,
                    last_chunk: Some(true),
                    metadata: None,
                }));
            }
        }
    }
    out
}

/// Whether an update ends its task.
pub fn ends(e: &StreamResponse) -> bool {
    match e {
        StreamResponse::Task(t) => t.status.state.is_terminal(),
        StreamResponse::StatusUpdate(u) => u.status.state.is_terminal(),
        _ => false,
    }
}

impl Ledger {
    /// The ledger of `tenant`'s tasks in `store`.
    pub fn new(store: Store, tenant: TenantId) -> Ledger {
        Ledger {
            store,
            tenant,
            updated: broadcast::channel(1024).0,
            local: broadcast::channel(1024).0,
            push_due: Arc::new(Notify::new()),
        }
    }

    /// Opens `task` (submitted) for `employee` addressed as `agent`, together with the
    /// delegated task and the inbox event that tell the employee.
    pub async fn open(
        &self,
        task: &Task,
        employee: EmployeeId,
        agent: &str,
        delegated: &crate::model::Task,
        event: &Event,
    ) -> Result<(), LedgerError> {
        let now = Utc::now().timestamp_micros();
        let row = A2aTaskRow {
            id: task.id.clone(),
            employee_id: employee,
            agent: agent.to_string(),
            context_id: task.context_id.clone(),
            state: states::name(&task.status.state),
            task: to_json(task)?,
            seq: 1,
            ord: 0,
            created_at: now,
            updated_at: now,
        };
        let first = to_json(&StreamResponse::Task(task.clone()))?;
        self.store
            .a2a_open(&self.tenant, &row, &first, delegated, event)
            .await?;
        Ok(())
    }

    /// The ids of tasks as they change on this node (a receiver that lags behind misses
    /// some: it should then look at the store).
    pub fn changes(&self) -> broadcast::Receiver<String> {
        self.updated.subscribe()
    }

    /// The ids of tasks as this node changes them (not those [`Ledger::announce`]d).
    pub fn local_changes(&self) -> broadcast::Receiver<String> {
        self.local.subscribe()
    }

    /// Task `id` changed on another node of the cluster: its subscribers here look now.
    pub fn announce(&self, id: &str) {
        let _ = self.updated.send(id.to_string());
        self.push_due.notify_one();
    }

    /// A task and its row.
    pub async fn get(&self, id: &str) -> Result<Option<(A2aTaskRow, Task)>, LedgerError> {
        let Some(row) = self.store.a2a_task(&self.tenant, id).await? else {
            return Ok(None);
        };
        let task = serde_json::from_str(&row.task).map_err(corrupt)?;
        Ok(Some((row, task)))
    }

    /// Records `changes` to task `id`; `key` (an action's) makes a retry count once, and
    /// `order` (the employee action's id) keeps an older action's changes from
    /// overwriting a newer one's. A task that has ended takes no more changes.
    pub async fn record(
        &self,
        id: &str,
        key: Option<&str>,
        order: Option<u64>,
        changes: &[Change],
    ) -> Result<Recorded, LedgerError> {
        for _ in 0..16 {
            let Some((row, mut task)) = self.get(id).await? else {
                return Ok(Recorded::Missing);
            };
            if task.status.state.is_terminal() {
                return Ok(Recorded::Ended);
            }
            let ord = order.map_or(row.ord, |o| i64::try_from(o).unwrap_or(i64::MAX));
            if ord < row.ord {
                return Ok(Recorded::Superseded);
            }
            let events = apply(&mut task, changes);
            let events = events.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
            let done = self
                .store
                .a2a_append(
                    &self.tenant,
                    id,
                    row.seq,
                    &states::name(&task.status.state),
                    &to_json(&task)?,
                    &events,
                    key,
                    ord,
                    Utc::now().timestamp_micros(),
                )
                .await?;
            match done {
                Appended::Stored => {
                    let _ = self.updated.send(id.to_string());
                    let _ = self.local.send(id.to_string());
                    self.push_due.notify_one();
                    return Ok(Recorded::Stored(Box::new(task)));
                }
                Appended::Duplicate => return Ok(Recorded::Duplicate),
                Appended::Stale => continue,
            }
        }
        Err(LedgerError::Store(StoreError::Refused(format!(
            "task {id} kept changing while an update was recorded"
        ))))
    }

    /// Cancels task `id`: canceled now unless it has ended (canceling a canceled task
    /// answers it as it is).
    pub async fn cancel(&self, id: &str) -> Result<Task, LedgerError> {
        loop {
            let Some((_, task)) = self.get(id).await? else {
                return Err(LedgerError::NotFound(id.into()));
            };
            match task.status.state {
                TaskState::Canceled => return Ok(task),
                ref s if s.is_terminal() => {
                    return Err(LedgerError::NotCancelable(id.into(), states::name(s)));
                }
                _ => {}
            }
            let change = [Change::State(
                TaskState::Canceled,
                Some("Canceled at the caller's request.".into()),
            )];
            match self.record(id, None, None, &change).await? {
                Recorded::Stored(t) => return Ok(*t),
                Recorded::Missing => return Err(LedgerError::NotFound(id.into())),
                // It ended meanwhile: answer as above.
                Recorded::Ended | Recorded::Duplicate | Recorded::Superseded => continue,
            }
        }
    }

    /// Tasks matching `filter`, newest first, with the number matching in all.
    pub async fn list(
        &self,
        filter: &A2aTaskFilter,
    ) -> Result<(Vec<(A2aTaskRow, Task)>, i64), LedgerError> {
        let (rows, total) = self.store.a2a_tasks(&self.tenant, filter).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let task = serde_json::from_str(&row.task).map_err(corrupt)?;
            out.push((row, task));
        }
        Ok((out, total))
    }

    /// Waits up to `wait` for task `id` to settle (end, or need input) and answers it
    /// as it then is.
    pub async fn wait_settled(&self, id: &str, wait: Duration) -> Result<Task, LedgerError> {
        let mut rx = self.updated.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Some((_, task)) = self.get(id).await? else {
                return Err(LedgerError::NotFound(id.into()));
            };
            if states::settled(&task.status.state) {
                return Ok(task);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(task);
            }
            let until = deadline.min(now + POLL);
            // Woken by any task's update; ours is read again either way.
            loop {
                match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Ok(t)) if t != id => continue,
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) | Ok(Ok(_)) | Err(_) => break,
                    Ok(Err(broadcast::error::RecvError::Closed)) => break,
                }
            }
        }
    }

    /// Task `id` and then every later update, in order, until it ends. A task that has
    /// ended gives itself alone.
    pub fn subscribe(
        self: &Arc<Self>,
        task: Task,
        seq: i64,
    ) -> BoxStream<'static, Result<StreamResponse, LedgerError>> {
        struct S {
            ledger: Arc<Ledger>,
            rx: broadcast::Receiver<String>,
            id: String,
            seq: i64,
            first: Option<Task>,
            queued: std::collections::VecDeque<StreamResponse>,
            done: bool,
        }
        let state = S {
            rx: self.updated.subscribe(),
            ledger: self.clone(),
            id: task.id.clone(),
            seq,
            first: Some(task),
            queued: Default::default(),
            done: false,
        };
        Box::pin(futures::stream::unfold(state, |mut s| async move {
            if s.done {
                return None;
            }
            if let Some(t) = s.first.take() {
                s.done = t.status.state.is_terminal();
                return Some((Ok(StreamResponse::Task(t)), s));
            }
            loop {
                if let Some(e) = s.queued.pop_front() {
                    s.done = ends(&e);
                    return Some((Ok(e), s));
                }
                let page = s
                    .ledger
                    .store
                    .a2a_events_after(&s.ledger.tenant, &s.id, s.seq, EVENTS_PAGE)
                    .await;
                match page {
                    Err(e) => {
                        s.done = true;
                        return Some((Err(e.into()), s));
                    }
                    Ok(page) if !page.is_empty() => {
                        for (seq, json) in page {
                            s.seq = seq;
                            match serde_json::from_str(&json) {
                                Ok(e) => s.queued.push_back(e),
                                Err(e) => {
                                    s.done = true;
                                    return Some((Err(corrupt(e)), s));
                                }
                            }
                        }
                    }
                    Ok(_) => {
                        let until = tokio::time::Instant::now() + POLL;
                        loop {
                            match tokio::time::timeout_at(until, s.rx.recv()).await {
                                Ok(Ok(t)) if t != s.id => continue,
                                _ => break,
                            }
                        }
                    }
                }
            }
        }))
    }

    /// Stores webhook `config` (JSON) of task `task_id` under `id`.
    pub async fn save_push(
        &self,
        task_id: &str,
        id: &str,
        config: &str,
    ) -> Result<(), LedgerError> {
        self.store
            .a2a_save_push(
                &self.tenant,
                task_id,
                id,
                config,
                Utc::now().timestamp_micros(),
            )
            .await?;
        Ok(())
    }

    /// Task `task_id`'s webhook configs (JSON), by id.
    pub async fn push_configs(&self, task_id: &str) -> Result<Vec<(String, String)>, LedgerError> {
        Ok(self.store.a2a_push_configs(&self.tenant, task_id).await?)
    }

    /// Deletes a webhook config; answers whether it existed.
    pub async fn delete_push(&self, task_id: &str, id: &str) -> Result<bool, LedgerError> {
        Ok(self
            .store
            .a2a_delete_push(&self.tenant, task_id, id)
            .await?)
    }

    /// The store and tenant (for the push worker).
    pub(crate) fn parts(&self) -> (&Store, &TenantId) {
        (&self.store, &self.tenant)
    }
}
