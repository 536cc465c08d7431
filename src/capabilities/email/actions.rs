//! The email actions: `email.send` starts a thread, `email.reply` answers a stored
//! message (or follows up the employee's own), each sent with the Message-ID of its
//! action so a send retried after a crash is recognised; and the messages the node
//! writes for an employee on its own behalf (an escalation, a task update, a brief).
//! On the built-in driver, a message addressed to employees is taken in for them
//! through the one mail intake.

use super::{compose, message_id_for};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, Hands, Sender, param};
use crate::model::{MailMessage, OutboxEntry};
use chrono::Utc;
use serde_json::{Value as Json, json};

/// The email action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "email.send",
            "Sends a new message, starting a thread.",
            true,
            |a| Box::pin(send_mail(a)),
        )
        .params(vec![
            Param::required("to", Recipients),
            Param::optional("cc", Recipients),
            Param::required("subject", Text),
            Param::required("body", Text),
        ]),
        ActionKind::new(
            "email.reply",
            "Answers a stored message (`in_reply_to`) or follows up the employee's own (`follows`), in its thread.",
            true,
            |a| Box::pin(send_mail(a)),
        )
        .params(vec![
            Param::optional("in_reply_to", Text),
            Param::optional("follows", Text),
            Param::optional("cc", Recipients),
            Param::optional("subject", Text),
            Param::required("body", Text),
        ])
        .one_of(&["in_reply_to", "follows"]),
        ActionKind::without_driver(
            "email.triage",
            "Sorts the inbox: what is urgent, what waits, what needs a human.",
            false,
        ),
    ]
}

/// `email.send` / `email.reply`: composed, sent with the Message-ID of the action, and
/// on the built-in driver handed to the employees it is addressed to.
async fn send_mail(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    // What it answers: a Message-ID, or the employee's own earlier action (a follow-up).
    let answered = match (
        param(&entry.params, "in_reply_to"),
        param(&entry.params, "follows").and_then(|a| a.parse::<u64>().ok()),
    ) {
        (Some(id), _) => Some(crate::model::clean_message_id(id).to_string()),
        (None, Some(action)) => Some(message_id_for(
            &OutboxEntry::key_for(me.id, action),
            &hands.domain,
        )),
        (None, None) => None,
    };
    let original = match answered {
        Some(id) => hands.store.mail(&hands.tenant, &id).await?,
        None => None,
    };
    let m = compose(
        &entry.kind,
        &entry.params,
        me,
        original.as_ref(),
        message_id_for(&entry.key, &hands.domain),
        Utc::now(),
    )?;
    deliver_mail(hands, &m).await?;
    Ok(json!({"message_id": m.message_id, "to": m.to, "subject": m.subject}))
}

/// Sends a composed message and, on the built-in driver, routes it to employees.
pub(crate) async fn deliver_mail(hands: &Hands, m: &MailMessage) -> Result<(), CapabilityError> {
    hands.mail.transport.send(&hands.tenant, m).await?;
    if hands.mail.transport.delivers_locally() {
        super::intake::take_in(hands, m, super::intake::Route::Delivered, "mail")
            .await
            .map_err(|e| {
                CapabilityError::Service(format!("delivery to an employee failed: {e}"))
            })?;
    }
    Ok(())
}

/// A message the node writes for the employee on its own (an escalation, a task
/// update), with the Message-ID of the action that sends it.
pub(crate) fn own_mail(
    hands: &Hands,
    me: &Sender,
    entry: &OutboxEntry,
    to: String,
    subject: String,
    body: String,
) -> MailMessage {
    MailMessage {
        message_id: message_id_for(&entry.key, &hands.domain),
        from: me.mailbox(),
        to,
        cc: String::new(),
        subject,
        body,
        in_reply_to: None,
        references: Vec::new(),
        attachments: Vec::new(),
        at: Utc::now(),
    }
}
