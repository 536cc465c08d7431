//! Finding leads: the accounts new business can come from (not customers, no open
//! deal), narrowed to the ideal customer profile (ICP) a plan step gives — industries,
//! regions, a size segment or head-count bounds, the buying signals that matter — and
//! scored by how well each fits, best first.
//!
//! A score is from 0 to 1: passing the ICP's filters is worth 0.4; up to 0.4 more comes
//! from buying signals (0.2 for each that matches one the ICP names, 0.05 for any other
//! signal), and up to 0.2 from how near the head count is to the middle of the
//! segment's band.

use super::{Account, Books, Contact, CrmError};
use crate::store::{ActivityFilter, Page};
use chrono::{Duration, Utc};
use serde::Serialize;
use serde_json::Value as Json;

/// The size bands a plan may name as `segment`: head count from, to (inclusive).
pub const SEGMENTS: &[(&str, i64, Option<i64>)] = &[
    ("smb", 1, Some(99)),
    ("mid-market", 100, Some(999)),
    ("enterprise", 1000, None),
];

/// The ideal customer profile a search looks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Icp {
    /// Industries (lower case); empty is any.
    pub industries: Vec<String>,
    /// Regions (lower case); empty is any.
    pub regions: Vec<String>,
    /// Head count from.
    pub employees_min: Option<i64>,
    /// Head count to (inclusive).
    pub employees_max: Option<i64>,
    /// Buying signals that matter (lower case), matched as words within an account's
    /// signals.
    pub signals: Vec<String>,
}

fn texts(v: &Json, field: &str) -> Result<Vec<String>, String> {
    match v {
        Json::Null => Ok(Vec::new()),
        Json::String(s) => Ok(s
            .split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect()),
        Json::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(|s| s.trim().to_lowercase())
                    .ok_or_else(|| format!("`{field}` must be a list of text"))
            })
            .collect(),
        _ => Err(format!("`{field}` must be text or a list of text")),
    }
}

pub(super) fn whole(v: &Json, field: &str) -> Result<Option<i64>, String> {
    match v {
        Json::Null => Ok(None),
        Json::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{field}` must be a whole number")),
        Json::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{field}` must be a whole number, got {s:?}")),
        _ => Err(format!("`{field}` must be a whole number")),
    }
}

impl Icp {
    /// The ICP a plan step's parameters give: `industries`, `regions`, `segment`
    /// (`smb`, `mid-market`, `enterprise`), `employees_min`, `employees_max`, `signals`.
    pub fn from_params(p: &Json) -> Result<Icp, String> {
        let mut icp = Icp {
            industries: texts(&p["industries"], "industries")?,
            regions: texts(&p["regions"], "regions")?,
            signals: texts(&p["signals"], "signals")?,
            ..Icp::default()
        };
        if let Some(segment) = p["segment"]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (_, min, max) = SEGMENTS
                .iter()
                .find(|(name, ..)| name.eq_ignore_ascii_case(segment))
                .ok_or_else(|| {
                    format!(
                        "`segment` {segment:?} is not one of {}",
                        SEGMENTS.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")
                    )
                })?;
            icp.employees_min = Some(*min);
            icp.employees_max = *max;
        }
        if let Some(n) = whole(&p["employees_min"], "employees_min")? {
            icp.employees_min = Some(n);
        }
        if let Some(n) = whole(&p["employees_max"], "employees_max")? {
            icp.employees_max = Some(n);
        }
        Ok(icp)
    }

    /// How well `a` fits, 0..1, and why.
    pub fn score(&self, a: &Account) -> (f64, Vec<String>) {
        let mut score = 0.4;
        let mut why = Vec::new();
        if let Some(i) = &a.industry {
            why.push(format!("industry {i}"));
        }
        let mut from_signals: f64 = 0.0;
        for s in &a.signals {
            let lower = s.to_lowercase();
            if self
                .signals
                .iter()
                .any(|wanted| lower.contains(wanted.as_str()))
            {
                from_signals += 0.2;
                why.push(format!("signal: {s}"));
            } else {
                from_signals += 0.05;
            }
        }
        score += from_signals.min(0.4);
        if let Some(n) = a.employees {
            let lo = self.employees_min.unwrap_or(1).max(1) as f64;
            let hi = self.employees_max.map(|m| m as f64).unwrap_or(lo * 10.0);
            // Nearness to the band's middle on a log scale: 1 in the middle, 0 at an edge.
            let (l, h, x) = (lo.ln(), hi.max(lo + 1.0).ln(), (n.max(1) as f64).ln());
            let mid = (l + h) / 2.0;
            let near = 1.0 - ((x - mid).abs() / ((h - l) / 2.0)).min(1.0);
            score += 0.2 * near;
            why.push(format!("{n} employees"));
        }
        (score.min(1.0), why)
    }
}

/// An account found for outreach.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    /// The account.
    pub account: Account,
    /// How well it fits, 0..1.
    pub score: f64,
    /// Why.
    pub reasons: Vec<String>,
}

/// `accounts` scored against `icp`, best first (newer accounts first among equals).
pub fn rank(icp: &Icp, accounts: Vec<Account>) -> Vec<Scored> {
    let mut scored: Vec<Scored> = accounts
        .into_iter()
        .map(|account| {
            let (score, reasons) = icp.score(&account);
            Scored {
                account,
                score,
                reasons,
            }
        })
        .collect();
    // A stable sort keeps the store's newest-first order among equal scores.
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    scored
}

/// Accounts touched (any activity) this recently are not offered as new leads.
const RECENTLY_TOUCHED_DAYS: i64 = 30;

/// What a search found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The leads, best first: the account scored, and the contact to write to.
    pub leads: Vec<(Scored, Contact)>,
    /// Accounts that passed the filters.
    pub considered: usize,
    /// Of the best ones, skipped for having no contact.
    pub no_contact: usize,
    /// Of the best ones, skipped for having been touched in the last 30 days.
    pub recently_touched: usize,
}

/// The best `count` leads for `icp`: ranked candidates, skipping an account touched in
/// the last 30 days or without a contact; the contact is the one to write to.
pub async fn find(b: &Books<'_>, icp: &Icp, count: usize) -> Result<Found, CrmError> {
    let candidates = b
        .driver()
        .prospects(
            &icp.industries,
            &icp.regions,
            (icp.employees_min, icp.employees_max),
        )
        .await?;
    let considered = candidates.len();
    let cutoff = Utc::now() - Duration::days(RECENTLY_TOUCHED_DAYS);
    let mut found = Found {
        leads: Vec::new(),
        considered,
        no_contact: 0,
        recently_touched: 0,
    };
    for s in rank(icp, candidates) {
        if found.leads.len() == count {
            break;
        }
        let latest = b
            .driver()
            .activities(
                &ActivityFilter {
                    account: Some(s.account.id.clone()),
                    ..Default::default()
                },
                Page::FIRST,
            )
            .await?;
        if latest.first().is_some_and(|act| act.at >= cutoff) {
            found.recently_touched += 1;
            continue;
        }
        let contacts = b
            .driver()
            .contacts(Some(&s.account.id), Page::default())
            .await?;
        match super::actions::best_contact(&contacts) {
            Some(c) => {
                let c = c.clone();
                found.leads.push((s, c));
            }
            None => found.no_contact += 1,
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn account(name: &str, employees: i64, signals: &[&str]) -> Account {
        Account {
            id: name.into(),
            name: name.into(),
            domain: None,
            industry: Some("software".into()),
            employees: Some(employees),
            region: None,
            plan: None,
            owner: None,
            health: None,
            signals: signals.iter().map(|s| s.to_string()).collect(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_segment_sets_the_band_and_bounds_override_it() {
        let icp =
            Icp::from_params(&json!({"segment": "mid-market", "employees_max": 500})).unwrap();
        assert_eq!(
            (icp.employees_min, icp.employees_max),
            (Some(100), Some(500))
        );
        let e = Icp::from_params(&json!({"segment": "huge"})).unwrap_err();
        assert!(e.contains("smb, mid-market, enterprise"), "{e}");
    }

    #[test]
    fn the_segments_a_chat_directive_names_are_the_bands_searched() {
        // "focus on enterprise deals" promises "1000+ employees": the search keeps it.
        let told = crate::bdi::directives::SEGMENTS;
        assert_eq!(told.len(), SEGMENTS.len());
        for s in told {
            let icp = Icp::from_params(&json!({"segment": s.name})).unwrap();
            assert_eq!(
                (icp.employees_min, icp.employees_max),
                (Some(s.employees.0), s.employees.1),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn matching_signals_and_a_central_size_rank_first() {
        let icp =
            Icp::from_params(&json!({"segment": "mid-market", "signals": ["hiring", "funding"]}))
                .unwrap();
        let ranked = rank(
            &icp,
            vec![
                account("edge", 990, &[]),
                account(
                    "signals",
                    990,
                    &["Hiring 12 sales reps", "Series B funding"],
                ),
                account("central", 316, &[]),
            ],
        );
        let order: Vec<&str> = ranked.iter().map(|s| s.account.name.as_str()).collect();
        assert_eq!(order, ["signals", "central", "edge"]);
        assert!(
            ranked[0]
                .reasons
                .iter()
                .any(|r| r.contains("Hiring 12 sales reps"))
        );
        assert!((ranked[1].score - 0.6).abs() < 0.01, "{}", ranked[1].score);
    }
}
