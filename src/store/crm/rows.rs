//! How the CRM's records are stored: the rows read back, and the columns selected.

use crate::capabilities::crm::{Account, Activity, Contact, Deal};
use crate::store::{StoreError, from_micros};
use chrono::NaiveDate;

#[derive(sqlx::FromRow)]
pub(super) struct AccountRow {
    id: String,
    name: String,
    domain: Option<String>,
    industry: Option<String>,
    employees: Option<i64>,
    region: Option<String>,
    plan: Option<String>,
    owner: Option<String>,
    health: Option<f64>,
    signals: String,
    created_at: i64,
    updated_at: i64,
}

impl AccountRow {
    pub(super) fn into_account(self) -> Result<Account, StoreError> {
        Ok(Account {
            signals: serde_json::from_str(&self.signals)
                .map_err(|e| StoreError::Corrupt(format!("account {} signals: {e}", self.id)))?,
            id: self.id,
            name: self.name,
            domain: self.domain,
            industry: self.industry,
            employees: self.employees,
            region: self.region,
            plan: self.plan,
            owner: self.owner,
            health: self.health,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ContactRow {
    id: String,
    name: String,
    email: String,
    title: Option<String>,
    account: Option<String>,
    role: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<ContactRow> for Contact {
    fn from(r: ContactRow) -> Self {
        Contact {
            id: r.id,
            name: r.name,
            email: r.email,
            title: r.title,
            account: r.account,
            role: r.role,
            created_at: from_micros(r.created_at),
            updated_at: from_micros(r.updated_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DealRow {
    id: String,
    name: String,
    account: Option<String>,
    amount: f64,
    stage: String,
    close_date: Option<String>,
    owner: Option<String>,
    next_step: Option<String>,
    closed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl DealRow {
    pub(super) fn into_deal(self) -> Result<Deal, StoreError> {
        let close_date = match self.close_date.as_deref() {
            Some(d) => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| {
                StoreError::Corrupt(format!("deal {} close date {d:?}: {e}", self.id))
            })?),
            None => None,
        };
        Ok(Deal {
            id: self.id,
            name: self.name,
            account: self.account,
            amount: self.amount,
            stage: self.stage,
            close_date,
            owner: self.owner,
            next_step: self.next_step,
            closed_at: self.closed_at.map(from_micros),
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ActivityRow {
    id: String,
    kind: String,
    subject: String,
    body: String,
    account: Option<String>,
    contact: Option<String>,
    deal: Option<String>,
    employee: Option<String>,
    logged_by: String,
    at: i64,
}

impl From<ActivityRow> for Activity {
    fn from(r: ActivityRow) -> Self {
        Activity {
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            body: r.body,
            account: r.account,
            contact: r.contact,
            deal: r.deal,
            employee: r.employee,
            logged_by: r.logged_by,
            at: from_micros(r.at),
        }
    }
}

pub(super) const ACCOUNT_COLUMNS: &str = "id, name, domain, industry, employees, region, plan, owner, health, signals, created_at, updated_at";
pub(super) const CONTACT_COLUMNS: &str =
    "id, name, email, title, account, role, created_at, updated_at";
pub(super) const DEAL_COLUMNS: &str = "id, name, account, amount, stage, close_date, owner, next_step, closed_at, created_at, updated_at";
pub(super) const ACTIVITY_COLUMNS: &str =
    "id, kind, subject, body, account, contact, deal, employee, logged_by, at";

pub(super) fn signals_json(a: &Account) -> String {
    serde_json::to_string(&a.signals).unwrap_or_else(|_| "[]".into())
}
