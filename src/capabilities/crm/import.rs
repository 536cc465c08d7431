//! Importing a CSV file of accounts, contacts or deals: every row is read and checked
//! first — its fields, the account and owner it names, an email no other contact has —
//! and only a file without a single bad row is stored, in one go. Each problem names
//! the file's line, the column and what is wrong.
//!
//! Columns (a header row names them, in any order; unknown columns are refused):
//! - accounts: `name`, `domain`, `industry`, `employees`, `region`, `plan`, `owner`,
//!   `signals` (separated by `;`)
//! - contacts: `name`, `email`, `title`, `account`, `role`
//! - deals: `name`, `account`, `amount`, `stage`, `close_date`, `owner`, `next_step`
//!
//! `account` is an account's id or its domain; `owner` an employee's id or handle.

use super::{Books, CrmError, NewAccount, NewContact, NewDeal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// Accounts.
    Accounts,
    /// Contacts.
    Contacts,
    /// Deals.
    Deals,
}

impl ImportKind {
    /// From its name.
    pub fn parse(s: &str) -> Option<ImportKind> {
        match s {
            "accounts" => Some(ImportKind::Accounts),
            "contacts" => Some(ImportKind::Contacts),
            "deals" => Some(ImportKind::Deals),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Accounts => "accounts",
            ImportKind::Contacts => "contacts",
            ImportKind::Deals => "deals",
        }
    }

    fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            ImportKind::Accounts => (
                &["name"],
                &[
                    "name",
                    "domain",
                    "industry",
                    "employees",
                    "region",
                    "plan",
                    "owner",
                    "signals",
                ],
            ),
            ImportKind::Contacts => (
                &["name", "email"],
                &["name", "email", "title", "account", "role"],
            ),
            ImportKind::Deals => (
                &["name", "amount"],
                &[
                    "name",
                    "account",
                    "amount",
                    "stage",
                    "close_date",
                    "owner",
                    "next_step",
                ],
            ),
        }
    }
}

/// Records to store together.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Accounts.
    pub accounts: Vec<NewAccount>,
    /// Contacts.
    pub contacts: Vec<NewContact>,
    /// Deals.
    pub deals: Vec<NewDeal>,
}

/// One problem with a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// The file's line (1 is the header).
    pub line: u64,
    /// The column, when one is at fault.
    pub column: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column `{c}`: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows are wrong (at most the first 100 problems).
    #[error("{} problem(s), nothing was imported: {}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Rows(Vec<RowError>),
    /// The CRM refused or failed.
    #[error(transparent)]
    Crm(#[from] CrmError),
}

/// Most problems listed for one file.
const MAX_ERRORS: usize = 100;

/// One row's cells by column, with the row's line.
struct Row {
    line: u64,
    cells: BTreeMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> Option<String> {
        self.cells
            .get(column)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

fn read(kind: ImportKind, text: &str, errors: &mut Vec<RowError>) -> Vec<Row> {
    let (required, known) = kind.columns();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_lowercase()).collect(),
        Err(e) => {
            errors.push(RowError {
                line: 1,
                column: None,
                message: format!("the header row cannot be read: {e}"),
            });
            return Vec::new();
        }
    };
    for h in &headers {
        if !known.contains(&h.as_str()) {
            errors.push(RowError {
                line: 1,
                column: Some(h.clone()),
                message: format!(
                    "is not a column of {} imports; the columns are {}",
                    kind.name(),
                    known.join(", ")
                ),
            });
        }
    }
    for r in required {
        if !headers.iter().any(|h| h == r) {
            errors.push(RowError {
                line: 1,
                column: Some(r.to_string()),
                message: "is required; add it to the header row".into(),
            });
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => rows.push(Row {
                line: r.position().map(|p| p.line()).unwrap_or(0),
                cells: headers
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_string))
                    .collect(),
            }),
            Err(e) => errors.push(RowError {
                line: e.position().map(|p| p.line()).unwrap_or(0),
                column: None,
                message: format!("cannot be read: {e}"),
            }),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 2,
            column: None,
            message: "the file has no rows under its header".into(),
        });
    }
    rows
}

/// Reads `text` (CSV with a header row) as records of `kind`, checks every row, and
/// stores them all or none. Answers how many were stored.
pub async fn import(books: &Books<'_>, kind: ImportKind, text: &str) -> Result<usize, ImportError> {
    let mut errors = Vec::new();
    let rows = read(kind, text, &mut errors);
    let mut batch = Batch::default();
    let mut emails = BTreeMap::new();
    let mut accounts_by_domain: BTreeMap<String, Option<String>> = BTreeMap::new();
    for row in &rows {
        let mut problem = |column: &str, message: String| {
            errors.push(RowError {
                line: row.line,
                column: Some(column.into()),
                message,
            });
        };
        let owner = match row.get("owner") {
            Some(o) => match books.employee("owner", &o) {
                Ok(id) => Some(id),
                Err(e) => {
                    problem(
                        "owner",
                        e.to_string().trim_start_matches("owner: ").to_string(),
                    );
                    None
                }
            },
            None => None,
        };
        let account = match row.get("account") {
            Some(key) => {
                let found = match accounts_by_domain.get(&key.to_lowercase()) {
                    Some(found) => found.clone(),
                    None => {
                        let found = match books.driver().account(&key).await? {
                            Some(a) => Some(a.id),
                            None => books.driver().account_by_domain(&key).await?.map(|a| a.id),
                        };
                        accounts_by_domain.insert(key.to_lowercase(), found.clone());
                        found
                    }
                };
                if found.is_none() {
                    problem(
                        "account",
                        format!("no account with id or domain {key:?}; import the accounts first"),
                    );
                }
                found
            }
            None => None,
        };
        let number = |column: &str| -> Result<Option<f64>, String> {
            row.get(column)
                .map(|v| {
                    v.replace([',', '$'], "")
                        .parse::<f64>()
                        .map_err(|_| format!("{v:?} is not a number"))
                })
                .transpose()
        };
        let fields = match kind {
            ImportKind::Accounts => {
                let employees = match number("employees") {
                    Ok(n) if n.is_none_or(|n| n.fract() == 0.0) => n.map(|n| n as i64),
                    Ok(_) | Err(_) => {
                        problem("employees", "must be a whole number".into());
                        None
                    }
                };
                let a = NewAccount {
                    name: row.get("name").unwrap_or_default(),
                    domain: row.get("domain"),
                    industry: row.get("industry"),
                    employees,
                    region: row.get("region"),
                    plan: row.get("plan"),
                    owner,
                    signals: row
                        .get("signals")
                        .map(|s| {
                            s.split(';')
                                .map(|x| x.trim().to_string())
                                .filter(|x| !x.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                let e = a.validate();
                batch.accounts.push(a);
                e
            }
            ImportKind::Contacts => {
                let c = NewContact {
                    name: row.get("name").unwrap_or_default(),
                    email: row.get("email").unwrap_or_default(),
                    title: row.get("title"),
                    account,
                    role: row.get("role"),
                };
                let key = c.email.to_lowercase();
                if let Some(first) = emails.insert(key.clone(), row.line) {
                    problem(
                        "email",
                        format!(
                            "{:?} is also on line {first}; a contact's email is unique",
                            c.email
                        ),
                    );
                } else if !key.is_empty()
                    && let Some(existing) = books.driver().contact_by_email(&key).await?
                {
                    problem(
                        "email",
                        format!(
                            "{:?} is already {} ({})",
                            c.email, existing.name, existing.id
                        ),
                    );
                }
                let e = c.validate();
                batch.contacts.push(c);
                e
            }
            ImportKind::Deals => {
                let amount = number("amount").unwrap_or_else(|m| {
                    problem("amount", m);
                    Some(0.0)
                });
                let close_date = row.get("close_date").and_then(|d| {
                    chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                        .map_err(|_| {
                            problem("close_date", format!("{d:?} is not a date like 2027-03-31"))
                        })
                        .ok()
                });
                let d = NewDeal {
                    name: row.get("name").unwrap_or_default(),
                    account,
                    amount: amount.unwrap_or(0.0),
                    stage: row.get("stage"),
                    close_date,
                    owner,
                    next_step: row.get("next_step"),
                };
                let e = d.validate(books.pipeline());
                batch.deals.push(d);
                e
            }
        };
        for f in fields {
            errors.push(RowError {
                line: row.line,
                column: Some(f.field),
                message: f.message,
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        errors.dedup();
        errors.truncate(MAX_ERRORS);
        return Err(ImportError::Rows(errors));
    }
    Ok(books.import(batch).await?)
}
