//! `documents.qbr`: an account's quarterly business review deck, one PDF page per
//! slide, from what the CRM holds — health and each metric's move over the quarter,
//! the plan and the deals, the issues logged, and the action items that follow from
//! them. Each deck written tells the employee a `documents.qbr_ready` event naming the
//! account's stakeholders and the action items, which the CSM's plans book the review
//! and follow up on. Without `account`, every customer account the employee owns gets
//! its deck.

use super::Draft;
use super::actions::author;
use super::quote::money;
use crate::capabilities::crm::metrics::quarter_start;
use crate::capabilities::crm::{Account, Books};
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, param};
use crate::store::{AccountFilter, ActivityFilter, DealFilter, Page};
use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{Value as Json, json};

/// The metrics a deck shows, with how each reads.
const METRICS: [(&str, &str); 4] = [
    ("usage", "Product usage"),
    ("engagement", "Engagement"),
    ("feature_adoption", "Feature adoption"),
    ("nps", "NPS"),
];

/// Values of a series read for a quarter (a value a day at most).
const QUARTER_VALUES: i64 = 120;

/// `documents.qbr`.
pub(super) async fn qbr(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let b = Books::of(a.hands);
    let accounts = match param(p, "account") {
        Some(key) => vec![
            crate::capabilities::crm::actions::named(&b, key)
                .await?
                .0
                .ok_or_else(|| {
                    CapabilityError::Invalid(format!(
                        "no account {key:?} in the CRM; name one by id, domain or a contact's address"
                    ))
                })?,
        ],
        None => {
            b.driver()
                .accounts(
                    &AccountFilter {
                        owner: Some(a.me.id.to_string()),
                        customers: true,
                        ..Default::default()
                    },
                    Page::ALL,
                )
                .await?
        }
    };
    let today = Utc::now().date_naive();
    let start = quarter_start(today);
    let period = param(p, "period")
        .map(str::to_string)
        .unwrap_or_else(|| format!("Q{} {}", start.month0() / 3 + 1, start.year()));
    let mut written = Vec::new();
    for account in &accounts {
        let (doc, told) = deck(a, &b, account, start, &period).await?;
        crate::capabilities::crm::tell_employee(
            a.hands,
            a.me.id,
            "documents.qbr_ready",
            told,
            Some(format!("qbr:{}", doc.id)),
        )
        .await;
        written.push(json!({"document": doc.id, "account": account.id, "title": doc.title}));
    }
    Ok(json!({"decks": written, "count": written.len()}))
}

/// One account's deck, and what the employee is told of it.
async fn deck(
    a: &Act<'_>,
    b: &Books<'_>,
    account: &Account,
    start: NaiveDate,
    period: &str,
) -> Result<(super::Document, Json), CapabilityError> {
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let since = start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut metrics = Vec::new();
    let mut items: Vec<String> = Vec::new();
    for (metric, label) in METRICS {
        let series = hands
            .store
            .account_series(tenant, &account.id, metric, QUARTER_VALUES)
            .await?;
        let Some(&(_, now)) = series.last() else {
            continue;
        };
        // The quarter's opening value: the last before it began, else its first.
        let opening = series
            .iter()
            .rev()
            .find(|(at, _)| *at < since)
            .or_else(|| series.iter().find(|(at, _)| *at >= since))
            .map_or(now, |p| p.1);
        let show = |v: f64| {
            if metric == "nps" {
                format!("{v:.0}")
            } else {
                format!("{:.0}%", v * 100.0)
            }
        };
        let change = now - opening;
        metrics.push(json!({
            "label": label, "start": show(opening), "now": show(now),
            "change": if metric == "nps" { format!("{change:+.0}") } else { format!("{:+.0} pts", change * 100.0) },
        }));
        match metric {
            "usage" if now < 0.5 || change < -0.1 => items.push(format!(
                "Usage is at {} (from {} at the start of the quarter): run an adoption workshop with the team leads.",
                show(now),
                show(opening)
            )),
            "feature_adoption" if now < 0.4 => items.push(
                "Feature adoption is low: a walkthrough of the features the team does not use yet.".into(),
            ),
            "nps" if now < 0.0 => items.push(format!(
                "NPS is {}: a feedback session with the detractors.",
                show(now)
            )),
            _ => {}
        }
    }
    let deals = b
        .driver()
        .deals(
            &DealFilter {
                account: Some(account.id.clone()),
                ..Default::default()
            },
            Page::ALL,
        )
        .await?;
    let won: Vec<Json> = deals
        .iter()
        .filter(|d| d.stage == "closed_won" && d.closed_at.is_some_and(|t| t >= since))
        .map(|d| json!({"name": d.name, "amount": money((d.amount * 100.0).round() as i64, &hands.documents.config().currency)}))
        .collect();
    let open: Vec<Json> = deals
        .iter()
        .filter(|d| !d.stage.starts_with("closed"))
        .map(|d| {
            if let Some(s) = &d.next_step {
                items.push(format!("{}: {s}", d.name));
            }
            json!({
                "name": d.name, "stage": d.stage.replace('_', " "),
                "amount": money((d.amount * 100.0).round() as i64, &hands.documents.config().currency),
                "close_date": d.close_date.map(|c| c.to_string()).unwrap_or_else(|| "not set".into()),
            })
        })
        .collect();
    let issues: Vec<Json> = b
        .driver()
        .activities(
            &ActivityFilter {
                account: Some(account.id.clone()),
                ..Default::default()
            },
            Page {
                limit: 1000,
                offset: 0,
            },
        )
        .await?
        .into_iter()
        .filter(|x| x.kind == "issue" && x.at >= since)
        .map(|x| json!({"subject": x.subject, "date": x.at.date_naive().to_string()}))
        .collect();
    if !issues.is_empty() {
        items.push(format!(
            "{} support issue{} this quarter: confirm each is resolved and what would prevent it.",
            issues.len(),
            if issues.len() == 1 { "" } else { "s" }
        ));
    }
    let contacts = b
        .driver()
        .contacts(Some(&account.id), Page::default())
        .await?;
    let stakeholders: Vec<String> = contacts
        .iter()
        .map(|c| match &c.title {
            Some(t) => format!("{} ({t})", c.name),
            None => c.name.clone(),
        })
        .collect();
    let health = account.health.map(|h| {
        let cfg = &hands.crm.health_config();
        let band = if h < cfg.critical_below {
            "critical"
        } else if h < cfg.at_risk_below {
            "at risk"
        } else {
            "healthy"
        };
        json!({"score": format!("{h:.0}"), "band": band})
    });
    let title = format!("{} quarterly business review, {period}", account.name);
    let context = json!({
        "title": title, "period": period, "account": account, "me": author(a).await?,
        "date": Utc::now().date_naive().format("%-d %B %Y").to_string(),
        "stakeholders": stakeholders, "health": health, "metrics": metrics,
        "won": won, "open": open, "issues": issues, "action_items": items,
    });
    let doc = hands
        .documents
        .write(
            &hands.store,
            tenant,
            a.me.id,
            Some(&format!("{}:{}", a.entry.key, account.id)),
            "qbr.md.j2",
            Draft {
                kind: "qbr",
                title: title.clone(),
                series: format!("qbr:{}:{period}", account.id),
                account: Some(account.id.clone()),
                deal: None,
                contact: None,
                context,
                facts: json!({"period": period, "action_items": items}),
            },
        )
        .await?;
    let (mut told, _) = crate::capabilities::crm::about_account(b, account).await?;
    told["document"] = json!(doc.id);
    told["title"] = json!(doc.title);
    told["period"] = json!(period);
    told["action_items"] = json!(
        items
            .iter()
            .map(|i| format!("- {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok((doc, told))
}
