//! The built-in CRM's rows: accounts, contacts, deals and activities, tenant on every
//! row. Records are written whole (the CRM merges a patch into the record it read);
//! lists are newest first. A contact's email is unique per tenant without case; an
//! activity with a key is stored once; an import is stored in one transaction.

mod accounts;
mod contacts;
mod deals;
mod import;
mod rows;
mod series;

pub use series::Point;

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
    /// The first (newest) only.
    pub const FIRST: Page = Page {
        limit: 1,
        offset: 0,
    };

    /// Everything (for the CRM's own reckoning).
    pub const ALL: Page = Page {
        limit: i64::MAX,
        offset: 0,
    };
}

/// The conditions of a list: `tenant = $1`, then `column = $n` for each filter that is
/// set — only those, so the database can use the index of each — and the page's
/// placeholders after them.
pub(in crate::store) struct Conditions {
    pub(in crate::store) sql: String,
    pub(in crate::store) texts: Vec<String>,
}

impl Conditions {
    pub(in crate::store) fn new() -> Self {
        Conditions {
            sql: "tenant = $1".into(),
            texts: Vec::new(),
        }
    }

    /// `column = value`, when a value is given.
    pub(in crate::store) fn eq(mut self, column: &str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.texts.push(v.to_string());
            self.sql
                .push_str(&format!(" AND {column} = ${}", self.texts.len() + 1));
        }
        self
    }

    /// A fixed condition, when `on`.
    pub(in crate::store) fn and(mut self, condition: &str, on: bool) -> Self {
        if on {
            self.sql.push_str(" AND ");
            self.sql.push_str(condition);
        }
        self
    }

    /// `LIMIT $n OFFSET $n+1`, after the conditions' placeholders.
    pub(in crate::store) fn page(&self) -> String {
        let n = self.texts.len() + 2;
        format!("LIMIT ${n} OFFSET ${}", n + 1)
    }
}
