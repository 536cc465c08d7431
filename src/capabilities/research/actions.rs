//! `research.fetch` (a page read, what it says about an account kept as facts) and
//! `research.search` (the web, or the CRM and memory when no provider is configured).

use super::fetch::Page as WebPage;
use super::learn;
use super::search::{Hit, searx};
use crate::capabilities::crm::actions::named;
use crate::capabilities::crm::{Account, Books};
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
            "research.company",
            "What is known about a company (`name`: its name, domain, or a contact's address): its CRM record, people and open deals, the facts remembered about it with their sources, and the web's latest when a search provider is configured.",
            false,
            |a| Box::pin(company(a)),
        )
        .params(vec![Param::required("name", Text)]),
        ActionKind::new(
            "research.search",
            "Searches the web through the configured SearXNG instance (with `account`, the best results are read and what they say about the account kept, as `research.fetch` does; `signal` answers the account's newest buying signal); with none, or with it unreachable, the CRM, shared knowledge and the employee's memory (and says so).",
            false,
            |a| Box::pin(search(a)),
        )
        .params(vec![
            Param::required("query", Text),
            Param::optional("count", Integer),
            Param::optional("account", Text),
        ]),
    ]
}

/// The account a research action names by `account`, if it names one.
async fn account_param(a: &Act<'_>) -> Result<Option<Account>, CapabilityError> {
    match param(&a.entry.params, "account") {
        Some(key) => Ok(Some(named(&Books::of(a.hands), key).await?.0.ok_or_else(
            || {
                CapabilityError::Invalid(format!(
                    "no account {key:?} in the CRM; name one by id, domain or a contact's address"
                ))
            },
        )?)),
        None => Ok(None),
    }
}

/// What `page` says about `acc`, kept: facts in semantic memory (source: the page) and
/// each topic's first clause among the account's buying signals, which lead scoring
/// and outreach read. Answers the facts kept and the signals added.
async fn learn_from(
    a: &Act<'_>,
    acc: &mut Account,
    page: &WebPage,
) -> Result<(Vec<Json>, Vec<String>), CapabilityError> {
    let team = a
        .hands
        .store
        .employee(&a.hands.tenant, a.me.id)
        .await?
        .map(|e| e.team);
    let now = Utc::now();
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
    let mut added = Vec::new();
    for f in &facts {
        let short = signal_of(&f.object);
        let known = acc
            .signals
            .iter()
            .chain(&added)
            .any(|s| s.eq_ignore_ascii_case(&short));
        if !known && acc.signals.len() + added.len() < MAX_SIGNALS {
            added.push(short);
        }
    }
    if !added.is_empty() {
        let mut signals = acc.signals.clone();
        signals.extend(added.iter().cloned());
        let patch = crate::capabilities::crm::AccountPatch {
            signals: Some(signals.clone()),
            ..Default::default()
        };
        Books::of(a.hands)
            .driver()
            .update_account(&acc.id, patch)
            .await?;
        acc.signals = signals;
    }
    let kept = facts
        .into_iter()
        .map(|f| json!({"subject": f.subject, "predicate": f.predicate, "object": f.object, "source": f.source}))
        .collect();
    Ok((kept, added))
}

/// `research.fetch`.
async fn fetch(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let url = param(&a.entry.params, "url")
        .ok_or_else(|| CapabilityError::Invalid("`research.fetch` needs `url`".into()))?;
    let mut account = account_param(a).await?;
    let page = a.hands.research.reader().fetch(url).await?;
    let learned = match account.as_mut() {
        Some(acc) => learn_from(a, acc, &page).await?.0,
        None => Vec::new(),
    };
    Ok(json!({
        "url": page.url,
        "title": page.title,
        "text": page.text.chars().take(TEXT_KEPT).collect::<String>(),
        "length": page.text.chars().count(),
        "account": account.map(|x| x.id),
        "facts": learned,
    }))
}

/// Web results read for an account, at most.
const PAGES_READ: usize = 2;

/// `research.search`. With `account` and a web provider, the best results are read
/// (politely) and what they say about the account is kept; the answer's `signal` is the
/// account's newest buying signal, for the outreach that follows. A provider that
/// cannot be reached is reported in `note`, and the search falls back on what the node
/// has: research informs the work, it does not stop it.
async fn search(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let q = param(p, "query")
        .ok_or_else(|| CapabilityError::Invalid("`research.search` needs `query`".into()))?;
    let count = p["count"]
        .as_u64()
        .or_else(|| param(p, "count").and_then(|c| c.parse().ok()))
        .unwrap_or(5)
        .clamp(1, 50) as usize;
    let mut account = account_param(a).await?;
    let reader = a.hands.research.reader();
    let base = reader.config().search_url.trim();
    let mut unreachable = None;
    if !base.is_empty() {
        match searx(reader, base, q, count).await {
            Ok(hits) => {
                let (mut learnt, mut skipped) = (Vec::new(), Vec::new());
                if let Some(acc) = account.as_mut() {
                    for hit in hits.iter().take(PAGES_READ) {
                        match reader.fetch(&hit.url).await {
                            Ok(page) => learnt.extend(learn_from(a, acc, &page).await?.1),
                            Err(e) => skipped.push(json!({"url": hit.url, "why": e.to_string()})),
                        }
                    }
                }
                return Ok(json!({
                    "query": q, "provider": "searxng", "results": hits,
                    "learnt": learnt, "skipped": skipped,
                    "signal": account.as_ref().and_then(|acc| acc.signals.last()),
                }));
            }
            Err(e @ super::ResearchError::Unreachable(_)) => unreachable = Some(e.to_string()),
            Err(e) => return Err(e.into()),
        }
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
    let note = match unreachable {
        Some(why) => format!("{why}; this searched the CRM, shared knowledge and memory only"),
        None => "no web search is configured (`[research] search_url`); this searched the CRM, shared knowledge and memory only".into(),
    };
    Ok(json!({
        "query": q,
        "provider": "none",
        "note": note,
        "results": hits,
        "signal": account.as_ref().and_then(|acc| acc.signals.last()),
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

/// `research.company`.
async fn company(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let key = param(&a.entry.params, "name")
        .ok_or_else(|| CapabilityError::Invalid("`research.company` needs `name`".into()))?;
    let b = Books::of(a.hands);
    let mut account = named(&b, key).await?.0;
    if account.is_none() {
        // By name, without case.
        let wanted = key.trim().to_lowercase();
        account = b
            .driver()
            .accounts(&AccountFilter::default(), Page::ALL)
            .await?
            .into_iter()
            .find(|x| x.name.to_lowercase() == wanted);
    }
    let name = account
        .as_ref()
        .map_or(key.trim().to_string(), |x| x.name.clone());
    let (people, deals) = match &account {
        Some(acc) => (
            b.driver().contacts(Some(&acc.id), Page::default()).await?,
            b.driver()
                .deals(
                    &crate::store::DealFilter {
                        account: Some(acc.id.clone()),
                        open: true,
                        ..Default::default()
                    },
                    Page::default(),
                )
                .await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let team = a
        .hands
        .store
        .employee(&a.hands.tenant, a.me.id)
        .await?
        .map(|e| e.team)
        .unwrap_or_default();
    let viewer = Viewer {
        employee: a.me.id,
        team,
    };
    let seeds = vec![crate::memory::text::term_string(&name)];
    let facts = a
        .hands
        .store
        .facts(&a.hands.tenant, &viewer, &seeds, 1, 50, 0)
        .await?;
    let reader = a.hands.research.reader();
    let base = reader.config().search_url.trim();
    let web = if base.is_empty() {
        json!({"note": "no web search is configured (`[research] search_url`)"})
    } else {
        match searx(reader, base, &name, 5).await {
            Ok(hits) => json!({"results": hits}),
            Err(e) => json!({"note": e.to_string()}),
        }
    };
    Ok(json!({
        "name": name,
        "known": account.is_some() || !facts.is_empty(),
        "account": account,
        "people": people.iter().map(|c| json!({"name": c.name, "title": c.title, "email": c.email, "role": c.role})).collect::<Vec<_>>(),
        "open_deals": deals.iter().map(|d| json!({"name": d.name, "stage": d.stage, "amount": d.amount})).collect::<Vec<_>>(),
        "facts": facts.iter().map(|f| json!({"predicate": f.predicate, "object": f.object, "source": f.source})).collect::<Vec<_>>(),
        "web": web,
    }))
}
