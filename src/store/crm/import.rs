//! Records stored together: an import in one transaction, all or none.

use super::rows::signals_json;
use crate::capabilities::crm::{Account, Contact, Deal};
use crate::model::TenantId;
use crate::store::{Store, StoreError, to_micros, with_pool};

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
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
