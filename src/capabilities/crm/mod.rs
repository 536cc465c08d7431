//! The CRM (seed 2.8): accounts, contacts, deals and the activities logged against
//! them, kept by a driver — the built-in one in the node's store — behind one
//! [`CrmDriver`] trait. [`Books`] is what the API, the CLI, imports and actions use: it
//! checks every shape (each problem naming its field), turns an owner's handle into the
//! employee's id, checks that the account a record names exists, and hands the record
//! to the driver.
//!
//! Mail an employee sends or receives is logged as an activity against the contact
//! with that address ([`Books::log_mail`]); its actions (`crm.*`) find leads, log
//! activities, create and move deals, review the pipeline and list accounts in trouble.

pub mod actions;
mod builtin;
mod config;
mod customers;
mod followups;
mod handoff;
pub mod health;
mod hubspot;
pub mod import;
pub mod leads;
pub mod metrics;
mod records;
mod review;

pub use config::{CrmConfig, CrmDriverKind};
pub(crate) use customers::{about as about_account, tell as tell_employee};
pub use records::{
    ACTIVITY_KINDS, Account, AccountPatch, Activity, Change, Contact, ContactPatch,
    DEFAULT_PIPELINE, Deal, DealPatch, NewAccount, NewActivity, NewContact, NewDeal, is_closed,
};

use crate::capabilities::{Hands, Perceive};
use crate::model::{EmployeeId, FieldError, TenantId};
use crate::store::{AccountFilter, ActivityFilter, DealFilter, Page, Store, StoreError};
use std::sync::Arc;

/// Why the CRM could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// The request is wrong; each problem names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// It clashes with a stored record (e.g. a contact with that email exists).
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CRM service failed or could not be reached.
    #[error("{0}")]
    Service(String),
}

impl CrmError {
    fn field(field: &str, message: impl Into<String>) -> Self {
        CrmError::Invalid(vec![FieldError::new(field, message)])
    }
}

/// A CRM: records in, records out. Owners and accounts arrive resolved to ids and
/// shapes arrive checked.
#[async_trait::async_trait]
pub trait CrmDriver: Send + Sync {
    /// Stores a new account.
    async fn create_account(&self, a: NewAccount) -> Result<Account, CrmError>;
    /// One account.
    async fn account(&self, id: &str) -> Result<Option<Account>, CrmError>;
    /// The account with this web domain.
    async fn account_by_domain(&self, domain: &str) -> Result<Option<Account>, CrmError>;
    /// Accounts, newest first.
    async fn accounts(&self, f: &AccountFilter, page: Page) -> Result<Vec<Account>, CrmError>;
    /// Changes an account; none when there is no such account.
    async fn update_account(&self, id: &str, p: AccountPatch) -> Result<Option<Account>, CrmError>;
    /// Deletes an account; false when there was none.
    async fn delete_account(&self, id: &str) -> Result<bool, CrmError>;
    /// Stores a new contact; a taken email is a conflict naming the contact that has it.
    async fn create_contact(&self, c: NewContact) -> Result<Contact, CrmError>;
    /// One contact.
    async fn contact(&self, id: &str) -> Result<Option<Contact>, CrmError>;
    /// The contact with this email.
    async fn contact_by_email(&self, email: &str) -> Result<Option<Contact>, CrmError>;
    /// Contacts, newest first, optionally of one account.
    async fn contacts(&self, account: Option<&str>, page: Page) -> Result<Vec<Contact>, CrmError>;
    /// Changes a contact.
    async fn update_contact(&self, id: &str, p: ContactPatch) -> Result<Option<Contact>, CrmError>;
    /// Deletes a contact.
    async fn delete_contact(&self, id: &str) -> Result<bool, CrmError>;
    /// Stores a new deal (its stage set).
    async fn create_deal(&self, d: NewDeal) -> Result<Deal, CrmError>;
    /// One deal.
    async fn deal(&self, id: &str) -> Result<Option<Deal>, CrmError>;
    /// Deals, newest first.
    async fn deals(&self, f: &DealFilter, page: Page) -> Result<Vec<Deal>, CrmError>;
    /// Changes a deal.
    async fn update_deal(&self, id: &str, p: DealPatch) -> Result<Option<Deal>, CrmError>;
    /// Deletes a deal.
    async fn delete_deal(&self, id: &str) -> Result<bool, CrmError>;
    /// Logs an activity; one with a key already logged answers none.
    async fn log_activity(
        &self,
        a: NewActivity,
        logged_by: &str,
    ) -> Result<Option<Activity>, CrmError>;
    /// Activities of an account, contact or deal, newest first.
    async fn activities(&self, f: &ActivityFilter, page: Page) -> Result<Vec<Activity>, CrmError>;
    /// Stores every record of an import, or none of them.
    async fn import(&self, batch: import::Batch) -> Result<usize, CrmError>;
    /// Accounts new business can come from (not customers, no open deal), narrowed by
    /// industries, regions (lower case; empty is any) and head count.
    async fn prospects(
        &self,
        industries: &[String],
        regions: &[String],
        employees: (Option<i64>, Option<i64>),
    ) -> Result<Vec<Account>, CrmError>;
}

/// The node's CRM: its driver, its pipeline, and the metrics last told to each
/// employee.
#[derive(Clone)]
pub struct Crm {
    driver: Arc<dyn CrmDriver>,
    pipeline: Vec<String>,
    health: health::HealthConfig,
    customer_role: String,
    told: Arc<dashmap::DashMap<(EmployeeId, &'static str), f64>>,
}

impl Crm {
    /// The CRM `cfg` asks for; `env` gives the environment (for the HubSpot token).
    pub fn new(
        cfg: &CrmConfig,
        tenant: &TenantId,
        store: &Store,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Crm, String> {
        let first_stage = cfg
            .pipeline
            .first()
            .cloned()
            .unwrap_or_else(|| "prospecting".into());
        let driver: Arc<dyn CrmDriver> = match cfg.driver {
            CrmDriverKind::Builtin => Arc::new(builtin::Builtin::new(
                tenant.clone(),
                store.clone(),
                first_stage,
            )),
            CrmDriverKind::Hubspot => {
                let token = env(&cfg.token_env).filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                    format!(
                        "crm.driver is \"hubspot\" but the environment variable {} (crm.token_env) is not set; set it to the private app's access token",
                        cfg.token_env
                    )
                })?;
                Arc::new(hubspot::HubSpot::new(
                    &cfg.base_url,
                    token,
                    cfg.stage_ids.clone(),
                    first_stage,
                )?)
            }
        };
        Ok(Crm {
            driver,
            pipeline: cfg.pipeline.clone(),
            health: cfg.health.clone(),
            customer_role: cfg.customer_role.trim().to_string(),
            told: Default::default(),
        })
    }

    /// The driver.
    pub fn driver(&self) -> &dyn CrmDriver {
        self.driver.as_ref()
    }

    fn last_published(&self, employee: EmployeeId, metric: &'static str) -> Option<f64> {
        self.told.get(&(employee, metric)).map(|v| *v)
    }

    fn published(&self, employee: EmployeeId, metric: &'static str, value: f64) {
        self.told.insert((employee, metric), value);
    }

    /// The pipeline's stages, in order.
    pub fn pipeline(&self) -> &[String] {
        &self.pipeline
    }

    /// How account health is scored and banded.
    pub fn health_config(&self) -> &health::HealthConfig {
        &self.health
    }
}

/// The CRM's front: checks, resolves and hands over to the driver, and tells owners
/// the metrics their deals changed.
pub struct Books<'a> {
    crm: &'a Crm,
    employees: &'a dyn Perceive,
    hands: &'a Hands,
}

fn check(errors: Vec<FieldError>) -> Result<(), CrmError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CrmError::Invalid(errors))
    }
}

impl<'a> Books<'a> {
    /// The CRM of the node these hands belong to.
    pub fn of(hands: &'a Hands) -> Books<'a> {
        Books {
            crm: &hands.crm,
            employees: hands.employees.as_ref(),
            hands,
        }
    }

    /// Tells the owners of changed deals their metrics.
    async fn deals_changed(
        &self,
        owners: impl IntoIterator<Item = Option<String>>,
    ) -> Result<(), CrmError> {
        metrics::publish(self.hands, owners.into_iter().flatten().collect()).await
    }

    /// The driver, for reads that need no checks.
    pub fn driver(&self) -> &dyn CrmDriver {
        self.crm.driver.as_ref()
    }

    /// The pipeline's stages.
    pub fn pipeline(&self) -> &[String] {
        &self.crm.pipeline
    }

    /// The employee `who` names (id, handle or address), as an id.
    pub fn employee(&self, field: &str, who: &str) -> Result<String, CrmError> {
        self.employees
            .resolve(who.trim())
            .map(|id| id.to_string())
            .ok_or_else(|| {
                CrmError::field(
                    field,
                    format!(
                        "no employee {who:?} here; name one by id or handle, e.g. \"jordan.lee\""
                    ),
                )
            })
    }

    fn owner(&self, who: Option<String>) -> Result<Option<String>, CrmError> {
        records::tidy(who)
            .map(|w| self.employee("owner", &w))
            .transpose()
    }

    async fn account_ref(&self, id: Option<String>) -> Result<Option<String>, CrmError> {
        let Some(id) = records::tidy(id) else {
            return Ok(None);
        };
        match self.driver().account(&id).await? {
            Some(a) => Ok(Some(a.id)),
            None => Err(CrmError::field(
                "account",
                format!("no account with id {id:?}; list them with `GET /api/v1/crm/accounts`"),
            )),
        }
    }

    /// Creates an account.
    pub async fn create_account(&self, mut a: NewAccount) -> Result<Account, CrmError> {
        check(a.validate())?;
        a.owner = self.owner(a.owner)?;
        self.driver().create_account(a).await
    }

    /// Changes an account.
    pub async fn update_account(&self, id: &str, mut p: AccountPatch) -> Result<Account, CrmError> {
        check(p.validate())?;
        if let Some(o) = p.owner.take() {
            p.owner = Some(self.owner(o)?);
        }
        self.driver()
            .update_account(id, p)
            .await?
            .ok_or_else(|| not_found("account", id))
    }

    /// Creates a contact.
    pub async fn create_contact(&self, mut c: NewContact) -> Result<Contact, CrmError> {
        check(c.validate())?;
        c.account = self.account_ref(c.account).await?;
        self.driver().create_contact(c).await
    }

    /// Changes a contact.
    pub async fn update_contact(&self, id: &str, mut p: ContactPatch) -> Result<Contact, CrmError> {
        check(p.validate())?;
        if let Some(a) = p.account.take() {
            p.account = Some(self.account_ref(a).await?);
        }
        self.driver()
            .update_contact(id, p)
            .await?
            .ok_or_else(|| not_found("contact", id))
    }

    /// Creates a deal.
    pub async fn create_deal(&self, mut d: NewDeal) -> Result<Deal, CrmError> {
        check(d.validate(self.pipeline()))?;
        d.owner = self.owner(d.owner)?;
        d.account = self.account_ref(d.account).await?;
        let deal = self.driver().create_deal(d).await?;
        self.deals_changed([deal.owner.clone()]).await?;
        Ok(deal)
    }

    /// Deletes a deal; false when there was none.
    pub async fn delete_deal(&self, id: &str) -> Result<bool, CrmError> {
        let Some(deal) = self.driver().deal(id).await? else {
            return Ok(false);
        };
        let deleted = self.driver().delete_deal(id).await?;
        self.deals_changed([deal.owner]).await?;
        Ok(deleted)
    }

    /// Stores every record of an import, or none; the owners of imported deals are told
    /// their metrics.
    pub async fn import(&self, batch: import::Batch) -> Result<usize, CrmError> {
        let owners: Vec<Option<String>> = batch.deals.iter().map(|d| d.owner.clone()).collect();
        let n = self.driver().import(batch).await?;
        self.deals_changed(owners).await?;
        Ok(n)
    }

    /// Changes a deal.
    pub async fn update_deal(&self, id: &str, mut p: DealPatch) -> Result<Deal, CrmError> {
        check(p.validate(self.pipeline()))?;
        if let Some(o) = p.owner.take() {
            p.owner = Some(self.owner(o)?);
        }
        if let Some(a) = p.account.take() {
            p.account = Some(self.account_ref(a).await?);
        }
        let before = self
            .driver()
            .deal(id)
            .await?
            .ok_or_else(|| not_found("deal", id))?;
        let after = self
            .driver()
            .update_deal(id, p)
            .await?
            .ok_or_else(|| not_found("deal", id))?;
        if after.stage == "closed_won" && before.stage != after.stage {
            self.deal_won(&after).await?;
        }
        self.deals_changed([before.owner, after.owner.clone()])
            .await?;
        Ok(after)
    }

    /// Logs an activity; the account is taken from the contact or deal when not given.
    /// Answers none when its key was logged before.
    pub async fn log_activity(
        &self,
        mut a: NewActivity,
        logged_by: &str,
    ) -> Result<Option<Activity>, CrmError> {
        check(a.validate())?;
        if let Some(e) = records::tidy(a.employee.take()) {
            a.employee = Some(self.employee("employee", &e)?);
        }
        if let Some(id) = records::tidy(a.contact.take()) {
            let c =
                self.driver().contact(&id).await?.ok_or_else(|| {
                    CrmError::field("contact", format!("no contact with id {id:?}"))
                })?;
            a.account = a.account.or(c.account);
            a.contact = Some(c.id);
        }
        if let Some(id) = records::tidy(a.deal.take()) {
            let d = self
                .driver()
                .deal(&id)
                .await?
                .ok_or_else(|| CrmError::field("deal", format!("no deal with id {id:?}")))?;
            a.account = a.account.or(d.account);
            a.deal = Some(d.id);
        }
        a.account = self.account_ref(a.account).await?;
        self.driver().log_activity(a, logged_by).await
    }

    /// Logs a mail an employee sent or received against the contact with the other
    /// party's address, if there is one; once per Message-ID and direction.
    pub async fn log_mail(&self, m: &MailActivity<'_>) -> Result<Option<Activity>, CrmError> {
        let Some(contact) = self.driver().contact_by_email(m.counterpart).await? else {
            return Ok(None);
        };
        let kind = if m.sent {
            "email_sent"
        } else {
            "email_received"
        };
        let body: String = m.body.chars().take(4000).collect();
        let logged = self
            .driver()
            .log_activity(
                NewActivity {
                    kind: kind.into(),
                    subject: if m.subject.trim().is_empty() {
                        "(no subject)".into()
                    } else {
                        m.subject.trim().into()
                    },
                    body,
                    account: contact.account.clone(),
                    contact: Some(contact.id.clone()),
                    deal: None,
                    employee: Some(m.employee.to_string()),
                    at: Some(m.at),
                    key: Some(format!(
                        "mail:{kind}:{}:{}:{}",
                        m.employee, contact.id, m.message_id
                    )),
                },
                "mail",
            )
            .await?;
        if m.sent && logged.is_some() {
            self.tell_response_time(m.employee, &contact.id, m.at)
                .await?;
        }
        Ok(logged)
    }

    /// A mail sent at `at` to a contact answers the mail they sent since the last one
    /// they were sent: the employee is told `response_time_hours`, from the earliest of
    /// those to this answer.
    async fn tell_response_time(
        &self,
        employee: EmployeeId,
        contact: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), CrmError> {
        let recent = self
            .driver()
            .activities(
                &ActivityFilter {
                    contact: Some(contact.into()),
                    ..Default::default()
                },
                Page {
                    limit: 50,
                    offset: 0,
                },
            )
            .await?;
        let mut asked = None;
        // Newest first: skip this answer, then take the waiting messages back to the
        // previous answer.
        for a in recent
            .iter()
            .filter(|a| a.at <= at)
            .skip_while(|a| a.kind == "email_sent")
        {
            match a.kind.as_str() {
                "email_received" => asked = Some(a.at),
                "email_sent" => break,
                _ => {}
            }
        }
        if let Some(asked) = asked {
            let hours = ((at - asked).num_seconds().max(0) as f64 / 3600.0 * 100.0).round() / 100.0;
            metrics::tell(self.hands, employee, metrics::RESPONSE_TIME, hours).await;
        }
        Ok(())
    }
}

/// Logs mail an employee sent (`sent`) or received against the CRM contacts on the
/// other side. A failure to log is reported, never a failure of the mail.
pub(crate) async fn log_mail(hands: &super::Hands, m: &crate::model::MailMessage, sent: bool) {
    let from = crate::model::bare_address(&m.from).to_ascii_lowercase();
    let pairs: Vec<(crate::model::EmployeeId, String)> = if sent {
        let Some(me) = hands.employees.resolve(&from) else {
            return;
        };
        m.recipients()
            .into_iter()
            .filter(|a| hands.employees.resolve(a).is_none())
            .map(|a| (me, a))
            .collect()
    } else {
        if hands.employees.resolve(&from).is_some() {
            return;
        }
        m.recipients()
            .into_iter()
            .filter_map(|a| hands.employees.resolve(&a))
            .map(|id| (id, from.clone()))
            .collect()
    };
    let books = Books::of(hands);
    for (employee, counterpart) in pairs {
        let logged = books
            .log_mail(&MailActivity {
                employee,
                sent,
                counterpart: &counterpart,
                message_id: &m.message_id,
                subject: &m.subject,
                body: &m.body,
                at: m.at,
            })
            .await;
        if let Err(e) = logged {
            tracing::warn!(error = %e, message_id = %m.message_id, "mail could not be logged in the CRM");
        }
    }
}

/// A mail to log against a contact.
pub struct MailActivity<'a> {
    /// The employee who sent or received it.
    pub employee: crate::model::EmployeeId,
    /// Whether the employee sent it (else received it).
    pub sent: bool,
    /// The other party's bare address.
    pub counterpart: &'a str,
    /// Its Message-ID.
    pub message_id: &'a str,
    /// Subject.
    pub subject: &'a str,
    /// Text.
    pub body: &'a str,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
}

fn not_found(what: &str, id: &str) -> CrmError {
    CrmError::NotFound(format!("no {what} with id {id:?}"))
}
