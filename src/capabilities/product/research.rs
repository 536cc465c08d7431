//! User research: `product.interviews` chooses customers to interview about a topic
//! from the CRM — people at customer accounts, those who asked for something like the
//! topic first, then champions — and offers each of them interview times by mail
//! (`calendar.propose`, one offer each, under its own key); their replies book the pick
//! and are kept as notes (`documents.append` to "interview notes: <topic>"), and
//! `product.synthesis` writes what the notes say — the themes they share and the
//! backlog requests they touch — as a report document.

use super::RequestsFilter;
use super::backlog::{short_id, similarity};
use crate::capabilities::crm::Books;
use crate::capabilities::documents::{Draft, author, report_markdown};
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, param};
use crate::memory::text;
use crate::model::{ActionStatus, OutboxEntry};
use crate::store::{AccountFilter, Page};
use chrono::Utc;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// The running document an interview's notes go to.
pub(super) fn notes_name(topic: &str) -> String {
    format!("interview notes: {}", topic.trim().to_lowercase())
}

/// The topic of a request for research: "User research: how customers use reports"
/// is about "how customers use reports".
pub(super) fn topic_of(asked: &str) -> &str {
    let t = asked.trim();
    let lower = t.to_lowercase();
    for lead in [
        "user research on ",
        "user research about ",
        "user research:",
        "user research",
    ] {
        if lower.starts_with(lead) {
            return t[lead.len()..].trim();
        }
    }
    t
}

/// `product.interviews`.
pub(crate) async fn interviews(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let topic = param(p, "topic")
        .map(topic_of)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CapabilityError::Invalid("`product.interviews` needs `topic`".into()))?;
    let count = p["count"].as_i64().unwrap_or(3).clamp(1, 10) as usize;
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let books = Books::of(hands);
    let customers = books
        .driver()
        .accounts(
            &AccountFilter {
                customers: true,
                ..Default::default()
            },
            Page::ALL,
        )
        .await
        .map_err(|e| CapabilityError::Service(e.to_string()))?;
    // Who asked for something like the topic, by address.
    let requests = hands
        .store
        .feature_requests(tenant, &RequestsFilter::default(), Page::ALL)
        .await?;
    let mut asked: BTreeMap<String, f32> = BTreeMap::new();
    for r in &requests {
        let s = similarity(topic, &format!("{}\n{}", r.title, r.description));
        for v in &r.voters {
            let e = asked.entry(v.clone()).or_default();
            *e = e.max(s);
        }
    }
    let mut people = Vec::new();
    for account in &customers {
        let contacts = books
            .driver()
            .contacts(Some(&account.id), Page::ALL)
            .await
            .map_err(|e| CapabilityError::Service(e.to_string()))?;
        for c in contacts {
            let interest = asked.get(&c.email.to_lowercase()).copied().unwrap_or(0.0);
            let champion = c.role.as_deref() == Some("champion");
            people.push((interest, champion, c, account.name.clone()));
        }
    }
    people.sort_by(|x, y| {
        y.0.total_cmp(&x.0)
            .then(y.1.cmp(&x.1))
            .then(x.2.email.cmp(&y.2.email))
    });
    people.truncate(count);
    if people.is_empty() {
        return Err(CapabilityError::Invalid(
            "no contact at a customer account in the CRM to interview; add customers (accounts with a plan) and their contacts".into(),
        ));
    }
    let mut invited = Vec::new();
    for (_, _, c, company) in &people {
        let entry = OutboxEntry {
            kind: "calendar.propose".into(),
            key: format!("{}:{}", a.entry.key, c.email.to_lowercase()),
            params: json!({
                "attendees": format!("{} <{}>", c.name, c.email),
                "title": format!("User interview: {topic}"),
                "purpose": "user interview",
                "duration_minutes": 30,
                "intro": format!("Hello {},\n\nI'm talking to a few customers about {topic}, and I'd value half an hour with you to hear how it works at {company}. Any of these times?", c.name.split_whitespace().next().unwrap_or(&c.name)),
                "signoff": a.me.name,
            }),
            ..a.entry.clone()
        };
        let (status, out) = hands
            .actions
            .execute(&Act {
                entry: &entry,
                ..*a
            })
            .await;
        if status != ActionStatus::Done {
            return Err(CapabilityError::Service(format!(
                "the interview offer to {} was not sent: {}",
                c.email,
                out["error"].as_str().unwrap_or("unknown")
            )));
        }
        invited.push(json!({"name": c.name, "email": c.email, "account": company}));
    }
    let names: Vec<String> = people
        .iter()
        .map(|(_, _, c, co)| format!("{} ({co})", c.name))
        .collect();
    Ok(json!({
        "topic": topic, "invited": invited,
        "text": format!("I offered interview times on {topic} to {}.", names.join(", ")),
    }))
}

/// The words of `s` worth comparing: longer than three letters, no stopwords, each once.
fn words(s: &str) -> Vec<String> {
    let mut w: Vec<String> = text::terms(s)
        .filter(|t| t.len() > 3 && !text::is_stopword(t))
        .collect();
    w.sort();
    w.dedup();
    w
}

/// The themes notes share: words that at least two notes use, most shared first.
pub(super) fn themes(notes: &[String]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for n in notes {
        for t in words(n) {
            *counts.entry(t).or_default() += 1;
        }
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| *n >= 2).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// `product.synthesis`.
pub(crate) async fn synthesis(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let topic = param(&a.entry.params, "topic")
        .ok_or_else(|| CapabilityError::Invalid("`product.synthesis` needs `topic`".into()))?;
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let series = format!("running:{}", notes_name(topic));
    let notes: Vec<String> = match hands.store.latest_in_series(tenant, &series).await? {
        Some((_, md)) => md
            .lines()
            .filter_map(|l| l.strip_prefix("- "))
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    };
    let mut body = format!(
        "What {} interview{} on {topic} said.\n",
        notes.len(),
        if notes.len() == 1 { "" } else { "s" }
    );
    body.push_str("\nNotes:\n");
    for n in &notes {
        body.push_str(&format!("- {n}\n"));
    }
    let shared = themes(&notes);
    body.push_str("\nThemes more than one interview raised:\n");
    if shared.is_empty() {
        body.push_str("None yet.\n");
    }
    for (t, n) in shared.iter().take(10) {
        body.push_str(&format!("- {t} ({n} interviews)\n"));
    }
    let requests = hands
        .store
        .feature_requests(tenant, &RequestsFilter::default(), Page::ALL)
        .await?;
    // A request is touched when the notes use the words of its title.
    let said: BTreeSet<String> = notes.iter().flat_map(|n| words(n)).collect();
    let mut touched: Vec<(Vec<String>, &super::FeatureRequest)> = requests
        .iter()
        .filter_map(|r| {
            let shared: Vec<String> = words(&r.title)
                .into_iter()
                .filter(|w| said.contains(w))
                .collect();
            (!shared.is_empty()).then_some((shared, r))
        })
        .collect();
    touched.sort_by(|x, y| y.0.len().cmp(&x.0.len()).then(y.1.votes.cmp(&x.1.votes)));
    body.push_str("\nBacklog requests the interviews touch:\n");
    if touched.is_empty() {
        body.push_str("None.\n");
    }
    for (shared, r) in touched.iter().take(5) {
        body.push_str(&format!(
            "- {} (#{}): {} votes, {} (the interviews said: {})\n",
            r.title,
            short_id(&r.id),
            r.votes,
            r.status.as_str().replace('_', " "),
            shared.join(", ")
        ));
    }
    let title = format!("User research synthesis: {topic}");
    let now = Utc::now();
    let doc = hands
        .documents
        .write(
            &hands.store,
            tenant,
            a.me.id,
            Some(&a.entry.key),
            "report.md.j2",
            Draft {
                kind: "report",
                title: title.clone(),
                series: format!("synthesis:{}", topic.trim().to_lowercase()),
                account: None,
                deal: None,
                contact: None,
                context: json!({
                    "title": title, "me": author(a).await?,
                    "date": now.format("%-d %B %Y").to_string(),
                    "body": report_markdown(&body),
                }),
                facts: json!({"notes": notes.len(), "themes": shared.iter().take(10).map(|(t, _)| t).collect::<Vec<_>>()}),
            },
        )
        .await?;
    Ok(
        json!({"document": doc.id, "title": doc.title, "version": doc.version, "notes": notes.len()}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_research_request_is_read_down_to_its_topic() {
        assert_eq!(
            topic_of("User research: how customers use reports"),
            "how customers use reports"
        );
        assert_eq!(topic_of("onboarding"), "onboarding");
    }

    #[test]
    fn themes_are_words_two_notes_share() {
        let notes = [
            "We export the reports weekly; filters are confusing".to_string(),
            "The filters hide half the reports".to_string(),
            "Dark mode please".to_string(),
        ];
        let t = themes(&notes);
        assert_eq!(t[0], ("filters".to_string(), 2));
        assert!(t.iter().any(|(w, _)| w == "reports"));
        assert!(!t.iter().any(|(w, _)| w == "dark"));
    }
}
