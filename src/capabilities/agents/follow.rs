//! Following the tasks employees' messages opened: when one ends (or needs input), its
//! sender is told by an `a2a.reply` event in its durable inbox — the state, the
//! answer's text, the status line — and the call is marked told. A colleague's task is
//! looked at as it changes on this node; a sweep of the open calls catches what a
//! wake-up missed (a restart, a task changed by another node) and starts a follower
//! for each outside agent's task (subscribing, or looking again and again), so after a
//! restart every open call is followed again.

use super::short_state;
use crate::a2a::{LedgerError, message_text, states};
use crate::capabilities::Hands;
use crate::model::NewEvent;
use crate::model::kinds::A2A_REPLY;
use crate::store::{A2aCall, StoreError};
use a2a::{PartContent, Task};
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often the open calls are looked at without a wake-up.
const SWEEP: Duration = Duration::from_secs(2);
/// Open calls looked at per sweep.
const SWEEP_BATCH: i64 = 500;

/// How long one look at an outside agent's task waits for it to settle.
const FOLLOW_WITHIN: Duration = Duration::from_secs(60);
/// The longest pause after an outside agent could not be reached.
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How often a task an outside agent holds for input is looked at again.
const INPUT_POLL: Duration = Duration::from_secs(30);

/// Follows the node's open calls for as long as the node runs: the tasks on this
/// node's ledger as they change, each outside agent's task by a follower of its own.
pub async fn run(hands: Arc<Hands>) {
    let mut changed = hands.a2a.changes();
    let mut sweep = tokio::time::interval(SWEEP);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let following: Arc<Mutex<HashSet<String>>> = Arc::default();
    loop {
        let calls = tokio::select! {
            got = changed.recv() => match got {
                Ok(task) => hands.store.a2a_calls_of_task(&hands.tenant, &task).await,
                Err(RecvError::Lagged(_)) => hands.store.a2a_calls_open(&hands.tenant, SWEEP_BATCH).await,
                Err(RecvError::Closed) => return,
            },
            _ = sweep.tick() => hands.store.a2a_calls_open(&hands.tenant, SWEEP_BATCH).await,
        };
        match calls {
            Ok(calls) => {
                for call in calls {
                    if call.remote {
                        let new = following
                            .lock()
                            .expect("not poisoned")
                            .insert(call.id.clone());
                        if new {
                            tokio::spawn(follow_out(hands.clone(), call, following.clone()));
                        }
                    } else if let Err(e) = look(&hands, &call).await {
                        tracing::warn!(call = %call.id, error = %e, "A2A: a sent message's task could not be followed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "A2A: cannot read the open calls"),
        }
    }
}

/// Follows the task of `call` at an outside agent until it ends, telling its sender
/// what is new; an agent out of reach is tried again, less and less often.
async fn follow_out(hands: Arc<Hands>, call: A2aCall, following: Arc<Mutex<HashSet<String>>>) {
    let mut pause = Duration::from_secs(1);
    loop {
        let looked = hands
            .agents
            .follow(&call.agent, &call.task_id, FOLLOW_WITHIN)
            .await;
        let task = match looked {
            Ok(task) => task,
            Err(e) => {
                tracing::warn!(call = %call.id, agent = %call.agent, error = %e, "A2A: an outside agent's task could not be looked at; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        // An agent's task carries no update numbers: its status's time tells one
        // wait for input from the next.
        let seq = task
            .status
            .timestamp
            .map(|t| t.timestamp_micros())
            .unwrap_or_default();
        if let Err(e) = tell_if_settled(&hands, &call, &task, &call.agent, seq).await {
            tracing::warn!(call = %call.id, error = %e, "A2A: the sender could not be told; trying again");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(BACKOFF_MAX);
            continue;
        }
        pause = Duration::from_secs(1);
        if task.status.state.is_terminal() {
            break;
        }
        if states::settled(&task.status.state) {
            tokio::time::sleep(INPUT_POLL).await;
        }
    }
    following.lock().expect("not poisoned").remove(&call.id);
}

/// Why a call could not be followed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sender could not be told.
    #[error("the sender could not be told: {0}")]
    Tell(String),
}

/// Looks at the task of `call` on this node's ledger and tells its sender what is new.
pub async fn look(hands: &Hands, call: &A2aCall) -> Result<(), FollowError> {
    let Some((row, task)) = hands.a2a.get(&call.task_id).await? else {
        return Ok(());
    };
    tell_if_settled(hands, call, &task, &row.agent, row.seq).await
}

/// Tells the sender of `call` about `task` (at `agent`, after update `seq`) if it has
/// ended or needs input, once each; records the state seen.
pub async fn tell_if_settled(
    hands: &Hands,
    call: &A2aCall,
    task: &Task,
    agent: &str,
    seq: i64,
) -> Result<(), FollowError> {
    let state = &task.status.state;
    let name = states::name(state);
    let ended = state.is_terminal();
    if !states::settled(state) {
        if name != call.state {
            hands
                .store
                .a2a_call_seen(&hands.tenant, &call.id, &name, None)
                .await?;
        }
        return Ok(());
    }
    let key = if ended {
        format!("a2a-reply:{}:end", call.id)
    } else {
        format!("a2a-reply:{}:{seq}", call.id)
    };
    let new = NewEvent {
        kind: A2A_REPLY.into(),
        source: "a2a".into(),
        payload: reply(call, task, agent),
        idempotency_key: Some(key),
    };
    hands
        .employees
        .perceive(call.employee_id, new)
        .await
        .map_err(|e| FollowError::Tell(e.to_string()))?;
    let told = ended.then(|| chrono::Utc::now().timestamp_micros());
    hands
        .store
        .a2a_call_seen(&hands.tenant, &call.id, &name, told)
        .await?;
    Ok(())
}

/// The `a2a.reply` payload for `task` of `call`: its state, the answer's text (its
/// artifacts'), the status line, any data the answer carried.
pub fn reply(call: &A2aCall, task: &Task, agent: &str) -> Json {
    let mut texts = Vec::new();
    let mut data = Vec::new();
    for part in task.artifacts.iter().flatten().flat_map(|a| &a.parts) {
        match &part.content {
            PartContent::Text(t) => texts.push(t.clone()),
            PartContent::Data(v) => data.push(v.clone()),
            PartContent::Url(u) => texts.push(format!("(file at {u})")),
            PartContent::Raw(_) => {}
        }
    }
    let line = task
        .status
        .message
        .as_ref()
        .map(message_text)
        .unwrap_or_default();
    let state = states::name(&task.status.state);
    let text = if texts.is_empty() {
        line.clone()
    } else {
        texts.join("\n\n")
    };
    json!({
        "call": call.id,
        "action_id": call.action_id,
        "task_id": task.id,
        "context_id": task.context_id,
        "to": call.agent,
        "agent": agent,
        "state": short_state(&state),
        "ended": task.status.state.is_terminal(),
        "text": text,
        "line": line,
        "data": match data.len() { 0 => Json::Null, 1 => data.remove(0), _ => Json::Array(data) },
        "remote": call.remote,
    })
}
