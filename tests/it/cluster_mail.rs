//! A node of a three-node cluster killed with mail in flight: customers write to
//! employees on the real mail server (tests/mail/server.sh), each employee's mailbox is
//! watched by the node that owns it and every issue is acknowledged by SMTP; one node
//! is SIGKILLed meanwhile. Its employees run on the survivors, every event accepted is
//! processed once, and at the customer's end every acknowledgement arrives exactly once.

use super::cluster::{autonomous, inbox_drained, names, quick_leases};
use super::cluster_harness::TestCluster;
use super::common::{TOKEN, eventually, http};
use super::mail_fixture::TestMailServer;
use super::mail_server::imap_inbox;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

const SARAH: &str = "sarah@customer.test";
/// How many customer issues are mailed.
const ISSUES: usize = 30;
/// How many employees answer them.
const EMPLOYEES: usize = 6;

fn issue(to: &str, k: usize) -> Vec<u8> {
    format!(
        "From: Sarah Chen <{SARAH}>\r\nTo: {to}\r\nSubject: Export {k} is broken\r\nMessage-ID: <issue-{k}@customer.test>\r\nDate: Wed, 2 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe CSV export is broken since this morning; it fails with an error.\r\n"
    )
    .into_bytes()
}

/// How many customer issues the employees perceived (stored in their inboxes).
async fn perceived(c: &TestCluster) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM inbox WHERE kind = 'email.received'")
        .fetch_one(&c.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_mail_in_flight_loses_no_event_and_sends_no_mail_twice() {
    let hires = names("Mail", EMPLOYEES);
    let addresses: Vec<String> = hires
        .iter()
        .map(|n| format!("{}@example.test", n.to_lowercase().replace(' ', ".")))
        .collect();
    let mut accounts: Vec<&str> = addresses.iter().map(String::as_str).collect();
    accounts.push(SARAH);
    // Without PostgreSQL the test does not run (and says so at the run's end); the mail
    // server is started only when it does.
    if super::postgres_server::database().is_none() {
        return;
    }
    let mail = TestMailServer::start(&accounts);
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("mail-credentials.toml");
    TestMailServer::write_credentials(&credentials, &accounts[..EMPLOYEES]);
    let mut env = quick_leases();
    env.extend([
        ("EMPLA_COMPANY_DOMAIN", "example.test".to_string()),
        ("EMPLA_MAIL__DRIVER", "server".into()),
        ("EMPLA_MAIL__SMTP_HOST", "127.0.0.1".into()),
        ("EMPLA_MAIL__SMTP_PORT", mail.port("SMTP_PORT").to_string()),
        ("EMPLA_MAIL__IMAP_HOST", "127.0.0.1".into()),
        ("EMPLA_MAIL__IMAP_PORT", mail.port("IMAP_PORT").to_string()),
        ("EMPLA_MAIL__CA_FILE", mail.ca_file().to_string()),
        ("EMPLA_MAIL__POLL_EVERY", "1s".into()),
        (
            "EMPLA_MAIL__CREDENTIALS_FILE",
            credentials.display().to_string(),
        ),
    ]);
    let Some(mut c) = TestCluster::start(3, &TestCluster::shipped(), &env).await else {
        return;
    };
    let ids = c.hire("csm", &hires).await;
    c.settled(0, 3, 60).await;
    for (id, address) in ids.iter().zip(&addresses) {
        let path = format!("/api/v1/employees/{id}");
        // (Asked again while the employee moves to a node with fewer.)
        let p = eventually(30, &path, || c.node(0).get_ok(&path)).await;
        assert_eq!(p["email"], address.as_str(), "{p}");
    }
    autonomous(&c, &ids).await;
    eventually(60, "every mailbox watched by its owner", || async {
        let mut watched = 0.0;
        for i in 0..3 {
            watched += c.metric(i, "empla_mail_mailboxes_watched").await;
        }
        (watched == EMPLOYEES as f64).then_some(())
    })
    .await;

    // Notes through all three nodes while the mail flows, until told to stop; those
    // answered 202 are kept.
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bases: Vec<String> = (0..3).map(|i| c.node(i).base.clone()).collect();
    let notes = {
        let (accepted, stop, ids) = (accepted.clone(), stop.clone(), ids.clone());
        tokio::spawn(async move {
            let mut k = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let url = format!(
                    "{}/api/v1/employees/{}/events",
                    bases[k % 3],
                    ids[k % ids.len()]
                );
                let body = json!({"kind": "test.note", "source": "test", "payload": {"k": k}});
                if let Ok(r) = http().post(url).bearer_auth(TOKEN).json(&body).send().await
                    && r.status() == 202
                    && let Ok(v) = r.json::<Value>().await
                {
                    accepted
                        .lock()
                        .unwrap()
                        .push(v["event_id"].as_str().unwrap().to_string());
                }
                k += 1;
            }
        })
    };

    // The first half of the issues; the node owning the employee written to last is
    // killed once a third of them is perceived, with the rest in flight.
    let smtp = mail.transport();
    for k in 0..ISSUES / 2 {
        let to = &addresses[k % EMPLOYEES];
        mail.submit_with(&smtp, SARAH, to, &issue(to, k)).await;
    }
    eventually(60, "a third of the issues perceived", || async {
        (perceived(&c).await >= (ISSUES / 3) as i64).then_some(())
    })
    .await;
    let last = &ids[(ISSUES / 2 - 1) % EMPLOYEES];
    let victim: usize = c.owner_of(last).await.expect("an owner")[1..]
        .parse()
        .unwrap();
    let lost = c.owners().await[&format!("n{victim}")];
    assert!(lost > 0);
    let acknowledged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'email.reply' AND status = 'done'",
    )
    .fetch_one(&c.db)
    .await
    .unwrap();
    eprintln!(
        "n{victim} killed owning {lost} employees, with {} of {ISSUES} issues perceived and {acknowledged} acknowledged",
        perceived(&c).await
    );
    c.kill(victim);
    let killed_at = chrono::Utc::now();
    for k in ISSUES / 2..ISSUES {
        let to = &addresses[k % EMPLOYEES];
        mail.submit_with(&smtp, SARAH, to, &issue(to, k)).await;
    }

    // The dead node's employees run on the survivors: every lease held by a live node.
    let alive = c.running()[0];
    c.settled(alive, 2, 60).await;
    let owners = c.owners().await;
    assert!(!owners.contains_key(&format!("n{victim}")), "{owners:?}");

    // Every issue perceived once and acknowledged at most once, at Sarah's end: each
    // reply action is done, or — when the node died while handing it to the mail
    // server — it failed saying the message may already have gone (it is never sent a
    // second time, and never lost silently).
    let client = mail.client(&[SARAH]);
    let expected: BTreeSet<String> = (0..ISSUES)
        .map(|k| format!("issue-{k}@customer.test"))
        .collect();
    let uncertain: BTreeSet<String> = eventually(120, "every reply action ended", || async {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT status, params, result FROM outbox WHERE kind = 'email.reply'")
                .fetch_all(&c.db)
                .await
                .unwrap();
        let ended = rows.len() == ISSUES && rows.iter().all(|(st, ..)| st != "pending");
        ended.then(|| {
            rows.iter()
                .filter(|(st, _, r)| {
                    st == "failed"
                        && r.as_deref()
                            .is_some_and(|r| r.contains("may already have been sent"))
                })
                .map(|(_, p, _)| {
                    let p: Value = serde_json::from_str(p).unwrap();
                    p["in_reply_to"].as_str().unwrap_or_default().to_string()
                })
                .collect()
        })
    })
    .await;
    let sure: BTreeSet<String> = expected.difference(&uncertain).cloned().collect();
    let replies = eventually(120, "an acknowledgement of each issue", || async {
        let inbox = imap_inbox(&client, SARAH).await;
        let answered: BTreeSet<String> =
            inbox.iter().filter_map(|m| m.in_reply_to.clone()).collect();
        answered.is_superset(&sure).then_some(inbox)
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    notes.await.unwrap();
    // A message sent twice arrives twice with its one Message-ID (the action's).
    let mut seen = BTreeSet::new();
    let twice: BTreeSet<&str> = replies
        .iter()
        .filter(|m| !seen.insert(m.message_id.as_str()))
        .map(|m| m.message_id.as_str())
        .collect();
    let copies: Vec<(&str, Option<&str>, Option<&String>)> = replies
        .iter()
        .filter(|m| twice.contains(m.message_id.as_str()))
        .map(|m| {
            (
                m.message_id.as_str(),
                m.in_reply_to.as_deref(),
                m.headers.get("Date"),
            )
        })
        .collect();
    assert!(
        twice.is_empty(),
        "acknowledgements sent twice (n{victim} was killed at {}): {copies:#?}",
        killed_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    assert!(
        replies.len() >= ISSUES - uncertain.len() && replies.len() <= ISSUES,
        "one acknowledgement per issue (those {uncertain:?} perhaps not): {} arrived",
        replies.len()
    );
    if !uncertain.is_empty() {
        eprintln!(
            "replies the killed node was handing to the server (not sent again): {uncertain:?}"
        );
    }

    // Every event accepted (the notes answered 202, the issues perceived) processed once.
    inbox_drained(&c, 60).await;
    let issues: Vec<(String, String)> =
        sqlx::query_as("SELECT id, payload FROM inbox WHERE kind = 'email.received'")
            .fetch_all(&c.db)
            .await
            .unwrap();
    let perceived_ids: BTreeSet<String> = issues
        .iter()
        .map(|(_, p)| {
            let p: Value = serde_json::from_str(p).unwrap();
            p["message_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(issues.len(), ISSUES, "each issue perceived once");
    assert_eq!(perceived_ids, expected);
    let mut events: Vec<String> = accepted.lock().unwrap().clone();
    assert!(!events.is_empty());
    events.extend(issues.into_iter().map(|(id, _)| id));
    c.processed_once(&events, 120).await;
    let sent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'email.reply' AND status = 'done'",
    )
    .fetch_one(&c.db)
    .await
    .unwrap();
    assert_eq!(
        sent + uncertain.len() as i64,
        ISSUES as i64,
        "one reply action done per issue (or uncertain, said so)"
    );
}
