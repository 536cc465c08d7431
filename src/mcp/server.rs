//! empla's MCP server (rmcp): the tools of [`super::tools`], resources for what
//! employees remember and the documents they wrote, and a prompt per role describing
//! how to work with its employees. Everything is read and done through the node's HTTP
//! API by a [`Backend`] — in the node itself for `/mcp` (with the caller's own bearer
//! token), over HTTP for `empla mcp` on stdio — so the MCP face has exactly the API's
//! auth, gates and answers.

use super::tools::{ApiCall, TOOLS, call, schema};
use futures::future::BoxFuture;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, Implementation, ListPromptsResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value as Json, json};
use std::sync::Arc;

/// Where the MCP server's calls go: the node's HTTP API.
pub trait Backend: Send + Sync + 'static {
    /// Makes `call` with the caller's `Authorization` header, when its transport has one;
    /// answers the HTTP status and JSON body, or why the node could not be reached.
    fn call(
        &self,
        call: ApiCall,
        authorization: Option<String>,
    ) -> BoxFuture<'_, Result<(u16, Json), String>>;
}

/// The MCP server over a [`Backend`].
#[derive(Clone)]
pub struct Server {
    backend: Arc<dyn Backend>,
}

/// Episodes a memory resource lists.
const EPISODES: usize = 20;

impl Server {
    /// A server answering through `backend`.
    pub fn new(backend: Arc<dyn Backend>) -> Server {
        Server { backend }
    }

    /// `call` with the authorization of the request `cx` carries, as JSON; an API error
    /// becomes its message.
    async fn api(&self, c: ApiCall, cx: &RequestContext<RoleServer>) -> Result<Json, String> {
        let auth = cx
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::AUTHORIZATION))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (status, body) = self.backend.call(c, auth).await?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            let message = body["error"]["message"]
                .as_str()
                .or(body["message"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string());
            Err(format!("the node answered {status}: {message}"))
        }
    }

    async fn get(&self, path: String, cx: &RequestContext<RoleServer>) -> Result<Json, McpError> {
        let c = ApiCall {
            method: "GET",
            path,
            body: None,
        };
        self.api(c, cx)
            .await
            .map_err(|e| McpError::invalid_params(e, None))
    }

    /// The employees, as the API lists them.
    async fn employees(&self, cx: &RequestContext<RoleServer>) -> Result<Vec<Json>, McpError> {
        let list = self.get("/employees".into(), cx).await?;
        Ok(list["items"]
            .as_array()
            .or(list.as_array())
            .cloned()
            .unwrap_or_default())
    }
}

/// What a tool answers: the chat reply as said, anything else as the API's JSON.
fn answer_of(tool: &str, body: &Json) -> CallToolResult {
    let text = match tool {
        "ask_employee" => body["reply"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                body["message"]
                    .as_str()
                    .map(|m| format!("No answer yet: {m}"))
            })
            .unwrap_or_else(|| body.to_string()),
        _ => serde_json::to_string_pretty(body).unwrap_or_default(),
    };
    let mut r: CallToolResult =
        from(json!({"content": [{"type": "text", "text": text}], "isError": false}));
    if body.is_object() {
        r.structured_content = Some(body.clone());
    }
    r
}

/// A result from its JSON in the protocol's shape, marked complete (the current
/// revision requires `resultType`; rmcp drops it for peers of older ones).
fn from<T: serde::de::DeserializeOwned>(mut v: Json) -> T {
    v["resultType"] = json!("complete");
    serde_json::from_value(v).expect("an MCP result in the protocol's shape")
}

fn failed(message: String) -> CallToolResult {
    from(json!({"content": [{"type": "text", "text": message}], "isError": true}))
}

/// A resource's URI for employee `handle`'s memory.
fn memory_uri(handle: &str) -> String {
    format!("empla://employees/{handle}/memory")
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("empla", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "empla's digital employees. List them with list_employees; ask one anything with ask_employee, give it work with assign_task and follow it with task_status; decide what waits for approval with list_approvals, approve_action and reject_action. Resources hold what each employee remembers and the documents it wrote; a prompt per role says how to work with its employees.",
        )
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools: Vec<Json> = TOOLS
            .iter()
            .map(|t| {
                json!({
                    "name": t.name, "description": t.about, "inputSchema": schema(t),
                    "annotations": {"readOnlyHint": t.read_only, "openWorldHint": false},
                })
            })
            .collect();
        Ok(from(json!({"tools": tools})))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments.clone().unwrap_or_default();
        let name = request.name.to_string();
        if !TOOLS.iter().any(|t| t.name == name) {
            return Err(McpError::invalid_params(
                format!("no tool named {name:?}; list the tools to see them"),
                None,
            ));
        }
        let result = match call(&name, &args) {
            Err(why) => failed(why),
            Ok(c) => match self.api(c, &cx).await {
                Ok(body) => answer_of(&name, &body),
                Err(why) => failed(why),
            },
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let mut resources = Vec::new();
        for e in self.employees(&cx).await? {
            let handle = e["chat_handle"].as_str().unwrap_or_default();
            let name = e["name"].as_str().unwrap_or(handle);
            resources.push(json!({
                "uri": memory_uri(handle), "name": format!("{name}'s memory"),
                "description": format!("What {name} remembers: its working memory and its latest {EPISODES} episodes."),
                "mimeType": "application/json",
            }));
        }
        let docs = self.get("/documents?limit=100".into(), &cx).await?;
        for d in docs["items"].as_array().into_iter().flatten() {
            let id = d["id"].as_str().unwrap_or_default();
            resources.push(json!({
                "uri": format!("empla://documents/{id}"),
                "name": d["title"].as_str().or(d["name"].as_str()).unwrap_or(id),
                "description": "A document an employee wrote: its record and text.",
                "mimeType": "application/json",
            }));
        }
        Ok(from(json!({"resources": resources})))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.clone();
        let path: Vec<&str> = uri
            .strip_prefix("empla://")
            .unwrap_or_default()
            .split('/')
            .collect();
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        let body = match path[..] {
            ["employees", who, "memory"] if ok(who) => {
                let working = self
                    .get(format!("/employees/{who}/memory/working"), &cx)
                    .await?;
                let episodes = self
                    .get(format!("/employees/{who}/episodes?limit={EPISODES}"), &cx)
                    .await?;
                json!({"working": working, "episodes": episodes["items"].clone()})
            }
            ["documents", id] if ok(id) => self.get(format!("/documents/{id}"), &cx).await?,
            _ => {
                return Err(McpError::resource_not_found(
                    format!(
                        "no resource {uri:?}: resources are empla://employees/{{handle}}/memory and empla://documents/{{id}}"
                    ),
                    None,
                ));
            }
        };
        let text = serde_json::to_string_pretty(&body).unwrap_or_default();
        let r: ReadResourceResult =
            from(json!({"contents": [{"uri": uri, "mimeType": "application/json", "text": text}]}));
        Ok(r.into())
    }

    async fn list_prompts(
        &self,
        _: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let mut roles: Vec<String> = self
            .employees(&cx)
            .await?
            .iter()
            .filter_map(|e| e["role"].as_str().map(str::to_string))
            .collect();
        roles.sort();
        roles.dedup();
        let prompts: Vec<Json> = roles
            .iter()
            .map(|r| {
                json!({
                    "name": format!("work_with_{r}"),
                    "description": format!("How to work with a {} employee: what it is for, its goals, and how to ask it, give it work and decide what it proposes.", r.replace('_', " ")),
                    "arguments": [{"name": "employee", "description": "Its id or handle; the first of the role when omitted.", "required": false}],
                })
            })
            .collect();
        Ok(from(json!({"prompts": prompts})))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let role = request.name.strip_prefix("work_with_").ok_or_else(|| {
            McpError::invalid_params(format!("no prompt {:?}", request.name), None)
        })?;
        let args: Map<String, Json> = request.arguments.clone().unwrap_or_default();
        let wanted = args.get("employee").and_then(Json::as_str);
        let employees = self.employees(&cx).await?;
        let e = employees
            .iter()
            .filter(|e| e["role"] == role)
            .find(|e| wanted.is_none_or(|w| e["chat_handle"] == w || e["id"] == w))
            .ok_or_else(|| {
                McpError::invalid_params(
                    format!(
                        "no employee of role {role:?}{} on this node",
                        wanted.map(|w| format!(" named {w:?}")).unwrap_or_default()
                    ),
                    None,
                )
            })?;
        let handle = e["chat_handle"].as_str().unwrap_or_default();
        let profile = self.get(format!("/employees/{handle}"), &cx).await?;
        let status = self.get(format!("/employees/{handle}/status"), &cx).await?;
        let goals: Vec<String> = profile["goals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["description"].as_str().map(str::to_string))
            .collect();
        let name = profile["name"].as_str().unwrap_or(handle);
        let title = profile["job_title"].as_str().unwrap_or(role);
        let text = format!(
            "You are working with {name} (handle `{handle}`), {title}: a digital employee that acts through its own plans and tools, in onboarding phase {}, with a human approving what its phase and policies say must be approved.\n\nIts goals:\n{}\n\nTo learn where it stands, call employee_status or ask it with ask_employee (\"how's the pipeline looking?\"). To give it work, call assign_task with a clear description, a priority and a deadline, then follow it with task_status. It changes how it works when told in chat (\"focus on enterprise deals\", \"stop emailing Acme until January\"), and confirms what changed. What it proposes to send waits in list_approvals: read the exact mail before approve_action, and give a reason with reject_action — it learns from it. What it remembers is in the resource {}.",
            status["phase"].as_str().unwrap_or("unknown"),
            goals
                .iter()
                .map(|g| format!("- {g}"))
                .collect::<Vec<_>>()
                .join("\n"),
            memory_uri(handle),
        );
        let r: GetPromptResult = from(json!({
            "description": format!("Working with {name}, {title}"),
            "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        }));
        Ok(r.into())
    }
}
