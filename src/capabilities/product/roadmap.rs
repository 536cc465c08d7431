//! The roadmap: `product.roadmap` ranks the open requests by RICE score (then votes,
//! then age), writes the top ones as a roadmap document with what moved since the last
//! roadmap and why, and remembers each request's rank and status for the next one;
//! `product.tell_movers` writes a short mail to everyone who asked for a request whose
//! status moved (planned, in progress, shipped, declined) saying what changed.
//!
//! What moved is worked out once, when the document is written, and kept in its facts:
//! the roadmap written again under the same action (after a crash) answers the same.

use super::backlog::short_id;
use super::{FeatureRequest, RequestStatus, RequestsFilter};
use crate::capabilities::documents::{Draft, author, report_markdown};
use crate::capabilities::email::actions::{deliver_mail, notice};
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, param};
use crate::model::{OutboxEntry, is_address};
use crate::store::Page;
use chrono::Utc;
use serde_json::{Value as Json, json};
use std::cmp::Ordering;

/// Requests in roadmap order: open ones by score, votes, then age.
pub(super) fn ranked(requests: &[FeatureRequest]) -> Vec<&FeatureRequest> {
    let mut open: Vec<&FeatureRequest> = requests.iter().filter(|r| r.status.open()).collect();
    open.sort_by(|a, b| {
        match (a.score, b.score) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then(b.votes.cmp(&a.votes))
        .then(a.created_at.cmp(&b.created_at))
    });
    open
}

/// Why a request stands where it does.
fn standing(r: &FeatureRequest) -> String {
    let votes = format!("{} vote{}", r.votes, if r.votes == 1 { "" } else { "s" });
    match r.score {
        Some(s) => format!("RICE score {s} ({votes})"),
        None => format!("{votes}, not yet scored"),
    }
}

/// What moved for `r`, now at `rank` (None: off the roadmap), and why; None when
/// nothing did.
pub(super) fn moved(r: &FeatureRequest, rank: Option<i64>) -> Option<String> {
    let was = r.roadmap_status.unwrap_or(RequestStatus::New);
    let mut what = Vec::new();
    if was != r.status {
        what.push(format!(
            "{} → {}",
            was.as_str().replace('_', " "),
            r.status.as_str().replace('_', " ")
        ));
    }
    match (r.roadmap_rank, rank) {
        (None, Some(n)) => what.push(format!("new on the roadmap at {n}")),
        (Some(p), Some(n)) if n < p => what.push(format!("up from {p} to {n}")),
        (Some(p), Some(n)) if n > p => what.push(format!("down from {p} to {n}")),
        (Some(p), None) if r.status.open() => what.push(format!("off the roadmap (was {p})")),
        _ => {}
    }
    (!what.is_empty()).then(|| format!("{}: {}", what.join(", "), standing(r)))
}

/// `product.roadmap`.
pub(crate) async fn roadmap(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let top = a.entry.params["top"].as_i64().unwrap_or(10);
    if !(1..=100).contains(&top) {
        return Err(CapabilityError::Invalid(format!(
            "`top` of `product.roadmap` must be 1 to 100, got {top}"
        )));
    }
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let all = hands
        .store
        .feature_requests(tenant, &RequestsFilter::default(), Page::ALL)
        .await?;
    let order = ranked(&all);
    let rank_of = |r: &FeatureRequest| {
        order
            .iter()
            .position(|x| x.id == r.id)
            .map(|i| i as i64 + 1)
            .filter(|n| *n <= top)
    };
    let mut text = String::from(
        "Top requests by RICE score (reach × impact × confidence ÷ effort; reach is the votes until set):\n",
    );
    if order.is_empty() {
        text.push_str("The backlog has no open requests.\n");
    }
    for (i, r) in order.iter().take(top as usize).enumerate() {
        text.push_str(&format!(
            "- Rank {}: {} (#{}): {}; {}\n",
            i + 1,
            r.title,
            short_id(&r.id),
            standing(r),
            r.status.as_str().replace('_', " ")
        ));
    }
    let changes: Vec<(&FeatureRequest, Option<i64>, String)> = all
        .iter()
        .filter_map(|r| {
            let rank = rank_of(r);
            moved(r, rank).map(|why| (r, rank, why))
        })
        .collect();
    text.push_str("\nWhat moved since the last roadmap, and why:\n");
    if changes.is_empty() {
        text.push_str("Nothing moved.\n");
    }
    for (r, _, why) in &changes {
        text.push_str(&format!("- {} (#{}): {why}\n", r.title, short_id(&r.id)));
    }
    let now = Utc::now();
    let title = "Product roadmap".to_string();
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
                series: format!("roadmap:{}", a.me.id),
                account: None,
                deal: None,
                contact: None,
                context: json!({
                    "title": title, "me": author(a).await?,
                    "date": now.format("%-d %B %Y").to_string(),
                    "body": report_markdown(&text),
                }),
                facts: json!({
                    "top": order.iter().take(top as usize).map(|r| &r.id).collect::<Vec<_>>(),
                    "moved": changes.iter().map(|(r, rank, why)| json!({
                        "id": r.id, "title": r.title, "voters": r.voters, "rank": rank,
                        "from": r.roadmap_status.unwrap_or(RequestStatus::New), "to": r.status, "why": why,
                    })).collect::<Vec<_>>(),
                }),
            },
        )
        .await?;
    // Remembered for the next roadmap (the same again when written again).
    for r in &all {
        let (rank, status) = (rank_of(r), Some(r.status));
        if r.roadmap_rank != rank || r.roadmap_status != status {
            let mut kept = r.clone();
            kept.roadmap_rank = rank;
            kept.roadmap_status = status;
            hands.store.update_feature_request(tenant, &kept).await?;
        }
    }
    Ok(json!({
        "document": doc.id, "title": doc.title, "version": doc.version,
        "moved": doc.facts["moved"],
    }))
}

/// `product.tell_movers`.
pub(crate) async fn tell_movers(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, p) = (a.hands, &a.entry.params);
    let number = param(p, "roadmap_from")
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "`roadmap_from` names the `product.roadmap` action by its number, e.g. \"{{{{ intention.last_action }}}}\"; got {}",
                p["roadmap_from"]
            ))
        })?;
    let key = OutboxEntry::key_for(a.me.id, number);
    let result = hands
        .store
        .action(&hands.tenant, &key)
        .await?
        .and_then(|r| r.result)
        .filter(|r| r["moved"].is_array())
        .ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "action {number} wrote no roadmap whose movers could be told"
            ))
        })?;
    let mut told = Vec::new();
    for m in result["moved"].as_array().into_iter().flatten() {
        let (from, to) = (m["from"].as_str(), m["to"].as_str());
        let Some(to) = to.and_then(RequestStatus::parse) else {
            continue;
        };
        if from == Some(to.as_str()) || to == RequestStatus::New {
            continue;
        }
        let title = m["title"].as_str().unwrap_or_default();
        for voter in m["voters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            if !is_address(voter) {
                continue;
            }
            let body = [
                param(p, "greeting").unwrap_or("Hello"),
                &format!(
                    "An update on the feature you asked for, \"{title}\": it {}.",
                    to.told()
                ),
                param(p, "signoff").unwrap_or(&a.me.name),
            ]
            .join("\n\n");
            let id = m["id"].as_str().unwrap_or_default();
            let mail = notice(
                hands,
                a.me,
                &format!("{}:{id}:{voter}", a.entry.key),
                voter.to_string(),
                format!("Your feature request: {title}"),
                body,
            );
            deliver_mail(hands, &mail).await?;
            told.push(json!({"to": voter, "request": id, "status": to}));
        }
    }
    Ok(json!({"told": told, "document": result["document"]}))
}

/// The metric of the PM's `roadmap_current` goal.
const DAYS_SINCE_REVIEW: &str = "days_since_roadmap_review";

/// `product.measure`: the days since the employee last wrote the roadmap (since its
/// start when it never has), told to it as `days_since_roadmap_review`; above the
/// role's threshold the roadmap review starts (`signal.roadmap_stale`).
pub(crate) async fn measure(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let reports = hands
        .store
        .documents(
            tenant,
            &crate::store::DocumentFilter {
                employee: Some(a.me.id.to_string()),
                kind: Some("report".into()),
                ..Default::default()
            },
            Page::ALL,
        )
        .await?;
    let series = format!("roadmap:{}", a.me.id);
    let last = reports
        .iter()
        .find(|d| d.series == series)
        .map(|d| d.created_at);
    let since = match last {
        Some(t) => t,
        None => match hands.store.employee(tenant, a.me.id).await? {
            Some(p) => p.start_date,
            None => {
                return Err(CapabilityError::Invalid(
                    "the employee is not on this node".into(),
                ));
            }
        },
    };
    let days = ((Utc::now() - since).num_hours() as f64 / 24.0)
        .floor()
        .max(0.0);
    hands
        .tell_metric(a.me.id, "product", DAYS_SINCE_REVIEW, days)
        .await
        .map_err(|e| CapabilityError::Service(format!("the metric could not be told: {e}")))?;
    Ok(json!({"metric": DAYS_SINCE_REVIEW, "value": days, "last_roadmap": last}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::product::Source;

    fn r(id: &str, score: Option<f64>, votes: i64, status: RequestStatus) -> FeatureRequest {
        FeatureRequest {
            id: id.into(),
            title: id.into(),
            description: String::new(),
            requester: None,
            account: None,
            votes,
            voters: vec![],
            reach: None,
            impact: None,
            confidence: None,
            effort: None,
            score,
            status,
            source: Source::Api,
            roadmap_rank: None,
            roadmap_status: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_roadmap_ranks_scored_requests_first_then_by_votes_and_leaves_closed_ones_out() {
        let all = [
            r("few", None, 1, RequestStatus::New),
            r("many", None, 5, RequestStatus::New),
            r("scored", Some(2.0), 1, RequestStatus::Planned),
            r("done", Some(9.0), 9, RequestStatus::Shipped),
        ];
        let ids: Vec<&str> = ranked(&all).iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["scored", "many", "few"]);
    }

    #[test]
    fn what_moved_says_the_status_change_the_rank_change_and_why() {
        let mut x = r("x", Some(3.2), 3, RequestStatus::Planned);
        x.roadmap_rank = Some(4);
        x.roadmap_status = Some(RequestStatus::New);
        assert_eq!(
            moved(&x, Some(1)).unwrap(),
            "new → planned, up from 4 to 1: RICE score 3.2 (3 votes)"
        );
        x.roadmap_rank = Some(1);
        x.roadmap_status = Some(RequestStatus::Planned);
        assert_eq!(moved(&x, Some(1)), None);
    }
}
