//! The tools of the MCP servers in `[mcp.servers]` as actions: `mcp.SERVER.TOOL`, with
//! the parameters of the tool's input schema, counted as changing something outside
//! unless the server marks the tool read-only. The action's parameters are the tool's
//! arguments; its result is the tool's structured content (or its text). See
//! [`crate::mcp::client`].

use super::CapabilityError;
use super::registry::{Act, ActionKind, Param, ParamType};
use crate::mcp::client::{ListedTool, kind, parse_kind};
use serde_json::{Map, Value as Json};

/// The action kind of each of `tools` of server `server`.
pub(crate) fn kinds(server: &str, tools: &[ListedTool]) -> Vec<ActionKind> {
    tools
        .iter()
        .filter(|t| {
            !t.name.is_empty()
                && t.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        })
        .map(|t| {
            let required: Vec<&str> = t.schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .collect();
            let params = t.schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, p)| {
                    let ty = match p["type"].as_str() {
                        Some("string") => ParamType::Text,
                        Some("integer") => ParamType::Integer,
                        Some("number") => ParamType::Number,
                        Some("boolean") => ParamType::Boolean,
                        Some("array") => ParamType::List,
                        _ => ParamType::Any,
                    };
                    if required.contains(&name.as_str()) {
                        Param::required(name, ty)
                    } else {
                        Param::optional(name, ty)
                    }
                })
                .collect();
            let summary = if t.description.is_empty() {
                format!("The tool {} of the MCP server {server}.", t.name)
            } else {
                t.description.clone()
            };
            ActionKind::new(&kind(server, &t.name), &summary, !t.read_only, |a| {
                Box::pin(run(a))
            })
            .params(params)
        })
        .collect()
}

/// Runs `mcp.SERVER.TOOL` with the action's parameters as the tool's arguments.
pub(crate) async fn run(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let k = a.entry.kind.as_str();
    let (server, tool) = parse_kind(k).ok_or_else(|| {
        CapabilityError::Invalid(format!(
            "`{k}` does not name an MCP server's tool (`mcp.SERVER.TOOL`)"
        ))
    })?;
    let args: Map<String, Json> = a.entry.params.as_object().cloned().unwrap_or_default();
    a.hands
        .mcp
        .call(server, tool, args)
        .await
        .map_err(CapabilityError::Service)
}
