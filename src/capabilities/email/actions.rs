//! The email actions: `email.send` starts a thread, `email.reply` answers a stored
//! message (or follows up the employee's own), each sent with the Message-ID of its
//! action so a send retried after a crash is recognised; and the messages the node
//! writes for an employee on its own behalf (an escalation, a task update, a brief).
//! On the built-in driver, a message addressed to employees is taken in for them
//! through the one mail intake.

use super::{compose, message_id_for};
use crate::capabilities::documents::{Format, file_name};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, Hands, Sender, param};
use crate::model::{Attachment, LOOP_HEADER, MailMessage, OutboxEntry, bare_address};
use chrono::Utc;
use serde_json::{Value as Json, json};

/// The email action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "email.send",
            "Sends a new message, starting a thread; `attach` (document ids) or `attach_from` (the action that wrote a document) attach documents as PDF.",
            true,
            |a| Box::pin(send_mail(a)),
        )
        .params(vec![
            Param::required("to", Recipients),
            Param::optional("cc", Recipients),
            Param::required("subject", Text),
            Param::required("body", Text),
            Param::optional("attach", List),
            Param::optional("attach_from", Text),
            // Marks an offer (a role's policy may hold it for approval).
            Param::optional("offer", Boolean),
        ]),
        ActionKind::new(
            "email.reply",
            "Answers a stored message (`in_reply_to`) or follows up the employee's own (`follows`), in its thread: to the sender only, or with `reply_all` (which a human approves) to everyone on it; `auto_reply` marks an acknowledgement `Auto-Submitted: auto-replied`.",
            true,
            |a| Box::pin(send_mail(a)),
        )
        .params(vec![
            Param::optional("in_reply_to", Text),
            Param::optional("follows", Text),
            Param::optional("cc", Recipients),
            Param::optional("subject", Text),
            Param::required("body", Text),
            Param::optional("reply_all", Boolean),
            Param::optional("auto_reply", Boolean),
            Param::optional("attach", List),
            Param::optional("attach_from", Text),
        ])
        .one_of(&["in_reply_to", "follows"]),
    ]
}

/// Most messages an employee sends in one thread in a day on its own; past it, replies
/// in that thread wait for a human (a loop with a mail robot the headers do not reveal
/// stops here).
pub(crate) const THREAD_CAP: u64 = 8;

/// What an action would send: the message, or why it must not be sent.
#[derive(Debug)]
pub(crate) enum Prepared {
    /// The message, ready to go.
    Send(Box<MailMessage>),
    /// Not sent, and why (RFC 3834: the original must not be answered automatically).
    Withheld(String),
}

/// `email.send` / `email.reply`: composed, sent with the Message-ID of the action, and
/// on the built-in driver handed to the employees it is addressed to. A reply the
/// employee must not send on its own (see [`prepare`]) is withheld and says why.
async fn send_mail(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let id = message_id_for(&entry.key, &hands.domain);
    let m = match prepare(hands, me, &entry.kind, &entry.params, id).await? {
        Prepared::Send(m) => m,
        Prepared::Withheld(why) => {
            tracing::info!(employee = %me.id, action = %entry.key, %why, "reply withheld");
            metrics::counter!("empla_mail_withheld_total").increment(1);
            return Ok(json!({"sent": false, "withheld": why}));
        }
    };
    deliver_mail(hands, &m).await?;
    Ok(json!({"message_id": m.message_id, "to": m.to, "cc": m.cc, "subject": m.subject}))
}

/// The message an `email.send` or `email.reply` action would send, with the headers a
/// good mail robot writes (RFC 3834): every message counts the employees' messages in a
/// row in its thread ([`LOOP_HEADER`]); an acknowledgement (`auto_reply = true`) says
/// `Auto-Submitted: auto-replied`; correspondence a plan composes is otherwise
/// unmarked. A reply is withheld when the message it answers was sent automatically, to
/// a list or by a mail system, came from the employee's own address to itself, ends a
/// loop of employees' messages, or when the employee has already written
/// [`THREAD_CAP`] messages in the thread today.
pub(crate) async fn prepare(
    hands: &Hands,
    me: &Sender,
    kind: &str,
    params: &Json,
    message_id: String,
) -> Result<Prepared, CapabilityError> {
    // What it answers: a Message-ID, or the employee's own earlier action (a follow-up).
    let follows = param(params, "follows").and_then(|a| a.parse::<u64>().ok());
    let answered = match (param(params, "in_reply_to"), follows) {
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
    if let Some(o) = original.as_ref().filter(|_| kind == "email.reply") {
        let mine = bare_address(&o.from).eq_ignore_ascii_case(&me.email);
        if !mine && let Some(why) = o.no_automatic_reply() {
            return Ok(Prepared::Withheld(format!("no reply on its own: {why}")));
        }
        if mine && o.recipients().contains(&me.email.to_ascii_lowercase()) {
            return Ok(Prepared::Withheld(
                "no reply on its own: it came from the employee's own address to itself".into(),
            ));
        }
        let since = Utc::now() - chrono::Duration::days(1);
        let sent = hands
            .store
            .sent_in_thread(&hands.tenant, &me.email, o.thread(), since)
            .await?;
        if sent >= THREAD_CAP {
            return Ok(Prepared::Withheld(format!(
                "no reply on its own: it has written {sent} messages in this thread in the last day; a human continues it"
            )));
        }
    }
    let mut m = compose(kind, params, me, original.as_ref(), message_id, Utc::now())?;
    m.attachments = attachments(hands, me, params).await?;
    let count = match &original {
        Some(o) if bare_address(&o.from).eq_ignore_ascii_case(&me.email) => o.loop_count().max(1),
        Some(o) => o.loop_count() + 1,
        None => 1,
    };
    m.headers.insert(LOOP_HEADER.into(), count.to_string());
    if crate::model::truthy(&params["auto_reply"]) {
        m.headers
            .insert("Auto-Submitted".into(), "auto-replied".into());
    }
    Ok(Prepared::Send(Box::new(m)))
}

/// Who the mail an approval would send goes to, worked out as [`prepare`] would when it
/// runs; none when the approval is not for mail.
pub async fn final_recipients(
    hands: &Hands,
    approval: &crate::model::Approval,
) -> Result<Option<crate::model::FinalRecipients>, crate::store::StoreError> {
    let kind = approval.action_kind();
    if kind != "email.send" && kind != "email.reply" {
        return Ok(None);
    }
    let Some((me, _)) = hands.sender(approval.employee_id).await? else {
        return Ok(None);
    };
    let params = approval.action_params();
    let preview = format!("approval-{}@{}", approval.id, hands.domain);
    let prepared = match hands.actions.with_teams(hands, kind, params).await {
        Ok(Some(p)) => prepare(hands, &me, kind, &p, preview).await,
        Ok(None) => prepare(hands, &me, kind, params, preview).await,
        Err(e) => Err(e),
    };
    Ok(Some(match prepared {
        Ok(Prepared::Send(m)) => crate::model::FinalRecipients {
            to: m.to.clone(),
            cc: m.cc.clone(),
            withheld: None,
        },
        Ok(Prepared::Withheld(why)) => crate::model::FinalRecipients {
            to: String::new(),
            cc: String::new(),
            withheld: Some(why),
        },
        Err(e @ CapabilityError::Service(_)) => crate::model::FinalRecipients {
            to: String::new(),
            cc: String::new(),
            withheld: Some(format!("recipients not known now: {e}")),
        },
        Err(e) => crate::model::FinalRecipients {
            to: String::new(),
            cc: String::new(),
            withheld: Some(e.to_string()),
        },
    }))
}

/// Sends a composed message and, on the built-in driver, routes it to employees.
pub(crate) async fn deliver_mail(hands: &Hands, m: &MailMessage) -> Result<(), CapabilityError> {
    hands.mail.transport.send(&hands.tenant, m).await?;
    crate::capabilities::crm::log_mail(hands, m, true).await;
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
    notice(hands, me, &entry.key, to, subject, body)
}

/// A message the node writes for the employee on its own, its Message-ID derived from
/// `key` (the same message however often it is written).
pub(crate) fn notice(
    hands: &Hands,
    me: &Sender,
    key: &str,
    to: String,
    subject: String,
    body: String,
) -> MailMessage {
    MailMessage {
        message_id: message_id_for(key, &hands.domain),
        from: me.mailbox(),
        to,
        cc: String::new(),
        subject,
        body,
        in_reply_to: None,
        references: Vec::new(),
        attachments: Vec::new(),
        // A notice the node writes on its own: no mail robot answers it (RFC 3834).
        headers: [
            ("Auto-Submitted".to_string(), "auto-generated".to_string()),
            (LOOP_HEADER.to_string(), "1".to_string()),
        ]
        .into(),
        at: Utc::now(),
    }
}

/// The documents a message carries, as PDF files beside the node's attachments: those
/// `attach` names by id, and the one the action `attach_from` names wrote (a
/// `documents.proposal` earlier in the plan: `attach_from = "{{ intention.last_action }}"`).
pub(crate) async fn attachments(
    hands: &Hands,
    me: &Sender,
    params: &Json,
) -> Result<Vec<Attachment>, CapabilityError> {
    let mut ids: Vec<String> = match &params["attach"] {
        Json::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str())
            .map(str::to_string)
            .collect(),
        Json::String(s) => s.split(',').map(|s| s.trim().to_string()).collect(),
        _ => Vec::new(),
    };
    ids.retain(|s| !s.is_empty());
    if let Some(action) = param(params, "attach_from") {
        let number = action.parse::<u64>().map_err(|_| {
            CapabilityError::Invalid(format!(
                "`attach_from` names an action by its number, e.g. \"{{{{ intention.last_action }}}}\"; got {action:?}"
            ))
        })?;
        let key = OutboxEntry::key_for(me.id, number);
        let record = hands.store.action(&hands.tenant, &key).await?;
        let written = record
            .as_ref()
            .and_then(|r| r.result.as_ref())
            .and_then(|r| r["document"].as_str())
            .map(str::to_string);
        match (written, record) {
            (Some(id), _) => ids.push(id),
            (None, Some(r)) => {
                return Err(CapabilityError::Invalid(format!(
                    // The number stays out: this reads as why an approval's mail
                    // would not be sent.
                    "the {} whose document it attaches wrote none: it is {}{}",
                    r.entry.kind,
                    r.status.as_str(),
                    r.result
                        .as_ref()
                        .map(|x| format!(" ({x})"))
                        .unwrap_or_default()
                )));
            }
            (None, None) => {
                return Err(CapabilityError::Invalid(format!(
                    "`attach_from` names action {action}, which this employee has not taken"
                )));
            }
        }
    }
    let dir = hands.mail.intake.attachments_dir.join("documents");
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let doc = hands
            .store
            .document(&hands.tenant, &id)
            .await?
            .ok_or_else(|| {
                CapabilityError::Invalid(format!("no document with id {id:?} to attach"))
            })?;
        let path = dir.join(format!("{id}.pdf"));
        let size = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(_) => {
                let Some((_, pdf)) = hands.store.document_content(&hands.tenant, &id).await? else {
                    return Err(CapabilityError::Invalid(format!(
                        "no document with id {id:?} to attach"
                    )));
                };
                write_file(&path, &pdf).map_err(|e| {
                    CapabilityError::Service(format!(
                        "the attachment {} could not be written: {e}",
                        path.display()
                    ))
                })?;
                pdf.len() as u64
            }
        };
        out.push(Attachment {
            name: file_name(&doc.title, Format::Pdf),
            content_type: Format::Pdf.content_type().into(),
            size,
            path: Some(path.display().to_string()),
            document: Some(doc.id),
        });
    }
    Ok(out)
}

/// Writes `bytes` to `path` whole (a temporary file renamed into place).
fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
