//! The Executive Assistant on a real mail server: the executive's mailbox has a login
//! in the credentials file, so the IMAP bridge watches it for the assistant. A message
//! to the executive is triaged, an urgent one reaches the executive by SMTP, and the
//! executive's own mail is left unread and in place.

use super::common::{TOKEN, eventually, start_binary_with};
use super::mail_fixture::TestMailServer;
use empla::capabilities::email::imap::Mailbox;
use empla::capabilities::email::{MailServer, mime};
use empla::model::MailMessage;
use serde_json::json;

const QUINN: &str = "quinn.park@example.test";
const ROBIN: &str = "robin.hayes@example.test";
const SARAH: &str = "sarah@customer.test";

/// `address`'s IMAP inbox, parsed, and how many of its messages are unseen.
async fn inbox(server: &MailServer, address: &str) -> (Vec<MailMessage>, usize) {
    let login = server.logins.of(address).unwrap();
    let mut mailbox = Mailbox::open(server, address, &login).await.unwrap();
    let all = mailbox.search("ALL").await.unwrap();
    let unseen = mailbox.unseen().await.unwrap().len();
    let fetched = mailbox.fetch(&all).await.unwrap();
    mailbox.logout().await;
    let parsed = fetched
        .iter()
        .map(|(_, raw)| mime::parse(raw, 1 << 30, chrono::Utc::now()).message)
        .collect();
    (parsed, unseen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executives_mailbox_is_read_for_them_and_left_unread() {
    let mail = TestMailServer::start(&[QUINN, ROBIN, SARAH]);
    let data = tempfile::tempdir().unwrap();
    TestMailServer::write_credentials(&data.path().join("mail-credentials.toml"), &[QUINN, ROBIN]);
    let env = vec![
        ("EMPLA_COMPANY_DOMAIN", "example.test".into()),
        ("EMPLA_MAIL__DRIVER", "server".into()),
        ("EMPLA_MAIL__SMTP_HOST", "127.0.0.1".into()),
        ("EMPLA_MAIL__SMTP_PORT", mail.port("SMTP_PORT").to_string()),
        ("EMPLA_MAIL__IMAP_HOST", "127.0.0.1".into()),
        ("EMPLA_MAIL__IMAP_PORT", mail.port("IMAP_PORT").to_string()),
        ("EMPLA_MAIL__CA_FILE", mail.ca_file().to_string()),
        ("EMPLA_MAIL__POLL_EVERY", "1s".into()),
    ];
    let node = start_binary_with(data.path(), Some(TOKEN), &env);
    // Quinn Park is hired as Robin's assistant (the EA role reads its manager's mail).
    let r = node
        .client()
        .post(node.url("/api/v1/employees"))
        .bearer_auth(&node.token)
        .json(&json!({"role": "ea", "name": "Quinn Park", "manager": {"kind": "human", "name": "Robin Hayes", "email": ROBIN}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = node
        .client()
        .put(node.url("/api/v1/employees/quinn.park/phase"))
        .bearer_auth(&node.token)
        .json(&json!({"phase": "autonomous"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);

    let raw = format!(
        "From: Sarah Chen <{SARAH}>\r\nTo: Robin Hayes <{ROBIN}>\r\nSubject: Export is down\r\nMessage-ID: <down-1@customer.test>\r\nDate: Sun, 6 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi Robin,\r\n\r\nThe export is down for all of our teams. We need it back immediately.\r\n\r\nSarah\r\n"
    );
    mail.submit(SARAH, ROBIN, raw.as_bytes()).await;

    let triaged = eventually(60, "Robin's mail triaged", || async {
        let v = node.get_json("/api/v1/employees/quinn.park/triage").await;
        v["items"]
            .as_array()
            .and_then(|i| i.first().cloned())
            .filter(|t| t["notified_at"].is_string())
    })
    .await;
    assert_eq!(triaged["message_id"], "down-1@customer.test");
    assert_eq!(triaged["label"], "urgent");
    assert_eq!(triaged["executive"], ROBIN);

    // The urgent notice reaches Robin by SMTP; Sarah's message is still unread there.
    let client = mail.client(&[ROBIN]);
    let (messages, unseen) = eventually(60, "the notice in Robin's IMAP inbox", || async {
        let (m, unseen) = inbox(&client, ROBIN).await;
        (m.len() == 2).then_some((m, unseen))
    })
    .await;
    let notice = messages
        .iter()
        .find(|m| m.subject == "Urgent: Export is down")
        .unwrap_or_else(|| panic!("{messages:?}"));
    assert!(notice.from.contains(QUINN), "{}", notice.from);
    assert!(
        notice
            .body
            .contains("From: Sarah Chen <sarah@customer.test>"),
        "{}",
        notice.body
    );
    assert_eq!(unseen, 2, "the assistant marks none of Robin's mail read");
    // The assistant's own notice in Robin's mailbox is not triaged as Robin's mail.
    let all = node.get_json("/api/v1/employees/quinn.park/triage").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
    node.terminate();
}
