//! `research.fetch` (a page read, what it says about an account kept as facts) and
//! `research.search` (the web, or the CRM and memory when no provider is configured).

use super::learn;
use super::search::{Hit, searx};
use crate::capabilities::crm::Books;
use crate::capabilities::crm::actions::named;
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, param};
use crate::memory::{Mode, NewFact, Recall, Viewer, Visibility};
use crate::store::{AccountFilter, Page};
use chrono::Utc;
use serde_json::{Value as Json, json};

/// Characters of a page's text an action answers with.
const TEXT_KEPT: usize = 4000;
/// Facts kept from one page at most.
const FACTS_PER_PAGE: usize = 8;
/// Buying signals an account keeps at most.
const MAX_SIGNALS: usize = 8;
/// Longest signal, in characters.
const SIGNAL_CHARS: usize = 90;

/// A sentence as a buying signal: its first clause, at most [`SIGNAL_CHARS`].
fn signal_of(sentence: &str) -> String {
    let clause = sentence.split([',', ';']).next().unwrap_or(sentence).trim();
    if clause.chars().count() <= SIGNAL_CHARS {
        clause.to_string()
    } else {
        let cut: String = clause.chars().take(SIGNAL_CHARS).collect();
        match cut.rsplit_once(' ') {
            Some((head, _)) => format!("{head}…"),
            None => cut,
        }
    }
}

/// The research action kinds that have drivers.
pub(super) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "research.fetch",
            "Reads a web page (robots.txt obeyed; HTML or plain text; size, time and redirect limits); with `account`, what it says about the account's funding, hiring and news is kept as facts with the page as their source, and as the account's buying signals.",
            false,
            |a| Box::pin(fetch(a)),
        )
        .params(vec![
            Param::required("url", Text),
            Param::optional("account", Text),
        ]),
        ActionKind::new(
            "research.search",
            "Searches the web through the configured SearXNG instance; with none, the CRM, shared knowledge and the employee's memory (and says so).",
            false,
            |a| Box::pin(search(a)),
        )
        .params(vec![
            Param::required("query", Text),
            Param::optional("count", Integer),
        ]),
    ]
}

/// `research.fetch`.
async fn fetch(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let url = param(p, "url")
        .ok_or_else(|| CapabilityError::Invalid("`research.fetch` needs `url`".into()))?;
    let account = match param(p, "account") {
        Some(key) => Some(named(&Books::of(a.hands), key).await?.0.ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "no account {key:?} in the CRM; name one by id, domain or a contact's address"
            ))
        })?),
        None => None,
    };
    let page = a.hands.research.reader().fetch(url).await?;
    let mut learned = Vec::new();
    if let Some(acc) = &account {
        let now = Utc::now();
        let team = a
            .hands
            .store
            .employee(&a.hands.tenant, a.me.id)
            .await?
            .map(|e| e.team);
        let facts: Vec<NewFact> = learn::about(&acc.name, &page.title, &page.text, FACTS_PER_PAGE)
            .into_iter()
            .map(|(topic, sentence)| NewFact {
                subject: acc.name.clone(),
                predicate: topic.to_string(),
                object: sentence,
                confidence: 0.7,
                source: page.url.clone(),
                visibility: Visibility::Company,
                owner: Some(a.me.id),
                team: team.clone(),
                at: now,
            })
            .collect();
        a.hands.store.put_facts(&a.hands.tenant, &facts).await?;
        // What was learnt is also the account's buying signals, which lead scoring and
        // outreach read: each topic's first sentence, shortened, once.
        let mut signals = acc.signals.clone();
        for f in &facts {
            let short = signal_of(&f.object);
            if !signals.iter().any(|s| s.eq_ignore_ascii_case(&short))
                && signals.len() < MAX_SIGNALS
            {
                signals.push(short);
            }
        }
        if signals != acc.signals {
            let patch = crate::capabilities::crm::AccountPatch {
                signals: Some(signals),
                ..Default::default()
            };
            Books::of(a.hands)
                .driver()
                .update_account(&acc.id, patch)
                .await?;
        }
        learned = facts
            .into_iter()
            .map(|f| json!({"subject": f.subject, "predicate": f.predicate, "object": f.object, "source": f.source}))
            .collect();
    }
    Ok(json!({
        "url": page.url,
        "title": page.title,
        "text": page.text.chars().take(TEXT_KEPT).collect::<String>(),
        "length": page.text.chars().count(),
        "account": account.map(|x| x.id),
        "facts": learned,
    }))
}

/// `research.search`.
async fn search(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let q = param(p, "query")
        .ok_or_else(|| CapabilityError::Invalid("`research.search` needs `query`".into()))?;
    let count = p["count"]
        .as_u64()
        .or_else(|| param(p, "count").and_then(|c| c.parse().ok()))
        .unwrap_or(5)
        .clamp(1, 50) as usize;
    let reader = a.hands.research.reader();
    let base = reader.config().search_url.trim();
    if !base.is_empty() {
        let hits = searx(reader, base, q, count).await?;
        return Ok(json!({"query": q, "provider": "searxng", "results": hits}));
    }
    let mut hits = crm_hits(a, q, count).await?;
    let viewer = Viewer {
        employee: a.me.id,
        team: a
            .hands
            .store
            .employee(&a.hands.tenant, a.me.id)
            .await?
            .map(|e| e.team)
            .unwrap_or_default(),
    };
    let recall = Recall {
        q: q.to_string(),
        mode: Mode::Text,
        limit: count,
        ..Default::default()
    };
    let remembered = a
        .hands
        .store
        .recall(&a.hands.tenant, &viewer, &recall)
        .await?;
    hits.extend(remembered.into_iter().map(|i| Hit {
        title: i.text.chars().take(80).collect(),
        url: format!("memory:{}/{}", i.kind, i.id),
        snippet: i.text,
    }));
    hits.truncate(count);
    Ok(json!({
        "query": q,
        "provider": "none",
        "note": "no web search is configured (`[research] search_url`); this searched the CRM, shared knowledge and memory only",
        "results": hits,
    }))
}

/// Accounts whose name, domain or industry holds every word of `q`.
async fn crm_hits(a: &Act<'_>, q: &str, count: usize) -> Result<Vec<Hit>, CapabilityError> {
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let accounts = Books::of(a.hands)
        .driver()
        .accounts(&AccountFilter::default(), Page::ALL)
        .await?;
    Ok(accounts
        .into_iter()
        .filter(|acc| {
            let hay = format!(
                "{} {} {} {}",
                acc.name,
                acc.domain.as_deref().unwrap_or(""),
                acc.industry.as_deref().unwrap_or(""),
                acc.signals.join(" ")
            )
            .to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .take(count)
        .map(|acc| Hit {
            snippet: format!(
                "{}{}{}",
                acc.industry.as_deref().unwrap_or("company"),
                acc.employees
                    .map(|n| format!(", {n} people"))
                    .unwrap_or_default(),
                if acc.signals.is_empty() {
                    String::new()
                } else {
                    format!("; {}", acc.signals.join("; "))
                }
            ),
            url: format!("crm:account/{}", acc.id),
            title: acc.name,
        })
        .collect())
}
