//! Deals and activities.

use super::rows::{ACTIVITY_COLUMNS, ActivityRow, DEAL_COLUMNS, DealRow};
use super::{ActivityFilter, Conditions, DealFilter, Page};
use crate::capabilities::crm::{Activity, Deal};
use crate::model::TenantId;
use crate::store::{Store, StoreError, to_micros, with_pool};
use sqlx::AssertSqlSafe;

impl Store {
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
        let c = Conditions::new()
            .eq("stage", f.stage.as_deref())
            .eq("owner", f.owner.as_deref())
            .eq("account", f.account.as_deref())
            .and("stage NOT LIKE 'closed%'", f.open);
        let sql = format!(
            "SELECT {DEAL_COLUMNS} FROM crm_deals WHERE {} ORDER BY created_at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<DealRow> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t.as_str());
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
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
        let c = Conditions::new()
            .eq("account", f.account.as_deref())
            .eq("contact", f.contact.as_deref())
            .eq("deal", f.deal.as_deref());
        let sql = format!(
            "SELECT {ACTIVITY_COLUMNS} FROM crm_activities WHERE {} ORDER BY at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<ActivityRow> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t.as_str());
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(Activity::from).collect())
    }
}
