//! The documents actions: `documents.proposal` prices a quote from the price list and
//! writes it for a contact at an account (the account's open deal takes its total),
//! `documents.qbr` builds an account's quarterly business review deck from its data.

use super::quote::{self, Quote, money};
use super::{Document, Draft};
use crate::capabilities::crm::actions::{contact_named, named, open_deal};
use crate::capabilities::crm::{Account, Books, Contact, Deal, DealPatch, NewActivity};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, param};
use chrono::Utc;
use serde_json::{Value as Json, json};

/// The stage a deal is in once it has a proposal.
const PROPOSAL_STAGE: &str = "proposal";

/// The documents action kinds that have drivers.
pub(super) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "documents.proposal",
            "Writes a proposal: a quote priced from the price list (`items`, `item` with `quantity`, or the customer's own `request`, e.g. \"40 seats\"), less `discount` percent, for `contact` (an address) or `account`; the account's open deal (or `deal`) takes its total and moves to the proposal stage. Attach it with `email.reply` `attach_from`.",
            true,
            |a| Box::pin(proposal(a)),
        )
        .params(vec![
            Param::optional("contact", Text),
            Param::optional("account", Text),
            Param::optional("deal", Text),
            Param::optional("request", Text),
            Param::optional("items", List),
            Param::optional("item", Text),
            Param::optional("quantity", Integer),
            Param::optional("discount", Number),
            Param::optional("note", Text),
        ])
        .one_of(&["contact", "account"]),
        ActionKind::new(
            "documents.append",
            "Appends a dated entry to a running document (e.g. \"feature requests\"), started on its first entry; each entry is a new version.",
            true,
            |a| Box::pin(append(a)),
        )
        .params(vec![
            Param::required("document", Text),
            Param::required("entry", Text),
        ]),
        ActionKind::new(
            "documents.qbr",
            "Writes the quarterly business review deck (a PDF page per slide: health and usage over the quarter, commercials, issues, action items) of `account`, or of every customer account the employee owns; each deck tells the employee `documents.qbr_ready`.",
            true,
            |a| Box::pin(super::qbr::qbr(a)),
        )
        .params(vec![
            Param::optional("account", Text),
            Param::optional("period", Text),
        ]),
    ]
}

/// The writer as documents show them: name, title, address, and the persona's style.
pub(crate) async fn author(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let profile = a.hands.store.employee(&a.hands.tenant, a.me.id).await?;
    Ok(match profile {
        Some(p) => json!({
            "name": p.name, "email": p.email, "job_title": p.job_title, "team": p.team,
            "style": crate::bdi::style::style(&p.persona, (0, 0)),
        }),
        None => json!({"name": a.me.name, "email": a.me.email, "job_title": "", "team": ""}),
    })
}

/// The account and contact a proposal is for.
async fn recipient(b: &Books<'_>, p: &Json) -> Result<(Account, Option<Contact>), CapabilityError> {
    let key = param(p, "contact")
        .or_else(|| param(p, "account"))
        .unwrap_or("");
    let (account, mut contact) = named(b, key).await?;
    if contact.is_none()
        && let Some(c) = param(p, "contact")
    {
        contact = contact_named(b, c).await?;
    }
    let account = account.ok_or_else(|| {
        CapabilityError::Invalid(format!(
            "no account {key:?} in the CRM to write the proposal for; name one by id, domain or a contact's address, or open a deal for the sender first with `crm.create_deal`"
        ))
    })?;
    Ok((account, contact))
}

/// `documents.proposal`.
async fn proposal(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let docs = &a.hands.documents;
    let cfg = docs.config();
    let asked = quote::asked(cfg, p).map_err(CapabilityError::Invalid)?;
    let discount = match &p["discount"] {
        Json::Null => 0.0,
        v => v
            .as_f64()
            .or_else(|| {
                v.as_str()
                    .and_then(|s| s.trim().trim_end_matches('%').parse().ok())
            })
            .ok_or_else(|| {
                CapabilityError::Invalid(format!(
                    "`discount` must be a percentage such as 10, got {v}"
                ))
            })?,
    };
    let q = quote::price(cfg, &asked, discount).map_err(CapabilityError::Invalid)?;
    let b = Books::of(a.hands);
    let (account, contact) = recipient(&b, p).await?;
    let deal = match param(p, "deal") {
        Some(id) => Some(
            b.driver()
                .deal(id)
                .await?
                .ok_or_else(|| CapabilityError::Invalid(format!("no deal with id {id:?}")))?,
        ),
        None => open_deal(&b, &account.id).await?,
    };
    let title = super::proposal_title(&account.name, &q);
    let context = super::proposal_context(
        cfg,
        &q,
        &title,
        &account,
        contact.as_ref(),
        author(a).await?,
        param(p, "note"),
        Utc::now().date_naive(),
    );
    let series = format!("proposal:{}", deal.as_ref().map_or(&account.id, |d| &d.id));
    let doc = docs
        .write(
            &a.hands.store,
            &a.hands.tenant,
            a.me.id,
            Some(&a.entry.key),
            "proposal.md.j2",
            Draft {
                kind: "proposal",
                title,
                series,
                account: Some(account.id.clone()),
                deal: deal.as_ref().map(|d| d.id.clone()),
                contact: contact.as_ref().map(|c| c.id.clone()),
                context,
                facts: serde_json::to_value(&q).unwrap_or_default(),
            },
        )
        .await?;
    let stage = match &deal {
        Some(d) => Some(record_on_deal(a, &b, d, &q, &doc).await?),
        None => None,
    };
    Ok(json!({
        "document": doc.id, "version": doc.version, "title": doc.title,
        "total": q.total(), "total_text": money(q.total_cents, &q.currency),
        "account": account.id, "deal": deal.map(|d| d.id), "stage": stage,
    }))
}

/// The deal takes the proposal's total, moves to the proposal stage when it was
/// earlier in the pipeline, and has the proposal logged against it.
async fn record_on_deal(
    a: &Act<'_>,
    b: &Books<'_>,
    deal: &Deal,
    q: &Quote,
    doc: &Document,
) -> Result<String, CapabilityError> {
    let pipeline = b.pipeline();
    let at = |s: &str| pipeline.iter().position(|x| x == s);
    let stage = match (at(&deal.stage), at(PROPOSAL_STAGE)) {
        (Some(now), Some(proposal)) if now < proposal => Some(PROPOSAL_STAGE.to_string()),
        _ => None,
    };
    let updated = b
        .update_deal(
            &deal.id,
            DealPatch {
                amount: Some(q.total()),
                stage,
                ..Default::default()
            },
        )
        .await?;
    b.log_activity(
        NewActivity {
            kind: "note".into(),
            subject: format!(
                "Proposal v{} written: {} ({})",
                doc.version,
                money(q.total_cents, &q.currency),
                doc.title
            ),
            body: format!("Document {}", doc.id),
            deal: Some(deal.id.clone()),
            employee: Some(a.me.id.to_string()),
            key: Some(format!("document:{}", doc.id)),
            ..Default::default()
        },
        &a.me.id.to_string(),
    )
    .await?;
    Ok(updated.stage)
}

/// `documents.append`.
async fn append(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let name = param(p, "document").ok_or_else(|| {
        CapabilityError::Invalid(
            "`documents.append` needs `document`, the running document's name".into(),
        )
    })?;
    let entry = param(p, "entry").ok_or_else(|| {
        CapabilityError::Invalid("`documents.append` needs `entry`, the text to add".into())
    })?;
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let series = format!("running:{}", name.to_lowercase());
    let previous = hands.store.latest_in_series(tenant, &series).await?;
    let mut markdown = match &previous {
        Some((_, text)) => text.trim_end().to_string(),
        None => format!("# {name}\n"),
    };
    // One line per entry: its date and who added it, then the text on one line.
    let line = entry.split_whitespace().collect::<Vec<_>>().join(" ");
    markdown.push_str(&format!(
        "\n- {}, {}: {line}",
        Utc::now().date_naive(),
        a.me.name
    ));
    markdown.push('\n');
    let entries = markdown.lines().filter(|l| l.starts_with("- ")).count();
    let pdf = hands.documents.pdf(name, &markdown)?;
    let doc = hands
        .store
        .put_document(
            tenant,
            &crate::store::NewDocument {
                kind: "log".into(),
                title: name.to_string(),
                series,
                employee: a.me.id,
                account: None,
                deal: None,
                contact: None,
                action_key: Some(a.entry.key.clone()),
                markdown,
                pdf,
                facts: json!({"entries": entries}),
            },
        )
        .await?;
    Ok(json!({"document": doc.id, "version": doc.version, "entries": entries}))
}
