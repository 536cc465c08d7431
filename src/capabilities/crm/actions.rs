//! The CRM's actions. `crm.find_leads` ranks the accounts that fit a plan's ideal
//! customer profile and tells the employee about each lead it can reach as a
//! `crm.lead` event (its contact, company and best buying signal), so a plan can write
//! to that person; the others log activities, create and move deals, log issues and
//! review the pipeline for the manager.

use super::leads::Icp;
use super::{
    Account, Books, Contact, CrmError, Deal, DealPatch, NewAccount, NewActivity, NewContact,
    NewDeal, is_closed,
};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, param};
use crate::model::{NewEvent, bare_address};
use crate::store::{DealFilter, Page};
use chrono::NaiveDate;
use serde_json::{Value as Json, json};

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
            "Opens a deal with an account (or the account of a contact); answers the open deal it already has instead of opening a second, moved forward to `stage` when it was earlier. A sender not in the CRM (`contact` an address) gets an account (`company`, or named after their domain) and a contact first.",
            true,
            |a| Box::pin(create_deal(a)),
        )
        .params(vec![
            Param::optional("name", Text),
            Param::optional("account", Text),
            Param::optional("contact", Text),
            Param::optional("company", Text),
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
            |a| Box::pin(super::review::review_pipeline(a)),
        )
        .params(vec![
            Param::optional("period", Text),
            Param::optional("purpose", Text),
            Param::optional("quota", Number),
        ]),
        ActionKind::new(
            "crm.follow_up_stale_deals",
            "Finds the employee's open deals without activity for `days` (14) and hands each to it with the account's contact (`crm.deal_stale` events).",
            false,
            |a| Box::pin(super::followups::follow_up_stale_deals(a)),
        )
        .params(vec![Param::optional("days", Integer)]),
        ActionKind::new(
            "crm.log_issue",
            "Logs a customer's issue against their account (by id, domain, or a contact's address); a sender the CRM does not know is answered `logged: false`.",
            true,
            |a| Box::pin(log_issue(a)),
        )
        .params(vec![
            Param::required("account", Text),
            Param::required("summary", Text),
            Param::optional("body", Text),
        ]),
        ActionKind::new(
            "crm.detractors",
            "Finds the employee's customers whose latest NPS is negative (measured within `since_days`) and hands each to it (`crm.detractor` events).",
            false,
            |a| Box::pin(super::customers::detractors(a)),
        )
        .params(vec![Param::optional("since_days", Integer)]),
        ActionKind::new(
            "crm.accounts_below",
            "Finds the employee's customers below a threshold on a metric (`health` or an account metric such as `feature_adoption`) and hands each to it (`crm.account_below` events).",
            false,
            |a| Box::pin(super::customers::accounts_below(a)),
        )
        .params(vec![
            Param::required("metric", Text),
            Param::required("threshold", Number),
        ]),
    ]
}

pub(super) fn books<'a>(a: &'a Act<'a>) -> Books<'a> {
    Books::of(a.hands)
}

impl From<CrmError> for CapabilityError {
    fn from(e: CrmError) -> Self {
        match e {
            CrmError::Store(e) => e.into(),
            CrmError::Service(m) => CapabilityError::Service(m),
            e => CapabilityError::Invalid(e.to_string()),
        }
    }
}

/// The account a parameter names: its id, its domain, or the address of one of its
/// contacts (`Name <address>` too).
async fn account_named(b: &Books<'_>, key: &str) -> Result<Option<Account>, CrmError> {
    Ok(named(b, key).await?.0)
}

/// The account a parameter names (see [`account_named`]), and the contact when it names
/// one by address.
pub(crate) async fn named(
    b: &Books<'_>,
    key: &str,
) -> Result<(Option<Account>, Option<Contact>), CrmError> {
    let key = key.trim();
    if let Some(a) = b.driver().account(key).await? {
        return Ok((Some(a), None));
    }
    let address = bare_address(key);
    if let Some(c) = b.driver().contact_by_email(address).await? {
        let account = match &c.account {
            Some(id) => b.driver().account(id).await?,
            None => None,
        };
        return Ok((account, Some(c)));
    }
    let domain = address.rsplit('@').next().unwrap_or(address);
    Ok((b.driver().account_by_domain(domain).await?, None))
}

/// The contact a parameter names: its id or its address.
pub(crate) async fn contact_named(b: &Books<'_>, key: &str) -> Result<Option<Contact>, CrmError> {
    if let Some(c) = b.driver().contact(key.trim()).await? {
        return Ok(Some(c));
    }
    b.driver().contact_by_email(bare_address(key)).await
}

/// Who at an account to write to: the champion, then the economic buyer, then a
/// leader by title, then whoever is there.
pub(super) fn best_contact(contacts: &[Contact]) -> Option<&Contact> {
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

pub(crate) fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

/// `crm.find_leads`.
async fn find_leads(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let icp = Icp::from_params(p).map_err(CapabilityError::Invalid)?;
    let count = super::leads::whole(&p["count"], "count")
        .map_err(CapabilityError::Invalid)?
        .unwrap_or(10);
    if !(1..=100).contains(&count) {
        return Err(CapabilityError::Invalid(
            "`count` must be a whole number from 1 to 100".into(),
        ));
    }
    let b = books(a);
    let found = super::leads::find(&b, &icp, count as usize).await?;
    let mut leads = Vec::new();
    for (s, contact) in found.leads {
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
        "count": leads.len(), "leads": leads, "considered": found.considered,
        "skipped": {"no_contact": found.no_contact, "recently_touched": found.recently_touched},
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
pub(crate) async fn open_deal(b: &Books<'_>, account: &str) -> Result<Option<Deal>, CrmError> {
    let deals = b
        .driver()
        .deals(
            &DealFilter {
                account: Some(account.into()),
                open: true,
                ..Default::default()
            },
            Page::FIRST,
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

/// Mail providers whose domain says nothing about the company a sender works for.
const PERSONAL_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
];

/// The account and contact of someone who wrote in and is not in the CRM yet: the
/// account named by `company` or after the address's domain, the contact by the name
/// they signed their mail with; both owned by the acting employee.
async fn new_prospect(
    a: &Act<'_>,
    b: &Books<'_>,
    who: &str,
    company: Option<&str>,
) -> Result<(Account, Contact), CapabilityError> {
    let address = bare_address(who).to_lowercase();
    let Some((local, domain)) = address.split_once('@') else {
        return Err(CapabilityError::Invalid(format!(
            "no account {who:?} in the CRM; name one by id or domain, or the sender's address to open one"
        )));
    };
    let personal = PERSONAL_MAIL.contains(&domain);
    let name = crate::model::display_name(who)
        .filter(|n| !n.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| local.replace(['.', '_'], " "));
    let company = company.map(str::to_string).unwrap_or_else(|| {
        if personal {
            name.clone()
        } else {
            let label = domain.split('.').next().unwrap_or(domain);
            let mut c = label.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    });
    let account = match (!personal).then_some(domain) {
        Some(d) => b.driver().account_by_domain(d).await?,
        None => None,
    };
    let account = match account {
        Some(acc) => acc,
        None => {
            b.create_account(NewAccount {
                name: company,
                domain: (!personal).then(|| domain.to_string()),
                owner: Some(a.me.id.to_string()),
                ..Default::default()
            })
            .await?
        }
    };
    // Someone already a contact, with no account yet, joins the new one.
    let contact = match b.driver().contact_by_email(&address).await? {
        Some(c) => {
            let patch = super::ContactPatch {
                account: Some(Some(account.id.clone())),
                ..Default::default()
            };
            b.update_contact(&c.id, patch).await?
        }
        None => {
            b.create_contact(NewContact {
                name,
                email: address,
                account: Some(account.id.clone()),
                ..Default::default()
            })
            .await?
        }
    };
    Ok((account, contact))
}

/// `crm.create_deal`: a new deal for an account, or the account's open deal — moved
/// forward to `stage` when it was earlier. Someone who wrote in and is not in the CRM
/// (`contact` an address, `account` unknown) gets an account and a contact first.
async fn create_deal(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let b = books(a);
    let key = param(p, "account")
        .or_else(|| param(p, "contact"))
        .unwrap_or("");
    let account = match named(&b, key).await? {
        (Some(acc), Some(_)) => acc,
        (Some(acc), None) => {
            // A new person at a known account is added to it.
            if let Some(who) = param(p, "contact")
                && crate::model::is_address(bare_address(who))
                && contact_named(&b, who).await?.is_none()
            {
                b.create_contact(NewContact {
                    name: crate::model::display_name(who)
                        .unwrap_or(bare_address(who))
                        .to_string(),
                    email: bare_address(who).to_lowercase(),
                    account: Some(acc.id.clone()),
                    ..Default::default()
                })
                .await?;
            }
            acc
        }
        (None, _) => new_prospect(a, &b, key, param(p, "company")).await?.0,
    };
    if let Some(d) = open_deal(&b, &account.id).await? {
        let pipeline = b.pipeline();
        let at = |s: &str| pipeline.iter().position(|x| x == s);
        let forward = param(p, "stage")
            .filter(|s| !is_closed(s))
            .filter(|s| matches!((at(s), at(&d.stage)), (Some(to), Some(from)) if to > from));
        let d = match forward {
            Some(stage) => {
                let patch = DealPatch {
                    stage: Some(stage.to_string()),
                    next_step: param(p, "next_step").map(|s| Some(s.to_string())),
                    ..Default::default()
                };
                b.update_deal(&d.id, patch).await?
            }
            None => d,
        };
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
    // A sender the CRM does not know yet: nothing to log against, and the plan goes on
    // (the customer is still answered).
    let (Some(account), contact) = named(&b, key).await? else {
        return Ok(json!({"logged": false, "reason": format!("no account {key:?} in the CRM")}));
    };
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
