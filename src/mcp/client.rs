//! MCP servers an employee may use (`[mcp.servers.NAME]`): each server's tools become
//! actions `mcp.NAME.TOOL`, declared in the capability registry with the parameters of
//! the tool's input schema, so a plan step or a model's tool call runs one through the
//! outbox and the gate like any action — and every tool counts as one that changes
//! something outside, unless the server marks it read-only (`readOnlyHint`) and the
//! node is told to trust that server's marks (`trust_read_only`).
//!
//! A server is reached over streamable HTTP (`url`, with a bearer token from
//! `token_env`) or started as a child process speaking stdio (`command`). Its tools are
//! listed when the node starts; a server that does not answer then is tried again at
//! each call, and a call to it fails saying why, never silently.

use crate::config::ConfigError;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RunningService};
use rmcp::{RoleClient, ServiceExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// `[mcp]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    /// The MCP servers employees may use, by name (letters, digits and `_`): their
    /// tools are the actions `mcp.NAME.TOOL`.
    pub servers: BTreeMap<String, McpServerConfig>,
}

/// `[mcp.servers.NAME]`: one of `url` and `command`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpServerConfig {
    /// Its streamable HTTP endpoint, e.g. `https://tickets.example.com/mcp`.
    #[serde(default)]
    pub url: Option<String>,
    /// The command starting it on stdio, e.g. `["npx", "-y", "@acme/mcp-server"]`.
    #[serde(default)]
    pub command: Vec<String>,
    /// Name of the environment variable holding its bearer token (with `url`).
    #[serde(default)]
    pub token_env: Option<String>,
    /// Longest wait for a tool call's answer.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Whether the server's `readOnlyHint` marks are trusted: a tool so marked then
    /// counts as only reading (in the assisted phase it runs without approval). Off (the
    /// default), every tool of the server counts as changing something.
    #[serde(default)]
    pub trust_read_only: bool,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Whether `s` may name a server (and so sit in an action kind).
fn well_named(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl McpConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        for (name, s) in &self.servers {
            let key = format!("mcp.servers.{name}");
            if !well_named(name) {
                e.push(ConfigError::new(file, &key, "a server's name is letters, digits and `_` (it is part of its actions' kinds, `mcp.NAME.TOOL`)"));
            }
            match (&s.url, s.command.is_empty()) {
                (Some(_), false) | (None, true) => e.push(ConfigError::new(
                    file,
                    &key,
                    "give exactly one of `url` (streamable HTTP, e.g. \"https://tickets.example.com/mcp\") and `command` (stdio, e.g. [\"my-mcp-server\", \"--stdio\"])",
                )),
                (Some(u), true) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                    e.push(ConfigError::new(file, format!("{key}.url"), format!("{u:?} is not an http(s) URL, e.g. \"https://tickets.example.com/mcp\"")))
                }
                _ => {}
            }
            if s.token_env.is_some() && s.url.is_none() {
                e.push(ConfigError::new(
                    file,
                    format!("{key}.token_env"),
                    "a bearer token is sent over HTTP only: use it with `url`",
                ));
            }
            if s.timeout.is_zero() {
                e.push(ConfigError::new(
                    file,
                    format!("{key}.timeout"),
                    "must be longer than 0s, e.g. \"30s\"",
                ));
            }
        }
    }
}

/// A tool as a server lists it.
#[derive(Debug, Clone)]
pub struct ListedTool {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its input schema's properties and which are required.
    pub schema: Json,
    /// Whether the server marks it as only reading (`readOnlyHint`).
    pub read_only: bool,
}

struct Connection {
    cfg: McpServerConfig,
    token: Option<String>,
    live: Mutex<Option<RunningService<RoleClient, ()>>>,
}

/// The node's MCP servers, connected on first use.
#[derive(Clone, Default)]
pub struct McpClients {
    servers: Arc<BTreeMap<String, Connection>>,
}

impl std::fmt::Debug for McpClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.servers.keys()).finish()
    }
}

impl McpClients {
    /// The servers of `cfg`, their tokens read from the environment by `env`; or which
    /// token is missing.
    pub fn new(
        cfg: &McpConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<McpClients, String> {
        let mut servers = BTreeMap::new();
        for (name, s) in &cfg.servers {
            let token = match &s.token_env {
                Some(var) => Some(env(var).filter(|v| !v.is_empty()).ok_or_else(|| {
                    format!("mcp.servers.{name}.token_env names the environment variable {var}, which is not set; set it to the server's bearer token")
                })?),
                None => None,
            };
            let c = Connection {
                cfg: s.clone(),
                token,
                live: Mutex::new(None),
            };
            servers.insert(name.clone(), c);
        }
        Ok(McpClients {
            servers: Arc::new(servers),
        })
    }

    /// The servers' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.servers.keys().map(String::as_str)
    }

    /// Whether server `name`'s read-only marks are trusted (`trust_read_only`).
    pub fn trusts_read_only(&self, name: &str) -> bool {
        self.servers
            .get(name)
            .is_some_and(|c| c.cfg.trust_read_only)
    }

    async fn connect(c: &Connection) -> Result<RunningService<RoleClient, ()>, String> {
        // rmcp's reqwest client needs the process's TLS provider.
        crate::telemetry::install_crypto_provider();
        let started = match (&c.cfg.url, c.cfg.command.split_first()) {
            (Some(url), _) => {
                use rmcp::transport::StreamableHttpClientTransport;
                use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
                let mut cfg = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                if let Some(t) = &c.token {
                    cfg = cfg.auth_header(t.clone());
                }
                ().serve(StreamableHttpClientTransport::from_config(cfg))
                    .await
            }
            (None, Some((program, args))) => {
                let mut cmd = tokio::process::Command::new(program);
                cmd.args(args);
                let child = rmcp::transport::TokioChildProcess::new(cmd)
                    .map_err(|e| format!("`{program}` could not be started: {e}"))?;
                ().serve(child).await
            }
            (None, None) => return Err("neither `url` nor `command` is set".into()),
        };
        started.map_err(|e| format!("the MCP session could not start: {e}"))
    }

    /// Runs `f` with server `name`'s session, connecting (again) when there is none;
    /// calls run side by side, and a session that fails is dropped so the next call
    /// starts afresh.
    async fn with<T, F>(&self, name: &str, f: F) -> Result<T, String>
    where
        F: AsyncFnOnce(Peer<RoleClient>) -> Result<T, String>,
    {
        let c = self.servers.get(name).ok_or_else(|| {
            format!("no MCP server named {name:?} is configured under [mcp.servers]")
        })?;
        let late = || {
            format!(
                "the MCP server {name} did not answer within {} (`mcp.servers.{name}.timeout`)",
                humantime::format_duration(c.cfg.timeout)
            )
        };
        let peer = {
            let mut live = c.live.lock().await;
            if live.is_none() {
                let s = tokio::time::timeout(c.cfg.timeout, Self::connect(c))
                    .await
                    .map_err(|_| late())??;
                *live = Some(s);
            }
            live.as_ref().expect("connected above").peer().clone()
        };
        let out = match tokio::time::timeout(c.cfg.timeout, f(peer)).await {
            Ok(r) => r,
            Err(_) => Err(late()),
        };
        if out.is_err() {
            *c.live.lock().await = None;
        }
        out
    }

    /// Server `name`'s tools.
    pub async fn tools(&self, name: &str) -> Result<Vec<ListedTool>, String> {
        self.with(name, async |s| {
            let tools = s
                .list_all_tools()
                .await
                .map_err(|e| format!("its tools could not be listed: {e}"))?;
            Ok(tools
                .into_iter()
                .map(|t| {
                    let v = serde_json::to_value(&t).unwrap_or_default();
                    ListedTool {
                        name: t.name.to_string(),
                        description: v["description"].as_str().unwrap_or_default().to_string(),
                        schema: v["inputSchema"].clone(),
                        read_only: v["annotations"]["readOnlyHint"] == true,
                    }
                })
                .collect())
        })
        .await
    }

    /// Calls `tool` of server `name` with `args`: `{"text", "structured"}` — its text,
    /// and its structured content (or its text read as JSON, when it is an object or a
    /// list); a result the server marks as an error is an error with its text.
    pub async fn call(
        &self,
        name: &str,
        tool: &str,
        args: Map<String, Json>,
    ) -> Result<Json, String> {
        let tool = tool.to_string();
        let server = name.to_string();
        self.with(name, async move |s| {
            let params: CallToolRequestParams =
                serde_json::from_value(json!({"name": tool, "arguments": args}))
                    .map_err(|e| e.to_string())?;
            let r = s
                .call_tool(params)
                .await
                .map_err(|e| format!("the MCP server {server} refused the call of {tool}: {e}"))?;
            let v = serde_json::to_value(&r).unwrap_or_default();
            let text: String = v["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n");
            // The tool failing is its answer, not the session's: it stays.
            if v["isError"] == true {
                return Ok(Err(format!(
                    "{tool} of the MCP server {server} failed: {text}"
                )));
            }
            // Many servers answer JSON as text: it is read as the structured answer.
            let structured = match &v["structuredContent"] {
                Json::Null => serde_json::from_str::<Json>(text.trim())
                    .ok()
                    .filter(|j| j.is_object() || j.is_array()),
                s => Some(s.clone()),
            };
            Ok(Ok(match structured {
                None => json!({"text": text}),
                Some(s) => json!({"text": text, "structured": s}),
            }))
        })
        .await?
    }
}

/// Action kind of `tool` of server `server`.
pub fn kind(server: &str, tool: &str) -> String {
    format!("mcp.{server}.{tool}")
}

/// The server and tool an action kind `mcp.SERVER.TOOL` names.
pub fn parse_kind(kind: &str) -> Option<(&str, &str)> {
    let rest = kind.strip_prefix("mcp.")?;
    let (server, tool) = rest.split_once('.')?;
    (well_named(server) && !tool.is_empty()).then_some((server, tool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_needs_one_way_to_reach_it_and_a_token_only_over_http() {
        let toml = |t: &str| toml::from_str::<McpConfig>(t).expect("parses");
        let errs = |c: &McpConfig| {
            let mut e = Vec::new();
            c.validate("empla.toml", &mut e);
            e.into_iter()
                .map(|e| format!("{}: {}", e.key, e.message))
                .collect::<Vec<_>>()
        };
        assert!(
            errs(&toml(
                "[servers.tickets]\nurl = \"http://127.0.0.1:9/mcp\"\ntoken_env = \"T\""
            ))
            .is_empty()
        );
        assert!(
            errs(&toml(
                "[servers.files]\ncommand = [\"files-mcp\", \"--stdio\"]"
            ))
            .is_empty()
        );
        let both = errs(&toml(
            "[servers.x]\nurl = \"http://a/mcp\"\ncommand = [\"y\"]",
        ));
        assert!(both[0].contains("exactly one of `url`"), "{both:?}");
        let neither = errs(&toml("[servers.x]\ntimeout = \"5s\""));
        assert!(neither[0].contains("exactly one of `url`"), "{neither:?}");
        let bad = errs(&toml("[servers.\"a-b\"]\nurl = \"ftp://a\"\n"));
        assert!(
            bad.iter().any(|e| e.contains("letters, digits and `_`")),
            "{bad:?}"
        );
        assert!(
            bad.iter().any(|e| e.contains("not an http(s) URL")),
            "{bad:?}"
        );
        let token = errs(&toml("[servers.x]\ncommand = [\"y\"]\ntoken_env = \"T\""));
        assert!(token[0].contains("over HTTP only"), "{token:?}");
        // A token named but not set stops the node, naming the variable.
        let cfg = toml("[servers.tickets]\nurl = \"http://a/mcp\"\ntoken_env = \"TICKETS_TOKEN\"");
        let e = McpClients::new(&cfg, &|_| None).expect_err("no token");
        assert!(e.contains("TICKETS_TOKEN"), "{e}");
        assert!(McpClients::new(&cfg, &|_| Some("t".into())).is_ok());
    }

    #[test]
    fn kinds_name_the_server_and_the_tool() {
        assert_eq!(kind("tickets", "open_ticket"), "mcp.tickets.open_ticket");
        assert_eq!(
            parse_kind("mcp.tickets.open_ticket"),
            Some(("tickets", "open_ticket"))
        );
        assert_eq!(
            parse_kind("mcp.tickets.v2.open"),
            Some(("tickets", "v2.open"))
        );
        assert_eq!(parse_kind("mcp.tickets"), None);
        assert_eq!(parse_kind("email.send"), None);
    }
}
