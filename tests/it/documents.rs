//! Documents: a customer who asks "a quote for 40 seats?" gets a proposal PDF with the
//! right total attached to the reply, and the deal takes it; the PDF and the DOCX are
//! read back with real readers (poppler's `pdftotext`, python-docx); a discount beyond
//! the role's policy waits for the manager.

use super::common::{self, TestStore, eventually};
use empla::bdi::Phase;
use empla::capabilities::documents::{Document, DocumentFilter, Format};
use empla::lifecycle::HireRequest;
use empla::model::{ApprovalStatus, EmployeeId, MailMessage, OutgoingMail};
use empla::node::Node;
use empla::store::{DealFilter, Page};
use std::process::Command;

crate::on_every_test_store!(a_quote_request_is_answered_with_a_proposal_that_adds_up,);

/// Installs the readers (and the fonts) once per run when missing:
/// `tests/documents/readers.sh install`.
pub fn readers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/documents/readers.sh");
        let out = Command::new("bash")
            .args([script, "install"])
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{script} install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// `pdf` as text, as poppler's `pdftotext -layout` reads it.
pub fn pdf_text(pdf: &[u8]) -> String {
    readers();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `docx` as python-docx reads it: each paragraph as `STYLE: text`, then each table
/// cell's text.
pub fn docx_text(docx: &[u8]) -> String {
    readers();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.docx");
    std::fs::write(&file, docx).unwrap();
    let script = r#"
import sys, docx
d = docx.Document(sys.argv[1])
for p in d.paragraphs:
    style = p.style.name if p.style is not None else "Normal"
    print(f"{style}: {p.text}")
for t in d.tables:
    for r in t.rows:
        print(" | ".join(c.text for c in r.cells))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python-docx (pip install python-docx) reads it: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn autonomous_ae(node: &Node) -> (EmployeeId, String) {
    readers();
    let mut hire = HireRequest::new("sales_ae", "Jordan Lee");
    hire.manager = Some(empla::model::Manager::Human {
        name: "Alex Morgan".into(),
        email: "alex.morgan@example.com".into(),
    });
    let jordan = node.hire(hire).await.unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    (jordan.id, jordan.email)
}

/// The reply to `asked` in `address`'s inbox that carries a document.
async fn reply_with_document(node: &Node, address: &str, asked: &str) -> MailMessage {
    eventually(30, "the reply with the proposal", || async {
        node.mail_inbox(address, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| {
                m.in_reply_to.as_deref() == Some(asked)
                    && m.attachments.iter().any(|a| a.document.is_some())
            })
    })
    .await
}

async fn the_document(node: &Node, m: &MailMessage) -> Document {
    let id = m.attachments[0].document.clone().unwrap();
    node.document(&id).await.unwrap().unwrap()
}

async fn a_quote_request_is_answered_with_a_proposal_that_adds_up(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("quotes"))
        .await
        .unwrap();
    let (jordan, me) = autonomous_ae(&node).await;
    let sarah = "sarah.chen@acme-robotics.example";
    let asked = node
        .send_mail(OutgoingMail {
            from: format!("Sarah Chen <{sarah}>"),
            to: me.clone(),
            subject: "A quote for 40 seats?".into(),
            body: "Hi Jordan,\n\nCould you send us a quote for 40 seats?\n\nThanks,\nSarah".into(),
            in_reply_to: None,
        })
        .await
        .unwrap();
    let reply = reply_with_document(&node, sarah, &asked).await;
    assert!(reply.body.starts_with("Hi Sarah,"), "{}", reply.body);
    assert!(
        reply.body.contains("proposal for 40 seats"),
        "{}",
        reply.body
    );
    assert_eq!(reply.attachments.len(), 1, "{:?}", reply.attachments);
    let attached = &reply.attachments[0];
    assert_eq!(attached.content_type, "application/pdf");
    assert!(attached.name.ends_with(".pdf"), "{}", attached.name);

    // The proposal as stored: Jordan's, for the new account, at list price.
    let doc = the_document(&node, &reply).await;
    assert_eq!(doc.kind, "proposal");
    assert_eq!(doc.employee, jordan.to_string());
    assert_eq!(doc.version, 1);
    assert_eq!(doc.facts["total_cents"], 40 * 48_000);
    let account = doc.account.clone().expect("written for an account");

    // poppler reads the total, the line and who it is for out of the PDF.
    let pdf = node
        .document_content(&doc.id, Format::Pdf)
        .await
        .unwrap()
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    assert_eq!(
        pdf.len() as u64,
        attached.size,
        "the file sent is the one stored"
    );
    let text = pdf_text(&pdf);
    assert!(text.contains("Proposal for Acme-robotics"), "{text}");
    assert!(text.contains("Sarah Chen"), "{text}");
    assert!(text.contains("40 seats"), "{text}");
    assert!(text.contains("$480.00"), "{text}");
    assert!(text.contains("$19,200.00"), "{text}");
    assert!(
        !text.contains("Discount"),
        "list price has no discount line: {text}"
    );
    // python-docx reads the same figures out of the DOCX, with Word's heading style.
    let docx = node
        .document_content(&doc.id, Format::Docx)
        .await
        .unwrap()
        .unwrap();
    let words = docx_text(&docx);
    assert!(
        words.contains("Heading 1: Proposal for Acme-robotics"),
        "{words}"
    );
    assert!(words.contains("$19,200.00"), "{words}");
    let md = node
        .document_content(&doc.id, Format::Md)
        .await
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8(md)
            .unwrap()
            .starts_with("# Proposal for Acme-robotics")
    );

    // The CRM: Sarah and her company are in it, and the deal took the proposal.
    let crm = node.crm();
    let contact = crm.driver().contact_by_email(sarah).await.unwrap().unwrap();
    assert_eq!(contact.name, "Sarah Chen");
    assert_eq!(contact.account.as_deref(), Some(account.as_str()));
    let deals = crm
        .driver()
        .deals(
            &DealFilter {
                account: Some(account.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(deals.len(), 1, "{deals:?}");
    assert_eq!(deals[0].stage, "proposal");
    assert_eq!(deals[0].amount, 19_200.0);
    assert_eq!(deals[0].owner.as_deref(), Some(jordan.to_string().as_str()));
    let logged = eventually(20, "the reply logged against Sarah", || async {
        let a = crate::crm::account_activities(&node, &account).await;
        a.iter().any(|x| x.kind == "email_sent").then_some(a)
    })
    .await;
    assert!(
        logged
            .iter()
            .any(|x| x.kind == "note" && x.subject.starts_with("Proposal v1 written: $19,200.00")),
        "{logged:?}"
    );
    // Listed for the account, and for Jordan.
    let listed = node
        .documents(
            &DocumentFilter {
                account: Some(account),
                kind: Some("proposal".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed, vec![doc]);

    // The reply offered a call to go through it: asked for, times come in the thread.
    let call = node
        .send_mail(OutgoingMail {
            from: format!("Sarah Chen <{sarah}>"),
            to: me.clone(),
            subject: format!("Re: {}", reply.subject),
            body:
                "Thanks! A call to go through it would help.\n\n> Here is the proposal for 40 seats"
                    .into(),
            in_reply_to: Some(reply.message_id.clone()),
        })
        .await
        .unwrap();
    let times = eventually(20, "the times for a call", || async {
        node.mail_inbox(sarah, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.in_reply_to.as_deref() == Some(call.as_str()))
    })
    .await;
    assert!(times.body.contains("1. "), "numbered times: {}", times.body);
    assert!(
        times.attachments.is_empty(),
        "no second proposal: {:?}",
        times.attachments
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_without_a_number_is_asked_about_and_the_answer_gets_the_proposal() {
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), common::options("quote-ask"))
        .await
        .unwrap();
    let (_, me) = autonomous_ae(&node).await;
    let raj = "raj@contoso.example";
    let asked = node
        .send_mail(OutgoingMail {
            from: format!("Raj Patel <{raj}>"),
            to: me.clone(),
            subject: "Quote".into(),
            body: "Could you send me a quote?".into(),
            in_reply_to: None,
        })
        .await
        .unwrap();
    let question = eventually(20, "the question how many", || async {
        node.mail_inbox(raj, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.in_reply_to.as_deref() == Some(asked.as_str()))
    })
    .await;
    assert!(
        question.body.contains("How many seats"),
        "{}",
        question.body
    );
    assert!(question.attachments.is_empty());
    // Raj answers in the thread; the proposal follows, priced as he asked.
    let answer = node
        .send_mail(OutgoingMail {
            from: format!("Raj Patel <{raj}>"),
            to: me,
            subject: format!("Re: {}", question.subject),
            body: "25 users, and include onboarding please.".into(),
            in_reply_to: Some(question.message_id.clone()),
        })
        .await
        .unwrap();
    let reply = reply_with_document(&node, raj, &answer).await;
    assert!(
        reply
            .body
            .contains("proposal for 25 seats and 1 onboarding package"),
        "{}",
        reply.body
    );
    let doc = the_document(&node, &reply).await;
    assert_eq!(doc.facts["total_cents"], 25 * 48_000 + 250_000);
    let text = pdf_text(
        &node
            .document_content(&doc.id, Format::Pdf)
            .await
            .unwrap()
            .unwrap(),
    );
    assert!(text.contains("Guided onboarding"), "{text}");
    assert!(text.contains("$14,500.00"), "{text}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discount_beyond_the_policy_waits_for_the_manager() {
    let s = common::sqlite().await;
    let mut opts = common::options("quote-discount");
    let ae = opts.roles.get_mut("sales_ae").unwrap();
    let plan: empla::bdi::PlanSpec = toml::from_str(
        r#"
name = "discounted_quote"
trigger = { event = "manual.discounted_quote" }
steps = [
  { action = "documents.proposal", params = { contact = "{{ event.payload.contact }}", item = "business", quantity = 40, discount = "{{ event.payload.discount }}" } },
]
"#,
    )
    .unwrap();
    ae.plans.push(plan);
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let (jordan, _) = autonomous_ae(&node).await;
    let crm = node.crm();
    let acme = crm
        .create_account(empla::capabilities::crm::NewAccount {
            name: "Acme Robotics".into(),
            domain: Some("acme-robotics.example".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let event = |discount: &str| empla::model::NewEvent {
        kind: "manual.discounted_quote".into(),
        source: "test".into(),
        payload: serde_json::json!({"contact": acme.id, "discount": discount}),
        idempotency_key: None,
    };
    // 10% is within the policy: written at once.
    node.submit_event(jordan, event("10")).await.unwrap();
    let first = eventually(20, "the 10% proposal", || async {
        node.documents(&DocumentFilter::default(), Page::default())
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(first.facts["total_cents"], 1_920_000 - 192_000);
    assert!(
        node.approvals(Some(jordan), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // 15% waits for the manager, who approves it; it is then the next version.
    node.submit_event(jordan, event("15")).await.unwrap();
    let queue = eventually(20, "the approval", || async {
        let q = node
            .approvals(Some(jordan), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap();
        (!q.is_empty()).then_some(q)
    })
    .await;
    assert_eq!(queue[0].action["kind"], "documents.proposal");
    assert!(
        queue[0].reason.contains("discount over 10%"),
        "{}",
        queue[0].reason
    );
    assert_eq!(
        node.documents(&DocumentFilter::default(), Page::default())
            .await
            .unwrap()
            .len(),
        1,
        "nothing written before the approval"
    );
    node.decide(queue[0].id, true, "alex.morgan", None)
        .await
        .unwrap();
    let second = eventually(20, "the 15% proposal", || async {
        let d = node
            .documents(&DocumentFilter::default(), Page::default())
            .await
            .unwrap();
        (d.len() == 2).then(|| d[0].clone())
    })
    .await;
    assert_eq!(second.version, 2, "the account's proposal, second version");
    assert_eq!(second.series, first.series);
    let text = pdf_text(
        &node
            .document_content(&second.id, Format::Pdf)
            .await
            .unwrap()
            .unwrap(),
    );
    assert!(text.contains("Discount (15%)"), "{text}");
    assert!(
        text.contains("Prepared for Acme Robotics\n"),
        "one line each: {text}"
    );
    assert!(text.contains("-$2,880.00"), "{text}");
    assert!(text.contains("$16,320.00"), "{text}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quarterly_review_deck_is_written_from_the_accounts_data_sent_with_times_and_booked() {
    readers();
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), common::options("qbr"))
        .await
        .unwrap();
    let mut hire = HireRequest::new("csm", "Sam Rivera");
    hire.manager = Some(empla::model::Manager::Human {
        name: "Priya Shah".into(),
        email: "priya.shah@example.com".into(),
    });
    let sam = node.hire(hire).await.unwrap();
    node.set_phase(sam.id, Phase::Autonomous).await.unwrap();
    let crm = node.crm();
    let meridian = crm
        .create_account(empla::capabilities::crm::NewAccount {
            name: "Meridian Travel".into(),
            domain: Some("meridian.example".into()),
            plan: Some("growth".into()),
            owner: Some("sam.rivera".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    for (name, email, title) in [
        (
            "Jonas Berg",
            "jonas.berg@meridian.example",
            "Head of Operations",
        ),
        ("Kara Singh", "kara.singh@meridian.example", "CFO"),
    ] {
        crm.create_contact(empla::capabilities::crm::NewContact {
            name: name.into(),
            email: email.into(),
            title: Some(title.into()),
            account: Some(meridian.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    crm.create_deal(empla::capabilities::crm::NewDeal {
        name: "Meridian — expansion".into(),
        account: Some(meridian.id.clone()),
        amount: 36_000.0,
        stage: Some("negotiation".into()),
        owner: Some("sam.rivera".into()),
        next_step: Some("Agree the seat count for the EMEA team".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    crm.log_activity(
        empla::capabilities::crm::NewActivity {
            kind: "issue".into(),
            subject: "Exports fail for large itineraries".into(),
            account: Some(meridian.id.clone()),
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap();
    // Usage fell over the quarter.
    let today = chrono::Utc::now().date_naive();
    let quarter = empla::capabilities::crm::metrics::quarter_start(today);
    let days_in = (today - quarter).num_days();
    crm.record_metrics(
        &meridian.id,
        crate::crm::values(&[
            ("usage", 0.8, days_in + 3),
            ("usage", 0.62, 1),
            ("engagement", 0.6, 1),
            ("nps", 20.0, 1),
        ]),
    )
    .await
    .unwrap();

    // The quarterly review comes round.
    node.submit_event(
        sam.id,
        empla::model::NewEvent {
            kind: "cron.tick".into(),
            source: "test".into(),
            payload: serde_json::json!({"schedule": "quarterly_business_review"}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let jonas = "jonas.berg@meridian.example";
    let offer = eventually(30, "the review offered with its deck", || async {
        node.mail_inbox(jonas, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.attachments.iter().any(|a| a.document.is_some()))
    })
    .await;
    assert!(
        offer
            .subject
            .contains("Quarterly business review: Meridian Travel"),
        "{}",
        offer.subject
    );
    assert!(
        offer.to.contains("kara.singh@meridian.example"),
        "every stakeholder: {}",
        offer.to
    );
    assert!(
        offer.body.contains("The deck is attached"),
        "{}",
        offer.body
    );
    let deck = the_document(&node, &offer).await;
    assert_eq!(deck.kind, "qbr");
    assert_eq!(deck.account.as_deref(), Some(meridian.id.as_str()));
    let pdf = node
        .document_content(&deck.id, Format::Pdf)
        .await
        .unwrap()
        .unwrap();
    let text = pdf_text(&pdf);
    // A page per slide: title, where it stands, commercials, support, action items.
    assert_eq!(text.matches('\u{c}').count(), 5, "{text}");
    assert!(
        text.contains("Meridian Travel: Quarterly Business Review"),
        "{text}"
    );
    assert!(
        text.contains("For Kara Singh (CFO), Jonas Berg (Head of Operations)"),
        "{text}"
    );
    assert!(text.contains("Product usage"), "{text}");
    assert!(
        text.contains("80%") && text.contains("62%") && text.contains("-18 pts"),
        "{text}"
    );
    assert!(
        text.contains("Meridian — expansion") && text.contains("$36,000.00"),
        "{text}"
    );
    assert!(
        text.contains("Exports fail for large itineraries"),
        "{text}"
    );
    assert!(
        text.contains("Agree the seat count for the EMEA team"),
        "action item: {text}"
    );
    assert!(
        text.contains("run an adoption workshop"),
        "action item: {text}"
    );

    // Jonas picks a time: the review is booked, in Sam's calendar, and logged.
    let first = offer
        .body
        .lines()
        .find(|l| l.starts_with("1. "))
        .expect("numbered times")
        .to_string();
    node.send_mail(OutgoingMail {
        from: format!("Jonas Berg <{jonas}>"),
        to: sam.email.clone(),
        subject: format!("Re: {}", offer.subject),
        body: "1 works for us.".into(),
        in_reply_to: Some(offer.message_id.clone()),
    })
    .await
    .unwrap();
    let invitation = eventually(20, "the invitation", || async {
        node.mail_inbox(jonas, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| {
                m.subject
                    .starts_with("Invitation: Quarterly business review")
            })
    })
    .await;
    let now = chrono::Utc::now();
    let booked = node
        .calendar(&sam.email, now, now + chrono::Duration::days(40))
        .await
        .unwrap();
    assert_eq!(booked.len(), 1, "{booked:?}");
    let picked = booked[0].start.format("%a %-d %b %Y, %H:%M").to_string();
    assert!(first.contains(&picked), "{picked} is not {first}");
    assert!(invitation.body.contains(&picked), "{}", invitation.body);
    // Sam now waits for the review to end to send the action items.
    let waiting = eventually(20, "the follow-up waiting for the review's end", || async {
        let s = node.employee_runtime(sam.id).await.unwrap();
        s.intentions
            .into_iter()
            .find(|i| i.plan == "hold_quarterly_review" && i.state == "waiting")
    })
    .await;
    assert_eq!(waiting.plan, "hold_quarterly_review");
    let logged = eventually(20, "the meeting logged", || async {
        let a = crate::crm::account_activities(&node, &meridian.id).await;
        a.into_iter().find(|x| x.kind == "meeting")
    })
    .await;
    assert_eq!(
        logged.subject,
        "Quarterly business review: Meridian Travel booked"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latin_text_is_set_in_the_standard_fonts_and_other_text_embeds_dejavu() {
    readers();
    let docs = empla::capabilities::documents::Documents::new(&Default::default(), None).unwrap();
    let latin = docs
        .pdf(
            "Proposal",
            "# Proposal for Café Müller — 40 seats\n\nTotal: €19,200.00\n",
        )
        .unwrap();
    assert!(
        latin.len() < 20_000,
        "no font embedded: {} bytes",
        latin.len()
    );
    let text = pdf_text(&latin);
    assert!(
        text.contains("Proposal for Café Müller — 40 seats"),
        "{text}"
    );
    assert!(text.contains("€19,200.00"), "{text}");
    let wide = docs
        .pdf(
            "Proposal",
            "# Proposal for Łukasz Nowak\n\nΣύνολο: 19.200,00 €\n",
        )
        .unwrap();
    assert!(
        wide.len() > 100_000,
        "DejaVu Sans embedded: {} bytes",
        wide.len()
    );
    let text = pdf_text(&wide);
    assert!(text.contains("Proposal for Łukasz Nowak"), "{text}");
    assert!(text.contains("Σύνολο: 19.200,00 €"), "{text}");
}
