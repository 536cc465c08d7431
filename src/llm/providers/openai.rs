//! OpenAI-compatible chat completions: `POST {base_url}/chat/completions` with a bearer
//! key (OpenAI, and Ollama, vLLM or llama.cpp's server by their base URL ending in
//! `/v1`); tools as `tools` / `tool_calls` with `tool` messages for results; streaming as
//! server-sent `data:` chunks of deltas ending with `[DONE]`.

use super::http::Http;
use crate::llm::{
    Block, Delta, LlmError, Provider, ProviderSettings, Request, Response, Role, Stop, Usage,
};
use serde_json::{Value as Json, json};

/// A client of an OpenAI-compatible chat completions API.
pub struct OpenAi {
    http: Http,
    url: String,
    model: String,
    max_tokens: u32,
}

impl OpenAi {
    /// A client for settings `s` (config key `key`), its API key read through `env`.
    /// A server at a base URL of one's own may need no key.
    pub fn new(
        key: &str,
        s: &ProviderSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<OpenAi, LlmError> {
        let base = if s.base_url.is_empty() {
            "https://api.openai.com/v1"
        } else {
            s.base_url.trim_end_matches('/')
        };
        Ok(OpenAi {
            http: Http::new("openai", key, s, env, s.base_url.is_empty())?,
            url: format!("{base}/chat/completions"),
            model: s.model.clone(),
            max_tokens: s.max_tokens,
        })
    }

    /// The request body for `r`.
    pub fn body(&self, r: &Request, stream: bool) -> Json {
        let mut messages = Vec::new();
        if !r.system.is_empty() {
            messages.push(json!({"role": "system", "content": r.system}));
        }
        for m in &r.messages {
            let mut text = String::new();
            let mut calls = Vec::new();
            for b in &m.content {
                match b {
                    Block::Text { text: t } => text.push_str(t),
                    Block::ToolUse { id, name, input } => calls.push(json!({
                        "id": id,
                        "type": "function",
                        "function": {"name": name, "arguments": input.to_string()},
                    })),
                    // Each result is a message of its own, role `tool`.
                    Block::ToolResult {
                        id,
                        content,
                        is_error,
                    } => messages.push(json!({
                        "role": "tool",
                        "tool_call_id": id,
                        "content": if *is_error { format!("error: {content}") } else { content.clone() },
                    })),
                }
            }
            match m.role {
                Role::User if !text.is_empty() => {
                    messages.push(json!({"role": "user", "content": text}))
                }
                Role::User => {}
                Role::Assistant => {
                    let mut msg = json!({"role": "assistant", "content": if text.is_empty() { Json::Null } else { json!(text) }});
                    if !calls.is_empty() {
                        msg["tool_calls"] = json!(calls);
                    }
                    messages.push(msg);
                }
            }
        }
        let mut body = json!({
            "model": self.model,
            "max_tokens": r.max_tokens.unwrap_or(self.max_tokens),
            "messages": messages,
        });
        if !r.tools.is_empty() {
            body["tools"] = r
                .tools
                .iter()
                .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.schema}}))
                .collect();
        }
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    fn post(&self, body: &Json) -> reqwest::RequestBuilder {
        let req = self.http.client.post(&self.url).json(body);
        match &self.http.api_key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
    }

    fn arguments(&self, raw: &str) -> Result<Json, LlmError> {
        if raw.trim().is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_str(raw).map_err(|e| {
            self.http
                .malformed(format!("a tool call's arguments are not JSON ({e}): {raw}"))
        })
    }
}

fn stop(s: Option<&str>) -> Stop {
    match s {
        Some("stop") | None => Stop::EndTurn,
        Some("tool_calls") | Some("function_call") => Stop::ToolUse,
        Some("length") => Stop::MaxTokens,
        Some(other) => Stop::Other(other.into()),
    }
}

fn usage(u: &Json) -> Usage {
    Usage {
        input_tokens: u["prompt_tokens"].as_u64().unwrap_or(0),
        output_tokens: u["completion_tokens"].as_u64().unwrap_or(0),
    }
}

/// A tool call being streamed: id, name, arguments so far.
#[derive(Default)]
struct Call {
    id: String,
    name: String,
    arguments: String,
}

#[async_trait::async_trait]
impl Provider for OpenAi {
    fn name(&self) -> &str {
        "openai"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, r: &Request) -> Result<Response, LlmError> {
        let res = self.http.send(self.post(&self.body(r, false))).await?;
        let v = self.http.json(res).await?;
        let Some(choice) = v["choices"].get(0) else {
            return Err(self.http.malformed("no `choices` in the answer"));
        };
        let m = &choice["message"];
        let mut content = Vec::new();
        if let Some(t) = m["content"].as_str().filter(|t| !t.is_empty()) {
            content.push(Block::Text {
                text: t.to_string(),
            });
        }
        for c in m["tool_calls"].as_array().into_iter().flatten() {
            content.push(Block::ToolUse {
                id: c["id"].as_str().unwrap_or_default().to_string(),
                name: c["function"]["name"]
                    .as_str()
                    .ok_or_else(|| self.http.malformed("a tool call without a name"))?
                    .to_string(),
                input: self.arguments(c["function"]["arguments"].as_str().unwrap_or(""))?,
            });
        }
        Ok(Response {
            content,
            stop: stop(choice["finish_reason"].as_str()),
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
        let mut text = String::new();
        let mut calls: Vec<Call> = Vec::new();
        let mut finish = None;
        let mut used = Usage::default();
        let mut model = self.model.clone();
        let mut done = false;
        let http = &self.http;
        http.events(res, &mut |_, data| {
            if data.trim() == "[DONE]" {
                done = true;
                return Ok(false);
            }
            let v: Json = serde_json::from_str(data)
                .map_err(|e| http.malformed(format!("a stream chunk is not JSON ({e}): {data}")))?;
            if v["error"].is_object() {
                return Err(
                    http.malformed(v["error"]["message"].as_str().unwrap_or(data).to_string())
                );
            }
            if let Some(m) = v["model"].as_str() {
                model = m.to_string();
            }
            if v["usage"].is_object() {
                used = usage(&v["usage"]);
            }
            for choice in v["choices"].as_array().into_iter().flatten() {
                let d = &choice["delta"];
                if let Some(t) = d["content"].as_str().filter(|t| !t.is_empty()) {
                    text.push_str(t);
                    on(Delta::Text(t.to_string()));
                }
                for c in d["tool_calls"].as_array().into_iter().flatten() {
                    let i = c["index"].as_u64().unwrap_or(calls.len() as u64) as usize;
                    while calls.len() <= i {
                        calls.push(Call::default());
                    }
                    if let Some(id) = c["id"].as_str() {
                        calls[i].id = id.to_string();
                    }
                    if let Some(n) = c["function"]["name"].as_str() {
                        calls[i].name.push_str(n);
                    }
                    if let Some(a) = c["function"]["arguments"]
                        .as_str()
                        .filter(|a| !a.is_empty())
                    {
                        calls[i].arguments.push_str(a);
                        on(Delta::ToolInput {
                            index: i,
                            json: a.to_string(),
                        });
                    }
                }
                if let Some(f) = choice["finish_reason"].as_str() {
                    finish = Some(f.to_string());
                }
            }
            Ok(true)
        })
        .await?;
        if !done && finish.is_none() {
            return Err(self
                .http
                .malformed("the stream ended before a finish_reason or [DONE]"));
        }
        let mut content = Vec::new();
        if !text.is_empty() {
            content.push(Block::Text { text });
        }
        for c in calls {
            if c.name.is_empty() {
                return Err(self.http.malformed("a streamed tool call without a name"));
            }
            content.push(Block::ToolUse {
                id: c.id,
                name: c.name,
                input: self.arguments(&c.arguments)?,
            });
        }
        Ok(Response {
            content,
            stop: stop(finish.as_deref()),
            usage: used,
            model,
        })
    }
}
