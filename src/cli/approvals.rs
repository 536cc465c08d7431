//! The approval queue at the command line: `empla approvals`, `approve` and `reject`.
//!
//! An approval names its employee by handle and shows what the action would do in
//! words; the numbers an employee keeps for its own actions and intentions (a mail
//! that `follows` an earlier one, a document to `attach_from` one) never show, only
//! what they mean. `--json` prints the queue as the node sent it.

use super::Command;
use super::client::{Client, print, read};
use super::employees::{handle_or_id, handles};
use super::out::one_line;
use crate::api::wire::{ApprovalsQuery, DecisionBody, Items};
use crate::model::Approval;
use serde_json::Value;

/// Parameters that refer to an employee's own numbering of its actions and
/// intentions, and what each means in words (`None`: nothing worth saying).
const INTERNAL: [(&str, Option<&str>); 5] = [
    ("intention", None),
    ("action_id", None),
    (
        "follows",
        Some("in the thread of the mail it sent before in this plan"),
    ),
    (
        "attach_from",
        Some("attaches the document it wrote before in this plan"),
    ),
    (
        "result_from",
        Some("reports the result of an earlier step of this plan"),
    ),
];

pub(super) async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Approvals {
            employee,
            status,
            json,
            node,
        } => {
            let c = Client::new(&node)?;
            let v: Value = c
                .get("/approvals")
                .query(&ApprovalsQuery {
                    employee: employee.clone(),
                    status: Some(status.clone()),
                    limit: None,
                })
                .about(employee.as_deref())
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let list: Items<Approval> = read(v)?;
            if list.items.is_empty() {
                outln!("no {status} approvals");
            }
            let names = handles(&c, list.items.iter().map(|a| a.employee_id)).await;
            for a in &list.items {
                outln!("{}", shown(a, &handle_or_id(&names, a.employee_id)));
            }
        }
        Command::Approve { id, reason, node } => decide(&node, &id, "approve", reason).await?,
        Command::Reject { id, reason, node } => decide(&node, &id, "reject", reason).await?,
        _ => unreachable!("only approval commands are routed here"),
    }
    Ok(())
}

async fn decide(
    node: &super::NodeArgs,
    id: &str,
    verb: &str,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let c = Client::new(node)?;
    let a: Approval = c
        .post(&format!("/approvals/{id}/{verb}"))
        .json(&DecisionBody {
            reason,
            by: Some("cli".into()),
        })
        .answer()
        .await?;
    let names = handles(&c, [a.employee_id]).await;
    outln!(
        "{} {} for {}",
        a.status.as_str(),
        a.action_kind(),
        handle_or_id(&names, a.employee_id)
    );
    Ok(())
}

/// One approval as `approvals` prints it: its id (what `approve` and `reject` take),
/// status, action and employee, then why, what the action would do and to whom.
fn shown(a: &Approval, employee: &str) -> String {
    let mut out = format!(
        "{}  {:<9} {:<20} {employee}\n    {}",
        a.id,
        a.status.as_str(),
        a.action_kind(),
        a.reason,
    );
    for line in params(a) {
        out.push_str(&format!("\n    {line}"));
    }
    match &a.recipients {
        Some(r) if r.withheld.is_some() => out.push_str(&format!(
            "\n    would not be sent: {}",
            r.withheld.as_deref().unwrap_or_default()
        )),
        Some(r) if r.cc.is_empty() => out.push_str(&format!("\n    to: {}", r.to)),
        Some(r) => out.push_str(&format!("\n    to: {}\n    cc: {}", r.to, r.cc)),
        None => {}
    }
    out
}

/// The action's parameters as `name: value` lines (a long text cut to one line), with
/// the internal references said in words.
fn params(a: &Approval) -> Vec<String> {
    let Value::Object(map) = a.action_params() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for (k, v) in map {
        // A promotion has no parameters: its action is shown whole, less its kind.
        if k == "kind" {
            continue;
        }
        if let Some((_, meaning)) = INTERNAL.iter().find(|(name, _)| name == k) {
            notes.extend(meaning.map(str::to_string));
            continue;
        }
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => without_internal(other).to_string(),
        };
        lines.push(format!("{k}: {}", one_line(&text, 110)));
    }
    lines.extend(notes);
    lines
}

/// `v` without the internal references, at any depth.
fn without_internal(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !INTERNAL.iter().any(|(name, _)| name == k))
                .map(|(k, v)| (k.clone(), without_internal(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_internal).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApprovalId, ApprovalStatus, EmployeeId};
    use serde_json::json;

    fn approval(action: Value) -> Approval {
        Approval {
            id: ApprovalId::new(),
            employee_id: EmployeeId::new(),
            status: ApprovalStatus::Pending,
            action,
            reason: "assisted phase: every action is approved by a human".into(),
            created_at: chrono::Utc::now(),
            decided_at: None,
            decided_by: None,
            decision_reason: None,
            recipients: None,
        }
    }

    #[test]
    fn an_approval_shows_its_handle_and_no_internal_numbers() {
        let a = approval(json!({
            "id": 7, "intention": 3, "plan": "send_quote", "step": 2, "kind": "email.reply",
            "params": {"in_reply_to": "<m1@acme.com>", "attach_from": "6",
                       "body": "Hi Ivy,\n\nHere is the proposal.", "intention": 3},
        }));
        let text = shown(&a, "riley.quinn");
        assert!(text.contains(&a.id.to_string()), "{text}");
        assert!(
            text.contains("email.reply") && text.contains("riley.quinn"),
            "{text}"
        );
        assert!(!text.contains(&a.employee_id.to_string()), "{text}");
        assert!(
            text.contains("body: Hi Ivy, Here is the proposal."),
            "{text}"
        );
        assert!(
            text.contains("attaches the document it wrote before in this plan"),
            "{text}"
        );
        for internal in ["attach_from", "intention", "\"6\"", ": 6", ": 3", ": 7"] {
            assert!(!text.contains(internal), "{internal} in {text}");
        }
    }

    #[test]
    fn a_promotion_shows_where_to_and_the_agreement() {
        let a = approval(
            json!({"kind": "promotion", "to": "assisted", "agreement": 0.9, "decisions": 10}),
        );
        let text = shown(&a, "pat.doe");
        assert!(
            text.contains("promotion") && text.contains("pat.doe"),
            "{text}"
        );
        assert!(text.contains("to: assisted") && text.contains("agreement: 0.9"));
        assert!(!text.contains("kind:"), "{text}");
    }
}
