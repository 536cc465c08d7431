//! The tools of the MCP servers in `[mcp.servers]` as actions: `mcp.SERVER.TOOL`, with
//! the parameters of the tool's input schema, counted as changing something outside
//! unless the server marks the tool read-only. The action's parameters are the tool's
//! arguments; its result is the tool's structured content (or its text). See
//! [`crate::mcp::client`].

use super::CapabilityError;
use super::registry::{Act, ActionKind, Param, ParamType};
use crate::mcp::client::{ListedTool, kind, parse_kind};
use serde_json::{Map, Value as Json};

/// The action kind of each of `tools` of server `server`: changing something outside
/// unless marked read-only by a server whose marks are trusted (`trust_read_only`).
pub(crate) fn kinds(server: &str, tools: &[ListedTool], trust_read_only: bool) -> Vec<ActionKind> {
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
            let reads_only = trust_read_only && t.read_only;
            ActionKind::new(&kind(server, &t.name), &summary, !reads_only, |a| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tool_reads_only_when_marked_so_by_a_trusted_server() {
        let tools = [
            ListedTool {
                name: "lookup_account".into(),
                description: "Looks an account up.".into(),
                schema: json!({"type": "object", "properties": {"name": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["name"]}),
                read_only: true,
            },
            ListedTool {
                name: "open_ticket".into(),
                description: String::new(),
                schema: json!({"type": "object", "properties": {"title": {"type": "string"}}}),
                read_only: false,
            },
        ];
        let trusted = kinds("tickets", &tools, true);
        assert_eq!(trusted[0].kind, "mcp.tickets.lookup_account");
        assert!(!trusted[0].side_effect);
        assert!(trusted[1].side_effect);
        assert_eq!(
            trusted[1].summary,
            "The tool open_ticket of the MCP server tickets."
        );
        let p = &trusted[0].params;
        assert!(
            p.iter()
                .any(|p| p.name == "name" && p.required && p.ty == ParamType::Text)
        );
        assert!(
            p.iter()
                .any(|p| p.name == "limit" && !p.required && p.ty == ParamType::Integer)
        );
        // Untrusted, a mark is only a hint: everything counts as changing something.
        assert!(
            kinds("tickets", &tools, false)
                .iter()
                .all(|k| k.side_effect)
        );
    }
}
