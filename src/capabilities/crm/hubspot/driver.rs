//! The CRM's driver on HubSpot: each record kind through its objects, search and
//! associations.

use super::*;
use crate::capabilities::crm::import::Batch;
use crate::capabilities::crm::records::tidy;
use crate::capabilities::crm::{
    Account, AccountPatch, Activity, Contact, ContactPatch, CrmDriver, Deal, DealPatch, NewAccount,
    NewActivity, NewContact, NewDeal, is_closed,
};
use crate::store::{AccountFilter, ActivityFilter, DealFilter, Page};
use chrono::Utc;
use serde_json::Map;

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
            out.sort_by_key(|r| std::cmp::Reverse(r.created_at));
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
        out.sort_by_key(|r| std::cmp::Reverse(r.created_at));
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
        out.sort_by_key(|r| std::cmp::Reverse(r.at));
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
        // Three kinds of call whatever the number of companies, not one per company: the
        // open deals (one search), and which companies they belong to (batch reads).
        let closed: Vec<String> = self
            .stages
            .iter()
            .filter(|(o, _)| is_closed(o))
            .map(|(_, t)| t.clone())
            .collect();
        let open: std::collections::HashSet<String> = self
            .search(
                "deals",
                vec![json!({"propertyName": "dealstage", "operator": "NOT_IN", "values": closed})],
                &["dealname"],
                0,
                usize::MAX,
            )
            .await?
            .iter()
            .filter_map(|o| o["id"].as_str().map(str::to_string))
            .collect();
        let ids: Vec<String> = found
            .iter()
            .filter_map(|o| o["id"].as_str().map(str::to_string))
            .collect();
        let mut busy = std::collections::HashSet::new();
        if !open.is_empty() {
            for (company, deals) in self.batch_associations("companies", &ids, "deals").await? {
                if deals.iter().any(|d| open.contains(d)) {
                    busy.insert(company);
                }
            }
        }
        let out: Vec<Account> = found
            .iter()
            .map(|o| self.account_of(o))
            .filter(|a| !busy.contains(&a.id))
            .collect();
        Ok(out)
    }
}
