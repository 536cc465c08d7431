//! Email through a real mail server: Postfix and Dovecot started by
//! `tests/mail/server.sh`, the real `empla` binary with `mail.driver = "server"`.
//! A customer writes by SMTP, the employee perceives it from IMAP, answers by SMTP,
//! and the answer is in the customer's IMAP inbox in the thread. Mail that is hard to
//! read (damaged MIME, headers in other charsets, a 20 MB attachment) is perceived
//! with its defined outcome; a reply to an address the server does not know fails
//! saying so; a message read again after a crash is perceived once.

use super::common::{NodeProcess, TOKEN, eventually, start_binary_with};
use super::mail_fixture::TestMailServer;
use empla::capabilities::email::imap::Mailbox;
use empla::capabilities::email::{MailServer, mime};
use empla::model::MailMessage;
use serde_json::{Value, json};
use std::path::Path;

const SAM: &str = "sam.rivera@example.test";
const SARAH: &str = "sarah@customer.test";

/// The node's environment for `mail`; logins in `<data>/mail-credentials.toml`.
fn node_env(mail: &TestMailServer, data: &Path, employees: &[&str]) -> Vec<(&'static str, String)> {
    TestMailServer::write_credentials(&data.join("mail-credentials.toml"), employees);
    vec![
        ("EMPLA_COMPANY_DOMAIN", "example.test".into()),
        ("EMPLA_MAIL__DRIVER", "server".into()),
        ("EMPLA_MAIL__SMTP_HOST", "127.0.0.1".into()),
        ("EMPLA_MAIL__SMTP_PORT", mail.port("SMTP_PORT").to_string()),
        ("EMPLA_MAIL__IMAP_HOST", "127.0.0.1".into()),
        ("EMPLA_MAIL__IMAP_PORT", mail.port("IMAP_PORT").to_string()),
        ("EMPLA_MAIL__CA_FILE", mail.ca_file().to_string()),
        ("EMPLA_MAIL__POLL_EVERY", "1s".into()),
    ]
}

/// Every message in `address`'s IMAP inbox, parsed.
pub(super) async fn imap_inbox(server: &MailServer, address: &str) -> Vec<MailMessage> {
    let login = server.logins.of(address).unwrap();
    let mut mailbox = Mailbox::open(server, address, &login).await.unwrap();
    let all = mailbox.search("ALL").await.unwrap();
    let fetched = mailbox.fetch(&all).await.unwrap();
    mailbox.logout().await;
    fetched
        .iter()
        .map(|(_, raw)| mime::parse(raw, 1 << 30, chrono::Utc::now()).message)
        .collect()
}

/// How many messages in `address`'s inbox are not seen.
async fn unseen(server: &MailServer, address: &str) -> usize {
    let login = server.logins.of(address).unwrap();
    let mut mailbox = Mailbox::open(server, address, &login).await.unwrap();
    let n = mailbox.unseen().await.unwrap().len();
    mailbox.logout().await;
    n
}

fn start_node(mail: &TestMailServer, data: &Path) -> NodeProcess {
    let env = node_env(mail, data, &[SAM]);
    start_binary_with(data, Some(TOKEN), &env)
}

async fn autonomous(node: &NodeProcess, who: &str) {
    let r = node
        .client()
        .put(node.url(&format!("/api/v1/employees/{who}/phase")))
        .bearer_auth(&node.token)
        .json(&json!({"phase": "autonomous"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

fn issue_mail(from: &str, message_id: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Sarah Chen <{from}>\r\nTo: Sam Rivera <{SAM}>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nDate: Wed, 2 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe CSV export is broken since this morning; it fails with an error.\r\n"
    )
    .into_bytes()
}

/// Events the employee perceived from one message (by its Message-ID).
async fn perceived(node: &NodeProcess, message_id: &str) -> Vec<Value> {
    let episodes = node
        .get_json("/api/v1/employees/sam.rivera/episodes?limit=200")
        .await;
    episodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "event" && e["payload"]["message_id"] == message_id)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_mail_by_smtp_is_answered_by_smtp_in_the_thread() {
    let mail = TestMailServer::start(&[SAM, SARAH]);
    let data = tempfile::tempdir().unwrap();
    let node = start_node(&mail, data.path());
    autonomous(&node, "sam.rivera").await;
    let profile = node.get_json("/api/v1/employees/sam.rivera").await;
    assert_eq!(profile["email"], SAM);
    // The built-in driver's send is not how mail reaches a node on a mail server.
    let r = node
        .client()
        .post(node.url("/api/v1/mail/send"))
        .bearer_auth(&node.token)
        .json(&json!({"from": SARAH, "to": SAM, "subject": "hi", "body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mail client"),
        "{e}"
    );

    mail.submit(
        SARAH,
        SAM,
        &issue_mail(SARAH, "issue-1@customer.test", "Export is broken"),
    )
    .await;

    let client = mail.client(&[SARAH, SAM]);
    let reply = eventually(60, "Sam's reply in Sarah's IMAP inbox", || async {
        imap_inbox(&client, SARAH).await.into_iter().next()
    })
    .await;
    assert_eq!(reply.in_reply_to.as_deref(), Some("issue-1@customer.test"));
    assert_eq!(reply.references, ["issue-1@customer.test"]);
    assert_eq!(reply.subject, "Re: Export is broken");
    assert_eq!(reply.from, format!("Sam Rivera <{SAM}>"));
    assert!(reply.to.contains(SARAH), "{}", reply.to);
    assert!(reply.body.contains("I'm on it"), "{}", reply.body);
    // An acknowledgement: marked so no mail robot answers it (RFC 3834), with the
    // node's loop count.
    assert_eq!(reply.headers["Auto-Submitted"], "auto-replied");
    assert_eq!(reply.headers["X-Empla-Loop"], "1");
    assert!(
        reply.message_id.ends_with("@example.test"),
        "{}",
        reply.message_id
    );

    // Perceived once, from IMAP, triaged as an issue; the message is seen on the server.
    let events = perceived(&node, "issue-1@customer.test").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["channel"], "imap");
    assert_eq!(event["summary"], "email.received");
    assert_eq!(event["payload"]["intent"], "issue");
    assert_eq!(event["payload"]["priority"], "high");
    assert_eq!(unseen(&client, SAM).await, 0);

    // Sarah answers in the thread: perceived as a reply to what Sam sent.
    let answer = format!(
        "From: Sarah Chen <{SARAH}>\r\nTo: {SAM}\r\nSubject: Re: Export is broken\r\nMessage-ID: <issue-2@customer.test>\r\nIn-Reply-To: <{}>\r\nReferences: <issue-1@customer.test> <{}>\r\n\r\nThanks, Sam.\r\n",
        reply.message_id, reply.message_id
    );
    mail.submit(SARAH, SAM, answer.as_bytes()).await;
    let events = eventually(30, "Sarah's answer perceived", || async {
        let e = perceived(&node, "issue-2@customer.test").await;
        (!e.is_empty()).then_some(e)
    })
    .await;
    let event = &events[0];
    assert_eq!(event["summary"], "email.reply");
    assert_eq!(event["payload"]["thread"], "issue-1@customer.test");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_that_is_hard_to_read_is_perceived_with_its_defined_outcome() {
    let mail = TestMailServer::start(&[SAM, SARAH]);
    let data = tempfile::tempdir().unwrap();
    let node = start_node(&mail, data.path());

    // Damaged MIME: a multipart cut off before its close delimiter.
    let damaged = format!(
        "From: {SARAH}\r\nTo: {SAM}\r\nSubject: cut off\r\nMessage-ID: <damaged@customer.test>\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nthe part that made it\r\n--zz\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    );
    mail.submit(SARAH, SAM, damaged.as_bytes()).await;

    // Headers in Latin-1: an encoded word and raw 8-bit bytes.
    let mut latin: Vec<u8> = Vec::new();
    latin.extend_from_slice(
        format!("From: =?ISO-8859-1?Q?Ren=E9e_M=FCller?= <{SARAH}>\r\nTo: {SAM}\r\n").as_bytes(),
    );
    latin.extend_from_slice(b"Subject: =?ISO-8859-1?Q?R=E9sum=E9?= pr\xeat\r\n");
    latin.extend_from_slice(b"Message-ID: <latin@customer.test>\r\n");
    latin.extend_from_slice(b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nCaf\xe9\r\n");
    mail.submit(SARAH, SAM, &latin).await;

    // A 20 MB attachment.
    let payload: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
    let encoded = base64(&payload);
    let mut big = format!(
        "From: {SARAH}\r\nTo: {SAM}\r\nSubject: the logs\r\nMessage-ID: <big@customer.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nLogs attached.\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"logs.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    for line in encoded.as_bytes().chunks(76) {
        big.extend_from_slice(line);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b"--b1--\r\n");
    mail.submit(SARAH, SAM, &big).await;

    let inbox = |id: &'static str| {
        let node = &node;
        async move {
            let items = node
                .get_json(&format!("/api/v1/mail/inbox?address={SAM}&limit=50"))
                .await;
            items["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["message_id"] == id)
                .cloned()
        }
    };
    let d = eventually(60, "the damaged message", || inbox("damaged@customer.test")).await;
    assert!(
        d["body"]
            .as_str()
            .unwrap()
            .contains("the part that made it"),
        "{d}"
    );
    let l = eventually(60, "the Latin-1 message", || inbox("latin@customer.test")).await;
    assert_eq!(l["subject"], "Résumé prêt");
    assert_eq!(l["from"], format!("Renée Müller <{SARAH}>"));
    assert_eq!(l["body"].as_str().unwrap().trim(), "Café");
    eventually(90, "the 20 MB message", || inbox("big@customer.test")).await;

    // Attachments are files under the data dir: the original of the damaged message,
    // and the 20 MB one, whole.
    for (id, name) in [
        ("damaged@customer.test", "original.eml"),
        ("big@customer.test", "logs.bin"),
    ] {
        let events = eventually(60, "the message perceived", || async {
            let e = perceived(&node, id).await;
            (!e.is_empty()).then_some(e)
        })
        .await;
        assert_eq!(events.len(), 1, "{id}: {events:?}");
        let attachments = events[0]["payload"]["attachments"]
            .as_array()
            .unwrap()
            .clone();
        let a = attachments.iter().find(|a| a["name"] == name).unwrap();
        let path = a["path"].as_str().unwrap();
        assert!(
            path.starts_with(&data.path().display().to_string()),
            "{path}"
        );
        let kept = std::fs::read(path).unwrap();
        assert_eq!(a["size"], kept.len() as u64, "{a}");
        if name == "logs.bin" {
            assert!(kept == payload, "the attachment is kept byte for byte");
        } else {
            // The whole message as delivered (the server adds its trace headers).
            let text = String::from_utf8_lossy(&kept);
            assert!(text.contains("the part that made it") && text.contains("JVBERi0xLjQK"));
        }
    }
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_an_address_the_server_does_not_know_fails_saying_so() {
    let mail = TestMailServer::start(&[SAM]);
    let data = tempfile::tempdir().unwrap();
    let node = start_node(&mail, data.path());
    autonomous(&node, "sam.rivera").await;

    // ghost@customer.test has no mailbox: the server refuses Sam's answer at RCPT.
    mail.submit(
        "ghost@customer.test",
        SAM,
        &issue_mail(
            "ghost@customer.test",
            "ghost-1@customer.test",
            "Login is broken",
        ),
    )
    .await;
    let action = node
        .actions_when("sam.rivera", "email.reply", "failed", 1, 60)
        .await
        .remove(0);
    let error = action["result"]["error"].as_str().unwrap();
    assert!(error.contains("refused"), "{error}");
    assert!(error.contains("ghost@customer.test"), "{error}");
    // The message itself was perceived, and is in the node's copy of Sam's inbox.
    assert_eq!(perceived(&node, "ghost-1@customer.test").await.len(), 1);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_read_again_after_a_crash_is_perceived_and_answered_once() {
    let mail = TestMailServer::start(&[SAM, SARAH]);
    let data = tempfile::tempdir().unwrap();
    let node = start_node(&mail, data.path());
    autonomous(&node, "sam.rivera").await;
    mail.submit(
        SARAH,
        SAM,
        &issue_mail(SARAH, "again-1@customer.test", "Sync is broken"),
    )
    .await;
    let client = mail.client(&[SARAH, SAM]);
    eventually(60, "the first reply", || async {
        imap_inbox(&client, SARAH).await.into_iter().next()
    })
    .await;
    drop(node); // killed, no graceful stop

    // As if the node had crashed after committing the message but before `\Seen` and
    // before intake's cursor moved past it.
    let db = format!("sqlite://{}", data.path().join("empla.db").display());
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    sqlx::query("UPDATE mail_cursors SET next_uid = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let login = client.logins.of(SAM).unwrap();
    let mut sams = Mailbox::open(&client, SAM, &login).await.unwrap();
    let all = sams.search("ALL").await.unwrap();
    sams.set_seen(&all, false).await.unwrap();
    assert_eq!(sams.unseen().await.unwrap().len(), 1);
    sams.logout().await;

    let node = start_binary_with(
        data.path(),
        Some(TOKEN),
        &node_env(&mail, data.path(), &[SAM]),
    );
    eventually(60, "the message read again and seen", || async {
        (unseen(&client, SAM).await == 0).then_some(())
    })
    .await;
    // Give a wrongly repeated answer the time to arrive, then count.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(perceived(&node, "again-1@customer.test").await.len(), 1);
    assert_eq!(imap_inbox(&client, SARAH).await.len(), 1, "answered once");
    node.terminate();
}

/// Standard base64 with padding, for the test's attachment.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_be_stored_is_parked_and_intake_goes_on() {
    let mail = TestMailServer::start(&[SAM, SARAH]);
    let data = tempfile::tempdir().unwrap();
    let mut env = node_env(&mail, data.path(), &[SAM]);
    env.push(("EMPLA_MAIL__PARK_AFTER", "3".into()));
    env.push(("EMPLA_MAIL__PARK_FOLDER", "Needs a human".into()));
    let node = start_binary_with(data.path(), Some(TOKEN), &env);
    // The store refuses this one every time (the test-only failpoint); the next one is
    // an ordinary message behind it.
    mail.submit(
        SARAH,
        SAM,
        &issue_mail(
            SARAH,
            "stuck-1@customer.test",
            "[failpoint:mail-store] Export",
        ),
    )
    .await;
    mail.submit(
        SARAH,
        SAM,
        &issue_mail(SARAH, "behind-1@customer.test", "Sync is broken"),
    )
    .await;
    eventually(60, "the message behind it taken in", || async {
        (perceived(&node, "behind-1@customer.test").await.len() == 1).then_some(())
    })
    .await;
    // Tried three times (1 s, then 2 s apart), then flagged and moved for a human.
    let client = mail.client(&[SARAH, SAM]);
    let login = client.logins.of(SAM).unwrap();
    eventually(60, "the stuck message parked", || async {
        let mut sams = Mailbox::open(&client, SAM, &login).await.unwrap();
        let inbox = sams.search("ALL").await.unwrap().len();
        let parked = match sams.select("Needs a human").await {
            Ok(()) => sams.search("FLAGGED").await.unwrap().len(),
            Err(_) => 0,
        };
        sams.logout().await;
        (inbox == 1 && parked == 1).then_some(())
    })
    .await;
    // The employee was told; the parked message was never perceived as mail.
    let told = eventually(30, "the employee told of the parked message", || async {
        let episodes = node
            .get_json("/api/v1/employees/sam.rivera/episodes?limit=200")
            .await;
        episodes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["payload"]["folder"] == "Needs a human")
            .cloned()
    })
    .await;
    assert_eq!(told["summary"], "email.parked", "{told}");
    assert!(
        told["payload"]["error"]
            .as_str()
            .unwrap()
            .contains("failpoint"),
        "{told}"
    );
    assert!(perceived(&node, "stuck-1@customer.test").await.is_empty());
    let metrics = node
        .client()
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("empla_mail_parked_total 1"), "{metrics}");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_another_client_marked_read_is_still_taken_in() {
    let mail = TestMailServer::start(&[SAM, SARAH]);
    let data = tempfile::tempdir().unwrap();
    let node = start_node(&mail, data.path());
    mail.submit(
        SARAH,
        SAM,
        &issue_mail(SARAH, "first-1@customer.test", "Export"),
    )
    .await;
    eventually(60, "the first message taken in", || async {
        (perceived(&node, "first-1@customer.test").await.len() == 1).then_some(())
    })
    .await;
    node.terminate();

    // While the node is down a human reads the next message in another client.
    mail.submit(
        SARAH,
        SAM,
        &issue_mail(SARAH, "read-1@customer.test", "Sync is broken"),
    )
    .await;
    let client = mail.client(&[SARAH, SAM]);
    let login = client.logins.of(SAM).unwrap();
    eventually(30, "the second message delivered", || async {
        let mut sams = Mailbox::open(&client, SAM, &login).await.unwrap();
        let all = sams.search("ALL").await.unwrap();
        let delivered = all.len() == 2;
        if delivered {
            sams.set_seen(&all, true).await.unwrap();
        }
        sams.logout().await;
        delivered.then_some(())
    })
    .await;
    assert_eq!(unseen(&client, SAM).await, 0);

    let node = start_node(&mail, data.path());
    eventually(60, "the message read elsewhere taken in", || async {
        (perceived(&node, "read-1@customer.test").await.len() == 1).then_some(())
    })
    .await;
    assert_eq!(perceived(&node, "first-1@customer.test").await.len(), 1);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_request_by_smtp_is_answered_with_the_proposal_pdf_attached() {
    const JORDAN: &str = "jordan.lee@example.test";
    crate::documents::readers();
    let mail = TestMailServer::start(&[JORDAN, SARAH]);
    let data = tempfile::tempdir().unwrap();
    let env = node_env(&mail, data.path(), &[JORDAN]);
    let node = start_binary_with(data.path(), Some(TOKEN), &env);
    autonomous(&node, "jordan.lee").await;
    let ask = format!(
        "From: Sarah Chen <{SARAH}>\r\nTo: Jordan Lee <{JORDAN}>\r\nSubject: A quote for 40 seats?\r\nMessage-ID: <quote-1@customer.test>\r\nDate: Sat, 5 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi Jordan, could you send us a quote for 40 seats?\r\n"
    );
    mail.submit(SARAH, JORDAN, ask.as_bytes()).await;

    // The reply comes over SMTP to Sarah's IMAP inbox, with the PDF as a MIME part.
    let client = mail.client(&[SARAH, JORDAN]);
    let login = client.logins.of(SARAH).unwrap();
    let raw = eventually(60, "Jordan's reply in Sarah's IMAP inbox", || async {
        let mut mailbox = Mailbox::open(&client, SARAH, &login).await.unwrap();
        let all = mailbox.search("ALL").await.unwrap();
        let fetched = mailbox.fetch(&all).await.unwrap();
        mailbox.logout().await;
        fetched.into_iter().map(|(_, raw)| raw).next()
    })
    .await;
    let kept = tempfile::tempdir().unwrap();
    let reply = mime::parse(&raw, 1 << 30, chrono::Utc::now())
        .save(kept.path())
        .await
        .unwrap();
    assert_eq!(reply.in_reply_to.as_deref(), Some("quote-1@customer.test"));
    assert!(
        reply.body.contains("proposal for 40 seats"),
        "{}",
        reply.body
    );
    assert_eq!(reply.attachments.len(), 1, "{:?}", reply.attachments);
    assert_eq!(reply.attachments[0].content_type, "application/pdf");
    assert!(
        reply.attachments[0]
            .name
            .starts_with("Proposal for Customer"),
        "{}",
        reply.attachments[0].name
    );
    let pdf = std::fs::read(reply.attachments[0].path.as_ref().unwrap()).unwrap();
    let text = crate::documents::pdf_text(&pdf);
    assert!(text.contains("Sarah Chen"), "{text}");
    assert!(text.contains("$19,200.00"), "{text}");
    // The same proposal is the node's document, and the deal took its total.
    let listed = node.get_json("/api/v1/documents?kind=proposal").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let account = listed["items"][0]["account"].as_str().unwrap().to_string();
    let deals = node
        .get_json(&format!("/api/v1/crm/deals?account={account}"))
        .await;
    assert_eq!(deals["items"][0]["stage"], "proposal");
    assert_eq!(deals["items"][0]["amount"], 19200.0);
    node.terminate();
}
