//! `crm.review_pipeline`: the employee's open deals for a period — by stage, closing in
//! the period, quiet for two weeks or more — mailed to its manager.

use super::actions::books;
use super::followups::{STALE_DAYS, last_touch};
use super::metrics::{self, COVERAGE, REVENUE};
use super::{Deal, is_closed};
use crate::capabilities::email::actions::{deliver_mail, own_mail};
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, param};
use crate::model::Manager;
use crate::store::{DealFilter, Page};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value as Json, json};

/// The first and last day of the period `name` (`week`, `month`, `quarter`, `year`)
/// that holds `today`.
fn period(name: &str, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), CapabilityError> {
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today);
    let (start, end) = match name {
        "week" => {
            let start = today - Duration::days(today.weekday().num_days_from_monday() as i64);
            (start, start + Duration::days(6))
        }
        "month" => {
            let start = ymd(today.year(), today.month(), 1);
            let next = if today.month() == 12 {
                ymd(today.year() + 1, 1, 1)
            } else {
                ymd(today.year(), today.month() + 1, 1)
            };
            (start, next - Duration::days(1))
        }
        "quarter" => {
            let start = super::metrics::quarter_start(today);
            let next = if start.month() == 10 {
                ymd(start.year() + 1, 1, 1)
            } else {
                ymd(start.year(), start.month() + 3, 1)
            };
            (start, next - Duration::days(1))
        }
        "year" => (ymd(today.year(), 1, 1), ymd(today.year(), 12, 31)),
        other => {
            return Err(CapabilityError::Invalid(format!(
                "`period` {other:?} is not one of week, month, quarter, year"
            )));
        }
    };
    Ok((start, end))
}

fn money(v: f64) -> String {
    let whole = v.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if whole < 0 { "-" } else { "" })
}

/// "1 deal", "3 deals".
fn deals_count(n: usize) -> String {
    if n == 1 {
        "1 deal".into()
    } else {
        format!("{n} deals")
    }
}

/// `crm.review_pipeline`.
pub(super) async fn review_pipeline(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let b = books(a);
    let period_name = param(p, "period").unwrap_or("quarter");
    let today = Utc::now().date_naive();
    let (start, end) = period(period_name, today)?;
    let mine = DealFilter {
        owner: Some(a.me.id.to_string()),
        ..Default::default()
    };
    let deals = b.driver().deals(&mine, Page::ALL).await?;
    let (open, closed): (Vec<&Deal>, Vec<&Deal>) = deals.iter().partition(|d| !is_closed(&d.stage));
    let won: f64 = closed
        .iter()
        .filter(|d| d.stage == "closed_won" && d.closed_at.is_some_and(|t| t.date_naive() >= start))
        .map(|d| d.amount)
        .sum();
    let open_total: f64 = open.iter().map(|d| d.amount).sum();
    let mut by_stage = serde_json::Map::new();
    let mut lines = vec![format!(
        "Pipeline review for the {period_name} {start} to {end}"
    )];
    if let Some(purpose) = param(p, "purpose") {
        lines.push(format!("Purpose: {purpose}"));
    }
    lines.push(String::new());
    lines.push(format!(
        "Open pipeline: {} in {}; closed won this {period_name}: {}",
        money(open_total),
        deals_count(open.len()),
        money(won)
    ));
    // Coverage as the goal metric has it: against the quota left this quarter (the
    // `quota` parameter, else the target of the employee's revenue goal).
    let quota = match p["quota"].as_f64() {
        Some(q) => Some(q),
        None => a
            .hands
            .store
            .employee(&a.hands.tenant, a.me.id)
            .await?
            .and_then(|e| {
                e.goals
                    .iter()
                    .find(|g| g.metric == REVENUE)
                    .map(|g| g.target)
            }),
    };
    let coverage = metrics::figures(&deals, quota, today)
        .into_iter()
        .find(|(m, _)| *m == COVERAGE)
        .map(|(_, v)| v);
    if let Some(c) = coverage {
        // One decimal, or two under 0.1 (0.04x is not nothing).
        let shown = if c > 0.0 && c < 0.1 {
            format!("{c:.2}")
        } else {
            format!("{c:.1}")
        };
        lines.push(format!("Coverage of the quota left this quarter: {shown}x"));
    }
    lines.push(String::new());
    for stage in b.pipeline().iter().filter(|s| !is_closed(s)) {
        let here: Vec<&&Deal> = open.iter().filter(|d| d.stage == *stage).collect();
        if here.is_empty() {
            continue;
        }
        let sum: f64 = here.iter().map(|d| d.amount).sum();
        by_stage.insert(stage.clone(), json!({"deals": here.len(), "amount": sum}));
        let names: Vec<&str> = here.iter().take(5).map(|d| d.name.as_str()).collect();
        let more = here.len().saturating_sub(names.len());
        lines.push(format!(
            "{stage}: {}, {} ({}{})",
            deals_count(here.len()),
            money(sum),
            names.join("; "),
            if more > 0 {
                format!("; {more} more")
            } else {
                String::new()
            }
        ));
    }
    let stale_before = Utc::now() - Duration::days(STALE_DAYS);
    let (mut closing, mut stale) = (Vec::new(), Vec::new());
    for d in &open {
        if d.close_date.is_some_and(|c| c >= start && c <= end) {
            closing.push(json!({"deal": d.id, "name": d.name, "amount": d.amount, "close_date": d.close_date, "next_step": d.next_step}));
        }
        let last_at = last_touch(&b, d).await?;
        if last_at < stale_before {
            stale.push(json!({"deal": d.id, "name": d.name, "amount": d.amount, "days_quiet": (Utc::now() - last_at).num_days()}));
        }
    }
    if !closing.is_empty() {
        lines.push(String::new());
        lines.push(format!("Closing this {period_name}:"));
        for c in &closing {
            lines.push(format!(
                "- {} ({}), close {}; next: {}",
                c["name"].as_str().unwrap_or(""),
                money(c["amount"].as_f64().unwrap_or(0.0)),
                c["close_date"].as_str().unwrap_or("?"),
                c["next_step"].as_str().unwrap_or("none set")
            ));
        }
    }
    if !stale.is_empty() {
        lines.push(String::new());
        lines.push(format!("No activity for {STALE_DAYS}+ days (follow up):"));
        for s in &stale {
            lines.push(format!(
                "- {} ({}), quiet {} days",
                s["name"].as_str().unwrap_or(""),
                money(s["amount"].as_f64().unwrap_or(0.0)),
                s["days_quiet"]
            ));
        }
    }
    let report = lines.join("\n");
    // The review is also a report document, attached to the manager's mail.
    let title = format!("Pipeline review: {period_name} to {end}");
    let doc = a
        .hands
        .documents
        .write(
            &a.hands.store,
            &a.hands.tenant,
            a.me.id,
            Some(&a.entry.key),
            "report.md.j2",
            crate::capabilities::documents::Draft {
                kind: "report",
                title: title.clone(),
                series: format!("pipeline_review:{}", a.me.id),
                account: None,
                deal: None,
                contact: None,
                context: json!({
                    "title": title,
                    "me": crate::capabilities::documents::author(a).await?,
                    "date": today.format("%-d %B %Y").to_string(),
                    "body": crate::capabilities::documents::report_markdown(&report),
                }),
                facts: json!({"open_amount": open_total, "closed_won": won, "coverage": coverage}),
            },
        )
        .await?;
    let sent_to = match a.manager {
        Some(Manager::Human { name, email }) => Some(format!("{name} <{email}>")),
        Some(Manager::Employee { id }) => a.hands.sender(*id).await?.map(|(s, _)| s.mailbox()),
        None => None,
    };
    if let Some(to) = &sent_to {
        let body = format!("Hi,\n\n{report}\n\n{}", a.me.name);
        let mut m = own_mail(a.hands, a.me, a.entry, to.clone(), title.clone(), body);
        m.attachments = crate::capabilities::email::actions::attachments(
            a.hands,
            a.me,
            &json!({"attach": [doc.id]}),
        )
        .await?;
        deliver_mail(a.hands, &m).await?;
    }
    Ok(json!({
        "document": doc.id, "period": period_name, "from": start, "to": end, "open_deals": open.len(), "open_amount": open_total,
        "closed_won": won, "coverage": coverage, "by_stage": by_stage, "closing": closing, "stale": stale,
        "report": report, "sent_to": sent_to,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_hold_today() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(
            period("quarter", d).unwrap(),
            (
                NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
            )
        );
        assert_eq!(
            period("week", d).unwrap().0,
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        assert_eq!(
            period("month", d).unwrap().1,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        assert!(period("fortnight", d).is_err());
    }

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(1234567.4), "$1,234,567");
        assert_eq!(money(900.0), "$900");
    }
}
