//! The IMAP bridge: with `mail.driver = "server"`, one watcher per employee mailbox
//! that has a login in the credentials file. A watcher fetches what is unseen, parses
//! it, keeps its attachments as files, stores the message and commits it to the
//! employee's durable inbox — and only then sets `\Seen` on the server. A crash before
//! that re-reads the message at the next start, and its Message-ID makes the second
//! read change nothing.
//!
//! Every `poll_every` the bridge re-reads the credentials file and the directory:
//! new hires with a login get a watcher, offboarded employees and removed logins lose
//! theirs, a changed password restarts it. A watcher that loses its connection logs
//! why (never the password) and reconnects with backoff.

use super::imap::Mailbox;
use super::intake::{IntakeError, Route, take_in};
use super::{IntakeSettings, MailAccount, MailServer, mime};
use crate::capabilities::{CapabilityError, Hands, PerceiveError};
use crate::model::EmployeeId;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Most messages fetched and committed together.
const BATCH: usize = 32;
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Runs the bridge until aborted; none without a mail server.
pub(crate) fn start(hands: Arc<Hands>) -> Option<JoinHandle<()>> {
    let server = hands.mail.server.clone()?;
    let settings = hands.mail.intake.clone();
    Some(tokio::spawn(async move {
        let mut watchers: HashMap<EmployeeId, (MailAccount, JoinHandle<()>)> = HashMap::new();
        let mut reported = None;
        loop {
            match server.logins.reload() {
                Ok(()) => reported = None,
                Err(e) if reported.as_ref() != Some(&e) => {
                    tracing::error!(error = %e, "mail credentials could not be re-read; the logins read before stay in use");
                    reported = Some(e);
                }
                Err(_) => {}
            }
            let logins = server.logins.all();
            let mut wanted = HashMap::new();
            for (address, login) in logins.iter() {
                let Some(id) = hands.employees.resolve(address) else {
                    continue;
                };
                if hands.employees.offboarded(id) {
                    continue;
                }
                wanted.insert(id, (address.to_string(), login.clone()));
            }
            watchers.retain(|id, (login, task)| {
                let keep = !task.is_finished() && wanted.get(id).is_some_and(|(_, l)| l == login);
                if !keep {
                    task.abort();
                }
                keep
            });
            for (id, (address, login)) in wanted {
                if watchers.contains_key(&id) {
                    continue;
                }
                let task = tokio::spawn(watch(
                    hands.clone(),
                    server.clone(),
                    settings.clone(),
                    id,
                    address,
                    login.clone(),
                ));
                watchers.insert(id, (login, task));
            }
            metrics::gauge!("empla_mail_mailboxes_watched").set(watchers.len() as f64);
            tokio::time::sleep(settings.poll_every).await;
        }
    }))
}

/// Watches one mailbox for as long as it runs, reconnecting with backoff.
async fn watch(
    hands: Arc<Hands>,
    server: Arc<MailServer>,
    settings: IntakeSettings,
    id: EmployeeId,
    address: String,
    login: MailAccount,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let err = session(
            &hands,
            &server,
            &settings,
            id,
            &address,
            &login,
            &mut backoff,
        )
        .await;
        metrics::counter!("empla_mail_imap_errors_total").increment(1);
        tracing::warn!(employee = %id, %address, error = %err, retry_in = ?backoff, "mailbox watch interrupted");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: read what is unseen, commit it, mark it seen, wait for more.
/// Returns only on an error.
async fn session(
    hands: &Hands,
    server: &MailServer,
    settings: &IntakeSettings,
    id: EmployeeId,
    address: &str,
    login: &MailAccount,
    backoff: &mut Duration,
) -> CapabilityError {
    let mut mailbox = match Mailbox::open(server, address, login).await {
        Ok(m) => m,
        Err(e) => return e,
    };
    *backoff = Duration::from_secs(1);
    loop {
        let unseen = match mailbox.unseen().await {
            Ok(u) => u,
            Err(e) => return e,
        };
        for chunk in unseen.chunks(BATCH) {
            let fetched = match mailbox.fetch(chunk).await {
                Ok(f) => f,
                Err(e) => return e,
            };
            let taken = take_fetched(hands, settings, id, address, fetched).await;
            if let Err(e) = mailbox.mark_seen(&taken).await {
                return e;
            }
        }
        if unseen.is_empty() {
            mailbox = match mailbox.wait(settings.poll_every).await {
                Ok(m) => m,
                Err(e) => return e,
            };
        }
    }
}

/// Parses, stores and commits the fetched messages (together, so the group commit
/// takes them in one transaction); answers the UIDs that may be marked seen.
async fn take_fetched(
    hands: &Hands,
    settings: &IntakeSettings,
    id: EmployeeId,
    address: &str,
    fetched: Vec<(u32, Vec<u8>)>,
) -> Vec<u32> {
    let received = Utc::now();
    let results = futures::future::join_all(fetched.into_iter().map(|(uid, raw)| async move {
        (
            uid,
            take_one(hands, settings, id, address, raw, received).await,
        )
    }))
    .await;
    let mut seen = Vec::new();
    for (uid, r) in results {
        match r {
            Ok(()) => seen.push(uid),
            // The employee cannot take it: it stays on the server, seen, and is said.
            Err(TakeError::Refused(why)) => {
                tracing::error!(employee = %id, %address, uid, error = %why, "a message was not taken in; it stays in the mailbox, marked seen");
                metrics::counter!("empla_mail_refused_total").increment(1);
                seen.push(uid);
            }
            // Left unseen: read again on the next round.
            Err(TakeError::Later(why)) => {
                tracing::warn!(employee = %id, %address, uid, error = %why, "a message will be read again");
            }
        }
    }
    metrics::counter!("empla_mail_received_total").increment(seen.len() as u64);
    seen
}

enum TakeError {
    /// Will not work however often it is tried.
    Refused(String),
    /// May work next time.
    Later(String),
}

async fn take_one(
    hands: &Hands,
    settings: &IntakeSettings,
    id: EmployeeId,
    address: &str,
    raw: Vec<u8>,
    received: chrono::DateTime<Utc>,
) -> Result<(), TakeError> {
    let max = settings.attachment_max;
    let inbound = tokio::task::spawn_blocking(move || mime::parse(&raw, max, received))
        .await
        .map_err(|e| TakeError::Later(format!("parsing stopped: {e}")))?;
    let m = inbound
        .save(&settings.attachments_dir)
        .await
        .map_err(|e| TakeError::Later(format!("attachments could not be written: {e}")))?;
    let route = Route::Mailbox {
        employee: id,
        address,
    };
    match take_in(hands, &m, route, "imap").await {
        Ok(_) => Ok(()),
        Err(IntakeError::Perceive(PerceiveError::Offboarded | PerceiveError::NotFound)) => Err(
            TakeError::Refused(format!("{address} is no longer an employee here")),
        ),
        Err(e) => Err(TakeError::Later(e.to_string())),
    }
}
