//! Meetings at transcript level through the real binary on the embedded default: a
//! meeting booked with the calendar API, its transcript posted, and what a company
//! sees — the notes stored with the meeting (API and CLI), the notes mail in each
//! attendee's inbox with the action items, owners and due dates, the employee's own
//! items as its tasks taken up as intentions; the same transcript again doing nothing
//! twice, a newer one replacing the notes and saying so; each bad input refused,
//! naming what was wrong. Then the same by mail, through a real mail server (Postfix
//! and Dovecot from `tests/mail/server.sh`): a WebVTT transcript attached to a mail
//! naming the meeting.

use super::calendar::next_weekday_at_ten;
use super::common::{NodeProcess, TOKEN, eventually, start_binary, start_binary_with};
use super::mail_fixture::TestMailServer;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use empla::capabilities::email::imap::Mailbox;
use empla::capabilities::email::mime;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use serde_json::{Value, json};

const SARAH: &str = "sarah@acme.com";
const PRIYA: &str = "priya@acme.com";

const TRANSCRIPT: &str = "\
[00:00:05] Jordan Lee: Thanks for making the time. The pilot went well and the team wants to expand to 40 seats.
[00:01:10] Sarah Chen: Budget is approved for the first quarter, but legal needs to review the data processing terms.
[00:02:30] Jordan Lee: Let's go with the annual plan then. I'll send the revised proposal by Friday.
[00:03:15] Sarah: I will get legal's comments on the DPA by next week.
[00:04:00] Priya: Action: schedule the onboarding kickoff (owner: Jordan)
";

/// The mail in `address`'s inbox whose subject starts with `prefix`.
async fn mails(node: &NodeProcess, address: &str, prefix: &str) -> Vec<Value> {
    node.get_json(&format!("/api/v1/mail/inbox?address={address}&limit=100"))
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().starts_with(prefix))
        .cloned()
        .collect()
}

/// Jordan's tasks from the meeting.
async fn meeting_tasks(node: &NodeProcess) -> Vec<Value> {
    node.get_json("/api/v1/employees/jordan.lee/tasks?limit=100")
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["channel"] == "meeting")
        .cloned()
        .collect()
}

/// The next `day` strictly after `from`.
fn next(from: NaiveDate, day: Weekday) -> NaiveDate {
    let mut d = from + Duration::days(1);
    while d.weekday() != day {
        d += Duration::days(1);
    }
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_transcript_becomes_notes_mail_and_the_employees_own_tasks() {
    let data = tempfile::tempdir().unwrap();
    let node = start_binary(data.path());
    node.set_phase("jordan.lee", "autonomous").await;
    let at = next_weekday_at_ten();
    let (status, booked) = node.post_json("/api/v1/employees/jordan.lee/calendar",
        json!({"title": "Acme expansion", "attendees": [format!("Sarah Chen <{SARAH}>"), format!("Priya Shah <{PRIYA}>")], "start": at, "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    let uid = booked["event"]["uid"].as_str().unwrap().to_string();

    let (status, taken) = node
        .post_json(
            &format!("/api/v1/meetings/{uid}/transcript"),
            json!({"transcript": TRANSCRIPT, "name": "acme.txt"}),
        )
        .await;
    assert_eq!(status, 202, "{taken}");
    assert_eq!(taken["status"], "accepted");
    assert_eq!(taken["replaces"], false);

    // The notes are stored with the meeting.
    let notes = eventually(30, "the meeting's notes", || async {
        node.get_ok(&format!("/api/v1/meetings/{uid}/notes")).await
    })
    .await;
    let friday = next(at.date_naive(), Weekday::Fri);
    let items: Vec<(String, String, Value)> = notes["action_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["text"].as_str().unwrap().to_string(),
                i["owner"].as_str().unwrap_or("").to_string(),
                i["due"].clone(),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            (
                "Send the revised proposal by Friday".to_string(),
                "Jordan Lee".to_string(),
                json!(friday.to_string())
            ),
            (
                "Get legal's comments on the DPA by next week".to_string(),
                "Sarah Chen".to_string(),
                notes["action_items"][1]["due"].clone()
            ),
            (
                "Schedule the onboarding kickoff".to_string(),
                "Jordan Lee".to_string(),
                Value::Null
            ),
        ],
        "{notes}"
    );
    assert!(notes["action_items"][1]["due"].is_string(), "{notes}");
    assert_eq!(
        notes["decisions"][0]["text"],
        "Let's go with the annual plan then"
    );
    assert_eq!(notes["revision"], 1);
    assert_eq!(notes["title"], "Acme expansion");

    // Every attendee gets the notes by mail, with the action items, owners and due
    // dates.
    for address in [SARAH, PRIYA] {
        let got = eventually(30, "the notes mail", || async {
            let m = mails(&node, address, "Notes: Acme expansion").await;
            (!m.is_empty()).then_some(m)
        })
        .await;
        let body = got[0]["body"].as_str().unwrap();
        assert!(
            body.contains(&format!(
                "- Jordan Lee: Send the revised proposal by Friday (due {friday})"
            )),
            "{body}"
        );
        assert!(
            body.contains("- Sarah Chen: Get legal's comments on the DPA by next week"),
            "{body}"
        );
        assert!(
            body.contains("- Let's go with the annual plan then"),
            "{body}"
        );
        assert!(
            body.contains("- Sarah Chen: Budget is approved for the first quarter"),
            "{body}"
        );
    }

    // Jordan's own items are its tasks, taken up as intentions; Sarah's are not.
    let tasks = eventually(30, "Jordan's tasks taken up", || async {
        let t = meeting_tasks(&node).await;
        (t.len() == 2 && t.iter().all(|t| t["status"] != "accepted")).then_some(t)
    })
    .await;
    let proposal = tasks
        .iter()
        .find(|t| {
            t["description"]
                .as_str()
                .unwrap()
                .starts_with("Send the revised proposal by Friday")
        })
        .unwrap_or_else(|| panic!("{tasks:?}"));
    assert_eq!(
        proposal["status"], "in_progress",
        "kept until due: {proposal}"
    );
    assert!(
        proposal["deadline"]
            .as_str()
            .unwrap()
            .starts_with(&friday.to_string()),
        "{proposal}"
    );
    assert!(
        tasks
            .iter()
            .all(|t| !t["description"].as_str().unwrap().contains("legal")),
        "{tasks:?}"
    );

    // The same transcript again: nothing is mailed or assigned twice.
    let (status, again) = node
        .post_json(
            &format!("/api/v1/meetings/{uid}/transcript"),
            json!({"transcript": TRANSCRIPT}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "unchanged");
    // A newer transcript replaces the notes, and the mail says so.
    let newer = format!(
        "{TRANSCRIPT}[00:05:00] Sarah Chen: We decided to start on the first of the month.\n"
    );
    let (status, replaced) = node
        .post_json(
            &format!("/api/v1/meetings/{uid}/transcript"),
            json!({"transcript": newer}),
        )
        .await;
    assert_eq!(status, 202, "{replaced}");
    assert_eq!(replaced["replaces"], true);
    let updated = eventually(30, "the updated notes mail", || async {
        let m = mails(&node, SARAH, "Updated notes: Acme expansion").await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    let body = updated[0]["body"].as_str().unwrap();
    assert!(body.contains("replace the ones I sent earlier"), "{body}");
    assert!(
        body.contains("- We decided to start on the first of the month"),
        "{body}"
    );
    let stored = node
        .get_json(&format!("/api/v1/meetings/{uid}/notes"))
        .await;
    assert_eq!(stored["revision"], 2, "{stored}");
    assert_eq!(mails(&node, SARAH, "Notes: Acme expansion").await.len(), 1);
    assert_eq!(meeting_tasks(&node).await.len(), 2);

    // The CLI shows the notes, and takes a WebVTT file for another meeting.
    let shown = node.cli(&["meetings", "notes", &uid]);
    assert!(shown.contains("revision 2"), "{shown}");
    assert!(
        shown.contains("Jordan Lee: Send the revised proposal by Friday"),
        "{shown}"
    );
    let (_, second) = node.post_json("/api/v1/employees/jordan.lee/calendar",
        json!({"title": "Acme security review", "attendees": [SARAH], "start": at + Duration::hours(2), "duration_minutes": 30}),
    )
    .await;
    let second = second["event"]["uid"].as_str().unwrap().to_string();
    let vtt = data.path().join("review.vtt");
    std::fs::write(
        &vtt,
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Sarah Chen>We need the SOC 2 report before signing.</v>\n\n00:00:04.000 --> 00:00:08.000\n<v Jordan Lee>I can take the SOC 2 report request by tomorrow.</v>\n",
    )
    .unwrap();
    let out = node.cli(&["meetings", "transcript", &second, vtt.to_str().unwrap()]);
    assert!(out.starts_with("taken: "), "{out}");
    assert!(
        out.contains("Jordan Lee: Take the SOC 2 report request by tomorrow"),
        "{out}"
    );
    eventually(30, "the security review's notes mail", || async {
        (!mails(&node, SARAH, "Notes: Acme security review")
            .await
            .is_empty())
        .then_some(())
    })
    .await;

    // Each bad input is refused, naming what was wrong.
    let (status, e) = node
        .post_json(
            "/api/v1/meetings/no-such-meeting@example.com/transcript",
            json!({"transcript": TRANSCRIPT}),
        )
        .await;
    assert_eq!(status, 404, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/employees/{id}/calendar"),
        "{e}"
    );
    let (status, e) = node
        .post_json(
            &format!("/api/v1/meetings/{uid}/transcript"),
            json!({"transcript": "  \n"}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("empty"),
        "{e}"
    );
    let (status, e) = node
        .post_json(
            &format!("/api/v1/meetings/{uid}/transcript"),
            json!({"transcript": "we talked about the budget and went home"}),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("WebVTT"),
        "{e}"
    );
    let r = node
        .client()
        .get(node.url("/api/v1/meetings/no-such-meeting@example.com/notes"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Over `api.max_body_bytes` (1 MiB): on a connection of its own, which the
    // server closes after answering.
    let r = reqwest::Client::new()
        .post(node.url(&format!("/api/v1/meetings/{uid}/transcript")))
        .bearer_auth(&node.token)
        .json(&json!({"transcript": "Sarah: hello. ".repeat(80_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    node.terminate();
}

const RILEY: &str = "riley.park@example.test";
const ADA: &str = "ada@customer.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_mailed_as_an_attachment_becomes_the_meetings_notes() {
    let mail = TestMailServer::start(&[RILEY, ADA]);
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
    let (status, hired) = node
        .post_json(
            "/api/v1/employees",
            json!({"role": "recruiter", "name": "Riley Park",
            "manager": {"kind": "human", "name": "Dana Wu", "email": "dana.wu@example.com"}}),
        )
        .await;
    assert_eq!(status, 201, "{hired}");
    node.set_phase("riley.park", "autonomous").await;
    let at = next_weekday_at_ten();
    let (status, booked) = node.post_json("/api/v1/employees/riley.park/calendar",
        json!({"title": "Reference check", "attendees": [format!("Ada Byron <{ADA}>")], "start": at, "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    let uid = booked["event"]["uid"].as_str().unwrap().to_string();

    let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n<v Ada Byron>Both referees were positive about the candidate's work.</v>\n\n00:00:05.000 --> 00:00:09.000\n<v Ada Byron>I will send the written references by Friday.</v>\n\n00:00:09.000 --> 00:00:12.000\n<v Riley Park>I'll book the final interview tomorrow.</v>\n";
    let raw = lettre::Message::builder()
        .from(format!("Ada Byron <{ADA}>").parse().unwrap())
        .to(format!("Riley Park <{RILEY}>").parse().unwrap())
        .subject("Transcript: Reference check")
        .message_id(Some("<transcript-1@customer.test>".into()))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(
                    "Hi Riley, the transcript is attached.".to_string(),
                ))
                .singlepart(Attachment::new("reference-check.vtt".into()).body(
                    vtt.as_bytes().to_vec(),
                    ContentType::parse("text/vtt").unwrap(),
                )),
        )
        .unwrap()
        .formatted();
    mail.submit(ADA, RILEY, &raw).await;

    let notes = eventually(60, "the mailed transcript's notes", || async {
        node.get_ok(&format!("/api/v1/meetings/{uid}/notes")).await
    })
    .await;
    assert_eq!(notes["source"], "email", "{notes}");
    assert_eq!(notes["name"], "reference-check.vtt", "{notes}");
    let friday = next(at.date_naive(), Weekday::Fri);
    assert_eq!(notes["action_items"][0]["owner"], "Ada Byron", "{notes}");
    assert_eq!(
        notes["action_items"][0]["due"],
        friday.to_string(),
        "{notes}"
    );
    assert_eq!(notes["action_items"][1]["owner"], "Riley Park", "{notes}");
    assert_eq!(notes["action_items"][1]["mine"], true, "{notes}");

    // Ada gets the notes in her mailbox; Riley's own item is its task.
    let client = mail.client(&[ADA]);
    let got = eventually(60, "the notes in Ada's mailbox", || async {
        let login = client.logins.of(ADA).unwrap();
        let mut mailbox = Mailbox::open(&client, ADA, &login).await.ok()?;
        let all = mailbox.search("ALL").await.ok()?;
        let fetched = mailbox.fetch(&all).await.ok()?;
        mailbox.logout().await;
        fetched
            .iter()
            .map(|(_, raw)| mime::parse(raw, 1 << 30, chrono::Utc::now()).message)
            .find(|m| m.subject.starts_with("Notes: Reference check"))
    })
    .await;
    assert!(
        got.body.contains(&format!(
            "- Ada Byron: Send the written references by Friday (due {friday})"
        )),
        "{}",
        got.body
    );
    assert!(
        got.body
            .contains("- Riley Park: Book the final interview tomorrow"),
        "{}",
        got.body
    );
    let tasks = node
        .get_json("/api/v1/employees/riley.park/tasks?limit=100")
        .await;
    let mine: Vec<&Value> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["channel"] == "meeting")
        .collect();
    assert_eq!(mine.len(), 1, "{tasks}");
    assert!(
        mine[0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Book the final interview tomorrow"),
        "{tasks}"
    );
    node.terminate();
}

/// The meeting rows on SQLite and PostgreSQL: a transcript is kept once; notes from
/// the transcript they came from change nothing, notes from another replace them and
/// count the revision up.
async fn notes_are_stored_once_per_transcript_and_replaced_by_another(store: empla::store::Store) {
    use empla::capabilities::meetings::{
        ActionItem, Decision, MeetingNotes, MeetingRecord, Note, Transcript,
    };
    use empla::model::{EmployeeId, TenantId};
    use empla::store::NotesTaken;
    let tenant = TenantId::new("meetings");
    let employee = EmployeeId::new();
    // Times are stored to the microsecond.
    let now =
        chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros()).unwrap();
    let transcript = |text: &str| Transcript {
        event_id: "m1@example.com".into(),
        hash: empla::capabilities::meetings::hash(text),
        employee_id: employee,
        source: "api".into(),
        name: Some("call.vtt".into()),
        text: text.into(),
        received_at: now,
    };
    let first = transcript("Alex: I'll send the deck by Friday.");
    store.put_meeting_transcript(&tenant, &first).await.unwrap();
    store.put_meeting_transcript(&tenant, &first).await.unwrap();
    assert_eq!(
        store
            .meeting_transcript(&tenant, "m1@example.com", &first.hash)
            .await
            .unwrap(),
        Some(first.clone())
    );
    let record = |hash: &str, decision: &str| MeetingRecord {
        event_id: "m1@example.com".into(),
        employee_id: employee,
        title: "Acme sync".into(),
        start: now,
        hash: hash.into(),
        source: "api".into(),
        name: None,
        notes: MeetingNotes {
            notes: vec![Note {
                speaker: Some("Alex".into()),
                text: "The rollout slipped two weeks.".into(),
            }],
            decisions: vec![Decision {
                text: decision.into(),
                by: None,
            }],
            action_items: vec![ActionItem {
                text: "Send the deck by Friday".into(),
                owner: Some("Alex Morgan".into()),
                owner_address: Some("alex@acme.com".into()),
                mine: false,
                due: NaiveDate::from_ymd_opt(2026, 12, 11),
                due_said: Some("by friday".into()),
                said_by: Some("Alex".into()),
            }],
        },
        revision: 1,
        taken_at: now,
    };
    let put = |r: MeetingRecord| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move { store.put_meeting_notes(&tenant, &r).await.unwrap() }
    };
    assert_eq!(
        put(record(&first.hash, "Phased rollout")).await,
        NotesTaken::New
    );
    assert_eq!(
        put(record(&first.hash, "Phased rollout")).await,
        NotesTaken::Unchanged(1)
    );
    assert_eq!(
        put(record("other", "Big bang")).await,
        NotesTaken::Replaced(2)
    );
    assert_eq!(
        put(record("third", "Phased")).await,
        NotesTaken::Replaced(3)
    );
    let stored = store
        .meeting_notes(&tenant, "m1@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.revision, 3);
    assert_eq!(stored.hash, "third");
    assert_eq!(stored.notes, record("third", "Phased").notes);
    assert_eq!(
        store
            .meeting_notes(&TenantId::new("other"), "m1@example.com")
            .await
            .unwrap(),
        None
    );
}

crate::on_every_store!(notes_are_stored_once_per_transcript_and_replaced_by_another);
