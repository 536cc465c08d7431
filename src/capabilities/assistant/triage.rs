//! `email.triage`: the assistant triages the executive's mail — one message
//! (`message_id`, as it arrives) or every message that waited longer than
//! `older_than_hours` untriaged. Each is labelled, prioritised and summarised (see
//! [`super::labels`]) and kept; an urgent one is put in front of the executive at once
//! by mail. A message is triaged once however often it is asked for, and its urgent
//! notice carries a Message-ID made from the assistant and the message, so a retried
//! action (or two actions racing over the same message) delivers it once.

use super::labels;
use crate::capabilities::email::actions::{deliver_mail, notice};
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, Hands, Sender, param};
use crate::model::{
    MailMessage, Manager, TriageLabel, TriagedMail, bare_address, clean_message_id,
};
use crate::store::Folder;
use chrono::Utc;
use serde_json::{Value as Json, json};

/// Most of the executive's newest messages looked at by one `older_than_hours` run.
const SCAN: i64 = 500;

/// The executive an assistant works for: whose mail it reads.
pub(crate) struct Executive {
    /// Their address, lowercase.
    pub address: String,
    /// `Name <address>`, as mail to them is written.
    pub mailbox: String,
}

/// Whose mail `me` reads, or why it reads no one's.
pub(crate) async fn executive_of(
    hands: &Hands,
    me: &Sender,
) -> Result<(Executive, String), CapabilityError> {
    let profile = hands
        .store
        .employee(&hands.tenant, me.id)
        .await?
        .ok_or_else(|| CapabilityError::Invalid("the employee is no longer hired".into()))?;
    let Some(address) = profile.reads_mail_of() else {
        return Err(CapabilityError::Invalid(format!(
            "{} reads no one's mail: give it a human manager (the executive) and `email = [\"{}\"]` under `[permissions]`",
            me.name,
            crate::model::READ_DELEGATED
        )));
    };
    let name = match &profile.manager {
        Some(Manager::Human { name, .. }) => name.clone(),
        _ => address.clone(),
    };
    Ok((
        Executive {
            mailbox: format!("{name} <{address}>"),
            address,
        },
        profile.role,
    ))
}

/// `email.triage`.
pub(super) async fn run(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let (exec, role) = executive_of(hands, me).await?;
    let p = &entry.params;
    let asked_for_one = param(p, "message_id").is_some();
    let messages: Vec<MailMessage> = match param(p, "message_id") {
        Some(id) => {
            let id = clean_message_id(id);
            let m = hands.store.mail(&hands.tenant, id).await?.ok_or_else(|| {
                CapabilityError::Invalid(format!(
                    "no message <{id}> is stored; `message_id` names one sent to {}",
                    exec.address
                ))
            })?;
            if !hands
                .store
                .in_inbox(&hands.tenant, &exec.address, &m.message_id)
                .await?
            {
                return Err(CapabilityError::Invalid(format!(
                    "message <{id}> is not in the inbox of {}, whose mail {} reads",
                    exec.address, me.name
                )));
            }
            vec![m]
        }
        None => {
            let hours = hours(p)?;
            let before = Utc::now() - chrono::Duration::seconds((hours * 3600.0) as i64);
            hands
                .store
                .mail_folder(&hands.tenant, &exec.address, Folder::Inbox, SCAN)
                .await?
                .into_iter()
                .filter(|m| m.at <= before)
                .collect()
        }
    };
    let triage = hands.mail.triage(&role);
    let mut items = Vec::new();
    let mut notified = 0;
    for m in messages {
        if bare_address(&m.from).eq_ignore_ascii_case(&me.email) {
            continue;
        }
        let kept = hands
            .store
            .triaged_one(&hands.tenant, me.id, &m.message_id)
            .await?;
        // A sweep passes over what was triaged before, unless an urgent notice is
        // still owed (a crash between keeping the row and sending it).
        let done = |t: &TriagedMail| t.notified_at.is_some() || t.label != TriageLabel::Urgent;
        if !asked_for_one && kept.as_ref().is_some_and(done) {
            continue;
        }
        let t = match kept {
            Some(t) => t,
            None => {
                let r = labels::read(&m, &triage.classify(&m, &hands.domain));
                let t = TriagedMail {
                    message_id: m.message_id.clone(),
                    employee_id: me.id,
                    executive: exec.address.clone(),
                    from: m.from.clone(),
                    subject: m.subject.clone(),
                    received_at: m.at,
                    label: r.label,
                    priority: r.priority,
                    summary: r.summary,
                    reason: r.reason,
                    triaged_at: Utc::now(),
                    notified_at: None,
                };
                hands.store.save_triaged(&hands.tenant, &t).await?
            }
        };
        if t.label == TriageLabel::Urgent && t.notified_at.is_none() {
            notify(hands, me, &exec, &t).await?;
            notified += 1;
        }
        items.push(json!({
            "message_id": t.message_id,
            "label": t.label,
            "priority": t.priority,
            "summary": t.summary,
        }));
    }
    Ok(json!({
        "executive": exec.address,
        "triaged": items.len(),
        "urgent_notified": notified,
        "items": items,
    }))
}

/// `older_than_hours`: a number of hours, 0 or more.
fn hours(p: &Json) -> Result<f64, CapabilityError> {
    let v = &p["older_than_hours"];
    if v.is_null() {
        return Err(CapabilityError::Invalid(
            "`email.triage` needs `message_id` (one message) or `older_than_hours` (what waited longer)".into(),
        ));
    }
    let h = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    match h {
        Some(h) if h.is_finite() && (0.0..=24.0 * 365.0).contains(&h) => Ok(h),
        _ => Err(CapabilityError::Invalid(format!(
            "`older_than_hours` must be a number of hours between 0 and 8760, got {v}"
        ))),
    }
}

/// Puts an urgent message in front of the executive: a short mail, its Message-ID made
/// from the assistant and the message, then the row marked.
async fn notify(
    hands: &Hands,
    me: &Sender,
    exec: &Executive,
    t: &TriagedMail,
) -> Result<(), CapabilityError> {
    let body = format!(
        "An urgent message is waiting for you.\n\nFrom: {}\nSubject: {}\nReceived: {}\n\n{}\n\nWhy I flagged it: {}. The whole message is in your inbox.\n\n{}",
        t.from,
        t.subject,
        t.received_at.format("%a %-d %b, %H:%M UTC"),
        t.summary,
        t.reason,
        me.name,
    );
    let key = format!("triage-urgent:{}:{}", me.id, t.message_id);
    let m = notice(
        hands,
        me,
        &key,
        exec.mailbox.clone(),
        format!("Urgent: {}", t.subject),
        body,
    );
    deliver_mail(hands, &m).await?;
    hands
        .store
        .set_triage_notified(&hands.tenant, me.id, &t.message_id, Utc::now())
        .await?;
    Ok(())
}
