//! The Recruiter at work through the real binary and a real mail server (Postfix and
//! Dovecot from `tests/mail/server.sh`), on the demo requisitions shipped in
//! `config/demo/requisitions.toml`. Candidates apply by SMTP with CVs made here (a PDF
//! with reportlab, a DOCX with python-docx); what a company sees is checked: the
//! candidate's record through the API and the CLI, and the mail each candidate gets in
//! their IMAP inbox — interview times or a kind decline, never both; a kind answer
//! saying what is missing for a mail without a CV, with a CV that cannot be read, or
//! for no open role; a stage change made by hand told to the candidate in their thread.

use super::common::{NodeProcess, TOKEN, eventually, start_binary_with};
use super::mail_fixture::TestMailServer;
use empla::capabilities::email::imap::Mailbox;
use empla::capabilities::email::{MailServer, mime};
use empla::model::MailMessage;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const RILEY: &str = "riley.park@example.test";
const ADA: &str = "ada@customer.test";
const BORIS: &str = "boris@customer.test";
const CLEO: &str = "cleo@customer.test";
const DEV: &str = "dev@customer.test";
const EVE: &str = "eve@customer.test";

/// A mail server with the Recruiter's and the candidates' accounts, and a node on it
/// with Riley Park, a Recruiter, hired and autonomous.
async fn start(candidates: &[&str]) -> (TestMailServer, tempfile::TempDir, NodeProcess) {
    crate::documents::readers();
    let mut accounts = vec![RILEY];
    accounts.extend(candidates);
    let mail = TestMailServer::start(&accounts);
    let data = tempfile::tempdir().unwrap();
    TestMailServer::write_credentials(&data.path().join("mail-credentials.toml"), &[RILEY]);
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
    let hired = node
        .client()
        .post(node.url("/api/v1/employees"))
        .bearer_auth(&node.token)
        .json(&json!({"role": "recruiter", "name": "Riley Park",
            "manager": {"kind": "human", "name": "Dana Wu", "email": "dana.wu@example.com"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(hired.status(), 201, "{}", hired.text().await.unwrap());
    node.set_phase("riley.park", "autonomous").await;
    (mail, data, node)
}

/// A CV written by Python: `tool` is `pdf` (reportlab) or `docx` (python-docx), one
/// line of text each.
fn make_cv(dir: &Path, tool: &str, lines: &[&str]) -> Vec<u8> {
    let script = match tool {
        "pdf" => {
            "import sys\nfrom reportlab.pdfgen import canvas\nc = canvas.Canvas(sys.argv[1])\ny = 800\nfor line in sys.argv[2:]:\n    c.drawString(72, y, line)\n    y -= 18\nc.save()\n"
        }
        _ => {
            "import sys, docx\nd = docx.Document()\nfor line in sys.argv[2:]:\n    d.add_paragraph(line)\nd.save(sys.argv[1])\n"
        }
    };
    let file = dir.join(format!("cv.{tool}"));
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .args(lines)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&file).unwrap()
}

/// An application mail from `from` to the Recruiter, with `attached` as (file name,
/// MIME type, content).
fn application(
    from: &str,
    id: &str,
    subject: &str,
    body: &str,
    attached: Option<(&str, &str, Vec<u8>)>,
) -> Vec<u8> {
    let builder = lettre::Message::builder()
        .from(from.parse().unwrap())
        .to(format!("Riley Park <{RILEY}>").parse().unwrap())
        .subject(subject)
        .message_id(Some(format!("<{id}>")));
    let text = SinglePart::plain(body.to_string());
    let m = match attached {
        Some((name, ct, bytes)) => builder
            .multipart(MultiPart::mixed().singlepart(text).singlepart(
                Attachment::new(name.to_string()).body(bytes, ContentType::parse(ct).unwrap()),
            ))
            .unwrap(),
        None => builder.singlepart(text).unwrap(),
    };
    m.formatted()
}

/// Every message in `address`'s IMAP inbox, parsed.
async fn inbox(server: &MailServer, address: &str) -> Vec<MailMessage> {
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

/// The first mail in `address`'s inbox answering `message_id`.
async fn answer_to(client: &MailServer, address: &str, message_id: &str) -> MailMessage {
    eventually(60, &format!("the answer to {message_id}"), || async {
        inbox(client, address)
            .await
            .into_iter()
            .find(|m| m.in_reply_to.as_deref() == Some(message_id))
    })
    .await
}

/// The candidate with `email`, once they are in `stage`.
async fn candidate_in(node: &NodeProcess, email: &str, stage: &str) -> Value {
    eventually(60, &format!("{email} in stage {stage}"), || async {
        let list = node
            .get_json(&format!("/api/v1/recruiting/candidates?email={email}"))
            .await;
        list["items"]
            .as_array()
            .and_then(|i| i.first().cloned())
            .filter(|c| c["stage"] == stage)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_with_a_cv_are_screened_then_offered_times_or_kindly_declined() {
    let (mail, data, node) = start(&[ADA, BORIS]).await;
    let open = node
        .get_json("/api/v1/recruiting/requisitions?status=open")
        .await;
    let backend = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Senior Backend Engineer")
        .cloned()
        .expect("the demo requisition is open");

    let strong = make_cv(
        data.path(),
        "pdf",
        &[
            "Ada Byron - Backend Engineer",
            "2019-2026 Ledgerly: built the payments ledger in Rust (tokio, axum)",
            "Ran PostgreSQL clusters with logical replication",
            "Designed a Raft-based replicated log for distributed systems",
        ],
    );
    mail.submit(
        ADA,
        RILEY,
        &application(
            &format!("Ada Byron <{ADA}>"),
            "apply-ada@customer.test",
            "Application: Senior Backend Engineer",
            "Hello Riley,\n\nI'm applying for the Senior Backend Engineer role; my CV is attached.\n\nAda",
            Some(("Ada Byron CV.pdf", "application/pdf", strong)),
        ),
    )
    .await;
    let weak = make_cv(
        data.path(),
        "docx",
        &[
            "Boris Petrov",
            "Frontend developer: React, TypeScript, CSS",
            "Some experience with PostgreSQL queries",
        ],
    );
    mail.submit(
        BORIS,
        RILEY,
        &application(
            &format!("Boris Petrov <{BORIS}>"),
            "apply-boris@customer.test",
            "Applying for Senior Backend Engineer",
            "Hi, please find my resume attached.\nBoris",
            Some((
                "boris.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                weak,
            )),
        ),
    )
    .await;

    // Ada: recorded with her CV, screened with the evidence, invited to interview.
    let ada = candidate_in(&node, ADA, "interview").await;
    assert_eq!(ada["requisition"], backend["id"]);
    assert_eq!(ada["source"], "application");
    assert_eq!(ada["name"], "Ada Byron");
    assert!(ada["cv_text"].as_str().unwrap().contains("payments ledger"));
    assert!(
        Path::new(ada["cv_path"].as_str().unwrap()).exists(),
        "the CV is kept"
    );
    let screening = &ada["screening"];
    assert_eq!(screening["decision"], "interview");
    assert_eq!(ada["score"], 0.88, "{screening}");
    let found: Vec<(&str, &str)> = screening["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["requirement"].as_str().unwrap(),
                e["evidence"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "Rust");
    assert!(found[0].1.contains("payments ledger in Rust"), "{found:?}");
    assert_eq!(screening["missing"], json!(["production operations"]));

    let client = mail.client(&[ADA, BORIS]);
    let offer = answer_to(&client, ADA, "apply-ada@customer.test").await;
    assert!(
        offer.body.contains("invite you to an interview"),
        "{}",
        offer.body
    );
    assert!(offer.body.contains("Rust, PostgreSQL"), "{}", offer.body);
    assert!(
        offer.body.contains("Reply with the number"),
        "{}",
        offer.body
    );
    let record = node
        .get_json(&format!(
            "/api/v1/recruiting/candidates/{}",
            ada["id"].as_str().unwrap()
        ))
        .await;
    let stages: Vec<&str> = record["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["applied", "screened", "interview"]);

    // Boris: declined kindly, saying what the role needs that the CV does not show.
    let boris = candidate_in(&node, BORIS, "declined").await;
    assert_eq!(boris["screening"]["missing_must_haves"], json!(["Rust"]));
    assert!(
        boris["cv_text"].as_str().unwrap().contains("React"),
        "{boris}"
    );
    let decline = answer_to(&client, BORIS, "apply-boris@customer.test").await;
    assert!(
        decline.body.contains("won't be moving forward"),
        "{}",
        decline.body
    );
    assert!(decline.body.contains("Rust"), "{}", decline.body);

    // Never both: each got exactly one answer; the panel's times went to Ada only.
    let riley = "/api/v1/employees/riley.park/actions?limit=100";
    let actions = node.get_json(riley).await;
    let kinds: Vec<&str> = actions["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "done")
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "calendar.propose").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "email.reply").count(),
        1,
        "{kinds:?}"
    );
    let answers = |msgs: Vec<MailMessage>, to: &str| {
        msgs.iter()
            .filter(|m| m.in_reply_to.as_deref() == Some(to))
            .count()
    };
    assert_eq!(
        answers(inbox(&client, ADA).await, "apply-ada@customer.test"),
        1
    );
    assert_eq!(inbox(&client, BORIS).await.len(), 1);

    // A stage change made by hand (the CLI) is told to Ada in her thread.
    let out = node.cli(&[
        "recruiting",
        "candidates",
        "move",
        ada["id"].as_str().unwrap(),
        "--stage",
        "offer",
        "--reason",
        "the panel recommends hiring you",
    ]);
    assert!(out.contains("is now offer"), "{out}");
    let told = eventually(60, "Ada told of the offer stage", || async {
        inbox(&client, ADA)
            .await
            .into_iter()
            .find(|m| m.body.contains("preparing an offer"))
    })
    .await;
    assert_eq!(
        told.references.first().map(String::as_str),
        Some("apply-ada@customer.test"),
        "in her thread"
    );
    let listed = node.cli(&["recruiting", "candidates", "list", "--stage", "offer"]);
    assert!(
        listed.contains("Ada Byron <ada@customer.test>  offer  application  score 88%"),
        "{listed}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_that_cannot_be_screened_get_a_kind_answer_saying_what_is_missing() {
    let (mail, _data, node) = start(&[CLEO, DEV, EVE]).await;
    mail.submit(
        CLEO,
        RILEY,
        &application(
            &format!("Cleo Marsh <{CLEO}>"),
            "apply-cleo@customer.test",
            "Application for Senior Backend Engineer",
            "Hi Riley, I'd love to apply. Cleo",
            None,
        ),
    )
    .await;
    mail.submit(
        DEV,
        RILEY,
        &application(
            &format!("Dev Patel <{DEV}>"),
            "apply-dev@customer.test",
            "Application: Senior Backend Engineer",
            "My CV is attached.",
            Some((
                "dev.pdf",
                "application/pdf",
                b"%PDF-1.4 this is not a PDF at all".to_vec(),
            )),
        ),
    )
    .await;
    mail.submit(
        EVE,
        RILEY,
        &application(
            &format!("Eve Stone <{EVE}>"),
            "apply-eve@customer.test",
            "Application: Head of Sales",
            "I am applying for the Head of Sales position; my resume is attached.",
            Some((
                "eve.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                make_cv(
                    _data.path(),
                    "docx",
                    &["Eve Stone", "Sales leader for ten years"],
                ),
            )),
        ),
    )
    .await;

    let client = mail.client(&[CLEO, DEV, EVE]);
    let cleo = answer_to(&client, CLEO, "apply-cleo@customer.test").await;
    assert!(cleo.body.contains("no CV was attached"), "{}", cleo.body);
    assert!(cleo.body.contains("PDF or DOCX"), "{}", cleo.body);
    let dev = answer_to(&client, DEV, "apply-dev@customer.test").await;
    assert!(
        dev.body.contains("I could not read your CV (dev.pdf)"),
        "{}",
        dev.body
    );
    let eve = answer_to(&client, EVE, "apply-eve@customer.test").await;
    assert!(
        eve.body.contains("which of our open positions"),
        "{}",
        eve.body
    );
    assert!(eve.body.contains("Senior Backend Engineer"), "{}", eve.body);
    // Nothing was recorded for them.
    let all = node.get_json("/api/v1/recruiting/candidates").await;
    assert_eq!(all["items"], json!([]), "{all}");

    // Bad input through the API is named, field by field; a requisition opened by the
    // CLI is listed.
    let bad = node
        .client()
        .post(node.url("/api/v1/recruiting/requisitions"))
        .bearer_auth(&node.token)
        .json(&json!({"title": "", "requirements": [], "hiring_manager": "dana"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let e: Value = bad.json().await.unwrap();
    let m = e["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("`title`") && m.contains("`requirements`") && m.contains("`hiring_manager`"),
        "{m}"
    );
    let unknown = node
        .client()
        .get(node.url("/api/v1/recruiting/candidates?stage=limbo"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.unwrap().contains("use one of sourced"));
    let missing = node
        .client()
        .get(node.url("/api/v1/recruiting/candidates/nope"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let out = node.cli(&[
        "recruiting",
        "requisitions",
        "add",
        "--title",
        "Site Reliability Engineer",
        "--hiring-manager",
        "Dana Wu <dana.wu@example.com>",
        "--requirement",
        "Kubernetes:2:must",
        "--requirement",
        "on-call",
    ]);
    assert!(out.contains("opened requisition"), "{out}");
    let listed = node.cli(&["recruiting", "requisitions", "list", "--status", "open"]);
    assert!(listed.contains("Site Reliability Engineer  open  hiring manager Dana Wu <dana.wu@example.com>  needs: Kubernetes (must), on-call"), "{listed}");
    let wrong = node.run_cli(&[
        "recruiting",
        "requisitions",
        "add",
        "--title",
        "X",
        "--hiring-manager",
        "a@b.example",
        "--requirement",
        "Go:lots",
    ]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("the weight \"lots\" is not a number"));
    node.terminate();
}
