//! `empla tenant`, `empla token` and `empla audit`: who may use a node, through its API.

use super::NodeArgs;
use super::client::{Client, print, read, when};
use crate::api::wire::{
    AuditPage, AuditQuery, Items, NewTenantBody, NewTokenBody, TenantCreated, TokenCreated,
};
use crate::model::{Role, Tenant, TokenInfo};
use clap::Subcommand;
use serde_json::Value;

/// `empla tenant ...` (the node admin's token).
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum TenantAction {
    /// Create a tenant; prints its first admin token, which is shown only once.
    Create {
        /// Its id: lowercase letters, digits and `-`, e.g. acme.
        id: String,
        /// The company's name [default: the id].
        #[arg(long)]
        name: Option<String>,
        /// The domain of its employees' addresses [default: the node's company domain].
        #[arg(long)]
        domain: Option<String>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// List the tenants.
    List {
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Suspend a tenant: its employees stop and its tokens are refused; its data stays.
    Suspend {
        /// Tenant id.
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Resume a suspended tenant.
    Resume {
        /// Tenant id.
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Delete a tenant and all its data (its audit trail stays).
    Delete {
        /// Tenant id.
        id: String,
        /// Say yes: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla token ...` (an admin token of the tenant).
#[derive(Debug, Subcommand)]
#[allow(missing_docs)]
pub enum TokenAction {
    /// Create a token; prints its secret, which is shown only once.
    Create {
        /// Who or what will hold it, e.g. ci or alex.
        name: String,
        /// What it may do: admin, operator, viewer or agent.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// List the tenant's tokens: name, role, last use (never their secrets).
    List {
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Revoke a token: refused from now on.
    Revoke {
        /// The token's id (`empla token list` shows them).
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| format!("{s:?} is not a role: use admin, operator, viewer or agent"))
}

pub(super) async fn tenant(action: TenantAction) -> anyhow::Result<()> {
    match action {
        TenantAction::Create {
            id,
            name,
            domain,
            json,
            node,
        } => {
            let body = NewTenantBody {
                name: name.unwrap_or_else(|| id.clone()),
                id,
                domain,
            };
            let v: Value = Client::new(&node)?
                .post("/tenants")
                .json(&body)
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let c: TenantCreated = read(v)?;
            outln!("tenant {} ({}) created", c.tenant.id, c.tenant.name);
            outln!("its admin token (shown once; keep it safe):");
            outln!("{}", c.token);
        }
        TenantAction::List { json, node } => {
            let v: Value = Client::new(&node)?.get("/tenants").answer().await?;
            if json {
                return print(&v);
            }
            let list: Items<Tenant> = read(v)?;
            for t in list.items {
                outln!(
                    "{}{:<20} {:<10} {:<24} {}",
                    if t.node_tenant { "* " } else { "  " },
                    t.id,
                    t.status.as_str(),
                    if t.domain.is_empty() { "-" } else { &t.domain },
                    t.name
                );
            }
        }
        TenantAction::Suspend { id, node } => {
            let t: Tenant = Client::new(&node)?
                .post(&format!("/tenants/{id}/suspend"))
                .answer()
                .await?;
            outln!("tenant {} is {}", t.id, t.status.as_str());
        }
        TenantAction::Resume { id, node } => {
            let t: Tenant = Client::new(&node)?
                .post(&format!("/tenants/{id}/resume"))
                .answer()
                .await?;
            outln!("tenant {} is {}", t.id, t.status.as_str());
        }
        TenantAction::Delete { id, yes, node } => {
            anyhow::ensure!(
                yes,
                "deleting tenant {id} removes all its employees and data and cannot be undone; add --yes to go ahead"
            );
            Client::new(&node)?
                .delete(&format!("/tenants/{id}"))
                .bytes()
                .await?;
            outln!("tenant {id} deleted");
        }
    }
    Ok(())
}

pub(super) async fn token(action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            name,
            role,
            json,
            node,
        } => {
            let v: Value = Client::new(&node)?
                .post("/tokens")
                .json(&NewTokenBody { name, role })
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let c: TokenCreated = read(v)?;
            outln!(
                "token {} ({}, {}) created; its secret (shown once):",
                c.info.id,
                c.info.name,
                c.info.role
            );
            outln!("{}", c.token);
        }
        TokenAction::List { json, node } => {
            let v: Value = Client::new(&node)?.get("/tokens").answer().await?;
            if json {
                return print(&v);
            }
            let list: Items<TokenInfo> = read(v)?;
            for t in list.items {
                let state = match (&t.revoked_at, &t.last_used_at) {
                    (Some(r), _) => format!("revoked {}", when(r)),
                    (None, Some(u)) => format!("last used {}", when(u)),
                    (None, None) => "never used".into(),
                };
                outln!(
                    "{:<18} {:<24} {:<9} {}",
                    t.id,
                    t.name,
                    t.role.as_str(),
                    state
                );
            }
        }
        TokenAction::Revoke { id, node } => {
            let t: TokenInfo = Client::new(&node)?
                .delete(&format!("/tokens/{id}"))
                .answer()
                .await?;
            outln!("token {} ({}) revoked", t.id, t.name);
        }
    }
    Ok(())
}

/// `empla audit`: the tenant's audit trail, oldest first.
pub(super) async fn audit(
    since: Option<String>,
    actor: Option<String>,
    limit: i64,
    json: bool,
    node: NodeArgs,
) -> anyhow::Result<()> {
    let client = Client::new(&node)?;
    let mut after = None;
    let mut left = limit;
    let mut all = Vec::new();
    while left > 0 {
        let q = AuditQuery {
            since: since.clone(),
            actor: actor.clone(),
            after,
            limit: Some(left.min(1000)),
        };
        let page: AuditPage = client.get("/audit").query(&q).answer().await?;
        left -= page.entries.len() as i64;
        all.extend(page.entries);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    if json {
        return print(&serde_json::to_value(&all)?);
    }
    for e in all {
        outln!(
            "{}  {:<16} {:<8} {:<4} {} {} → {}",
            when(&e.at),
            e.actor,
            e.role.as_str(),
            e.face,
            e.action,
            e.target,
            e.status
        );
    }
    Ok(())
}
