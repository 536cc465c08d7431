//! `empla connect`, `empla connections` and `empla disconnect`: an employee's OAuth
//! connections to outside accounts, through the node's API. `connect` prints the URL
//! the person opens to consent; the node finishes the connection when the provider
//! sends them back.

use super::NodeArgs;
use super::client::{Client, print, when};
use crate::connections::{ConnectBody, ConnectionList, Started};
use serde_json::Value;

/// `empla connect EMPLOYEE PROVIDER`.
pub(super) async fn connect(id: String, provider: String, node: NodeArgs) -> anyhow::Result<()> {
    let started: Started = Client::new(&node)?
        .post(&format!("/employees/{id}/connections"))
        .json(&ConnectBody {
            provider: provider.clone(),
        })
        .answer()
        .await?;
    outln!("open this link in a browser and allow access to connect {id} to {provider}:");
    outln!("{}", started.authorize_url);
    outln!(
        "(it works until {}; `empla connections {id}` shows the connection once made)",
        when(&started.expires_at)
    );
    Ok(())
}

/// `empla connections EMPLOYEE`.
pub(super) async fn list(id: String, json: bool, node: NodeArgs) -> anyhow::Result<()> {
    let v: Value = Client::new(&node)?
        .get(&format!("/employees/{id}/connections"))
        .answer()
        .await?;
    if json {
        return print(&v);
    }
    let list: ConnectionList = serde_json::from_value(v)?;
    if list.items.is_empty() {
        outln!("{id} has no connections; `empla connect {id} PROVIDER` starts one");
    }
    for c in list.items {
        let account = match (c.account_name.as_str(), c.account_id.as_str()) {
            ("", "") => String::new(),
            ("", id) => format!(" {id}"),
            (name, "") => format!(" {name}"),
            (name, id) => format!(" {name} ({id})"),
        };
        let expires = c
            .expires_at
            .map(|t| format!(", token expires {}", when(&t)))
            .unwrap_or_default();
        outln!(
            "{:<12} {:<9}{account}\n    scopes: {}; connected {}{expires}",
            c.provider,
            c.status,
            if c.scopes.is_empty() {
                "-".to_string()
            } else {
                c.scopes.join(" ")
            },
            when(&c.connected_at),
        );
        if let Some(p) = c.problem {
            outln!("    {p}");
        }
    }
    Ok(())
}

/// `empla disconnect EMPLOYEE PROVIDER`.
pub(super) async fn disconnect(id: String, provider: String, node: NodeArgs) -> anyhow::Result<()> {
    Client::new(&node)?
        .delete(&format!("/employees/{id}/connections/{provider}"))
        .bytes()
        .await?;
    outln!("{id} is disconnected from {provider} (revoked at the provider and forgotten)");
    Ok(())
}
