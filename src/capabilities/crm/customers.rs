//! Finding the employee's customers that need it: below a threshold on a metric
//! (`crm.accounts_below`) or detractors by NPS (`crm.detractors`). Each one found is
//! handed to the employee as an event naming the contact to write to.

use super::actions::{best_contact, books, first_name};
use super::{Account, Books, CrmError};
use crate::capabilities::Hands;
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, param};
use crate::model::{EmployeeId, NewEvent};
use crate::store::Page;
use chrono::{Duration, Utc};
use serde_json::{Value as Json, json};

/// What an event about `account` carries: the account, and its best contact to write
/// to (`lead`, `name`, `first_name`, `email`) and all its people (`contacts`, one
/// comma-separated line); the flag says whether it has a contact.
pub(crate) async fn about(b: &Books<'_>, account: &Account) -> Result<(Json, bool), CrmError> {
    let contacts = b
        .driver()
        .contacts(Some(&account.id), Page::default())
        .await?;
    let contact = best_contact(&contacts);
    let payload = json!({
        "account": account.id, "company": account.name, "plan": account.plan, "health": account.health,
        "contact": contact.map(|c| &c.id), "name": contact.map(|c| &c.name),
        "first_name": contact.map(|c| first_name(&c.name)),
        "email": contact.map(|c| c.email.to_lowercase()),
        "lead": contact.map(|c| format!("{} <{}>", c.name, c.email)),
        "contacts": contacts.iter().map(|c| format!("{} <{}>", c.name, c.email)).collect::<Vec<_>>().join(", "),
    });
    Ok((payload, contact.is_some()))
}

/// Tells employee `to` a `kind` event the CRM raised; a failure is reported, not fatal.
pub(crate) async fn tell(
    hands: &Hands,
    to: EmployeeId,
    kind: &str,
    payload: Json,
    key: Option<String>,
) {
    let new = NewEvent {
        kind: kind.into(),
        source: "crm".into(),
        payload,
        idempotency_key: key,
    };
    if let Err(e) = hands.employees.perceive(to, new).await {
        tracing::warn!(error = %e, employee = %to, kind, "the CRM could not tell an employee");
    }
}

/// Hands each of `found` (an account and its value) to the acting employee as a `kind`
/// event naming the contact to write to; answers what was handed over.
async fn hand_over(
    a: &Act<'_>,
    kind: &str,
    found: Vec<(Account, f64)>,
    extra: Json,
) -> Result<Vec<Json>, CapabilityError> {
    let b = books(a);
    let mut out = Vec::new();
    for (account, value) in found {
        let (mut payload, reachable) = about(&b, &account).await?;
        payload["value"] = json!(value);
        payload["percent"] = json!((value * 100.0).round() as i64);
        if let (Json::Object(p), Json::Object(e)) = (&mut payload, &extra) {
            p.extend(e.clone());
        }
        if reachable {
            a.hands
                .employees
                .perceive(
                    a.me.id,
                    NewEvent {
                        kind: kind.into(),
                        source: "crm".into(),
                        payload: payload.clone(),
                        idempotency_key: Some(format!("{}:{kind}:{}", a.entry.key, account.id)),
                    },
                )
                .await
                .map_err(|e| {
                    CapabilityError::Service(format!("an account could not be handed over: {e}"))
                })?;
        }
        out.push(payload);
    }
    Ok(out)
}

/// The acting employee's customers.
async fn my_customers(a: &Act<'_>) -> Result<Vec<Account>, CapabilityError> {
    let f = crate::store::AccountFilter {
        owner: Some(a.me.id.to_string()),
        customers: true,
        ..Default::default()
    };
    Ok(books(a).driver().accounts(&f, Page::ALL).await?)
}

/// `crm.accounts_below`.
pub(super) async fn accounts_below(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let metric = param(p, "metric").unwrap_or_default().to_string();
    let threshold = p["threshold"]
        .as_f64()
        .or_else(|| param(p, "threshold").and_then(|t| t.parse().ok()))
        .ok_or_else(|| CapabilityError::Invalid("`threshold` must be a number".into()))?;
    let mine = my_customers(a).await?;
    let found: Vec<(Account, f64)> = if metric == "health" {
        mine.into_iter()
            .filter_map(|acc| acc.health.filter(|h| *h < threshold).map(|h| (acc, h)))
            .collect()
    } else {
        let latest: std::collections::HashMap<String, f64> = a
            .hands
            .store
            .latest_account_metric(&a.hands.tenant, &metric)
            .await?
            .into_iter()
            .collect();
        mine.into_iter()
            .filter_map(|acc| {
                latest
                    .get(&acc.id)
                    .copied()
                    .filter(|v| *v < threshold)
                    .map(|v| (acc, v))
            })
            .collect()
    };
    let accounts = hand_over(
        a,
        "crm.account_below",
        found,
        json!({"metric": metric, "threshold": threshold}),
    )
    .await?;
    Ok(
        json!({"metric": metric, "threshold": threshold, "count": accounts.len(), "accounts": accounts}),
    )
}

/// `crm.detractors`.
pub(super) async fn detractors(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let days = p["since_days"].as_i64().unwrap_or(30).clamp(1, 3650);
    let since = Utc::now() - Duration::days(days);
    let mut found = Vec::new();
    for account in my_customers(a).await? {
        let series = a
            .hands
            .store
            .account_series(&a.hands.tenant, &account.id, "nps", 1)
            .await?;
        if let Some((at, nps)) = series.last().copied()
            && at >= since
            && nps < 0.0
        {
            found.push((account, nps));
        }
    }
    let accounts = hand_over(
        a,
        "crm.detractor",
        found,
        json!({"metric": "nps", "since_days": days}),
    )
    .await?;
    Ok(json!({"since_days": days, "count": accounts.len(), "accounts": accounts}))
}
