//! `research.search_profiles`: sourcing for an open requisition (the one `requisition`
//! names by id or title, else every open one). The web is searched through the research
//! capability's SearXNG instance for profiles matching the role (its title and its
//! must-haves); each result that carries a real mail address becomes a candidate with
//! source `sourcing`, screened against the requisition from what the profile says, and
//! the employee is told `recruiting.sourced` — the name, the address, and what in the
//! profile matched — so its outreach plan writes one personalised mail per person and
//! follows up until they reply. A result with no address is never written to. A
//! requisition for which nobody reachable was found tells the employee
//! `recruiting.sourcing_empty`, naming the hiring manager to ask for referrals. Someone
//! already in the requisition is not sourced again (and not written to again).

use super::screen::screen;
use super::{Candidate, Pipeline, Requisition};
use crate::capabilities::registry::Act;
use crate::capabilities::research::search::{Hit, searx};
use crate::capabilities::{CapabilityError, param};
use crate::model::{NewEvent, is_address};
use crate::store::Page;
use chrono::Utc;
use serde_json::{Value as Json, json};

/// `research.search_profiles`.
pub(super) async fn search_profiles(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let count = p["count"]
        .as_u64()
        .or_else(|| param(p, "count").and_then(|c| c.parse().ok()))
        .unwrap_or(10)
        .clamp(1, 50) as usize;
    let pipeline = Pipeline::of(a.hands);
    let open = pipeline.requisitions(Some("open"), Page::ALL).await?;
    let wanted: Vec<&Requisition> = match param(p, "requisition") {
        Some(key) => {
            let key = key.to_lowercase();
            let found: Vec<&Requisition> = open
                .iter()
                .filter(|r| r.id == key || r.title.to_lowercase() == key)
                .collect();
            if found.is_empty() {
                return Err(CapabilityError::Invalid(format!(
                    "no open requisition {key:?}; name one by id or title: {}",
                    open.iter()
                        .map(|r| r.title.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )));
            }
            found
        }
        None => open.iter().collect(),
    };
    let reader = a.hands.research.reader();
    let base = reader.config().search_url.trim().to_string();
    if base.is_empty() {
        return Err(CapabilityError::Invalid(
            "sourcing searches the web, and no search provider is configured: set `[research] search_url` to a SearXNG instance".into(),
        ));
    }
    let mut report = Vec::new();
    for r in wanted {
        let hits = searx(reader, &base, &query(r), count).await?;
        let mut reached = Vec::new();
        for hit in &hits {
            if let Some(c) = source(a, &pipeline, r, hit).await? {
                reached.push(c.email.clone());
            }
        }
        if reached.is_empty() {
            tell(
                a,
                "recruiting.sourcing_empty",
                json!({
                    "requisition": r.id, "title": r.title, "hiring_manager": r.hiring_manager,
                    "query": query(r), "results": hits.len(),
                }),
                format!("sourcing_empty:{}:{}", a.entry.key, r.id),
            )
            .await;
        }
        report.push(json!({"requisition": r.id, "title": r.title, "results": hits.len(), "sourced": reached}));
    }
    Ok(json!({"requisitions": report}))
}

/// The search for a requisition's profiles: its title and its must-haves.
fn query(r: &Requisition) -> String {
    let musts: Vec<&str> = r
        .requirements
        .iter()
        .filter(|q| q.must_have)
        .map(|q| q.text.as_str())
        .collect();
    format!("{} {} profile", r.title, musts.join(" "))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first mail address in `text`, if any.
fn address_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || "<>()[],;\"'".contains(c))
        .map(|w| w.trim_start_matches("mailto:").trim_end_matches('.'))
        .find(|w| is_address(w))
        .map(str::to_string)
}

/// The person a profile's title names: the part before its first separator
/// (`Ada Byron - Rust engineer`); without one, the address's local part.
fn name_in(title: &str, email: &str) -> String {
    [" - ", " | ", " – ", " — "]
        .iter()
        .filter_map(|sep| title.split_once(sep).map(|(name, _)| name.trim()))
        .filter(|name| !name.is_empty())
        .min_by_key(|name| name.len())
        .map(str::to_string)
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string())
}

/// Records the person of one search result as a sourced candidate and tells the
/// employee; `None` when it names no address or they are in the requisition already.
async fn source(
    a: &Act<'_>,
    pipeline: &Pipeline<'_>,
    r: &Requisition,
    hit: &Hit,
) -> Result<Option<Candidate>, CapabilityError> {
    let profile = format!("{}\n{}", hit.title, hit.snippet);
    let Some(email) = address_in(&profile) else {
        return Ok(None);
    };
    let s = screen(&profile, r);
    let now = Utc::now();
    let fresh = Candidate {
        id: uuid::Uuid::now_v7().to_string(),
        name: name_in(&hit.title, &email),
        email,
        requisition: r.id.clone(),
        source: "sourcing".into(),
        stage: "sourced".into(),
        score: Some(s.score),
        screening: Some(s),
        cv_path: None,
        cv_text: None,
        recruiter: Some(a.me.id.to_string()),
        thread: None,
        created_at: now,
        updated_at: now,
    };
    let by = a.me.id.to_string();
    let c = match pipeline
        .enter(fresh, &by, &format!("sourced from {}", hit.url))
        .await?
    {
        Ok(c) => c,
        Err(_) => return Ok(None),
    };
    let matched: Vec<Json> = c
        .screening
        .as_ref()
        .map(|s| {
            s.found
                .iter()
                .map(|e| json!({"requirement": e.requirement, "evidence": e.evidence}))
                .collect()
        })
        .unwrap_or_default();
    tell(
        a,
        "recruiting.sourced",
        json!({
            "candidate": c.id, "name": c.name, "first_name": c.name.split_whitespace().next(),
            "email": c.email, "requisition": r.id, "title": r.title, "profile": hit.url,
            "matched": matched,
            "matched_text": c.screening.as_ref().map(|s| s.found.iter().map(|e| e.requirement.clone()).collect::<Vec<_>>().join(", ")),
        }),
        format!("sourced:{}", c.id),
    )
    .await;
    Ok(Some(c))
}

async fn tell(a: &Act<'_>, kind: &str, payload: Json, key: String) {
    let new = NewEvent {
        kind: kind.into(),
        source: "recruiting".into(),
        payload,
        idempotency_key: Some(key),
    };
    if let Err(e) = a.hands.employees.perceive(a.me.id, new).await {
        tracing::warn!(error = %e, employee = %a.me.id, kind, "recruiting could not tell the employee");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_gives_its_address_and_name() {
        assert_eq!(
            address_in("Reach me at (ada@lovelace.example).").as_deref(),
            Some("ada@lovelace.example")
        );
        assert_eq!(address_in("no address here, @handle"), None);
        assert_eq!(
            name_in("Ada Byron - Rust engineer", "ada@x.example"),
            "Ada Byron"
        );
        assert_eq!(name_in("Profile", "grace@x.example"), "grace");
    }
}
