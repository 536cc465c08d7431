//! The built-in CRM's rows: accounts, contacts, deals and activities, tenant on every
//! row. Records are written whole (the CRM merges a patch into the record it read);
//! lists are newest first. A contact's email is unique per tenant without case; an
//! activity with a key is stored once.

use super::{Store, StoreError, from_micros, to_micros, with_pool};
use crate::capabilities::crm::{Account, Activity, Contact, Deal};
use crate::model::TenantId;
use chrono::NaiveDate;
use sqlx::AssertSqlSafe;

/// Which accounts to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountFilter {
    /// Owned by this employee (id).
    pub owner: Option<String>,
    /// With a health score below this.
    pub health_below: Option<f64>,
    /// Customers only (a plan is set).
    pub customers: bool,
}

/// Which deals to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealFilter {
    /// In this stage.
    pub stage: Option<String>,
    /// Owned by this employee (id).
    pub owner: Option<String>,
    /// Of this account (id).
    pub account: Option<String>,
    /// Open ones only (not closed won or lost).
    pub open: bool,
}

/// Which activities to list: those of an account, a contact or a deal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFilter {
    /// Of this account.
    pub account: Option<String>,
    /// Of this contact.
    pub contact: Option<String>,
    /// Of this deal.
    pub deal: Option<String>,
}

/// A page of a list: at most `limit`, after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Page {
    /// At most this many.
    pub limit: i64,
    /// Skipping this many.
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 100,
            offset: 0,
        }
    }
}

impl Page {
    /// Everything (for the CRM's own reckoning).
    pub const ALL: Page = Page {
        limit: i64::MAX,
        offset: 0,
    };
}

#[derive(sqlx::FromRow)]
struct AccountRow {
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
    fn into_account(self) -> Result<Account, StoreError> {
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
struct ContactRow {
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
struct DealRow {
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
    fn into_deal(self) -> Result<Deal, StoreError> {
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
struct ActivityRow {
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

const ACCOUNT_COLUMNS: &str = "id, name, domain, industry, employees, region, plan, owner, health, signals, created_at, updated_at";
const CONTACT_COLUMNS: &str = "id, name, email, title, account, role, created_at, updated_at";
const DEAL_COLUMNS: &str = "id, name, account, amount, stage, close_date, owner, next_step, closed_at, created_at, updated_at";
const ACTIVITY_COLUMNS: &str =
    "id, kind, subject, body, account, contact, deal, employee, logged_by, at";

fn signals_json(a: &Account) -> String {
    serde_json::to_string(&a.signals).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// Stores a new account.
    pub async fn insert_account(&self, tenant: &TenantId, a: &Account) -> Result<(), StoreError> {
        self.import_crm(tenant, std::slice::from_ref(a), &[], &[])
            .await
            .map(|_| ())
    }

    /// Writes an account over the stored one; false when there is none.
    pub async fn update_account(&self, tenant: &TenantId, a: &Account) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE crm_accounts SET name = $3, domain = $4, industry = $5, employees = $6, region = $7, \
                 plan = $8, owner = $9, health = $10, signals = $11, updated_at = $12 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(&a.id)
            .bind(&a.name)
            .bind(a.domain.as_deref())
            .bind(a.industry.as_deref())
            .bind(a.employees)
            .bind(a.region.as_deref())
            .bind(a.plan.as_deref())
            .bind(a.owner.as_deref())
            .bind(a.health)
            .bind(signals_json(a))
            .bind(to_micros(a.updated_at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// One account.
    pub async fn account(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<Account>, StoreError> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM crm_accounts WHERE tenant = $1 AND id = $2");
        let row: Option<AccountRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(AccountRow::into_account).transpose()
    }

    /// The account whose domain is `domain` (without case), the oldest if several.
    pub async fn account_by_domain(
        &self,
        tenant: &TenantId,
        domain: &str,
    ) -> Result<Option<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM crm_accounts WHERE tenant = $1 AND lower(domain) = $2 \
             ORDER BY created_at, id LIMIT 1"
        );
        let row: Option<AccountRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(domain.trim().to_lowercase())
                .fetch_optional(pool)
                .await
        })?;
        row.map(AccountRow::into_account).transpose()
    }

    /// Accounts, newest first.
    pub async fn accounts(
        &self,
        tenant: &TenantId,
        f: &AccountFilter,
        page: Page,
    ) -> Result<Vec<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM crm_accounts WHERE tenant = $1 \
             AND ($2 IS NULL OR owner = $2) AND ($3 IS NULL OR health < $3) AND ($4 = 0 OR plan IS NOT NULL) \
             ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
        );
        let rows: Vec<AccountRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(f.owner.as_deref())
                .bind(f.health_below)
                .bind(i32::from(f.customers))
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    /// Accounts that are not customers and have no open deal: where new business can
    /// come from. `industries` and `regions` (lower case) narrow them when not empty;
    /// `employees` bounds the head count.
    pub async fn prospect_accounts(
        &self,
        tenant: &TenantId,
        industries: &[String],
        regions: &[String],
        employees: (Option<i64>, Option<i64>),
    ) -> Result<Vec<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM crm_accounts a WHERE tenant = $1 AND plan IS NULL \
             AND ($2 = '[]' OR lower(industry) IN (SELECT value FROM {industries})) \
             AND ($3 = '[]' OR lower(region) IN (SELECT value FROM {regions})) \
             AND ($4 IS NULL OR employees >= $4) AND ($5 IS NULL OR employees <= $5) \
             AND NOT EXISTS (SELECT 1 FROM crm_deals d WHERE d.tenant = a.tenant AND d.account = a.id \
                             AND d.stage NOT LIKE 'closed%') \
             ORDER BY created_at DESC, id DESC",
            industries = self.json_text_each("$2"),
            regions = self.json_text_each("$3"),
        );
        let industries = serde_json::to_string(industries).unwrap_or_default();
        let regions = serde_json::to_string(regions).unwrap_or_default();
        let rows: Vec<AccountRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(&industries)
                .bind(&regions)
                .bind(employees.0)
                .bind(employees.1)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    /// The rows (named `value`) of the text elements of the JSON array bound as `param`.
    fn json_text_each(&self, param: &str) -> String {
        match self.backend {
            super::Backend::Sqlite { .. } => format!("json_each({param})"),
            super::Backend::Postgres(_) => {
                format!("jsonb_array_elements_text(CAST({param} AS jsonb))")
            }
        }
    }

    /// Deletes an account; its contacts, deals and activities stay, no longer linked to
    /// it. False when there was none.
    pub async fn delete_account(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("DELETE FROM crm_accounts WHERE tenant = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            for table in ["crm_contacts", "crm_deals", "crm_activities"] {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {table} SET account = NULL WHERE tenant = $1 AND account = $2"
                )))
                .bind(tenant.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        Ok(deleted)
    }

    /// Stores a new contact; when the email is taken, stores nothing and answers the
    /// contact that has it.
    pub async fn insert_contact(
        &self,
        tenant: &TenantId,
        c: &Contact,
    ) -> Result<Option<Contact>, StoreError> {
        Ok(self
            .import_crm(tenant, &[], std::slice::from_ref(c), &[])
            .await?
            .err())
    }

    /// Writes a contact over the stored one: false when there is none; the contact
    /// holding the email when another has it.
    pub async fn update_contact(
        &self,
        tenant: &TenantId,
        c: &Contact,
    ) -> Result<Result<bool, Contact>, StoreError> {
        if let Some(other) = self.contact_by_email(tenant, &c.email).await?
            && other.id != c.id
        {
            return Ok(Err(other));
        }
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE crm_contacts SET name = $3, email = $4, email_key = $5, title = $6, account = $7, role = $8, \
                 updated_at = $9 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.email)
            .bind(c.email.to_lowercase())
            .bind(c.title.as_deref())
            .bind(c.account.as_deref())
            .bind(c.role.as_deref())
            .bind(to_micros(c.updated_at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        });
        match n {
            Ok(n) => Ok(Ok(n == 1)),
            Err(e) if is_unique_violation(&e) => {
                match self.contact_by_email(tenant, &c.email).await? {
                    Some(other) => Ok(Err(other)),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One contact.
    pub async fn contact(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let sql =
            format!("SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE tenant = $1 AND id = $2");
        let row: Option<ContactRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(Contact::from))
    }

    /// The contact with this email (without case).
    pub async fn contact_by_email(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE tenant = $1 AND email_key = $2"
        );
        let row: Option<ContactRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(email.trim().to_lowercase())
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(Contact::from))
    }

    /// Contacts, newest first, optionally of one account.
    pub async fn contacts(
        &self,
        tenant: &TenantId,
        account: Option<&str>,
        page: Page,
    ) -> Result<Vec<Contact>, StoreError> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE tenant = $1 AND ($2 IS NULL OR account = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let rows: Vec<ContactRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(account)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(Contact::from).collect())
    }

    /// Deletes a contact; its activities stay, no longer linked to it.
    pub async fn delete_contact(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        self.delete_linked(tenant, "crm_contacts", "contact", id)
            .await
    }

    /// Deletes a deal; its activities stay, no longer linked to it.
    pub async fn delete_deal(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        self.delete_linked(tenant, "crm_deals", "deal", id).await
    }

    async fn delete_linked(
        &self,
        tenant: &TenantId,
        table: &str,
        link: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE tenant = $1 AND id = $2"
            )))
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE crm_activities SET {link} = NULL WHERE tenant = $1 AND {link} = $2"
            )))
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        Ok(deleted)
    }

    /// Stores a new deal.
    pub async fn insert_deal(&self, tenant: &TenantId, d: &Deal) -> Result<(), StoreError> {
        self.import_crm(tenant, &[], &[], std::slice::from_ref(d))
            .await
            .map(|_| ())
    }

    /// Writes a deal over the stored one; false when there is none.
    pub async fn update_deal(&self, tenant: &TenantId, d: &Deal) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE crm_deals SET name = $3, account = $4, amount = $5, stage = $6, close_date = $7, owner = $8, \
                 next_step = $9, closed_at = $10, updated_at = $11 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(&d.id)
            .bind(&d.name)
            .bind(d.account.as_deref())
            .bind(d.amount)
            .bind(&d.stage)
            .bind(d.close_date.map(|c| c.format("%Y-%m-%d").to_string()))
            .bind(d.owner.as_deref())
            .bind(d.next_step.as_deref())
            .bind(d.closed_at.map(to_micros))
            .bind(to_micros(d.updated_at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// One deal.
    pub async fn deal(&self, tenant: &TenantId, id: &str) -> Result<Option<Deal>, StoreError> {
        let sql = format!("SELECT {DEAL_COLUMNS} FROM crm_deals WHERE tenant = $1 AND id = $2");
        let row: Option<DealRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(DealRow::into_deal).transpose()
    }

    /// Deals, newest first.
    pub async fn deals(
        &self,
        tenant: &TenantId,
        f: &DealFilter,
        page: Page,
    ) -> Result<Vec<Deal>, StoreError> {
        let sql = format!(
            "SELECT {DEAL_COLUMNS} FROM crm_deals WHERE tenant = $1 AND ($2 IS NULL OR stage = $2) \
             AND ($3 IS NULL OR owner = $3) AND ($4 IS NULL OR account = $4) AND ($5 = 0 OR stage NOT LIKE 'closed%') \
             ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7"
        );
        let rows: Vec<DealRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(f.stage.as_deref())
                .bind(f.owner.as_deref())
                .bind(f.account.as_deref())
                .bind(i32::from(f.open))
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(DealRow::into_deal).collect()
    }

    /// Logs an activity; with a key already logged, stores nothing and answers false.
    pub async fn insert_activity(
        &self,
        tenant: &TenantId,
        a: &Activity,
        key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO crm_activities (tenant, id, kind, subject, body, account, contact, deal, employee, \
                 logged_by, key, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&a.id)
            .bind(&a.kind)
            .bind(&a.subject)
            .bind(&a.body)
            .bind(a.account.as_deref())
            .bind(a.contact.as_deref())
            .bind(a.deal.as_deref())
            .bind(a.employee.as_deref())
            .bind(&a.logged_by)
            .bind(key)
            .bind(to_micros(a.at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Activities of an account, contact or deal (any that matches), newest first.
    pub async fn activities(
        &self,
        tenant: &TenantId,
        f: &ActivityFilter,
        page: Page,
    ) -> Result<Vec<Activity>, StoreError> {
        let sql = format!(
            "SELECT {ACTIVITY_COLUMNS} FROM crm_activities WHERE tenant = $1 \
             AND ($2 IS NULL OR account = $2) AND ($3 IS NULL OR contact = $3) AND ($4 IS NULL OR deal = $4) \
             ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6"
        );
        let rows: Vec<ActivityRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(f.account.as_deref())
                .bind(f.contact.as_deref())
                .bind(f.deal.as_deref())
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(Activity::from).collect())
    }

    /// When each of these deals (or its account) last saw an activity.
    pub async fn last_activity(
        &self,
        tenant: &TenantId,
        deal: &Deal,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        let at: Option<i64> = with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT max(at) FROM crm_activities WHERE tenant = $1 AND (deal = $2 OR ($3 IS NOT NULL AND account = $3))",
            )
            .bind(tenant.as_str())
            .bind(&deal.id)
            .bind(deal.account.as_deref())
            .fetch_one(pool)
            .await
        })?;
        Ok(at.map(from_micros))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Stores every record of an import in one transaction, or none: a contact whose
    /// email is taken fails the whole import and answers the contact that has it.
    pub async fn import_crm(
        &self,
        tenant: &TenantId,
        accounts: &[Account],
        contacts: &[Contact],
        deals: &[Deal],
    ) -> Result<Result<(), Contact>, StoreError> {
        let taken: Option<String> = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for a in accounts {
                sqlx::query(
                    "INSERT INTO crm_accounts (tenant, id, name, domain, industry, employees, region, plan, owner, \
                     health, signals, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(tenant.as_str())
                .bind(&a.id)
                .bind(&a.name)
                .bind(a.domain.as_deref())
                .bind(a.industry.as_deref())
                .bind(a.employees)
                .bind(a.region.as_deref())
                .bind(a.plan.as_deref())
                .bind(a.owner.as_deref())
                .bind(a.health)
                .bind(signals_json(a))
                .bind(to_micros(a.created_at))
                .bind(to_micros(a.updated_at))
                .execute(&mut *tx)
                .await?;
            }
            let mut taken = None;
            for c in contacts {
                let n = sqlx::query(
                    "INSERT INTO crm_contacts (tenant, id, name, email, email_key, title, account, role, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                )
                .bind(tenant.as_str())
                .bind(&c.id)
                .bind(&c.name)
                .bind(&c.email)
                .bind(c.email.to_lowercase())
                .bind(c.title.as_deref())
                .bind(c.account.as_deref())
                .bind(c.role.as_deref())
                .bind(to_micros(c.created_at))
                .bind(to_micros(c.updated_at))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    taken = Some(c.email.clone());
                    break;
                }
            }
            for d in deals.iter().filter(|_| taken.is_none()) {
                sqlx::query(
                    "INSERT INTO crm_deals (tenant, id, name, account, amount, stage, close_date, owner, next_step, \
                     closed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(tenant.as_str())
                .bind(&d.id)
                .bind(&d.name)
                .bind(d.account.as_deref())
                .bind(d.amount)
                .bind(&d.stage)
                .bind(d.close_date.map(|c| c.format("%Y-%m-%d").to_string()))
                .bind(d.owner.as_deref())
                .bind(d.next_step.as_deref())
                .bind(d.closed_at.map(to_micros))
                .bind(to_micros(d.created_at))
                .bind(to_micros(d.updated_at))
                .execute(&mut *tx)
                .await?;
            }
            if taken.is_some() {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            Ok::<_, sqlx::Error>(taken)
        })?;
        match taken {
            None => Ok(Ok(())),
            Some(email) => match self.contact_by_email(tenant, &email).await? {
                Some(c) => Ok(Err(c)),
                None => Err(StoreError::Refused(format!(
                    "contact {email} could not be stored"
                ))),
            },
        }
    }
}
