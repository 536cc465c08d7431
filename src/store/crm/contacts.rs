//! Contacts, and deleting a contact or a deal (their activities stay, unlinked).

use super::import::is_unique_violation;
use super::rows::{CONTACT_COLUMNS, ContactRow};
use super::{Conditions, Page};
use crate::capabilities::crm::Contact;
use crate::model::TenantId;
use crate::store::{Store, StoreError, to_micros, with_pool};
use sqlx::AssertSqlSafe;

impl Store {
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
        let c = Conditions::new().eq("account", account);
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE {} ORDER BY created_at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<ContactRow> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t.as_str());
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
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

    /// Deletes the CRM contacts of a person — by address when `person` holds one
    /// (`Name <address>` too), else by name without case — and the activities logged
    /// against them and the documents written for them. Answers how many contacts and
    /// activities went, and the ids of the documents (whose files the node removes).
    pub async fn forget_contacts(
        &self,
        tenant: &TenantId,
        person: &str,
    ) -> Result<(u64, u64, Vec<String>), StoreError> {
        let (by, key) = match crate::model::person_key(person) {
            (true, address) => ("email_key", address),
            (false, name) => ("lower(name)", name),
        };
        let gone = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let activities = sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM crm_activities WHERE tenant = $1 AND contact IN \
                 (SELECT id FROM crm_contacts WHERE tenant = $1 AND {by} = $2)"
            )))
            .bind(tenant.as_str())
            .bind(&key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let documents: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "DELETE FROM documents WHERE tenant = $1 AND contact IN \
                 (SELECT id FROM crm_contacts WHERE tenant = $1 AND {by} = $2) RETURNING id"
            )))
            .bind(tenant.as_str())
            .bind(&key)
            .fetch_all(&mut *tx)
            .await?;
            let contacts = sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM crm_contacts WHERE tenant = $1 AND {by} = $2"
            )))
            .bind(tenant.as_str())
            .bind(&key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>((contacts, activities, documents))
        })?;
        Ok(gone)
    }
}
