//! The HubSpot driver: the same records in a HubSpot portal, through its CRM v3 objects
//! API (companies, contacts, deals, notes), its search, and its associations. A
//! private app's token is read from the environment variable `[crm] token_env` names
//! and sent as `Authorization: Bearer`. A `429` is waited out for as long as its
//! `Retry-After` says (three times at most); lists page with `after`.
//!
//! What HubSpot has no field for is kept in custom properties the portal must define:
//! companies `empla_region`, `empla_plan`, `empla_owner`, `empla_health`,
//! `empla_signals` (`;`-separated); contacts `empla_role`; deals `empla_owner`,
//! `empla_closed_at`; notes `empla_kind`, `empla_subject`, `empla_employee`,
//! `empla_logged_by`, `empla_key`. Deal stages are mapped to the portal's stage ids by
//! `[crm.stage_ids]`. Activities are notes associated with their contact, company and
//! deal. An import is sent record by record after every row was checked: HubSpot has
//! no transaction, so a failure of the service midway leaves what was sent.

use super::{
    Account, AccountPatch, Activity, Contact, ContactPatch, CrmDriver, CrmError, Deal, DealPatch,
    NewAccount, NewActivity, NewContact, NewDeal, import::Batch, is_closed, records::tidy,
};
use crate::store::{AccountFilter, ActivityFilter, DealFilter, Page};
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use std::time::Duration;

const COMPANY: &[&str] = &[
    "name",
    "domain",
    "industry",
    "numberofemployees",
    "empla_region",
    "empla_plan",
    "empla_owner",
    "empla_health",
    "empla_signals",
];
const CONTACT: &[&str] = &["firstname", "lastname", "email", "jobtitle", "empla_role"];
const DEAL: &[&str] = &[
    "dealname",
    "amount",
    "dealstage",
    "closedate",
    "empla_owner",
    "hs_next_step",
    "empla_closed_at",
];
const NOTE: &[&str] = &[
    "hs_note_body",
    "hs_timestamp",
    "empla_kind",
    "empla_subject",
    "empla_employee",
    "empla_logged_by",
    "empla_key",
];
/// HubSpot-defined association type ids.
const CONTACT_TO_COMPANY: u32 = 279;
const DEAL_TO_COMPANY: u32 = 341;
const NOTE_TO_CONTACT: u32 = 202;
const NOTE_TO_COMPANY: u32 = 190;
const NOTE_TO_DEAL: u32 = 214;
/// Records per page of a search (HubSpot's most).
const PAGE: usize = 100;
/// Tries of one call while HubSpot answers 429.
const TRIES: usize = 3;

pub(super) struct HubSpot {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Our stage → the portal's stage id, and back.
    stages: BTreeMap<String, String>,
    first_stage: String,
}

fn service(m: impl std::fmt::Display) -> CrmError {
    CrmError::Service(format!("HubSpot: {m}"))
}

fn text(p: &Json, key: &str) -> Option<String> {
    p[key]
        .as_str()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn time(v: &Json) -> DateTime<Utc> {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_default()
}

/// The id of the first `kind` record `o` is associated with.
fn associated(o: &Json, kind: &str) -> Option<String> {
    o["associations"][kind]["results"][0]["id"]
        .as_str()
        .map(str::to_string)
}

fn association(to: &str, type_id: u32) -> Json {
    json!({"to": {"id": to}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]})
}

/// A property value as HubSpot takes it: text, or empty to clear.
fn prop<T: ToString>(v: Option<T>) -> Json {
    Json::String(v.map(|v| v.to_string()).unwrap_or_default())
}

impl HubSpot {
    pub(super) fn new(
        base: &str,
        token: String,
        stages: BTreeMap<String, String>,
        first_stage: String,
    ) -> Result<HubSpot, String> {
        crate::telemetry::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("crm: the HTTP client cannot be built: {e}"))?;
        Ok(HubSpot {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
            stages,
            first_stage,
        })
    }

    fn stage_out(&self, ours: &str) -> String {
        self.stages
            .get(ours)
            .cloned()
            .unwrap_or_else(|| ours.to_string())
    }

    fn stage_in(&self, theirs: &str) -> String {
        self.stages
            .iter()
            .find(|(_, t)| *t == theirs)
            .map(|(o, _)| o.clone())
            .unwrap_or_else(|| theirs.to_string())
    }

    /// One call; `None` for a 404. A 429 is waited out (its `Retry-After`, at most 10 s).
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
    ) -> Result<Option<Json>, CrmError> {
        for attempt in 1..=TRIES {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .query(query);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| service(format!("cannot reach {}: {e}", self.base)))?;
            let status = resp.status();
            if status.as_u16() == 429 && attempt < TRIES {
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(10);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            if status.as_u16() == 404 {
                return Ok(None);
            }
            let answer: Json = if status.as_u16() == 204 {
                Json::Null
            } else {
                resp.json().await.unwrap_or(Json::Null)
            };
            if status.as_u16() == 409 {
                return Err(CrmError::Conflict(format!(
                    "HubSpot: {}",
                    answer["message"].as_str().unwrap_or("conflict")
                )));
            }
            if !status.is_success() {
                return Err(service(format!(
                    "{method} {path} answered {status}: {}",
                    answer["message"].as_str().unwrap_or("no details")
                )));
            }
            return Ok(Some(answer));
        }
        Err(service(format!(
            "{method} {path}: still rate-limited after {TRIES} tries"
        )))
    }

    async fn get(
        &self,
        kind: &str,
        id: &str,
        props: &[&str],
        assoc: &str,
    ) -> Result<Option<Json>, CrmError> {
        let mut q = vec![("properties", props.join(","))];
        if !assoc.is_empty() {
            q.push(("associations", assoc.to_string()));
        }
        self.call(
            Method::GET,
            &format!("/crm/v3/objects/{kind}/{id}"),
            &q,
            None,
        )
        .await
    }

    /// Every record a search finds from `skip` on, at most `take`, newest first.
    async fn search(
        &self,
        kind: &str,
        filters: Vec<Json>,
        props: &[&str],
        skip: usize,
        take: usize,
    ) -> Result<Vec<Json>, CrmError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        let mut seen = 0;
        loop {
            let mut body = json!({
                "filterGroups": if filters.is_empty() { json!([]) } else { json!([{"filters": filters}]) },
                "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
                "properties": props,
                "limit": PAGE,
            });
            if let Some(a) = &after {
                body["after"] = json!(a);
            }
            let page = self
                .call(
                    Method::POST,
                    &format!("/crm/v3/objects/{kind}/search"),
                    &[],
                    Some(&body),
                )
                .await?
                .unwrap_or(Json::Null);
            for r in page["results"].as_array().into_iter().flatten() {
                if seen >= skip && out.len() < take {
                    out.push(r.clone());
                }
                seen += 1;
            }
            after = page["paging"]["next"]["after"].as_str().map(str::to_string);
            if after.is_none() || out.len() >= take {
                return Ok(out);
            }
        }
    }

    /// The ids of the `to` records associated with `kind` record `id`, every page.
    async fn associations(&self, kind: &str, id: &str, to: &str) -> Result<Vec<String>, CrmError> {
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = vec![("limit", PAGE.to_string())];
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let Some(page) = self
                .call(
                    Method::GET,
                    &format!("/crm/v3/objects/{kind}/{id}/associations/{to}"),
                    &q,
                    None,
                )
                .await?
            else {
                return Ok(ids);
            };
            ids.extend(
                page["results"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["id"].as_str().map(str::to_string)),
            );
            after = page["paging"]["next"]["after"].as_str().map(str::to_string);
            if after.is_none() {
                return Ok(ids);
            }
        }
    }

    /// Moves `kind` record `id` from its company (if any) to `to` (if any).
    async fn reassociate(
        &self,
        kind: &str,
        id: &str,
        from: Option<&str>,
        to: Option<&str>,
        label: &str,
    ) -> Result<(), CrmError> {
        if from == to {
            return Ok(());
        }
        if let Some(old) = from {
            self.call(
                Method::DELETE,
                &format!("/crm/v3/objects/{kind}/{id}/associations/companies/{old}/{label}"),
                &[],
                None,
            )
            .await?;
        }
        if let Some(new) = to {
            self.call(
                Method::PUT,
                &format!("/crm/v3/objects/{kind}/{id}/associations/companies/{new}/{label}"),
                &[],
                None,
            )
            .await?;
        }
        Ok(())
    }

    fn account_of(&self, o: &Json) -> Account {
        let p = &o["properties"];
        Account {
            id: o["id"].as_str().unwrap_or_default().into(),
            name: text(p, "name").unwrap_or_default(),
            domain: text(p, "domain"),
            industry: text(p, "industry"),
            employees: text(p, "numberofemployees").and_then(|n| n.parse().ok()),
            region: text(p, "empla_region"),
            plan: text(p, "empla_plan"),
            owner: text(p, "empla_owner"),
            health: text(p, "empla_health").and_then(|h| h.parse().ok()),
            signals: text(p, "empla_signals")
                .map(|s| s.split(';').map(str::to_string).collect())
                .unwrap_or_default(),
            created_at: time(&o["createdAt"]),
            updated_at: time(&o["updatedAt"]),
        }
    }

    fn contact_of(&self, o: &Json) -> Contact {
        let p = &o["properties"];
        let name = [text(p, "firstname"), text(p, "lastname")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Contact {
            id: o["id"].as_str().unwrap_or_default().into(),
            name,
            email: text(p, "email").unwrap_or_default(),
            title: text(p, "jobtitle"),
            account: associated(o, "companies"),
            role: text(p, "empla_role"),
            created_at: time(&o["createdAt"]),
            updated_at: time(&o["updatedAt"]),
        }
    }

    fn deal_of(&self, o: &Json) -> Deal {
        let p = &o["properties"];
        Deal {
            id: o["id"].as_str().unwrap_or_default().into(),
            name: text(p, "dealname").unwrap_or_default(),
            account: associated(o, "companies"),
            amount: text(p, "amount")
                .and_then(|a| a.parse().ok())
                .unwrap_or(0.0),
            stage: self.stage_in(&text(p, "dealstage").unwrap_or_default()),
            close_date: text(p, "closedate")
                .and_then(|d| NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok()),
            owner: text(p, "empla_owner"),
            next_step: text(p, "hs_next_step"),
            closed_at: text(p, "empla_closed_at").and_then(|t| t.parse().ok()),
            created_at: time(&o["createdAt"]),
            updated_at: time(&o["updatedAt"]),
        }
    }

    fn note_of(o: &Json) -> Activity {
        let p = &o["properties"];
        Activity {
            id: o["id"].as_str().unwrap_or_default().into(),
            kind: text(p, "empla_kind").unwrap_or_else(|| "note".into()),
            subject: text(p, "empla_subject").unwrap_or_default(),
            body: text(p, "hs_note_body").unwrap_or_default(),
            account: associated(o, "companies"),
            contact: associated(o, "contacts"),
            deal: associated(o, "deals"),
            employee: text(p, "empla_employee"),
            logged_by: text(p, "empla_logged_by").unwrap_or_default(),
            at: time(&p["hs_timestamp"]),
        }
    }

    fn company_props(a: &NewAccount) -> Json {
        json!({
            "name": a.name.trim(), "domain": prop(tidy(a.domain.clone()).map(|d| d.to_lowercase())),
            "industry": prop(tidy(a.industry.clone())), "numberofemployees": prop(a.employees),
            "empla_region": prop(tidy(a.region.clone())), "empla_plan": prop(tidy(a.plan.clone())),
            "empla_owner": prop(a.owner.clone()), "empla_signals": a.signals.join(";"),
        })
    }

    fn contact_props(name: &str, email: &str, title: Option<&str>, role: Option<&str>) -> Json {
        let name = name.trim();
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        json!({"firstname": first, "lastname": last.trim(), "email": email.trim(), "jobtitle": title.unwrap_or(""), "empla_role": role.unwrap_or("")})
    }

    fn deal_props(&self, d: &NewDeal) -> Json {
        let stage = d.stage.clone().unwrap_or_else(|| self.first_stage.clone());
        let closed = is_closed(&stage).then(|| Utc::now().to_rfc3339());
        json!({
            "dealname": d.name.trim(), "amount": d.amount.to_string(), "dealstage": self.stage_out(&stage),
            "closedate": prop(d.close_date.map(|c| format!("{c}T00:00:00Z"))), "empla_owner": prop(d.owner.clone()),
            "hs_next_step": prop(tidy(d.next_step.clone())), "empla_closed_at": prop(closed),
        })
    }

    /// Changes a record's properties; none when there is no such record.
    async fn patch(&self, kind: &str, id: &str, body: &Json) -> Result<Option<Json>, CrmError> {
        self.call(
            Method::PATCH,
            &format!("/crm/v3/objects/{kind}/{id}"),
            &[],
            Some(body),
        )
        .await
    }

    /// Archives (deletes) a record; false when there was none.
    async fn archive(&self, kind: &str, id: &str) -> Result<bool, CrmError> {
        Ok(self
            .call(
                Method::DELETE,
                &format!("/crm/v3/objects/{kind}/{id}"),
                &[],
                None,
            )
            .await?
            .is_some())
    }

    async fn create(
        &self,
        kind: &str,
        props: Json,
        associations: Vec<Json>,
    ) -> Result<Json, CrmError> {
        let body = json!({"properties": props, "associations": associations});
        self.call(
            Method::POST,
            &format!("/crm/v3/objects/{kind}"),
            &[],
            Some(&body),
        )
        .await?
        .ok_or_else(|| service(format!("creating a {kind} record answered 404")))
    }
}

fn eq(name: &str, value: impl ToString) -> Json {
    json!({"propertyName": name, "operator": "EQ", "value": value.to_string()})
}

#[async_trait::async_trait]
impl CrmDriver for HubSpot {
    async fn create_account(&self, a: NewAccount) -> Result<Account, CrmError> {
        let o = self
            .create("companies", Self::company_props(&a), Vec::new())
            .await?;
        Ok(self.account_of(&o))
    }

    async fn account(&self, id: &str) -> Result<Option<Account>, CrmError> {
        Ok(self
            .get("companies", id, COMPANY, "")
            .await?
            .map(|o| self.account_of(&o)))
    }

    async fn account_by_domain(&self, domain: &str) -> Result<Option<Account>, CrmError> {
        let found = self
            .search(
                "companies",
                vec![eq("domain", domain.trim().to_lowercase())],
                COMPANY,
                0,
                1,
            )
            .await?;
        Ok(found.first().map(|o| self.account_of(o)))
    }

    async fn accounts(&self, f: &AccountFilter, page: Page) -> Result<Vec<Account>, CrmError> {
        let mut filters = Vec::new();
        if let Some(o) = &f.owner {
            filters.push(eq("empla_owner", o));
        }
        if let Some(h) = f.health_below {
            filters.push(
                json!({"propertyName": "empla_health", "operator": "LT", "value": h.to_string()}),
            );
        }
        if f.customers {
            filters.push(json!({"propertyName": "empla_plan", "operator": "HAS_PROPERTY"}));
        }
        let found = self
            .search(
                "companies",
                filters,
                COMPANY,
                page.offset as usize,
                page.limit as usize,
            )
            .await?;
        Ok(found.iter().map(|o| self.account_of(o)).collect())
    }

    async fn update_account(&self, id: &str, p: AccountPatch) -> Result<Option<Account>, CrmError> {
        let mut props = Map::new();
        if let Some(n) = p.name {
            props.insert("name".into(), json!(n.trim()));
        }
        for (key, v) in [
            (
                "domain",
                p.domain.map(|d| tidy(d).map(|d| d.to_lowercase())),
            ),
            ("industry", p.industry.map(tidy)),
            ("empla_region", p.region.map(tidy)),
            ("empla_plan", p.plan.map(tidy)),
            ("empla_owner", p.owner),
        ] {
            if let Some(v) = v {
                props.insert(key.into(), prop(v));
            }
        }
        if let Some(n) = p.employees {
            props.insert("numberofemployees".into(), prop(n));
        }
        if let Some(h) = p.health {
            props.insert("empla_health".into(), prop(h));
        }
        if let Some(s) = p.signals {
            props.insert("empla_signals".into(), json!(s.join(";")));
        }
        let body = json!({"properties": props});
        let o = self.patch("companies", id, &body).await?;
        Ok(o.map(|o| self.account_of(&o)))
    }

    async fn delete_account(&self, id: &str) -> Result<bool, CrmError> {
        self.archive("companies", id).await
    }

    async fn create_contact(&self, c: NewContact) -> Result<Contact, CrmError> {
        if let Some(existing) = self.contact_by_email(&c.email).await? {
            return Err(CrmError::Conflict(format!(
                "a contact with email {:?} exists: {} ({}); change that one with `PATCH /api/v1/crm/contacts/{}`",
                existing.email, existing.name, existing.id, existing.id
            )));
        }
        let assoc: Vec<Json> = c
            .account
            .iter()
            .map(|a| association(a, CONTACT_TO_COMPANY))
            .collect();
        let props = Self::contact_props(&c.name, &c.email, c.title.as_deref(), c.role.as_deref());
        let o = self.create("contacts", props, assoc).await?;
        let mut contact = self.contact_of(&o);
        contact.account = c.account;
        Ok(contact)
    }

    async fn contact(&self, id: &str) -> Result<Option<Contact>, CrmError> {
        Ok(self
            .get("contacts", id, CONTACT, "companies")
            .await?
            .map(|o| self.contact_of(&o)))
    }

    async fn contact_by_email(&self, email: &str) -> Result<Option<Contact>, CrmError> {
        let found = self
            .search(
                "contacts",
                vec![eq("email", email.trim().to_lowercase())],
                CONTACT,
                0,
                1,
            )
            .await?;
        match found.first().and_then(|o| o["id"].as_str()) {
            // Searches answer no associations: read the contact whole.
            Some(id) => self.contact(id).await,
            None => Ok(None),
        }
    }

    async fn contacts(&self, account: Option<&str>, page: Page) -> Result<Vec<Contact>, CrmError> {
        let ids: Vec<String> = match account {
            Some(a) => self.associations("companies", a, "contacts").await?,
            None => self
                .search(
                    "contacts",
                    Vec::new(),
                    &["email"],
                    page.offset as usize,
                    page.limit as usize,
                )
                .await?
                .iter()
                .filter_map(|o| o["id"].as_str().map(str::to_string))
                .collect(),
        };
        let mut out = Vec::new();
        for id in &ids {
            if let Some(c) = self.contact(id).await? {
                out.push(c);
            }
        }
        if account.is_some() {
            out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
            out = out
                .into_iter()
                .skip(page.offset as usize)
                .take(page.limit as usize)
                .collect();
        }
        Ok(out)
    }

    async fn update_contact(&self, id: &str, p: ContactPatch) -> Result<Option<Contact>, CrmError> {
        let Some(before) = self.contact(id).await? else {
            return Ok(None);
        };
        if let Some(email) = &p.email
            && let Some(other) = self.contact_by_email(email).await?
            && other.id != id
        {
            return Err(CrmError::Conflict(format!(
                "a contact with email {email:?} exists: {} ({})",
                other.name, other.id
            )));
        }
        let name = p.name.clone().unwrap_or(before.name.clone());
        let email = p.email.clone().unwrap_or(before.email.clone());
        let title = p.title.clone().map(tidy).unwrap_or(before.title.clone());
        let role = p.role.clone().map(tidy).unwrap_or(before.role.clone());
        let body = json!({"properties": Self::contact_props(&name, &email, title.as_deref(), role.as_deref())});
        self.patch("contacts", id, &body).await?;
        if let Some(to) = &p.account {
            self.reassociate(
                "contacts",
                id,
                before.account.as_deref(),
                to.as_deref(),
                "contact_to_company",
            )
            .await?;
        }
        self.contact(id).await
    }

    async fn delete_contact(&self, id: &str) -> Result<bool, CrmError> {
        self.archive("contacts", id).await
    }

    async fn create_deal(&self, d: NewDeal) -> Result<Deal, CrmError> {
        let assoc: Vec<Json> = d
            .account
            .iter()
            .map(|a| association(a, DEAL_TO_COMPANY))
            .collect();
        let o = self.create("deals", self.deal_props(&d), assoc).await?;
        let mut deal = self.deal_of(&o);
        deal.account = d.account;
        Ok(deal)
    }

    async fn deal(&self, id: &str) -> Result<Option<Deal>, CrmError> {
        Ok(self
            .get("deals", id, DEAL, "companies")
            .await?
            .map(|o| self.deal_of(&o)))
    }

    async fn deals(&self, f: &DealFilter, page: Page) -> Result<Vec<Deal>, CrmError> {
        let mut filters = Vec::new();
        if let Some(s) = &f.stage {
            filters.push(eq("dealstage", self.stage_out(s)));
        }
        if let Some(o) = &f.owner {
            filters.push(eq("empla_owner", o));
        }
        if f.open {
            let closed: Vec<String> = self
                .stages
                .iter()
                .filter(|(o, _)| is_closed(o))
                .map(|(_, t)| t.clone())
                .collect();
            filters
                .push(json!({"propertyName": "dealstage", "operator": "NOT_IN", "values": closed}));
        }
        let ids: Vec<String> = match &f.account {
            Some(a) => self.associations("companies", a, "deals").await?,
            None => self
                .search("deals", filters.clone(), &["dealname"], 0, usize::MAX)
                .await?
                .iter()
                .filter_map(|o| o["id"].as_str().map(str::to_string))
                .collect(),
        };
        let mut out = Vec::new();
        for id in &ids {
            if let Some(d) = self.deal(id).await? {
                let keep = f.stage.as_ref().is_none_or(|s| *s == d.stage)
                    && f.owner.as_ref().is_none_or(|o| d.owner.as_ref() == Some(o))
                    && (!f.open || !is_closed(&d.stage));
                if keep {
                    out.push(d);
                }
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(out
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit.max(0) as usize)
            .collect())
    }

    async fn update_deal(&self, id: &str, p: DealPatch) -> Result<Option<Deal>, CrmError> {
        let Some(before) = self.deal(id).await? else {
            return Ok(None);
        };
        let mut props = Map::new();
        if let Some(n) = &p.name {
            props.insert("dealname".into(), json!(n.trim()));
        }
        if let Some(a) = p.amount {
            props.insert("amount".into(), json!(a.to_string()));
        }
        if let Some(s) = &p.stage
            && *s != before.stage
        {
            props.insert("dealstage".into(), json!(self.stage_out(s)));
            props.insert(
                "empla_closed_at".into(),
                prop(is_closed(s).then(|| Utc::now().to_rfc3339())),
            );
        }
        if let Some(c) = p.close_date {
            props.insert(
                "closedate".into(),
                prop(c.map(|c| format!("{c}T00:00:00Z"))),
            );
        }
        if let Some(o) = p.owner.clone() {
            props.insert("empla_owner".into(), prop(o));
        }
        if let Some(n) = p.next_step.clone() {
            props.insert("hs_next_step".into(), prop(tidy(n)));
        }
        let body = json!({"properties": props});
        self.patch("deals", id, &body).await?;
        if let Some(to) = &p.account {
            self.reassociate(
                "deals",
                id,
                before.account.as_deref(),
                to.as_deref(),
                "deal_to_company",
            )
            .await?;
        }
        self.deal(id).await
    }

    async fn delete_deal(&self, id: &str) -> Result<bool, CrmError> {
        self.archive("deals", id).await
    }

    async fn log_activity(
        &self,
        a: NewActivity,
        logged_by: &str,
    ) -> Result<Option<Activity>, CrmError> {
        if let Some(key) = &a.key
            && !self
                .search("notes", vec![eq("empla_key", key)], &["empla_key"], 0, 1)
                .await?
                .is_empty()
        {
            return Ok(None);
        }
        let at = a.at.unwrap_or_else(Utc::now);
        let props = json!({
            "hs_timestamp": at.to_rfc3339(), "hs_note_body": a.body, "empla_kind": a.kind, "empla_subject": a.subject.trim(),
            "empla_employee": prop(a.employee.clone()), "empla_logged_by": logged_by, "empla_key": prop(a.key.clone()),
        });
        let mut assoc = Vec::new();
        assoc.extend(a.contact.iter().map(|c| association(c, NOTE_TO_CONTACT)));
        assoc.extend(a.account.iter().map(|c| association(c, NOTE_TO_COMPANY)));
        assoc.extend(a.deal.iter().map(|c| association(c, NOTE_TO_DEAL)));
        let o = self.create("notes", props, assoc).await?;
        let mut activity = Self::note_of(&o);
        (activity.account, activity.contact, activity.deal) = (a.account, a.contact, a.deal);
        Ok(Some(activity))
    }

    async fn activities(&self, f: &ActivityFilter, page: Page) -> Result<Vec<Activity>, CrmError> {
        let (kind, id) = match (&f.deal, &f.contact, &f.account) {
            (Some(d), _, _) => ("deals", d),
            (_, Some(c), _) => ("contacts", c),
            (_, _, Some(a)) => ("companies", a),
            _ => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        for note in self.associations(kind, id, "notes").await? {
            if let Some(o) = self
                .get("notes", &note, NOTE, "contacts,companies,deals")
                .await?
            {
                out.push(Self::note_of(&o));
            }
        }
        out.sort_by(|a, b| b.at.cmp(&a.at));
        Ok(out
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit.max(0) as usize)
            .collect())
    }

    async fn import(&self, batch: Batch) -> Result<usize, CrmError> {
        let mut n = 0;
        for a in batch.accounts {
            self.create_account(a).await?;
            n += 1;
        }
        for c in batch.contacts {
            self.create_contact(c).await?;
            n += 1;
        }
        for d in batch.deals {
            self.create_deal(d).await?;
            n += 1;
        }
        Ok(n)
    }

    async fn prospects(
        &self,
        industries: &[String],
        regions: &[String],
        employees: (Option<i64>, Option<i64>),
    ) -> Result<Vec<Account>, CrmError> {
        let mut filters =
            vec![json!({"propertyName": "empla_plan", "operator": "NOT_HAS_PROPERTY"})];
        if !industries.is_empty() {
            filters
                .push(json!({"propertyName": "industry", "operator": "IN", "values": industries}));
        }
        if !regions.is_empty() {
            filters
                .push(json!({"propertyName": "empla_region", "operator": "IN", "values": regions}));
        }
        if let Some(min) = employees.0 {
            filters.push(json!({"propertyName": "numberofemployees", "operator": "GTE", "value": min.to_string()}));
        }
        if let Some(max) = employees.1 {
            filters.push(json!({"propertyName": "numberofemployees", "operator": "LTE", "value": max.to_string()}));
        }
        let found = self
            .search("companies", filters, COMPANY, 0, usize::MAX)
            .await?;
        let mut out = Vec::new();
        for o in &found {
            let account = self.account_of(o);
            let open = DealFilter {
                account: Some(account.id.clone()),
                open: true,
                ..Default::default()
            };
            if self
                .deals(
                    &open,
                    Page {
                        limit: 1,
                        offset: 0,
                    },
                )
                .await?
                .is_empty()
            {
                out.push(account);
            }
        }
        Ok(out)
    }
}
