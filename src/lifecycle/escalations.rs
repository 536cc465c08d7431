//! Escalations (seed 6.3): an employee hands a case to its manager with context and a
//! recommendation, waits for the decision, acts on it — and remembers it, so the next
//! case of the same kind is decided alike.
//!
//! The `escalate` action raises the case (once, keyed by the action) and asks the
//! manager: a human by mail ("reply APPROVE or REJECT" when it recommends something;
//! "reply with your answer" when it asks a question), a manager who is an employee
//! by an `escalation.received` event. The decision comes back through the API or CLI,
//! a reply to that mail, or the manager employee's `escalation.decide` action, and
//! reaches the employee as an `escalation.decided` event stored with it: a plan waiting
//! on it goes on, a declined one ends. When a human has decided a case of the same
//! kind before, the new case is decided alike at once (by `precedent`), and the manager
//! is told and may overrule.

use crate::capabilities::email::actions::{deliver_mail, own_mail};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, Hands, Sender, param};
use crate::model::{
    Escalation, EscalationStatus, Event, Manager, NewEvent, OutboxEntry, Verdict, bare_address,
    kinds,
};
use crate::store::{Decided, StoreError};
use chrono::Utc;
use serde_json::{Value as Json, json};

/// Why an escalation could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum EscalationError {
    /// No escalation with that id.
    #[error("no escalation with that id; `GET /api/v1/escalations` lists them")]
    NotFound,
    /// A human decided it already.
    #[error("the escalation was already decided ({0}) by {1}")]
    AlreadyDecided(&'static str, String),
    /// The store failed; nothing was decided.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The escalation action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "escalate",
            "Hands a case to the manager with a recommendation and waits for the decision.",
            true,
            |a| Box::pin(escalate(a)),
        )
        .params(vec![
            Param::optional("message", Text),
            Param::optional("text", Text),
            Param::optional("recommendation", Text),
            Param::optional("case", Text),
            Param::optional("context", Any),
            Param::optional("intention", Integer),
        ]),
        ActionKind::new(
            "escalation.decide",
            "A manager who is an employee decides a case escalated to it.",
            // Another employee acts on the decision.
            true,
            |a| Box::pin(decide_action(a)),
        )
        .params(vec![
            Param::required("escalation_id", Text),
            Param::required("decision", Text),
            Param::optional("reason", Text),
        ]),
    ]
}

/// Raises a case the node raises for an employee (a stuck workflow step), as the
/// `escalate` action would: `a.entry` is keyed by what the case is about, so raising
/// it again finds the same case.
pub(crate) async fn raise(a: &Act<'_>) -> Result<Json, CapabilityError> {
    escalate(a).await
}

/// `escalate`: raises the case and asks the manager, or decides it by precedent.
async fn escalate(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, manager, entry) = (a.hands, a.me, a.manager, a.entry);
    let p = &entry.params;
    let message = param(p, "message")
        .or(param(p, "text"))
        .unwrap_or("I need a decision on this.")
        .to_string();
    let who = match manager {
        Some(Manager::Human { name, email }) => format!("{name} <{email}>"),
        Some(Manager::Employee { id }) => id.to_string(),
        None => {
            return Err(CapabilityError::Invalid(
                "this employee has no manager to escalate to; set one with `PATCH`/hire `manager`"
                    .into(),
            ));
        }
    };
    let raised = Escalation {
        id: entry.key.clone(),
        employee_id: me.id,
        case: param(p, "case").unwrap_or("general").to_string(),
        message,
        recommendation: param(p, "recommendation").unwrap_or("").to_string(),
        context: p["context"].clone(),
        manager: who,
        status: EscalationStatus::Pending,
        decision: None,
        reason: None,
        decided_by: None,
        precedent: None,
        intention: p["intention"].as_u64(),
        created_at: Utc::now(),
        decided_at: None,
    };
    hands.store.raise_escalation(&hands.tenant, &raised).await?;
    let e = hands
        .store
        .escalation(&hands.tenant, &raised.id)
        .await?
        .unwrap_or(raised);
    if e.status == EscalationStatus::Decided {
        // Run again after a crash: decided meanwhile; nothing more to ask.
        return Ok(json!({"escalation_id": e.id, "decision": e.decision}));
    }
    // A question (no recommendation to approve) is answered each time: a past answer
    // about other facts decides nothing.
    let precedent = match e.is_question() {
        true => None,
        false => hands.store.precedent(&hands.tenant, me.id, &e.case).await?,
    };
    if let Some(before) = precedent {
        let verdict = before.decision.unwrap_or(Verdict::Reject);
        let reason = format!(
            "decided as {} decided on {}: {}",
            before.decided_by.as_deref().unwrap_or("the manager"),
            before
                .decided_at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            before.reason.as_deref().unwrap_or("no reason given")
        );
        decide(
            hands,
            &e.id,
            verdict,
            Some(&reason),
            "precedent",
            Some(&before.id),
        )
        .await
        .map_err(|err| {
            CapabilityError::Service(format!("the precedent could not be applied: {err}"))
        })?;
        let note = format!(
            "{}\n\nThis is the same kind of case ({}) as escalation {}, which you decided: {}. I have {} it the same way. To overrule, reply APPROVE or REJECT, or run `empla escalation decide {} approve|reject`.",
            e.message,
            e.case,
            before.id,
            verdict.as_str(),
            if verdict == Verdict::Approve {
                "approved"
            } else {
                "declined"
            },
            e.id
        );
        ask(
            hands,
            me,
            manager,
            entry,
            &e,
            &format!("Decided as before: {}", e.case),
            &note,
        )
        .await?;
        return Ok(json!({"escalation_id": e.id, "decision": verdict, "precedent": before.id}));
    }
    let mut text = e.message.clone();
    let subject = if e.is_question() {
        text.push_str(&format!(
            "\n\nReply to this mail with your answer, or run `empla escalation decide {} approve --reason \"<your answer>\"`. If you can't help, reply REJECT.",
            e.id
        ));
        format!("Question from {}", me.name)
    } else {
        text.push_str(&format!("\n\nMy recommendation: {}", e.recommendation));
        text.push_str(&format!(
            "\n\nReply APPROVE or REJECT (with a reason, if you like), or run `empla escalation decide {} approve|reject`.",
            e.id
        ));
        format!("Escalation from {}: decision needed", me.name)
    };
    let to = ask(hands, me, manager, entry, &e, &subject, &text).await?;
    Ok(json!({"escalation_id": e.id, "to": to, "status": "pending"}))
}

/// Tells the manager about `e`: by mail to a human (remembering the Message-ID, so a
/// reply decides it), by an event to an employee.
async fn ask(
    hands: &Hands,
    me: &Sender,
    manager: Option<&Manager>,
    entry: &OutboxEntry,
    e: &Escalation,
    subject: &str,
    text: &str,
) -> Result<String, CapabilityError> {
    match manager {
        Some(Manager::Human { .. }) => {
            let m = own_mail(
                hands,
                me,
                entry,
                e.manager.clone(),
                subject.into(),
                text.into(),
            );
            hands
                .store
                .set_escalation_mail(&hands.tenant, &e.id, &m.message_id)
                .await?;
            deliver_mail(hands, &m).await?;
            Ok(m.to)
        }
        Some(Manager::Employee { id }) => {
            let new = NewEvent {
                kind: kinds::ESCALATION.into(),
                source: "escalation".into(),
                payload: json!({
                    "escalation_id": e.id, "from": me.id.to_string(), "from_name": me.name,
                    "case": e.case, "message": text, "recommendation": e.recommendation,
                    "context": e.context, "status": e.status, "decision": e.decision,
                }),
                idempotency_key: Some(format!("escalation:{}:{}", e.id, e.status.as_str())),
            };
            hands.employees.perceive(*id, new).await.map_err(|err| {
                CapabilityError::Service(format!("the manager could not be told: {err}"))
            })?;
            Ok(id.to_string())
        }
        None => Err(CapabilityError::Invalid("no manager".into())),
    }
}

/// Decides escalation `id` and tells its employee, in one transaction.
pub(crate) async fn decide(
    hands: &Hands,
    id: &str,
    verdict: Verdict,
    reason: Option<&str>,
    by: &str,
    precedent: Option<&str>,
) -> Result<Escalation, EscalationError> {
    let e = hands
        .store
        .escalation(&hands.tenant, id)
        .await?
        .ok_or(EscalationError::NotFound)?;
    let overrule = e.decided_by.as_deref() == Some("precedent") && by != "precedent";
    let now = Utc::now();
    let event = Event::accept(
        hands.tenant.clone(),
        e.employee_id,
        NewEvent {
            kind: kinds::ESCALATION_DECIDED.into(),
            source: "escalation".into(),
            payload: json!({
                "escalation_id": e.id, "case": e.case, "decision": verdict, "reason": reason,
                "decided_by": by, "precedent": precedent, "intention": e.intention,
                "overruled": overrule,
            }),
            idempotency_key: Some(format!(
                "escalation-decided:{}{}",
                e.id,
                if overrule { ":overruled" } else { "" }
            )),
        },
        now,
    );
    let d = Decided {
        decision: verdict,
        reason,
        by,
        precedent,
        at: now,
    };
    hands.employees.wake(e.employee_id);
    if !hands
        .store
        .decide_escalation(&hands.tenant, id, &d, &event)
        .await?
    {
        let e = hands
            .store
            .escalation(&hands.tenant, id)
            .await?
            .ok_or(EscalationError::NotFound)?;
        return Err(EscalationError::AlreadyDecided(
            e.decision.map(Verdict::as_str).unwrap_or("?"),
            e.decided_by.unwrap_or_default(),
        ));
    }
    metrics::counter!("empla_escalations_decided_total", "by" => if by == "precedent" { "precedent" } else { "human" }).increment(1);
    hands.employees.deliver(event);
    hands
        .store
        .escalation(&hands.tenant, id)
        .await?
        .ok_or(EscalationError::NotFound)
}

/// A manager's reply to an escalation mail, opening with APPROVE or REJECT, decides
/// it. Answers whether it did.
pub(crate) async fn decide_by_reply(hands: &Hands, m: &crate::model::MailMessage) -> bool {
    let Some(asked) = m.answers() else {
        return false;
    };
    let Ok(Some(e)) = hands.store.escalation_by_mail(&hands.tenant, asked).await else {
        return false;
    };
    if !bare_address(&e.manager).eq_ignore_ascii_case(bare_address(&m.from)) {
        return false;
    }
    let words = crate::bdi::feedback::own_words(&m.body);
    // A question is answered by whatever the reply says ("No, we don't support SSO" is
    // an answer); only a reply opening with REJECT declines it.
    let verdict = if e.is_question() {
        let first = words.split_whitespace().next().unwrap_or("");
        match first.trim_matches(|c: char| !c.is_alphanumeric()) {
            "" => return false,
            w if w.eq_ignore_ascii_case("reject") => Verdict::Reject,
            _ => Verdict::Approve,
        }
    } else {
        match Verdict::read(&words) {
            Some(v) => v,
            None => return false,
        }
    };
    let by = bare_address(&m.from).to_ascii_lowercase();
    match decide(hands, &e.id, verdict, Some(&words), &by, None).await {
        Ok(_) => true,
        Err(err) => {
            tracing::info!(escalation = %e.id, error = %err, "a reply to an escalation did not decide it");
            false
        }
    }
}

/// `escalation.decide` (a manager who is an employee decides): `escalation_id`,
/// `decision` (approve or reject), optional `reason`.
async fn decide_action(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let p = &entry.params;
    let id = param(p, "escalation_id").ok_or_else(|| {
        CapabilityError::Invalid("`escalation.decide` needs `escalation_id`".into())
    })?;
    let verdict = param(p, "decision")
        .and_then(Verdict::parse)
        .ok_or_else(|| {
            CapabilityError::Invalid(
                "`escalation.decide` needs `decision`: approve or reject".into(),
            )
        })?;
    let e = decide(
        hands,
        id,
        verdict,
        param(p, "reason"),
        &me.id.to_string(),
        None,
    )
    .await
    .map_err(|e| CapabilityError::Invalid(e.to_string()))?;
    Ok(json!({"escalation_id": e.id, "decision": e.decision}))
}
