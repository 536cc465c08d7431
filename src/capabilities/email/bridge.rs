//! The IMAP bridge: with `mail.driver = "server"`, one watcher per employee mailbox
//! that has a login in the credentials file. A watcher reads INBOX by UID from where
//! intake stands (a cursor stored per mailbox with its UIDVALIDITY, so a message
//! another client marked read is still taken in), parses each message, keeps its
//! attachments as files, stores it and commits it to the employee's durable inbox —
//! and only then sets `\Seen` and moves the cursor. A crash before that re-reads the
//! message at the next start, and its Message-ID makes the second read change nothing.
//!
//! A message that cannot be taken in is tried again with backoff (1 s, 2 s, 4 s, …) while
//! the rest of the mailbox goes on; after `mail.park_after` tries it is flagged, moved
//! to `mail.park_folder` and reported (log, `empla_mail_parked_total`, an
//! `email.parked` event to the employee), so intake never loops on one message.
//!
//! An executive's mailbox with a login in the credentials file is watched the same way
//! for the employee that reads their mail as a delegate (see `capabilities::assistant`):
//! its messages are perceived as `email.delegated`, under a cursor of their own. The
//! executive's mail is theirs: the watcher never sets `\Seen` on it and never moves
//! it — a message that cannot be taken in is reported and passed over.
//!
//! Every `poll_every` the bridge re-reads the credentials file and the directory:
//! new hires with a login get a watcher, offboarded employees and removed logins lose
//! theirs, a changed password restarts it. A watcher that loses its connection logs
//! why (never the password) and reconnects with backoff.

use super::imap::Mailbox;
use super::intake::{IntakeError, Route, take_in};
use super::{IntakeSettings, MailAccount, MailServer, mime};
use crate::capabilities::{CapabilityError, Hands, PerceiveError};
use crate::model::{EmployeeId, NewEvent, kinds};
use crate::store::MailCursor;
use chrono::Utc;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Most messages fetched and committed together.
const BATCH: usize = 32;
/// The folder intake reads.
const INBOX: &str = "INBOX";
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Runs the bridge until aborted; none without a mail server.
pub(crate) fn start(hands: Arc<Hands>) -> Option<JoinHandle<()>> {
    let server = hands.mail.server.clone()?;
    let settings = hands.mail.intake.clone();
    Some(tokio::spawn(async move {
        let mut watchers: HashMap<Watched, (MailAccount, JoinHandle<()>)> = HashMap::new();
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
                let readers = match hands.employees.resolve(address) {
                    Some(id) => vec![(id, false)],
                    None => match hands.store.delegates(&hands.tenant, address).await {
                        Ok(ids) => ids.into_iter().map(|id| (id, true)).collect(),
                        Err(e) => {
                            tracing::warn!(%address, error = %e, "who reads this mailbox as a delegate could not be read; asked again at the next poll");
                            Vec::new()
                        }
                    },
                };
                for (id, delegated) in readers {
                    if hands.employees.offboarded(id) || !hands.employees.here(id) {
                        continue;
                    }
                    let w = Watched {
                        id,
                        address: address.to_string(),
                        delegated,
                    };
                    wanted.insert(w, login.clone());
                }
            }
            watchers.retain(|w, (login, task)| {
                let keep = !task.is_finished() && wanted.get(w) == Some(login);
                if !keep {
                    task.abort();
                }
                keep
            });
            for (w, login) in wanted {
                if watchers.contains_key(&w) {
                    continue;
                }
                let task = tokio::spawn(watch(
                    hands.clone(),
                    server.clone(),
                    settings.clone(),
                    w.clone(),
                    login.clone(),
                ));
                watchers.insert(w, (login, task));
            }
            metrics::gauge!("empla_mail_mailboxes_watched").set(watchers.len() as f64);
            tokio::time::sleep(settings.poll_every).await;
        }
    }))
}

/// One watched mailbox: whose it is, and who reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Watched {
    /// The employee that reads it.
    id: EmployeeId,
    /// The mailbox's address.
    address: String,
    /// It is an executive's, read by `id` as their delegate.
    delegated: bool,
}

impl Watched {
    /// The name its intake cursor is stored under.
    fn cursor(&self) -> String {
        if self.delegated {
            format!("delegated:{}/{INBOX}", self.address)
        } else {
            INBOX.to_string()
        }
    }
}

/// Messages that could not be taken in yet, by UID: tries so far and when to try next.
/// Kept across reconnections of one watcher.
type Failing = BTreeMap<u32, (u32, Instant)>;

/// Watches one mailbox for as long as it runs, reconnecting with backoff.
async fn watch(
    hands: Arc<Hands>,
    server: Arc<MailServer>,
    settings: IntakeSettings,
    w: Watched,
    login: MailAccount,
) {
    let mut backoff = Duration::from_secs(1);
    let mut failing = Failing::new();
    loop {
        let err = session(
            &hands,
            &server,
            &settings,
            &w,
            &login,
            &mut backoff,
            &mut failing,
        )
        .await;
        metrics::counter!("empla_mail_imap_errors_total").increment(1);
        tracing::warn!(employee = %w.id, address = %w.address, error = %err, retry_in = ?backoff, "mailbox watch interrupted");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: take in what arrived since the cursor, mark it seen, park what
/// cannot be taken in after its tries, move the cursor, wait for more. Returns only on
/// an error.
#[allow(clippy::too_many_arguments)]
async fn session(
    hands: &Hands,
    server: &MailServer,
    settings: &IntakeSettings,
    w: &Watched,
    login: &MailAccount,
    backoff: &mut Duration,
    failing: &mut Failing,
) -> CapabilityError {
    let (id, address) = (w.id, w.address.as_str());
    let cursor_name = w.cursor();
    let mut mailbox = match Mailbox::open(server, address, login).await {
        Ok(m) => m,
        Err(e) => return e,
    };
    *backoff = Duration::from_secs(1);
    let stored = match hands
        .store
        .mail_cursor(&hands.tenant, id, &cursor_name)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            return CapabilityError::Service(format!(
                "the mail cursor of {address} could not be read: {e}"
            ));
        }
    };
    // Under the same UIDVALIDITY, on from where intake stood; under a new one, from the
    // start (Message-IDs keep what was taken in before from being taken in twice); the
    // first time, from the oldest message not yet read (what arrived before the node
    // watched this mailbox and was read by a human is left alone).
    let mut cursor = match stored {
        Some(c) if c.uid_validity == mailbox.uid_validity => c.next_uid,
        Some(_) => {
            failing.clear();
            1
        }
        None => match mailbox.unseen().await {
            Ok(unseen) => unseen.first().copied().unwrap_or(mailbox.uid_next),
            Err(e) => return e,
        },
    };
    let mut saved = stored.filter(|c| c.uid_validity == mailbox.uid_validity);
    loop {
        let fresh = match mailbox.since(cursor).await {
            Ok(u) => u,
            Err(e) => return e,
        };
        // A message gone from the server (moved or deleted by someone) is not retried.
        failing.retain(|uid, _| fresh.binary_search(uid).is_ok());
        let now = Instant::now();
        let due: Vec<u32> = fresh
            .iter()
            .copied()
            .filter(|uid| failing.get(uid).is_none_or(|(_, at)| *at <= now))
            .collect();
        for chunk in due.chunks(BATCH) {
            let fetched = match mailbox.fetch(chunk).await {
                Ok(f) => f,
                Err(e) => return e,
            };
            let taken = take_fetched(hands, settings, w, fetched, failing).await;
            let (seen, park) = (taken.seen, taken.park);
            // The executive's own mail stays as they left it: unread, in place.
            if !w.delegated
                && let Err(e) = mailbox.mark_seen(&seen).await
            {
                return e;
            }
            for (uid, why) in park {
                if !w.delegated
                    && let Err(e) = mailbox.park(uid, &settings.park_folder).await
                {
                    return e;
                }
                failing.remove(&uid);
                report_parked(hands, settings, w, uid, &why).await;
            }
            // The store is out of reach: no message is at fault; the whole mailbox waits
            // (reconnecting with backoff) and nothing counts towards parking.
            if let Some(why) = taken.outage {
                return CapabilityError::Service(format!("the store is out of reach: {why}"));
            }
        }
        // Intake stands at the oldest message still to be taken in, or past the newest.
        let next = failing
            .keys()
            .next()
            .copied()
            .unwrap_or_else(|| fresh.last().map_or(cursor, |u| u + 1));
        cursor = next;
        let want = MailCursor {
            uid_validity: mailbox.uid_validity,
            next_uid: cursor,
        };
        if saved != Some(want) {
            if let Err(e) = hands
                .store
                .set_mail_cursor(&hands.tenant, id, &cursor_name, want)
                .await
            {
                return CapabilityError::Service(format!(
                    "the mail cursor of {address} could not be stored: {e}"
                ));
            }
            saved = Some(want);
        }
        if due.is_empty() {
            // Nothing new to take in: wait for mail, or until the next retry is due.
            let retry = failing
                .values()
                .map(|(_, at)| at.saturating_duration_since(Instant::now()))
                .min();
            let wait = retry.map_or(settings.poll_every, |r| r.min(settings.poll_every));
            mailbox = match mailbox.wait(wait.max(Duration::from_millis(50))).await {
                Ok(m) => m,
                Err(e) => return e,
            };
        }
    }
}

/// What became of a fetched chunk.
struct Taken {
    /// UIDs that may be marked seen.
    seen: Vec<u32>,
    /// UIDs to park, with why: they failed their last try.
    park: Vec<(u32, String)>,
    /// The store was out of reach (any write would have failed), if it was.
    outage: Option<String>,
}

/// Parses, stores and commits the fetched messages (together, so the group commit
/// takes them in one transaction). The messages that failed and are not to be parked
/// wait in `failing` for their next try; a store out of reach counts against none.
async fn take_fetched(
    hands: &Hands,
    settings: &IntakeSettings,
    w: &Watched,
    fetched: Vec<(u32, Vec<u8>)>,
    failing: &mut Failing,
) -> Taken {
    let received = Utc::now();
    let results =
        futures::future::join_all(fetched.into_iter().map(|(uid, raw)| async move {
            (uid, take_one(hands, settings, w, raw, received).await)
        }))
        .await;
    let (id, address) = (w.id, w.address.as_str());
    let mut seen = Vec::new();
    let mut park = Vec::new();
    let mut outage = None;
    for (uid, r) in results {
        match r {
            Ok(()) => {
                failing.remove(&uid);
                seen.push(uid);
            }
            // The employee cannot take it: it stays on the server, seen, and is said.
            Err(TakeError::Refused(why)) => {
                tracing::error!(employee = %id, %address, uid, error = %why, "a message was not taken in; it stays in the mailbox, marked seen");
                metrics::counter!("empla_mail_refused_total").increment(1);
                failing.remove(&uid);
                seen.push(uid);
            }
            Err(TakeError::Outage(why)) => outage = Some(why),
            Err(TakeError::Later(why)) => {
                let tries = failing.get(&uid).map_or(0, |(t, _)| *t) + 1;
                if tries >= settings.park_after {
                    park.push((uid, why));
                } else {
                    let wait = Duration::from_secs(1 << (tries - 1).min(6));
                    tracing::warn!(employee = %id, %address, uid, tries, retry_in = ?wait, error = %why, "a message could not be taken in; it will be tried again");
                    failing.insert(uid, (tries, Instant::now() + wait));
                }
            }
        }
    }
    metrics::counter!("empla_mail_received_total").increment(seen.len() as u64);
    Taken { seen, park, outage }
}

/// Says that a message was parked (an executive's: passed over, left in INBOX): in the
/// log, in `/metrics`, and to the employee (an `email.parked` event, so it is in its
/// timeline and a plan can hand it to a human).
async fn report_parked(hands: &Hands, settings: &IntakeSettings, w: &Watched, uid: u32, why: &str) {
    let (id, address) = (w.id, w.address.as_str());
    let folder = if w.delegated {
        INBOX
    } else {
        settings.park_folder.as_str()
    };
    tracing::error!(employee = %id, %address, uid, %folder, error = %why, "a message that could not be taken in was parked");
    metrics::counter!("empla_mail_parked_total").increment(1);
    let event = NewEvent {
        kind: kinds::EMAIL_PARKED.into(),
        source: "imap".into(),
        payload: json!({
            "address": address,
            "uid": uid,
            "folder": folder,
            "tries": settings.park_after,
            "error": why,
        }),
        idempotency_key: None,
    };
    if let Err(e) = hands.employees.perceive(id, event).await {
        tracing::warn!(employee = %id, error = %e, "the employee could not be told of the parked message");
    }
}

enum TakeError {
    /// Will not work however often it is tried.
    Refused(String),
    /// This message failed; it may work next time.
    Later(String),
    /// The store is out of reach: no message is at fault.
    Outage(String),
}

async fn take_one(
    hands: &Hands,
    settings: &IntakeSettings,
    w: &Watched,
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
    let (id, address) = (w.id, w.address.as_str());
    let route = if w.delegated {
        Route::Delegated {
            employee: id,
            address,
        }
    } else {
        Route::Mailbox {
            employee: id,
            address,
        }
    };
    match take_in(hands, &m, route, "imap").await {
        Ok(_) => Ok(()),
        Err(IntakeError::Perceive(PerceiveError::Offboarded | PerceiveError::NotFound)) => Err(
            TakeError::Refused(format!("{address} is no longer an employee here")),
        ),
        Err(IntakeError::Store(e)) if e.is_outage() => Err(TakeError::Outage(e.to_string())),
        Err(IntakeError::Perceive(PerceiveError::Write(e))) if e.is_outage() => {
            Err(TakeError::Outage(e.to_string()))
        }
        Err(e) => Err(TakeError::Later(e.to_string())),
    }
}
