//! The CRM's records as the API takes and answers them: accounts, contacts, deals and
//! activities, the shapes that create them, the patches that change them, and what is
//! wrong with a shape (every problem at once, each naming its field).
//!
//! `account` is an account's id; `owner` is an employee (its id or handle when sent,
//! its id when answered); `close_date` is a date (`YYYY-MM-DD`).

use crate::model::{FieldError, is_address};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A company the business sells to or serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    /// Its id.
    pub id: String,
    /// Company name.
    pub name: String,
    /// Web domain, e.g. `northwind.example`.
    pub domain: Option<String>,
    /// Industry, e.g. `software`.
    pub industry: Option<String>,
    /// Head count.
    pub employees: Option<i64>,
    /// Region, e.g. `north-america`.
    pub region: Option<String>,
    /// The plan it is on, when it is a customer.
    pub plan: Option<String>,
    /// The employee who owns it (id).
    pub owner: Option<String>,
    /// Health score 0..100, when computed.
    pub health: Option<f64>,
    /// Buying signals seen (e.g. `hiring sales reps`, `raised a Series B`).
    pub signals: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A person at an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    /// Its id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Mail address; unique among contacts.
    pub email: String,
    /// Job title.
    pub title: Option<String>,
    /// The account (id).
    pub account: Option<String>,
    /// Role in the buying group, e.g. `champion`, `economic_buyer`.
    pub role: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An opportunity moving through the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Deal {
    /// Its id.
    pub id: String,
    /// Deal name.
    pub name: String,
    /// The account (id).
    pub account: Option<String>,
    /// Amount, in the company's currency.
    pub amount: f64,
    /// Pipeline stage.
    pub stage: String,
    /// Expected (or actual) close date.
    pub close_date: Option<NaiveDate>,
    /// The employee who owns it (id).
    pub owner: Option<String>,
    /// What happens next.
    pub next_step: Option<String>,
    /// When it reached `closed_won` or `closed_lost`.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Something that happened with a contact, account or deal: a mail, a meeting, a call,
/// a task, a note, an issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    /// Its id.
    pub id: String,
    /// `email_sent`, `email_received`, `meeting`, `call`, `task`, `note` or `issue`.
    pub kind: String,
    /// One line.
    pub subject: String,
    /// The text.
    pub body: String,
    /// The account (id).
    pub account: Option<String>,
    /// The contact (id).
    pub contact: Option<String>,
    /// The deal (id).
    pub deal: Option<String>,
    /// The employee it concerns (id).
    pub employee: Option<String>,
    /// Who logged it: an employee id, `api`, `import` or `mail`.
    pub logged_by: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// The kinds of activity.
pub const ACTIVITY_KINDS: &[&str] = &[
    "email_sent",
    "email_received",
    "meeting",
    "call",
    "task",
    "note",
    "issue",
];

/// The stages a deal moves through when `[crm] pipeline` does not name others.
pub const DEFAULT_PIPELINE: &[&str] = &[
    "prospecting",
    "discovery",
    "demo",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
];

/// Whether a deal in `stage` is over.
pub fn is_closed(stage: &str) -> bool {
    stage.starts_with("closed")
}

/// `POST /api/v1/crm/accounts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Company name.
    pub name: String,
    /// Web domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<String>,
    /// Head count.
    #[serde(default)]
    pub employees: Option<i64>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// Plan, when a customer.
    #[serde(default)]
    pub plan: Option<String>,
    /// Owner: an employee id or handle.
    #[serde(default)]
    pub owner: Option<String>,
    /// Buying signals.
    #[serde(default)]
    pub signals: Vec<String>,
}

/// `POST /api/v1/crm/contacts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// Full name.
    pub name: String,
    /// Mail address.
    pub email: String,
    /// Job title.
    #[serde(default)]
    pub title: Option<String>,
    /// Account id.
    #[serde(default)]
    pub account: Option<String>,
    /// Role in the buying group.
    #[serde(default)]
    pub role: Option<String>,
}

/// `POST /api/v1/crm/deals`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeal {
    /// Deal name.
    pub name: String,
    /// Account id.
    #[serde(default)]
    pub account: Option<String>,
    /// Amount.
    pub amount: f64,
    /// Stage; the pipeline's first when not given.
    #[serde(default)]
    pub stage: Option<String>,
    /// Expected close date.
    #[serde(default)]
    pub close_date: Option<NaiveDate>,
    /// Owner: an employee id or handle.
    #[serde(default)]
    pub owner: Option<String>,
    /// What happens next.
    #[serde(default)]
    pub next_step: Option<String>,
}

/// An activity to log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    /// One of [`ACTIVITY_KINDS`].
    pub kind: String,
    /// One line.
    pub subject: String,
    /// The text.
    #[serde(default)]
    pub body: String,
    /// Account id.
    #[serde(default)]
    pub account: Option<String>,
    /// Contact id.
    #[serde(default)]
    pub contact: Option<String>,
    /// Deal id.
    #[serde(default)]
    pub deal: Option<String>,
    /// Employee (id or handle).
    #[serde(default)]
    pub employee: Option<String>,
    /// When it happened; now when not given.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// Logs once per key (a mail's Message-ID, an action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub key: Option<String>,
}

/// A change to a field that may be cleared: absent leaves it, `null` clears it.
pub type Change<T> = Option<Option<T>>;

fn change<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Change<T>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /api/v1/crm/accounts/{id}`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// New `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// New `domain`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub domain: Change<String>,
    /// New `industry`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub industry: Change<String>,
    /// New `employees`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<i64>)]
    pub employees: Change<i64>,
    /// New `region`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub region: Change<String>,
    /// New `plan`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub plan: Change<String>,
    /// New `owner`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub owner: Change<String>,
    /// New `health`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<f64>)]
    pub health: Change<f64>,
    /// New `signals`.
    #[serde(default)]
    pub signals: Option<Vec<String>>,
}

/// `PATCH /api/v1/crm/contacts/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    /// New `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// New `email`.
    #[serde(default)]
    pub email: Option<String>,
    /// New `title`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub title: Change<String>,
    /// New `account`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub account: Change<String>,
    /// New `role`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub role: Change<String>,
}

/// `PATCH /api/v1/crm/deals/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    /// New `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// New `account`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub account: Change<String>,
    /// New `amount`.
    #[serde(default)]
    pub amount: Option<f64>,
    /// New `stage`.
    #[serde(default)]
    pub stage: Option<String>,
    /// New `close_date`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<NaiveDate>)]
    pub close_date: Change<NaiveDate>,
    /// New `owner`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub owner: Change<String>,
    /// New `next_step`; `null` clears it.
    #[serde(default, deserialize_with = "change")]
    #[schema(value_type = Option<String>)]
    pub next_step: Change<String>,
}

/// Longest name, title or other one-line field, in characters.
const LINE_MAX: usize = 300;

fn line(e: &mut Vec<FieldError>, field: &str, v: Option<&str>, required: bool) {
    match v.map(str::trim) {
        None | Some("") if required => {
            e.push(FieldError::new(field, "is required and must not be blank"))
        }
        Some(s) if s.chars().count() > LINE_MAX => e.push(FieldError::new(
            field,
            format!("is longer than {LINE_MAX} characters"),
        )),
        Some(s) if s.chars().any(char::is_control) => e.push(FieldError::new(
            field,
            "must be one line without control characters",
        )),
        _ => {}
    }
}

fn email(e: &mut Vec<FieldError>, v: &str) {
    if !is_address(v.trim()) {
        e.push(FieldError::new(
            "email",
            format!("{v:?} is not a mail address; send e.g. \"ana@northwind.example\""),
        ));
    }
}

fn amount(e: &mut Vec<FieldError>, v: f64) {
    if !v.is_finite() || v < 0.0 {
        e.push(FieldError::new("amount", "must be a number of at least 0"));
    }
}

fn head_count(e: &mut Vec<FieldError>, v: Option<i64>) {
    if v.is_some_and(|n| n < 0) {
        e.push(FieldError::new(
            "employees",
            "must be a whole number of at least 0",
        ));
    }
}

/// The problem with `stage`, if it is not one of `pipeline`'s.
fn stage(e: &mut Vec<FieldError>, v: &str, pipeline: &[String]) {
    if !pipeline.iter().any(|s| s == v) {
        e.push(FieldError::new(
            "stage",
            format!(
                "{v:?} is not a stage of the pipeline; use one of {}",
                pipeline.join(", ")
            ),
        ));
    }
}

impl NewAccount {
    /// Every problem, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        line(&mut e, "name", Some(&self.name), true);
        for (f, v) in [
            ("domain", &self.domain),
            ("industry", &self.industry),
            ("region", &self.region),
            ("plan", &self.plan),
        ] {
            line(&mut e, f, v.as_deref(), false);
        }
        head_count(&mut e, self.employees);
        for (i, s) in self.signals.iter().enumerate() {
            line(&mut e, &format!("signals[{i}]"), Some(s), true);
        }
        e
    }
}

impl NewContact {
    /// Every problem, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        line(&mut e, "name", Some(&self.name), true);
        email(&mut e, &self.email);
        line(&mut e, "title", self.title.as_deref(), false);
        line(&mut e, "role", self.role.as_deref(), false);
        e
    }
}

impl NewDeal {
    /// Every problem, each naming its field.
    pub fn validate(&self, pipeline: &[String]) -> Vec<FieldError> {
        let mut e = Vec::new();
        line(&mut e, "name", Some(&self.name), true);
        amount(&mut e, self.amount);
        if let Some(s) = &self.stage {
            stage(&mut e, s, pipeline);
        }
        line(&mut e, "next_step", self.next_step.as_deref(), false);
        e
    }
}

impl NewActivity {
    /// Every problem, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !ACTIVITY_KINDS.contains(&self.kind.as_str()) {
            e.push(FieldError::new(
                "kind",
                format!(
                    "{:?} is not a kind of activity; use one of {}",
                    self.kind,
                    ACTIVITY_KINDS.join(", ")
                ),
            ));
        }
        line(&mut e, "subject", Some(&self.subject), true);
        if self.account.is_none() && self.contact.is_none() && self.deal.is_none() {
            e.push(FieldError::new(
                "account",
                "an activity is logged against something: set `account`, `contact` or `deal`",
            ));
        }
        e
    }
}

impl AccountPatch {
    /// Every problem, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Some(n) = &self.name {
            line(&mut e, "name", Some(n), true);
        }
        for (f, v) in [
            ("domain", &self.domain),
            ("industry", &self.industry),
            ("region", &self.region),
            ("plan", &self.plan),
        ] {
            line(&mut e, f, v.clone().flatten().as_deref(), false);
        }
        head_count(&mut e, self.employees.flatten());
        if let Some(Some(h)) = self.health
            && !(0.0..=100.0).contains(&h)
        {
            e.push(FieldError::new("health", "must be from 0 to 100"));
        }
        e
    }
}

impl ContactPatch {
    /// Every problem, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Some(n) = &self.name {
            line(&mut e, "name", Some(n), true);
        }
        if let Some(m) = &self.email {
            email(&mut e, m);
        }
        line(
            &mut e,
            "title",
            self.title.clone().flatten().as_deref(),
            false,
        );
        line(
            &mut e,
            "role",
            self.role.clone().flatten().as_deref(),
            false,
        );
        e
    }
}

impl DealPatch {
    /// Every problem, each naming its field.
    pub fn validate(&self, pipeline: &[String]) -> Vec<FieldError> {
        let mut e = Vec::new();
        if let Some(n) = &self.name {
            line(&mut e, "name", Some(n), true);
        }
        if let Some(a) = self.amount {
            amount(&mut e, a);
        }
        if let Some(s) = &self.stage {
            stage(&mut e, s, pipeline);
        }
        line(
            &mut e,
            "next_step",
            self.next_step.clone().flatten().as_deref(),
            false,
        );
        e
    }
}

/// Trims `s`; blank is none.
pub(crate) fn tidy(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_absent_from_null() {
        let p: DealPatch =
            serde_json::from_str(r#"{"close_date": null, "stage": "demo"}"#).unwrap();
        assert_eq!(p.close_date, Some(None));
        assert_eq!(p.owner, None);
        assert_eq!(p.stage.as_deref(), Some("demo"));
    }

    #[test]
    fn every_problem_names_its_field() {
        let pipeline: Vec<String> = DEFAULT_PIPELINE.iter().map(|s| s.to_string()).collect();
        let d = NewDeal {
            name: " ".into(),
            amount: -5.0,
            stage: Some("won".into()),
            ..Default::default()
        };
        let fields: Vec<String> = d.validate(&pipeline).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "amount", "stage"]);
        let c = NewContact {
            name: "Ana".into(),
            email: "ana at northwind".into(),
            ..Default::default()
        };
        assert_eq!(c.validate()[0].field, "email");
        let a = NewActivity {
            kind: "lunch".into(),
            subject: "x".into(),
            ..Default::default()
        };
        let fields: Vec<String> = a.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["kind", "account"]);
    }
}
