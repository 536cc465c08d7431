//! The CRM's actions. `crm.find_leads` ranks the accounts that fit a plan's ideal
//! customer profile and tells the employee about each lead it can reach as a
//! `crm.lead` event (its contact, company and best buying signal), so a plan can write
//! to that person; the others log activities, create and move deals, log issues and
//! review the pipeline for the manager.

use super::leads::{Icp, rank};
use super::{Account, Books, Contact, CrmError, Deal, DealPatch, NewActivity, NewDeal, is_closed};
use crate::capabilities::email::actions::{deliver_mail, own_mail};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, param};
use crate::model::{Manager, NewEvent, bare_address};
use crate::store::{ActivityFilter, DealFilter, Page};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value as Json, json};

/// Accounts touched (any activity) this recently are not offered as new leads.
const RECENTLY_TOUCHED_DAYS: i64 = 30;
/// An open deal without activity for this long is stale in a pipeline review.
const STALE_DAYS: i64 = 14;

/// The crm action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "crm.find_leads",
            "Finds the accounts that best fit an ideal customer profile and tells the employee about each reachable lead (`crm.lead` events).",
            false,
            |a| Box::pin(find_leads(a)),
        )
        .params(vec![
            Param::optional("segment", Text),
            Param::optional("count", Integer),
            Param::optional("industries", List),
            Param::optional("regions", List),
            Param::optional("employees_min", Integer),
            Param::optional("employees_max", Integer),
            Param::optional("signals", List),
        ]),
        ActionKind::new(
            "crm.log_activity",
            "Logs a mail, meeting, call, task, note or issue against a contact, account or deal.",
            true,
            |a| Box::pin(log_activity(a)),
        )
        .params(vec![
            Param::required("kind", Text),
            Param::required("subject", Text),
            Param::optional("body", Text),
            Param::optional("account", Text),
            Param::optional("contact", Text),
            Param::optional("deal", Text),
        ])
        .one_of(&["account", "contact", "deal"]),
        ActionKind::new(
            "crm.create_deal",
            "Opens a deal with an account (or the account of a contact); answers the open deal it already has instead of opening a second.",
            true,
            |a| Box::pin(create_deal(a)),
        )
        .params(vec![
            Param::optional("name", Text),
            Param::optional("account", Text),
            Param::optional("contact", Text),
            Param::optional("amount", Number),
            Param::optional("stage", Text),
            Param::optional("close_date", Text),
            Param::optional("next_step", Text),
        ])
        .one_of(&["account", "contact"]),
        ActionKind::new(
            "crm.update_deal",
            "Moves a deal (by id, or the open deal of an account or contact): its stage, or the next stage with `advance`, amount, close date, next step.",
            true,
            |a| Box::pin(update_deal(a)),
        )
        .params(vec![
            Param::optional("deal", Text),
            Param::optional("account", Text),
            Param::optional("contact", Text),
            Param::optional("stage", Text),
            Param::optional("advance", Boolean),
            Param::optional("amount", Number),
            Param::optional("close_date", Text),
            Param::optional("next_step", Text),
        ])
        .one_of(&["deal", "account", "contact"]),
        ActionKind::new(
            "crm.review_pipeline",
            "Reviews the employee's open deals for a period (by stage, closing, stale, next steps) and sends the review to its manager.",
            true,
            |a| Box::pin(review_pipeline(a)),
        )
        .params(vec![
            Param::optional("period", Text),
            Param::optional("purpose", Text),
            Param::optional("quota", Number),
        ]),
        ActionKind::new(
            "crm.log_issue",
            "Logs a customer's issue against their account (by id, domain, or a contact's address).",
            true,
            |a| Box::pin(log_issue(a)),
        )
        .params(vec![
            Param::required("account", Text),
            Param::required("summary", Text),
            Param::optional("body", Text),
        ]),
        ActionKind::without_driver(
            "crm.detractors",
            "Lists the accounts whose recent feedback is negative.",
            false,
        ),
        ActionKind::without_driver(
            "crm.accounts_below",
            "Lists the accounts below a threshold on a metric.",
            false,
        ),
    ]
}

fn books<'a>(a: &'a Act<'a>) -> Books<'a> {
    Books::of(a.hands)
}

impl From<CrmError> for CapabilityError {
    fn from(e: CrmError) -> Self {
        match e {
            CrmError::Store(e) => e.into(),
            e => CapabilityError::Invalid(e.to_string()),
        }
    }
}

/// The account a parameter names: its id, its domain, or the address of one of its
/// contacts (`Name <address>` too).
async fn account_named(b: &Books<'_>, key: &str) -> Result<Option<Account>, CrmError> {
    let key = key.trim();
    if let Some(a) = b.driver().account(key).await? {
        return Ok(Some(a));
    }
    let address = bare_address(key);
    if let Some(c) = b.driver().contact_by_email(address).await? {
        return match c.account {
            Some(id) => b.driver().account(&id).await,
            None => Ok(None),
        };
    }
    let domain = address.rsplit('@').next().unwrap_or(address);
    b.driver().account_by_domain(domain).await
}

/// The contact a parameter names: its id or its address.
async fn contact_named(b: &Books<'_>, key: &str) -> Result<Option<Contact>, CrmError> {
    if let Some(c) = b.driver().contact(key.trim()).await? {
        return Ok(Some(c));
    }
    b.driver().contact_by_email(bare_address(key)).await
}

/// Who at an account to write to: the champion, then the economic buyer, then a
/// leader by title, then whoever is there.
fn best_contact(contacts: &[Contact]) -> Option<&Contact> {
    let rank = |c: &Contact| {
        let role = c.role.as_deref().unwrap_or("").to_lowercase();
        let title = c.title.as_deref().unwrap_or("").to_lowercase();
        if role.contains("champion") {
            0
        } else if role.contains("economic") || role.contains("decision") {
            1
        } else if ["vp", "head", "director", "chief", "founder"]
            .iter()
            .any(|w| title.contains(w))
        {
            2
        } else {
            3
        }
    };
    contacts.iter().min_by_key(|c| rank(c))
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

/// `crm.find_leads`.
async fn find_leads(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let icp = Icp::from_params(p).map_err(CapabilityError::Invalid)?;
    let count = match &p["count"] {
        Json::Null => 10,
        v => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                CapabilityError::Invalid("`count` must be a whole number from 1 to 100".into())
            })? as usize,
    };
    let b = books(a);
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
    let (mut leads, mut no_contact, mut recently_touched) = (Vec::new(), 0, 0);
    for s in rank(&icp, candidates) {
        if leads.len() == count {
            break;
        }
        let latest = b
            .driver()
            .activities(
                &ActivityFilter {
                    account: Some(s.account.id.clone()),
                    ..Default::default()
                },
                Page {
                    limit: 1,
                    offset: 0,
                },
            )
            .await?;
        if latest.first().is_some_and(|act| act.at >= cutoff) {
            recently_touched += 1;
            continue;
        }
        let contacts = b
            .driver()
            .contacts(Some(&s.account.id), Page::default())
            .await?;
        let Some(contact) = best_contact(&contacts) else {
            no_contact += 1;
            continue;
        };
        // The signal that made it fit, else the newest one seen.
        let signal = s
            .reasons
            .iter()
            .find_map(|r| r.strip_prefix("signal: "))
            .map(str::to_string)
            .or_else(|| s.account.signals.first().cloned());
        let payload = json!({
            "lead": format!("{} <{}>", contact.name, contact.email),
            "contact": contact.id, "name": contact.name, "first_name": first_name(&contact.name),
            "title": contact.title, "email": contact.email.to_lowercase(),
            "account": s.account.id, "company": s.account.name, "industry": s.account.industry,
            "employees": s.account.employees, "signal": signal,
            "score": (s.score * 100.0).round() / 100.0, "reasons": s.reasons,
        });
        a.hands
            .employees
            .perceive(
                a.me.id,
                NewEvent {
                    kind: "crm.lead".into(),
                    source: "crm".into(),
                    payload: payload.clone(),
                    idempotency_key: Some(format!("{}:lead:{}", a.entry.key, s.account.id)),
                },
            )
            .await
            .map_err(|e| {
                CapabilityError::Service(format!("a lead could not be handed over: {e}"))
            })?;
        leads.push(payload);
    }
    Ok(json!({
        "count": leads.len(), "leads": leads, "considered": considered,
        "skipped": {"no_contact": no_contact, "recently_touched": recently_touched},
    }))
}

/// `crm.log_activity`.
async fn log_activity(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let b = books(a);
    let mut new = NewActivity {
        kind: param(p, "kind").unwrap_or_default().into(),
        subject: param(p, "subject").unwrap_or_default().into(),
        body: param(p, "body").unwrap_or_default().into(),
        account: None,
        contact: None,
        deal: param(p, "deal").map(str::to_string),
        employee: Some(a.me.id.to_string()),
        at: None,
        key: Some(format!("action:{}", a.entry.key)),
    };
    if let Some(c) = param(p, "contact") {
        let found = contact_named(&b, c).await?.ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "no contact {c:?} in the CRM; name one by id or address"
            ))
        })?;
        new.contact = Some(found.id);
    }
    if let Some(key) = param(p, "account") {
        let found = account_named(&b, key).await?.ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "no account {key:?} in the CRM; name one by id, domain or a contact's address"
            ))
        })?;
        new.account = Some(found.id);
    }
    let logged = b.log_activity(new, &a.me.id.to_string()).await?;
    Ok(match logged {
        Some(act) => {
            json!({"activity": act.id, "kind": act.kind, "account": act.account, "contact": act.contact})
        }
        None => json!({"skipped": "already logged by this action"}),
    })
}

/// The open deal of an account, the newest if several.
async fn open_deal(b: &Books<'_>, account: &str) -> Result<Option<Deal>, CrmError> {
    let deals = b
        .driver()
        .deals(
            &DealFilter {
                account: Some(account.into()),
                open: true,
                ..Default::default()
            },
            Page {
                limit: 1,
                offset: 0,
            },
        )
        .await?;
    Ok(deals.into_iter().next())
}

/// The account a deal action names by `account` or `contact`.
async fn deal_account(b: &Books<'_>, p: &Json) -> Result<Account, CapabilityError> {
    let key = param(p, "account")
        .or_else(|| param(p, "contact"))
        .unwrap_or("");
    account_named(b, key).await?.ok_or_else(|| {
        CapabilityError::Invalid(format!(
            "no account {key:?} in the CRM; name one by id, domain or a contact's address"
        ))
    })
}

fn date(p: &Json) -> Result<Option<NaiveDate>, CapabilityError> {
    param(p, "close_date")
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                CapabilityError::Invalid(format!(
                    "`close_date` must be a date like 2027-03-31, got {d:?}"
                ))
            })
        })
        .transpose()
}

/// `crm.create_deal`.
async fn create_deal(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let b = books(a);
    let account = deal_account(&b, p).await?;
    if let Some(d) = open_deal(&b, &account.id).await? {
        return Ok(
            json!({"deal": d.id, "stage": d.stage, "created": false, "account": account.id}),
        );
    }
    let d = b
        .create_deal(NewDeal {
            name: param(p, "name")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{} — new business", account.name)),
            account: Some(account.id.clone()),
            amount: p["amount"]
                .as_f64()
                .or_else(|| param(p, "amount").and_then(|s| s.parse().ok()))
                .unwrap_or(0.0),
            stage: param(p, "stage").map(str::to_string),
            close_date: date(p)?,
            owner: Some(a.me.id.to_string()),
            next_step: param(p, "next_step").map(str::to_string),
        })
        .await?;
    Ok(json!({"deal": d.id, "stage": d.stage, "created": true, "account": account.id}))
}

/// `crm.update_deal`.
async fn update_deal(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let b = books(a);
    let deal = match param(p, "deal") {
        Some(id) => b
            .driver()
            .deal(id)
            .await?
            .ok_or_else(|| CapabilityError::Invalid(format!("no deal with id {id:?}")))?,
        None => {
            let account = deal_account(&b, p).await?;
            open_deal(&b, &account.id).await?.ok_or_else(|| {
                CapabilityError::Invalid(format!(
                    "{} has no open deal; open one with `crm.create_deal`",
                    account.name
                ))
            })?
        }
    };
    let mut stage = param(p, "stage").map(str::to_string);
    if stage.is_none() && crate::model::truthy(&p["advance"]) {
        let pipeline = b.pipeline();
        let at = pipeline.iter().position(|s| *s == deal.stage);
        stage = at
            .and_then(|i| pipeline.get(i + 1))
            .filter(|next| !is_closed(next))
            .cloned();
    }
    let patch = DealPatch {
        stage,
        amount: p["amount"].as_f64(),
        close_date: date(p)?.map(Some),
        next_step: param(p, "next_step").map(|s| Some(s.to_string())),
        ..Default::default()
    };
    let d = b.update_deal(&deal.id, patch).await?;
    Ok(json!({"deal": d.id, "stage": d.stage, "from_stage": deal.stage, "amount": d.amount}))
}

/// `crm.log_issue`.
async fn log_issue(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let b = books(a);
    let key = param(p, "account").unwrap_or("");
    let account = account_named(&b, key).await?.ok_or_else(|| {
        CapabilityError::Invalid(format!(
            "no account {key:?} in the CRM; name one by id, domain or a contact's address"
        ))
    })?;
    let contact = contact_named(&b, key).await?;
    let logged = b
        .log_activity(
            NewActivity {
                kind: "issue".into(),
                subject: param(p, "summary").unwrap_or("issue").into(),
                body: param(p, "body").unwrap_or_default().into(),
                account: Some(account.id.clone()),
                contact: contact.map(|c| c.id),
                employee: Some(a.me.id.to_string()),
                key: Some(format!("action:{}", a.entry.key)),
                ..Default::default()
            },
            &a.me.id.to_string(),
        )
        .await?;
    Ok(json!({"account": account.id, "issue": logged.map(|l| l.id)}))
}

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
            let first = (today.month0() / 3) * 3 + 1;
            let start = ymd(today.year(), first, 1);
            let next = if first == 10 {
                ymd(today.year() + 1, 1, 1)
            } else {
                ymd(today.year(), first + 3, 1)
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

/// `crm.review_pipeline`.
async fn review_pipeline(a: &Act<'_>) -> Result<Json, CapabilityError> {
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
        "Open pipeline: {} in {} deals; closed won this {period_name}: {}",
        money(open_total),
        open.len(),
        money(won)
    ));
    let quota = p["quota"].as_f64();
    let coverage = quota
        .map(|q| (q - won).max(0.0))
        .filter(|r| *r > 0.0)
        .map(|remaining| open_total / remaining);
    if let Some(c) = coverage {
        lines.push(format!("Coverage of the remaining quota: {c:.1}x"));
    }
    lines.push(String::new());
    for stage in b.pipeline().iter().filter(|s| !is_closed(s)) {
        let here: Vec<&&Deal> = open.iter().filter(|d| d.stage == *stage).collect();
        if here.is_empty() {
            continue;
        }
        let sum: f64 = here.iter().map(|d| d.amount).sum();
        by_stage.insert(stage.clone(), json!({"deals": here.len(), "amount": sum}));
        lines.push(format!("{stage}: {} deals, {}", here.len(), money(sum)));
    }
    let stale_before = Utc::now() - Duration::days(STALE_DAYS);
    let (mut closing, mut stale) = (Vec::new(), Vec::new());
    for d in &open {
        if d.close_date.is_some_and(|c| c >= start && c <= end) {
            closing.push(json!({"deal": d.id, "name": d.name, "amount": d.amount, "close_date": d.close_date, "next_step": d.next_step}));
        }
        let last = b
            .driver()
            .activities(
                &ActivityFilter {
                    deal: Some(d.id.clone()),
                    ..Default::default()
                },
                Page {
                    limit: 1,
                    offset: 0,
                },
            )
            .await?;
        let last_at = last.first().map(|x| x.at).unwrap_or(d.updated_at);
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
    let sent_to = match a.manager {
        Some(Manager::Human { name, email }) => Some(format!("{name} <{email}>")),
        Some(Manager::Employee { id }) => a.hands.sender(*id).await?.map(|(s, _)| s.mailbox()),
        None => None,
    };
    if let Some(to) = &sent_to {
        let body = format!("Hi,\n\n{report}\n\n{}", a.me.name);
        let m = own_mail(
            a.hands,
            a.me,
            a.entry,
            to.clone(),
            format!("Pipeline review: {period_name} to {end}"),
            body,
        );
        deliver_mail(a.hands, &m).await?;
    }
    Ok(json!({
        "period": period_name, "from": start, "to": end, "open_deals": open.len(), "open_amount": open_total,
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
