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

mod driver;
mod records;

use super::CrmError;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::time::Duration;

pub(super) const COMPANY: &[&str] = &[
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
pub(super) const CONTACT: &[&str] = &["firstname", "lastname", "email", "jobtitle", "empla_role"];
pub(super) const DEAL: &[&str] = &[
    "dealname",
    "amount",
    "dealstage",
    "closedate",
    "empla_owner",
    "hs_next_step",
    "empla_closed_at",
];
pub(super) const NOTE: &[&str] = &[
    "hs_note_body",
    "hs_timestamp",
    "empla_kind",
    "empla_subject",
    "empla_employee",
    "empla_logged_by",
    "empla_key",
];
/// HubSpot-defined association type ids.
pub(super) const CONTACT_TO_COMPANY: u32 = 279;
pub(super) const DEAL_TO_COMPANY: u32 = 341;
pub(super) const NOTE_TO_CONTACT: u32 = 202;
pub(super) const NOTE_TO_COMPANY: u32 = 190;
pub(super) const NOTE_TO_DEAL: u32 = 214;
/// Records per page of a search (HubSpot's most).
pub(super) const PAGE: usize = 100;
/// Records per associations batch read.
pub(super) const BATCH: usize = 1000;
/// Tries of one call while HubSpot answers 429.
pub(super) const TRIES: usize = 3;

pub(in crate::capabilities::crm) struct HubSpot {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Our stage → the portal's stage id, and back.
    stages: BTreeMap<String, String>,
    first_stage: String,
}

pub(super) fn service(m: impl std::fmt::Display) -> CrmError {
    CrmError::Service(format!("HubSpot: {m}"))
}

pub(super) fn text(p: &Json, key: &str) -> Option<String> {
    p[key]
        .as_str()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

pub(super) fn time(v: &Json) -> DateTime<Utc> {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_default()
}

/// The id of the first `kind` record `o` is associated with.
pub(super) fn associated(o: &Json, kind: &str) -> Option<String> {
    o["associations"][kind]["results"][0]["id"]
        .as_str()
        .map(str::to_string)
}

pub(super) fn association(to: &str, type_id: u32) -> Json {
    json!({"to": {"id": to}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]})
}

/// A property value as HubSpot takes it: text, or empty to clear.
pub(super) fn prop<T: ToString>(v: Option<T>) -> Json {
    Json::String(v.map(|v| v.to_string()).unwrap_or_default())
}

impl HubSpot {
    pub(in crate::capabilities::crm) fn new(
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

    pub(super) fn stage_out(&self, ours: &str) -> String {
        self.stages
            .get(ours)
            .cloned()
            .unwrap_or_else(|| ours.to_string())
    }

    pub(super) fn stage_in(&self, theirs: &str) -> String {
        self.stages
            .iter()
            .find(|(_, t)| *t == theirs)
            .map(|(o, _)| o.clone())
            .unwrap_or_else(|| theirs.to_string())
    }

    /// One call; `None` for a 404. A 429 is waited out (its `Retry-After`, at most 10 s).
    pub(super) async fn call(
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

    pub(super) async fn get(
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
    pub(super) async fn search(
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
    /// For each of `ids` (records of `kind`), the ids of the `to` records associated
    /// with it, read in batches (HubSpot's v4 associations batch read).
    pub(super) async fn batch_associations(
        &self,
        kind: &str,
        ids: &[String],
        to: &str,
    ) -> Result<Vec<(String, Vec<String>)>, CrmError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let inputs: Vec<Json> = chunk.iter().map(|id| json!({"id": id})).collect();
            let Some(answer) = self
                .call(
                    Method::POST,
                    &format!("/crm/v4/associations/{kind}/{to}/batch/read"),
                    &[],
                    Some(&json!({"inputs": inputs})),
                )
                .await?
            else {
                continue;
            };
            for r in answer["results"].as_array().into_iter().flatten() {
                let from = match &r["from"]["id"] {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let linked = r["to"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| match &t["toObjectId"] {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                out.push((from, linked));
            }
        }
        Ok(out)
    }

    pub(super) async fn associations(
        &self,
        kind: &str,
        id: &str,
        to: &str,
    ) -> Result<Vec<String>, CrmError> {
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
    pub(super) async fn reassociate(
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

    /// Changes a record's properties; none when there is no such record.
    pub(super) async fn patch(
        &self,
        kind: &str,
        id: &str,
        body: &Json,
    ) -> Result<Option<Json>, CrmError> {
        self.call(
            Method::PATCH,
            &format!("/crm/v3/objects/{kind}/{id}"),
            &[],
            Some(body),
        )
        .await
    }

    /// Archives (deletes) a record; false when there was none.
    pub(super) async fn archive(&self, kind: &str, id: &str) -> Result<bool, CrmError> {
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

    pub(super) async fn create(
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
