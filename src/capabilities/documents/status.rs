//! `documents.status_report`: where the employee stands on `scope` — its goals, what it
//! carried through and missed over the last `days` (14), the feedback it had and where
//! it is weakest — as a `report` document (PDF and DOCX), from the same figures a
//! performance review uses. A later step mails it (`attach_from`).

use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, param};
use crate::lifecycle::reviews::{Period, from_store};
use crate::model::Review;
use chrono::{Duration, Utc};
use serde_json::{Value as Json, json};

/// The report's text: each figure in words.
fn body(r: &Review, days: i64) -> String {
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let mut t = String::from("Goals:\n");
    for g in &r.goals {
        t.push_str(&format!("- {}\n", g.line()));
    }
    let ended: u32 = r.plans.iter().map(|p| p.ended).sum();
    t.push_str(&format!(
        "\nThe last {days} days: {ended} pieces of work ended"
    ));
    match r.task_success_rate {
        Some(s) => t.push_str(&format!(", {} carried through.\n", pct(s))),
        None => t.push_str(".\n"),
    }
    for p in &r.plans {
        t.push_str(&format!(
            "- {}: worked {} of {} times\n",
            p.plan.replace('_', " "),
            p.succeeded,
            p.ended
        ));
    }
    if let Some(s) = r.feedback_score {
        t.push_str(&format!(
            "\nFeedback rated {} on average ({} notes).\n",
            pct(s),
            r.team_feedback.len()
        ));
    }
    if !r.development_areas.is_empty() {
        t.push_str("\nNeeds attention:\n");
        for a in &r.development_areas {
            t.push_str(&format!("- {a}\n"));
        }
    }
    t
}

pub(super) async fn status_report(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let days = a.entry.params["days"].as_i64().unwrap_or(14).clamp(1, 92);
    let scope = param(&a.entry.params, "scope").unwrap_or("my work").trim();
    let (hands, me) = (a.hands, a.me);
    let profile = hands
        .store
        .employee(&hands.tenant, me.id)
        .await?
        .ok_or_else(|| CapabilityError::Invalid("the employee is not in the store".into()))?;
    let now = Utc::now();
    let period = Period {
        name: format!("last {days} days"),
        from: now - Duration::days(days),
        to: now,
    };
    let figures = from_store(
        &hands.store,
        &hands.tenant,
        &profile,
        &period,
        None,
        String::new(),
        now,
    )
    .await?;
    let title = format!("Status report: {scope}");
    let doc = hands
        .documents
        .write(
            &hands.store,
            &hands.tenant,
            me.id,
            Some(&a.entry.key),
            "report.md.j2",
            super::Draft {
                kind: "report",
                title: title.clone(),
                series: format!("status_report:{}:{scope}", me.id),
                account: None,
                deal: None,
                contact: None,
                context: json!({
                    "title": title,
                    "me": super::author(a).await?,
                    "date": now.format("%-d %B %Y").to_string(),
                    "body": super::report_markdown(&body(&figures, days)),
                }),
                facts: json!({
                    "goal_completion": figures.goal_completion,
                    "task_success_rate": figures.task_success_rate,
                    "goals": figures.goals,
                }),
            },
        )
        .await?;
    Ok(json!({"document": doc.id, "title": doc.title, "version": doc.version}))
}
