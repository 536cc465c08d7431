//! `empla crm accounts|contacts|deals|activities|import`, through the node's API.

use super::NodeArgs;
use super::client::{Client, print, read, when};
use crate::api::wire::{
    AccountsQuery, ActivitiesQuery, ContactsQuery, DealsQuery, ImportQuery, Imported, Items,
};
use crate::capabilities::crm::{Account, Activity, Contact, Deal};
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;
use std::path::PathBuf;

/// `empla crm ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum CrmAction {
    /// Accounts, newest first.
    Accounts {
        /// Owned by this employee (id or handle).
        #[arg(long)]
        owner: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// Skip this many.
        #[arg(long)]
        offset: Option<i64>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Contacts, newest first.
    Contacts {
        /// Of this account (id).
        #[arg(long)]
        account: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// Skip this many.
        #[arg(long)]
        offset: Option<i64>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Deals, newest first.
    Deals {
        /// In this stage.
        #[arg(long)]
        stage: Option<String>,
        /// Owned by this employee (id or handle).
        #[arg(long)]
        owner: Option<String>,
        /// Of this account (id).
        #[arg(long)]
        account: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// Skip this many.
        #[arg(long)]
        offset: Option<i64>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// What happened with an account, contact or deal, newest first.
    Activities {
        /// Of this account (id).
        #[arg(long)]
        account: Option<String>,
        /// Of this contact (id).
        #[arg(long)]
        contact: Option<String>,
        /// Of this deal (id).
        #[arg(long)]
        deal: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Imports a CSV file with a header row; a file with any bad row imports nothing.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// What it holds: accounts, contacts or deals.
        #[arg(long, value_parser = ["accounts", "contacts", "deals"])]
        kind: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// Lists `path` with query `q`: the JSON answer with `--json`, else one line per item
/// (`what` when there is none).
pub(super) async fn list<T: serde::de::DeserializeOwned>(
    node: &NodeArgs,
    path: &str,
    q: &impl serde::Serialize,
    json: bool,
    what: &str,
    line: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    let v: Value = Client::new(node)?.get(path).query(q).answer().await?;
    if json {
        print(&v)?;
        return Ok(());
    }
    let list: Items<T> = read(v)?;
    if list.items.is_empty() {
        outln!("no {what}");
    }
    for item in &list.items {
        outln!("{}", line(item));
    }
    Ok(())
}

pub(super) async fn run(action: CrmAction) -> anyhow::Result<()> {
    match action {
        CrmAction::Accounts {
            owner,
            limit,
            offset,
            json,
            node,
        } => {
            let q = AccountsQuery {
                owner,
                limit,
                offset,
            };
            list(
                &node,
                "/crm/accounts",
                &q,
                json,
                "accounts",
                |a: &Account| {
                    let size = a
                        .employees
                        .map(|n| format!("{n} people"))
                        .unwrap_or_else(|| "-".into());
                    let plan = a
                        .plan
                        .as_deref()
                        .map(|p| format!(" customer ({p})"))
                        .unwrap_or_default();
                    format!(
                        "{}  {}  {}  {}  {size}  {}{plan}",
                        a.id,
                        a.name,
                        or_dash(&a.domain),
                        or_dash(&a.industry),
                        or_dash(&a.region)
                    )
                },
            )
            .await?;
        }
        CrmAction::Contacts {
            account,
            limit,
            offset,
            json,
            node,
        } => {
            let q = ContactsQuery {
                account,
                limit,
                offset,
            };
            list(
                &node,
                "/crm/contacts",
                &q,
                json,
                "contacts",
                |c: &Contact| {
                    format!(
                        "{}  {} <{}>  {}  {}",
                        c.id,
                        c.name,
                        c.email,
                        or_dash(&c.title),
                        or_dash(&c.role)
                    )
                },
            )
            .await?;
        }
        CrmAction::Deals {
            stage,
            owner,
            account,
            limit,
            offset,
            json,
            node,
        } => {
            let q = DealsQuery {
                stage,
                owner,
                account,
                limit,
                offset,
            };
            list(&node, "/crm/deals", &q, json, "deals", |d: &Deal| {
                let close = d
                    .close_date
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into());
                format!(
                    "{}  {}  {}  ${:.0}  close {close}  next: {}",
                    d.id,
                    d.name,
                    d.stage,
                    d.amount,
                    or_dash(&d.next_step)
                )
            })
            .await?;
        }
        CrmAction::Activities {
            account,
            contact,
            deal,
            limit,
            json,
            node,
        } => {
            if account.is_none() && contact.is_none() && deal.is_none() {
                anyhow::bail!("say whose activities: --account ID, --contact ID or --deal ID");
            }
            let q = ActivitiesQuery {
                account,
                contact,
                deal,
                limit,
                offset: None,
            };
            list(
                &node,
                "/crm/activities",
                &q,
                json,
                "activities",
                |a: &Activity| {
                    format!(
                        "{}  {}  {}  (logged by {})",
                        when(&a.at),
                        a.kind,
                        a.subject,
                        a.logged_by
                    )
                },
            )
            .await?;
        }
        CrmAction::Import { file, kind, node } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let done: Imported = Client::new(&node)?
                .post("/crm/import")
                .query(&ImportQuery { kind })
                .csv(text)
                .answer()
                .await?;
            outln!(
                "imported {} {} from {}",
                done.imported,
                done.kind,
                file.display()
            );
        }
    }
    Ok(())
}
