//! The Anthropic Messages API: `POST {base_url}/v1/messages` with `x-api-key` and
//! `anthropic-version`; tools as `tool_use` / `tool_result` blocks; streaming as
//! server-sent events (`content_block_delta` with `text_delta` or `input_json_delta`).

use super::http::Http;
use crate::llm::{
    Block, Delta, LlmError, Provider, ProviderSettings, Request, Response, Role, Stop, Usage,
};
use serde_json::{Value as Json, json};

/// The API version this client speaks.
pub(crate) const VERSION: &str = "2023-06-01";

/// A client of the Anthropic Messages API.
pub struct Anthropic {
    http: Http,
    url: String,
    model: String,
    max_tokens: u32,
}

impl Anthropic {
    /// A client for settings `s` (config key `key`), its API key read through `env`.
    pub fn new(
        key: &str,
        s: &ProviderSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Anthropic, LlmError> {
        let base = if s.base_url.is_empty() {
            "https://api.anthropic.com"
        } else {
            s.base_url.trim_end_matches('/')
        };
        Ok(Anthropic {
            http: Http::new("anthropic", key, s, env, true)?,
            url: format!("{base}/v1/messages"),
            model: s.model.clone(),
            max_tokens: s.max_tokens,
        })
    }

    /// The request body for `r`.
    pub fn body(&self, r: &Request, stream: bool) -> Json {
        let messages: Vec<Json> = r
            .messages
            .iter()
            .map(|m| {
                let content: Vec<Json> = m
                    .content
                    .iter()
                    .map(|b| match b {
                        Block::Text { text } => json!({"type": "text", "text": text}),
                        Block::ToolUse { id, name, input } => {
                            json!({"type": "tool_use", "id": id, "name": name, "input": input})
                        }
                        Block::ToolResult {
                            id,
                            content,
                            is_error,
                        } => json!({
                            "type": "tool_result",
                            "tool_use_id": id,
                            "content": content,
                            "is_error": is_error,
                        }),
                    })
                    .collect();
                let role = match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({"role": role, "content": content})
            })
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": r.max_tokens.unwrap_or(self.max_tokens),
            "messages": messages,
        });
        if !r.system.is_empty() {
            body["system"] = json!(r.system);
        }
        if !r.tools.is_empty() {
            body["tools"] = r
                .tools
                .iter()
                .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.schema}))
                .collect();
        }
        if stream {
            body["stream"] = json!(true);
        }
        body
    }

    fn post(&self, body: &Json) -> reqwest::RequestBuilder {
        let req = self
            .http
            .client
            .post(&self.url)
            .header("anthropic-version", VERSION)
            .json(body);
        match &self.http.api_key {
            Some(k) => req.header("x-api-key", k),
            None => req,
        }
    }

    fn block(&self, b: &Json) -> Result<Option<Block>, LlmError> {
        Ok(match b["type"].as_str() {
            Some("text") => Some(Block::Text {
                text: b["text"].as_str().unwrap_or_default().to_string(),
            }),
            Some("tool_use") => Some(Block::ToolUse {
                id: b["id"]
                    .as_str()
                    .ok_or_else(|| self.http.malformed("a tool_use block without an id"))?
                    .to_string(),
                name: b["name"]
                    .as_str()
                    .ok_or_else(|| self.http.malformed("a tool_use block without a name"))?
                    .to_string(),
                input: b["input"].clone(),
            }),
            // Thinking and other blocks carry nothing the employee uses.
            _ => None,
        })
    }
}

fn stop(s: Option<&str>) -> Stop {
    match s {
        Some("end_turn") | None => Stop::EndTurn,
        Some("tool_use") => Stop::ToolUse,
        Some("max_tokens") => Stop::MaxTokens,
        Some("stop_sequence") => Stop::StopSequence,
        Some(other) => Stop::Other(other.into()),
    }
}

fn usage(u: &Json) -> Usage {
    Usage {
        input_tokens: u["input_tokens"].as_u64().unwrap_or(0)
            + u["cache_read_input_tokens"].as_u64().unwrap_or(0)
            + u["cache_creation_input_tokens"].as_u64().unwrap_or(0),
        output_tokens: u["output_tokens"].as_u64().unwrap_or(0),
    }
}

#[async_trait::async_trait]
impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, r: &Request) -> Result<Response, LlmError> {
        let res = self.http.send(self.post(&self.body(r, false))).await?;
        let v = self.http.json(res).await?;
        let Some(blocks) = v["content"].as_array() else {
            return Err(self.http.malformed("no `content` in the answer"));
        };
        let mut content = Vec::new();
        for b in blocks {
            content.extend(self.block(b)?);
        }
        Ok(Response {
            content,
            stop: stop(v["stop_reason"].as_str()),
            usage: usage(&v["usage"]),
            model: v["model"].as_str().unwrap_or(&self.model).to_string(),
        })
    }

    async fn stream(
        &self,
        r: &Request,
        on: &mut (dyn FnMut(Delta) + Send),
    ) -> Result<Response, LlmError> {
        let res = self.http.send(self.post(&self.body(r, true))).await?;
        let mut content: Vec<Block> = Vec::new();
        // Tool arguments arrive as pieces of JSON, parsed when their block stops.
        let mut partial: Vec<String> = Vec::new();
        let mut usage_seen = Usage::default();
        let mut stop_reason = None;
        let mut model = self.model.clone();
        let mut done = false;
        let http = &self.http;
        http.events(res, &mut |event, data| {
            let v: Json = serde_json::from_str(data)
                .map_err(|e| http.malformed(format!("a stream event is not JSON ({e}): {data}")))?;
            let kind = if event.is_empty() {
                v["type"].as_str().unwrap_or("")
            } else {
                event
            };
            match kind {
                "message_start" => {
                    usage_seen = usage(&v["message"]["usage"]);
                    if let Some(m) = v["message"]["model"].as_str() {
                        model = m.to_string();
                    }
                }
                "content_block_start" => {
                    let i = v["index"].as_u64().unwrap_or(content.len() as u64) as usize;
                    let b = self.block(&v["content_block"])?.unwrap_or(Block::Text {
                        text: String::new(),
                    });
                    while content.len() <= i {
                        content.push(Block::Text {
                            text: String::new(),
                        });
                        partial.push(String::new());
                    }
                    content[i] = b;
                }
                "content_block_delta" => {
                    let i = v["index"].as_u64().unwrap_or(0) as usize;
                    let d = &v["delta"];
                    match (d["type"].as_str(), content.get_mut(i)) {
                        (Some("text_delta"), Some(Block::Text { text })) => {
                            let piece = d["text"].as_str().unwrap_or_default();
                            text.push_str(piece);
                            on(Delta::Text(piece.to_string()));
                        }
                        (Some("input_json_delta"), Some(Block::ToolUse { .. })) => {
                            let piece = d["partial_json"].as_str().unwrap_or_default();
                            partial[i].push_str(piece);
                            on(Delta::ToolInput {
                                index: i,
                                json: piece.to_string(),
                            });
                        }
                        (Some(_), None) => {
                            return Err(http
                                .malformed(format!("a delta for block {i}, which never started")));
                        }
                        _ => {}
                    }
                }
                "content_block_stop" => {
                    let i = v["index"].as_u64().unwrap_or(0) as usize;
                    if let (Some(Block::ToolUse { input, .. }), Some(p)) =
                        (content.get_mut(i), partial.get(i))
                        && !p.is_empty()
                    {
                        *input = serde_json::from_str(p).map_err(|e| {
                            http.malformed(format!(
                                "a tool call's arguments are not JSON ({e}): {p}"
                            ))
                        })?;
                    }
                }
                "message_delta" => {
                    if let Some(s) = v["delta"]["stop_reason"].as_str() {
                        stop_reason = Some(s.to_string());
                    }
                    if let Some(n) = v["usage"]["output_tokens"].as_u64() {
                        usage_seen.output_tokens = n;
                    }
                }
                "message_stop" => {
                    done = true;
                    return Ok(false);
                }
                "error" => {
                    let message = v["error"]["message"].as_str().unwrap_or(data).to_string();
                    return Err(if v["error"]["type"] == "overloaded_error" {
                        LlmError::Transient {
                            provider: "anthropic".into(),
                            message,
                            retry_after: None,
                        }
                    } else {
                        http.malformed(message)
                    });
                }
                _ => {}
            }
            Ok(true)
        })
        .await?;
        if !done {
            return Err(self
                .http
                .malformed("the stream ended before `message_stop`"));
        }
        Ok(Response {
            content,
            stop: stop(stop_reason.as_deref()),
            usage: usage_seen,
            model,
        })
    }
}
