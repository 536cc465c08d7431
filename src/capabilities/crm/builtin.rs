//! The built-in CRM: records in the node's store, on SQLite or PostgreSQL. A patch is
//! merged into the record as stored; a deal entering a closed stage is stamped with the
//! time it closed.

use super::import::Batch;
use super::records::tidy;
use super::{
    Account, AccountPatch, Activity, Contact, ContactPatch, CrmDriver, CrmError, Deal, DealPatch,
    NewAccount, NewActivity, NewContact, NewDeal, is_closed,
};
use crate::model::TenantId;
use crate::store::{AccountFilter, ActivityFilter, DealFilter, Page, Store};
use chrono::{DateTime, Utc};

pub(super) struct Builtin {
    tenant: TenantId,
    store: Store,
    /// The stage a deal starts in when none is given.
    first_stage: String,
}

impl Builtin {
    pub(super) fn new(tenant: TenantId, store: Store, first_stage: String) -> Self {
        Builtin {
            tenant,
            store,
            first_stage,
        }
    }
}

fn new_account(a: NewAccount, now: DateTime<Utc>) -> Account {
    Account {
        id: new_id(),
        name: a.name.trim().into(),
        domain: tidy(a.domain).map(|d| d.to_lowercase()),
        industry: tidy(a.industry),
        employees: a.employees,
        region: tidy(a.region),
        plan: tidy(a.plan),
        owner: a.owner,
        health: None,
        signals: a
            .signals
            .into_iter()
            .map(|s| s.trim().to_string())
            .collect(),
        created_at: now,
        updated_at: now,
    }
}

fn new_contact(c: NewContact, now: DateTime<Utc>) -> Contact {
    Contact {
        id: new_id(),
        name: c.name.trim().into(),
        email: c.email.trim().into(),
        title: tidy(c.title),
        account: c.account,
        role: tidy(c.role),
        created_at: now,
        updated_at: now,
    }
}

impl Builtin {
    fn new_deal(&self, d: NewDeal, now: DateTime<Utc>) -> Deal {
        let stage = d.stage.unwrap_or_else(|| self.first_stage.clone());
        Deal {
            id: new_id(),
            name: d.name.trim().into(),
            account: d.account,
            amount: d.amount,
            closed_at: is_closed(&stage).then_some(now),
            stage,
            close_date: d.close_date,
            owner: d.owner,
            next_step: tidy(d.next_step),
            created_at: now,
            updated_at: now,
        }
    }
}

/// A new record's id: time-ordered, so ids sort as records were made.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn taken(c: &Contact) -> CrmError {
    CrmError::Conflict(format!(
        "a contact with email {:?} exists: {} ({}); change that one with `PATCH /api/v1/crm/contacts/{}`",
        c.email, c.name, c.id, c.id
    ))
}

fn apply<T>(field: &mut T, change: Option<T>) {
    if let Some(v) = change {
        *field = v;
    }
}

#[async_trait::async_trait]
impl CrmDriver for Builtin {
    async fn create_account(&self, a: NewAccount) -> Result<Account, CrmError> {
        let account = new_account(a, Utc::now());
        self.store.insert_account(&self.tenant, &account).await?;
        Ok(account)
    }

    async fn account(&self, id: &str) -> Result<Option<Account>, CrmError> {
        Ok(self.store.account(&self.tenant, id).await?)
    }

    async fn account_by_domain(&self, domain: &str) -> Result<Option<Account>, CrmError> {
        Ok(self.store.account_by_domain(&self.tenant, domain).await?)
    }

    async fn accounts(&self, f: &AccountFilter, page: Page) -> Result<Vec<Account>, CrmError> {
        Ok(self.store.accounts(&self.tenant, f, page).await?)
    }

    async fn update_account(&self, id: &str, p: AccountPatch) -> Result<Option<Account>, CrmError> {
        let Some(mut a) = self.store.account(&self.tenant, id).await? else {
            return Ok(None);
        };
        apply(&mut a.name, p.name.map(|n| n.trim().to_string()));
        apply(
            &mut a.domain,
            p.domain.map(|d| tidy(d).map(|d| d.to_lowercase())),
        );
        apply(&mut a.industry, p.industry.map(tidy));
        apply(&mut a.employees, p.employees);
        apply(&mut a.region, p.region.map(tidy));
        apply(&mut a.plan, p.plan.map(tidy));
        apply(&mut a.owner, p.owner);
        apply(&mut a.health, p.health);
        apply(&mut a.signals, p.signals);
        a.updated_at = Utc::now();
        Ok(self
            .store
            .update_account(&self.tenant, &a)
            .await?
            .then_some(a))
    }

    async fn delete_account(&self, id: &str) -> Result<bool, CrmError> {
        Ok(self.store.delete_account(&self.tenant, id).await?)
    }

    async fn create_contact(&self, c: NewContact) -> Result<Contact, CrmError> {
        let contact = new_contact(c, Utc::now());
        match self.store.insert_contact(&self.tenant, &contact).await? {
            None => Ok(contact),
            Some(existing) => Err(taken(&existing)),
        }
    }

    async fn contact(&self, id: &str) -> Result<Option<Contact>, CrmError> {
        Ok(self.store.contact(&self.tenant, id).await?)
    }

    async fn contact_by_email(&self, email: &str) -> Result<Option<Contact>, CrmError> {
        Ok(self.store.contact_by_email(&self.tenant, email).await?)
    }

    async fn contacts(&self, account: Option<&str>, page: Page) -> Result<Vec<Contact>, CrmError> {
        Ok(self.store.contacts(&self.tenant, account, page).await?)
    }

    async fn update_contact(&self, id: &str, p: ContactPatch) -> Result<Option<Contact>, CrmError> {
        let Some(mut c) = self.store.contact(&self.tenant, id).await? else {
            return Ok(None);
        };
        apply(&mut c.name, p.name.map(|n| n.trim().to_string()));
        apply(&mut c.email, p.email.map(|e| e.trim().to_string()));
        apply(&mut c.title, p.title.map(tidy));
        apply(&mut c.account, p.account);
        apply(&mut c.role, p.role.map(tidy));
        c.updated_at = Utc::now();
        match self.store.update_contact(&self.tenant, &c).await? {
            Ok(true) => Ok(Some(c)),
            Ok(false) => Ok(None),
            Err(other) => Err(taken(&other)),
        }
    }

    async fn delete_contact(&self, id: &str) -> Result<bool, CrmError> {
        Ok(self.store.delete_contact(&self.tenant, id).await?)
    }

    async fn create_deal(&self, d: NewDeal) -> Result<Deal, CrmError> {
        let deal = self.new_deal(d, Utc::now());
        self.store.insert_deal(&self.tenant, &deal).await?;
        Ok(deal)
    }

    async fn deal(&self, id: &str) -> Result<Option<Deal>, CrmError> {
        Ok(self.store.deal(&self.tenant, id).await?)
    }

    async fn deals(&self, f: &DealFilter, page: Page) -> Result<Vec<Deal>, CrmError> {
        Ok(self.store.deals(&self.tenant, f, page).await?)
    }

    async fn update_deal(&self, id: &str, p: DealPatch) -> Result<Option<Deal>, CrmError> {
        let Some(mut d) = self.store.deal(&self.tenant, id).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        apply(&mut d.name, p.name.map(|n| n.trim().to_string()));
        apply(&mut d.account, p.account);
        apply(&mut d.amount, p.amount);
        if let Some(stage) = p.stage
            && stage != d.stage
        {
            d.closed_at = is_closed(&stage).then_some(now);
            d.stage = stage;
        }
        apply(&mut d.close_date, p.close_date);
        apply(&mut d.owner, p.owner);
        apply(&mut d.next_step, p.next_step.map(tidy));
        d.updated_at = now;
        Ok(self.store.update_deal(&self.tenant, &d).await?.then_some(d))
    }

    async fn delete_deal(&self, id: &str) -> Result<bool, CrmError> {
        Ok(self.store.delete_deal(&self.tenant, id).await?)
    }

    async fn log_activity(
        &self,
        a: NewActivity,
        logged_by: &str,
    ) -> Result<Option<Activity>, CrmError> {
        let activity = Activity {
            id: new_id(),
            kind: a.kind,
            subject: a.subject.trim().into(),
            body: a.body,
            account: a.account,
            contact: a.contact,
            deal: a.deal,
            employee: a.employee,
            logged_by: logged_by.into(),
            at: a.at.unwrap_or_else(Utc::now),
        };
        let new = self
            .store
            .insert_activity(&self.tenant, &activity, a.key.as_deref())
            .await?;
        Ok(new.then_some(activity))
    }

    async fn activities(&self, f: &ActivityFilter, page: Page) -> Result<Vec<Activity>, CrmError> {
        Ok(self.store.activities(&self.tenant, f, page).await?)
    }

    async fn import(&self, batch: Batch) -> Result<usize, CrmError> {
        let now = Utc::now();
        let n = batch.accounts.len() + batch.contacts.len() + batch.deals.len();
        let accounts: Vec<Account> = batch
            .accounts
            .into_iter()
            .map(|a| new_account(a, now))
            .collect();
        let contacts: Vec<Contact> = batch
            .contacts
            .into_iter()
            .map(|c| new_contact(c, now))
            .collect();
        let deals: Vec<Deal> = batch
            .deals
            .into_iter()
            .map(|d| self.new_deal(d, now))
            .collect();
        match self
            .store
            .import_crm(&self.tenant, &accounts, &contacts, &deals)
            .await?
        {
            Ok(()) => Ok(n),
            Err(existing) => Err(taken(&existing)),
        }
    }

    async fn prospects(
        &self,
        industries: &[String],
        regions: &[String],
        employees: (Option<i64>, Option<i64>),
    ) -> Result<Vec<Account>, CrmError> {
        Ok(self
            .store
            .prospect_accounts(&self.tenant, industries, regions, employees)
            .await?)
    }
}
