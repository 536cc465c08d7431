//! How a delegated task follows the intention working on it. A task arrives as a
//! `task.assigned` event; the intention a plan adopts for it carries the event, so each
//! cycle's decisions about that intention become `task.update` actions: in progress
//! when adopted, a step further with each action, done or failed when it ends (the
//! result is what its last action gave). A task no plan takes up fails at once, saying
//! so, rather than waiting forever.

use crate::bdi::{Decision, Disposition, Mind, Playbook};
use crate::model::kinds::TASK;
use crate::model::{EmployeeId, OutboxEntry};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// An intention working on a task.
pub(crate) struct TaskIntention {
    task_id: String,
    last_action: Option<u64>,
}

/// The mind's intentions that work on tasks, by intention id.
pub(crate) fn intentions(mind: &Mind) -> BTreeMap<u64, TaskIntention> {
    mind.intentions
        .iter()
        .filter(|i| i.event["kind"] == TASK || i.event["kind"] == crate::a2a::MESSAGE)
        .filter_map(|i| {
            Some((
                i.id,
                TaskIntention {
                    task_id: i.event["payload"]["task_id"].as_str()?.to_string(),
                    last_action: i.last_action,
                },
            ))
        })
        .collect()
}

/// The `task.update` parameters one cycle's decisions call for. `assigned` is the task
/// the cycle's event delivered, if any; `asked` the A2A task an agent's message opened
/// (which the conversation answers when no plan takes it up).
pub(crate) fn updates(
    decisions: &[Decision],
    tasks: &mut BTreeMap<u64, TaskIntention>,
    assigned: Option<&str>,
    asked: Option<&str>,
    playbook: &Playbook,
    employee: EmployeeId,
) -> Vec<Json> {
    let mut out = Vec::new();
    let mut taken = false;
    for d in decisions {
        match d {
            Decision::Adopt {
                intention,
                plan,
                because,
                ..
            } => {
                // A plan of one step may have ended within the cycle that adopted it.
                let opened = match because.as_str() {
                    TASK => assigned,
                    crate::a2a::MESSAGE => asked,
                    _ => None,
                };
                if let Some(task) = opened {
                    tasks.entry(*intention).or_insert_with(|| TaskIntention {
                        task_id: task.to_string(),
                        last_action: None,
                    });
                }
                if let Some(t) = tasks.get(intention) {
                    taken |= assigned == Some(t.task_id.as_str());
                    out.push(json!({
                        "task_id": t.task_id, "status": "in_progress", "progress": 0.1,
                        "intention": intention,
                        "note": format!("Taking this on ({})", plan.replace('_', " ")),
                    }));
                }
            }
            Decision::Act(a) => {
                if let Some(t) = tasks.get_mut(&a.intention) {
                    t.last_action = Some(a.id);
                    let steps = playbook
                        .plans
                        .get(&a.plan)
                        .map_or(1, |p| p.steps.len())
                        .max(1);
                    let waiting = matches!(a.disposition, Disposition::AwaitApproval { .. });
                    let note = match &a.disposition {
                        Disposition::Execute => {
                            format!("Step {} of {steps}: {}", a.step + 1, a.kind)
                        }
                        Disposition::AwaitApproval { .. } => {
                            format!("Waiting for approval to {}", a.kind)
                        }
                        Disposition::Propose => {
                            format!("Proposed {} to my mentor (I am in shadow)", a.kind)
                        }
                    };
                    let mut u = json!({
                        "task_id": t.task_id,
                        "progress": 0.1 + 0.8 * (a.step as f64 + 1.0) / steps as f64,
                        "note": note,
                    });
                    // An A2A task shows a wait for approval as input-required.
                    if waiting {
                        u["waiting"] = json!("approval");
                    } else if matches!(a.disposition, Disposition::Execute) {
                        u["status"] = json!("in_progress");
                    }
                    out.push(u);
                }
            }
            Decision::Complete {
                intention, success, ..
            } => {
                if let Some(t) = tasks.get(intention) {
                    let mut u = json!({
                        "task_id": t.task_id,
                        "status": if *success { "done" } else { "failed" },
                        "progress": 1.0,
                        "result_from": t.last_action.map(|a| OutboxEntry::key_for(employee, a)),
                    });
                    if !*success {
                        u["result"] =
                            json!("The plan ran but its success criterion was not met in time.");
                    }
                    out.push(u);
                }
            }
            Decision::Proposed {
                intention,
                contingency: None,
                ..
            } => {
                if let Some(t) = tasks.get(intention) {
                    // Nothing was carried out: the steps were proposals.
                    out.push(json!({
                        "task_id": t.task_id, "status": "failed", "progress": 1.0,
                        "result": "I am in shadow: I proposed each step to my mentor and carried nothing out.",
                    }));
                }
            }
            Decision::Fail {
                intention,
                reason,
                contingency: None,
                ..
            }
            | Decision::Drop {
                intention, reason, ..
            } => {
                if let Some(t) = tasks.get(intention) {
                    out.push(json!({"task_id": t.task_id, "status": "failed", "result": reason}));
                }
            }
            _ => {}
        }
    }
    if let Some(task) = assigned
        && !taken
    {
        out.push(json!({
            "task_id": task, "status": "failed", "progress": 0.0,
            "result": "None of my plans covers this task, and no language model is configured to work one out. Give it to a colleague, or add a plan for it to my role.",
        }));
    }
    out
}
