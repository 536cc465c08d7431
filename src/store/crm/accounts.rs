//! Accounts.

use super::rows::{ACCOUNT_COLUMNS, AccountRow, signals_json};
use super::{AccountFilter, Conditions, Page};
use crate::capabilities::crm::Account;
use crate::model::TenantId;
use crate::store::{Store, StoreError, to_micros, with_pool};
use sqlx::AssertSqlSafe;

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
            "SELECT {ACCOUNT_COLUMNS} FROM crm_accounts WHERE tenant = $1 AND domain = $2 \
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
        let below = f.health_below.map(|h| format!("health < {h:?}"));
        let c = Conditions::new()
            .eq("owner", f.owner.as_deref())
            .and(below.as_deref().unwrap_or(""), below.is_some())
            .and("plan IS NOT NULL", f.customers);
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM crm_accounts WHERE {} ORDER BY created_at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<AccountRow> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t.as_str());
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
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
            crate::store::Backend::Sqlite { .. } => format!("json_each({param})"),
            crate::store::Backend::Postgres(_) => {
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
}
