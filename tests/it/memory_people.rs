//! Recall and the people an employee works with: a question naming someone the
//! employee has corresponded with finds that correspondence before shared documents
//! that merely share a first name.

use super::memory::{episode, hire, recall, remember, t0, texts, viewer};
use empla::memory::{Document, Mode, Source, Visibility};
use empla::model::EpisodeKind;
use empla::store::Store;
use serde_json::json;

crate::on_every_store!(a_persons_own_mail_outranks_documents_naming_a_namesake);

/// The README's tour: the company's example knowledge (whose customers are managed by
/// a Sarah Kim) is ingested, then Sarah Chen asks the employee about pricing; the
/// employee, shadowing, proposes a reply.
async fn a_persons_own_mail_outranks_documents_naming_a_namesake(store: Store) {
    let ae = hire(&store, "acme", "Riley Quinn", "west").await;
    for (source, text) in [
        (
            "company.md",
            include_str!("../../docs/examples/knowledge/company.md"),
        ),
        (
            "policies.md",
            include_str!("../../docs/examples/knowledge/policies.md"),
        ),
    ] {
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or(source);
        store
            .publish(
                &ae.tenant,
                &Document {
                    title: title.into(),
                    text: text.into(),
                    source: source.into(),
                    visibility: Visibility::Company,
                    owner: None,
                    team: None,
                    at: t0(),
                },
            )
            .await
            .unwrap();
    }
    let mail = episode(
        &ae,
        EpisodeKind::Event,
        "email.received",
        json!({
            "message_id": "<q1@acme.com>",
            "from": "Sarah Chen <sarah@acme.com>",
            "from_address": "sarah@acme.com",
            "from_name": "Sarah Chen",
            "from_first_name": "Sarah",
            "internal": false,
            "to": ["riley.quinn@acme.com"],
            "subject": "Pricing for 40 seats?",
            "body": "A quote?",
            "thread": "<q1@acme.com>",
            "priority": "high",
            "intent": "quote_request",
            "quote": {"seats": 40},
        }),
        1,
    );
    let mut proposal = episode(
        &ae,
        EpisodeKind::Action,
        "propose email.reply",
        json!({"decision": "act", "id": 1, "intention": 1, "plan": "send_quote", "step": 2,
            "kind": "email.reply", "variant": null, "disposition": {"gate": "propose"},
            "params": {"to": "Sarah Chen <sarah@acme.com>", "subject": "Re: Pricing for 40 seats?",
                "body": "Hi Sarah, here is our quote for 40 seats."}}),
        1,
    );
    proposal.cause_id = Some(mail.id);
    // Other correspondence, so the employee's memory is not only Sarah's.
    let mut eps = vec![mail.clone(), proposal.clone()];
    for (i, (from, subject)) in [
        ("Raj Patel <raj@contoso.com>", "Renewal terms"),
        (
            "Maria Lopez <maria@fabrikam.com>",
            "Pricing tiers for Fabrikam",
        ),
        ("Omar Haddad <omar@tailspin.com>", "Security questionnaire"),
    ]
    .into_iter()
    .enumerate()
    {
        eps.push(episode(
            &ae,
            EpisodeKind::Event,
            "email.received",
            json!({"from": from, "to": ["riley.quinn@acme.com"], "subject": subject, "body": "Can we talk this week?"}),
            2 + i as i64,
        ));
    }
    remember(&store, eps).await;

    let found = store
        .recall(
            &ae.tenant,
            &viewer(&ae),
            &recall("what did Sarah ask about pricing?", Mode::Hybrid),
        )
        .await
        .unwrap();
    let top: Vec<&str> = found.iter().take(2).map(|i| i.id.as_str()).collect();
    let mail_id = mail.id.to_string();
    let proposal_id = proposal.id.to_string();
    assert!(
        top.contains(&mail_id.as_str()) && top.contains(&proposal_id.as_str()),
        "Sarah Chen's own correspondence comes first: {:#?}",
        found
            .iter()
            .map(|i| (&i.kind, &i.text, i.score, &i.sources))
            .collect::<Vec<_>>()
    );
    assert!(found[0].sources.contains(&Source::People), "{:?}", found[0]);
    // A namesake's documents are still found, after.
    assert!(
        texts(&found).iter().any(|t| t.contains("Sarah Kim")),
        "{:#?}",
        texts(&found)
    );
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
}
