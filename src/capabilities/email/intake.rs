//! The one way mail comes in, whichever driver brought it — the IMAP bridge, the
//! built-in driver, a human through the API: stored, triaged for each employee it
//! reaches (priority, intent), its thread and sender resolved, then perceived — an
//! `email.received` event (or `email.reply`, when it answers a message that employee
//! sent) committed to the employee's durable inbox, keyed by the Message-ID so a
//! message taken in twice is perceived once. Nothing upstream is acknowledged before
//! that commit; a store that cannot be read is an error, never "not a reply".

use crate::capabilities::{Hands, PerceiveError};
use crate::model::{EmployeeId, MailMessage, NewEvent, bare_address, display_name, kinds};
use crate::store::{Accepted, Folder, StoreError};
use serde_json::json;

/// Where a message is taken in from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Route<'a> {
    /// Delivered by the built-in driver, which stored a copy in every recipient's
    /// inbox: every employee it is addressed to perceives it.
    Delivered,
    /// Fetched from one employee's mailbox on the mail server: stored in that mailbox
    /// and perceived by that employee alone.
    Mailbox {
        /// The employee whose mailbox it is.
        employee: EmployeeId,
        /// The mailbox's address.
        address: &'a str,
    },
    /// Fetched from an executive's mailbox on the mail server by the employee that
    /// reads it for them: stored in that mailbox and perceived by that employee as
    /// `email.delegated`.
    Delegated {
        /// The employee reading it.
        employee: EmployeeId,
        /// The executive's address.
        address: &'a str,
    },
}

/// Why a message could not be taken in.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IntakeError {
    /// The store could not be read or written.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
    /// An employee could not perceive it.
    #[error(transparent)]
    Perceive(#[from] PerceiveError),
}

/// Takes `m` in: stores it (for a mailbox), then hands it to each employee `route`
/// reaches, and to the employees that read a recipient's mail as their delegate.
/// Answers the employees reached as recipients; other addresses that are not
/// employees, and the sender's own address, are skipped.
pub(crate) async fn take_in(
    hands: &Hands,
    m: &MailMessage,
    route: Route<'_>,
    source: &str,
) -> Result<Vec<(EmployeeId, Accepted)>, IntakeError> {
    let sender = bare_address(&m.from).to_ascii_lowercase();
    let targets: Vec<EmployeeId> = match route {
        Route::Delivered => m
            .recipients()
            .into_iter()
            .filter(|a| *a != sender)
            .filter_map(|a| hands.employees.resolve(&a))
            .collect(),
        Route::Mailbox { employee, address } => {
            crate::failpoints::hit("mail-store", &m.subject)
                .map_err(|e| IntakeError::Store(StoreError::Refused(e)))?;
            hands
                .store
                .put_mail(
                    &hands.tenant,
                    m,
                    &[(address.to_ascii_lowercase(), Folder::Inbox)],
                )
                .await?;
            vec![employee]
        }
        Route::Delegated { employee, address } => {
            hands
                .store
                .put_mail(
                    &hands.tenant,
                    m,
                    &[(address.to_ascii_lowercase(), Folder::Inbox)],
                )
                .await?;
            perceive_delegated(hands, employee, address, m, source).await?;
            return Ok(Vec::new());
        }
    };
    if matches!(route, Route::Delivered) {
        for address in m.recipients() {
            if address == sender || hands.employees.resolve(&address).is_some() {
                continue;
            }
            for delegate in hands.store.delegates(&hands.tenant, &address).await? {
                perceive_delegated(hands, delegate, &address, m, source).await?;
            }
        }
    }
    let mut reached = Vec::new();
    for id in targets {
        if let Some(accepted) = perceive_mail(hands, id, m, source).await? {
            reached.push((id, accepted));
        }
    }
    if !reached.is_empty() {
        crate::capabilities::crm::log_mail(hands, m, false).await;
    }
    Ok(reached)
}

/// Commits `m` to employee `id`'s inbox as an `email.received` or `email.reply` event
/// (triaged, its thread and sender resolved), keyed by the Message-ID. None when the
/// employee is no longer in the store.
async fn perceive_mail(
    hands: &Hands,
    id: EmployeeId,
    m: &MailMessage,
    source: &str,
) -> Result<Option<Accepted>, IntakeError> {
    let Some(profile) = hands.store.employee(&hands.tenant, id).await? else {
        return Ok(None);
    };
    let sender = bare_address(&m.from).to_ascii_lowercase();
    let answered = match m.answers() {
        Some(prev) => hands
            .store
            .mail(&hands.tenant, prev)
            .await?
            .is_some_and(|p| bare_address(&p.from).eq_ignore_ascii_case(&profile.email)),
        None => false,
    };
    if answered {
        hands.employees.answered(m).await;
    }
    // A meeting's transcript attached: the employee takes it as one, not as mail.
    if !answered
        && let Some(t) =
            crate::capabilities::meetings::mail::transcript_mail(hands, &profile, m).await?
    {
        return Ok(Some(hands.employees.perceive(id, t).await?));
    }
    // A reply to times the employee offered: which offer, so a plan can book the pick.
    let proposal = match (answered, m.in_reply_to.as_deref()) {
        (true, Some(offer)) => hands
            .store
            .proposal(&hands.tenant, offer)
            .await?
            .filter(|p| p.employee_id == id)
            .map(|p| json!({"title": p.title, "options": p.slots.len()})),
        _ => None,
    };
    let t = hands.mail.triage(&profile.role).classify(m, &hands.domain);
    let from_employee = hands.employees.resolve(&sender).map(|e| e.to_string());
    let mut payload = json!({
        "message_id": m.message_id,
        "from": m.from,
        "from_address": sender,
        "from_name": display_name(&m.from),
        "from_first_name": display_name(&m.from).and_then(|n| n.split_whitespace().next()),
        "from_employee": from_employee,
        "internal": sender.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(&hands.domain)),
        "to": m.to,
        "cc": m.cc,
        "subject": m.subject,
        "body": m.body,
        "in_reply_to": m.in_reply_to,
        "references": m.references,
        "thread": m.thread(),
        "attachments": m.attachments,
        "priority": t.priority,
        "intent": t.intent,
    });
    if let Some(p) = proposal {
        payload["proposal"] = p;
    }
    // What on the price list the message asks about, and how many: "a quote for 40
    // seats?" (so a plan can tell a quote it can price from one it must ask about).
    let asked = crate::capabilities::documents::quote::read_request(
        hands.documents.config(),
        &super::triage::own_words(m),
    );
    if !asked.is_empty() {
        payload["quote"] =
            crate::capabilities::documents::quote::described(hands.documents.config(), &asked);
    }
    let new = NewEvent {
        kind: if answered {
            kinds::EMAIL_REPLY
        } else {
            kinds::EMAIL
        }
        .into(),
        source: source.into(),
        payload,
        idempotency_key: Some(format!("mail:{}", m.message_id)),
    };
    Ok(Some(hands.employees.perceive(id, new).await?))
}

/// Commits `m`, sent to `executive`, to the inbox of the employee that reads their
/// mail, as an `email.delegated` event keyed by the Message-ID. Mail the employee
/// wrote itself (a notice, a brief) is not its to triage.
async fn perceive_delegated(
    hands: &Hands,
    id: EmployeeId,
    executive: &str,
    m: &MailMessage,
    source: &str,
) -> Result<(), IntakeError> {
    let Some(profile) = hands.store.employee(&hands.tenant, id).await? else {
        return Ok(());
    };
    let sender = bare_address(&m.from).to_ascii_lowercase();
    if sender.eq_ignore_ascii_case(&profile.email) {
        return Ok(());
    }
    let t = hands.mail.triage(&profile.role).classify(m, &hands.domain);
    // What `email.triage` will label it, so a plan can take meeting requests up.
    let label = crate::capabilities::assistant::read(m, &t).label;
    let event = NewEvent {
        kind: kinds::EMAIL_DELEGATED.into(),
        source: source.into(),
        payload: json!({
            "message_id": m.message_id,
            "executive": executive.to_ascii_lowercase(),
            "from": m.from,
            "from_address": sender,
            "from_name": display_name(&m.from),
            "internal": sender.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(&hands.domain)),
            "to": m.to,
            "cc": m.cc,
            "subject": m.subject,
            "body": m.body,
            "in_reply_to": m.in_reply_to,
            "thread": m.thread(),
            "priority": t.priority,
            "intent": t.intent,
            "label": label,
        }),
        idempotency_key: Some(format!("delegated:{}", m.message_id)),
    };
    match hands.employees.perceive(id, event).await {
        // An assistant gone since the directory was read delays no one's mail.
        Ok(_) | Err(PerceiveError::Offboarded | PerceiveError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
