//! Actions whose words a language model writes. An action decided with a `compose`
//! parameter — `{prompt, field, context, recall, crm, labels, max_tokens}` — has its
//! `field` written by the model just before it runs: the context the employee stored
//! with the action, plus what it recalls about the matter and its open deals (as its
//! role allows), rendered through the node's prompts. Without a model, over budget or
//! when every provider fails, the offline text already in `field` stands. Either way
//! the outcome says who wrote it (`written_by`).

use super::{Hands, Sender};
use crate::llm::prompt::untrusted;
use crate::llm::{Message, Request, Source, Tool};
use crate::memory::{Mode, Recall, Viewer};
use crate::model::OutboxEntry;
use crate::store::{DealFilter, Page};
use serde_json::{Value as Json, json};

/// Memories a prompt carries.
const MEMORIES: usize = 8;
/// Longest memory text carried.
const MEMORY_CHARS: usize = 400;
/// Open deals a prompt carries.
const DEALS: i64 = 10;

/// The language steps' action kinds: each gives its `text` (the model's, written just
/// before it runs, or the step's own).
pub(crate) fn kinds() -> Vec<super::registry::ActionKind> {
    use super::registry::{ActionKind, Param, ParamType};
    [
        (
            "llm.compose",
            "Writes a mail, message or document section from a brief.",
        ),
        ("llm.classify", "Picks one of a fixed set of labels."),
        ("llm.summarise", "Summarises notes, meetings or reviews."),
        ("llm.plan", "Plans from the situation and goals."),
        (
            "llm.directive",
            "Reads an instruction the rules could not into the employee's knobs.",
        ),
        (
            "llm.strategy",
            "Proposes and scores strategies for the goals behind.",
        ),
    ]
    .into_iter()
    .map(|(kind, summary)| {
        ActionKind::new(kind, summary, false, |a| {
            Box::pin(async move {
                let text = super::param(&a.entry.params, "text").unwrap_or_default();
                // What the decision asking was about comes back with the outcome.
                let mut out = json!({"text": text});
                if let Some(about) = a.entry.params.get("about") {
                    out["about"] = about.clone();
                }
                Ok(out)
            })
        })
        .params(vec![Param::required("text", ParamType::Text)])
    })
    .chain([ActionKind::new(
        "llm.tools",
        "One turn of working out a task with a model and the employee's actions as tools.",
        false,
        |a| Box::pin(tools_turn(a)),
    )
    .params(vec![Param::required("text", ParamType::Text)])])
    .collect()
}

/// The actions a model may call for an employee with `capabilities`: every action with
/// a driver of those capabilities, as tools (`.` written `__`).
fn tools(hands: &Hands, capabilities: &[&str]) -> Vec<Tool> {
    hands
        .actions
        .kinds()
        .filter(|k| k.run.is_some())
        .filter(|k| {
            let cap = k.kind.split('.').next().unwrap_or_default();
            capabilities.contains(&cap) && cap != "llm" && cap != "task"
        })
        .map(|k| {
            let mut properties = serde_json::Map::new();
            for p in &k.params {
                properties.insert(p.name.clone(), schema_of(p.ty));
            }
            let required: Vec<&str> = k
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name.as_str())
                .collect();
            Tool {
                name: k.kind.replace('.', "__"),
                description: k.summary.clone(),
                schema: json!({"type": "object", "properties": properties, "required": required}),
            }
        })
        .collect()
}

fn schema_of(t: super::registry::ParamType) -> Json {
    use super::registry::ParamType::*;
    match t {
        Text => json!({"type": "string"}),
        Integer => json!({"type": "integer"}),
        Number => json!({"type": "number"}),
        Boolean => json!({"type": "boolean"}),
        Recipients => {
            json!({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}], "description": "addresses, `Name <address>`, or `team:<id>`"})
        }
        List => json!({"type": "array"}),
        Any => json!({}),
    }
}

/// `llm.tools`: one turn of the model, offered the employee's actions as tools. The
/// result gives its text, the tools it calls and its turn for the conversation; the
/// intention (not this action) carries each call out, through the gate.
async fn tools_turn(a: &super::registry::Act<'_>) -> Result<Json, super::CapabilityError> {
    let (hands, me, p) = (a.hands, a.me, &a.entry.params);
    let fallback = super::param(p, "text").unwrap_or_default().to_string();
    let task = &p["task"];
    let context = if task["context"].is_object() {
        task["context"].clone()
    } else {
        json!({})
    };
    let capabilities: Vec<&str> = task["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    let prompts = hands.llm.prompts();
    let offline = |why: String| {
        Ok(json!({"text": fallback, "calls": [], "written_by": format!("offline: {why}")}))
    };
    let (system, first) = match (
        prompts.render("system", &context),
        prompts.render("task", &context),
    ) {
        (Ok(s), Ok(f)) => (s, f),
        (Err(e), _) | (_, Err(e)) => return offline(e),
    };
    let mut messages = vec![Message::user(first)];
    for turn in p["transcript"].as_array().into_iter().flatten() {
        match serde_json::from_value::<Message>(turn.clone()) {
            Ok(m) => messages.push(m),
            Err(e) => return offline(format!("the conversation so far is unreadable: {e}")),
        }
    }
    let request = Request {
        system,
        messages,
        tools: tools(hands, &capabilities),
        max_tokens: None,
    };
    let answer = hands.llm.ask(me.id, &request).await;
    let (r, by) = match (answer.response, answer.source) {
        (Some(r), Source::Model { provider, model }) => (r, format!("{provider}/{model}")),
        (_, Source::Offline(why)) | (None, Source::Model { provider: why, .. }) => {
            return offline(why);
        }
    };
    let calls: Vec<Json> = r
        .tool_calls()
        .map(|(id, name, input)| json!({"id": id, "name": name, "input": input}))
        .collect();
    Ok(json!({
        "text": r.text().trim(),
        "calls": calls,
        "turn": {"role": "assistant", "content": r.content},
        "written_by": by,
        "tokens": r.usage.input_tokens + r.usage.output_tokens,
    }))
}

/// `entry` with its words written (and `compose` taken out), and who wrote them; none
/// when the action asks for no writing.
pub(crate) async fn write(
    hands: &Hands,
    me: &Sender,
    entry: &OutboxEntry,
) -> Option<(OutboxEntry, String)> {
    let c = entry
        .params
        .get("compose")
        .filter(|c| c.is_object())?
        .clone();
    let mut entry = entry.clone();
    if let Some(p) = entry.params.as_object_mut() {
        p.remove("compose");
    }
    let field = c["field"].as_str().unwrap_or("text").to_string();
    let written_by = match compose(hands, me, &c).await {
        Ok((text, by)) => {
            entry.params[field.as_str()] = json!(text);
            by
        }
        Err(why) => format!("offline: {why}"),
    };
    Some((entry, written_by))
}

/// The model's text for `c`, and `provider/model`; or why there is none.
async fn compose(hands: &Hands, me: &Sender, c: &Json) -> Result<(String, String), String> {
    if hands.llm.is_offline() {
        return Err("no language model is configured".into());
    }
    let mut context = c["context"].clone();
    if !context.is_object() {
        context = json!({});
    }
    if let Some(q) = c["recall"].as_str().filter(|q| !q.trim().is_empty()) {
        // The message being answered is remembered already; it is in the prompt anyway.
        let memories: Vec<String> = recall(hands, me, &context, q)
            .await
            .into_iter()
            .filter(|m| !m.contains(q.trim()))
            .collect();
        if !memories.is_empty() {
            context["memories"] = json!([untrusted("memory", &memories.join("\n"))]);
        }
    }
    if c["crm"] == true {
        context["crm"] = json!(deals(hands, me).await);
    }
    let prompts = hands.llm.prompts();
    let system = prompts.render("system", &context)?;
    let user = prompts.render(c["prompt"].as_str().unwrap_or("compose"), &context)?;
    let mut request = Request::new(system, user);
    request.max_tokens = c["max_tokens"].as_u64().map(|n| n as u32);
    let answer = hands.llm.ask(me.id, &request).await;
    let by = match &answer.source {
        Source::Model { provider, model } => format!("{provider}/{model}"),
        Source::Offline(why) => return Err(why.clone()),
    };
    let text = answer.text().ok_or("the model answered with no text")?;
    match c["labels"].as_array() {
        Some(labels) => label_of(&text, labels)
            .map(|l| (l, by))
            .ok_or_else(|| format!("the model answered {text:?}, which is not one of the labels")),
        None => Ok((text, by)),
    }
}

/// The label among `labels` a model's answer names (case and punctuation aside).
fn label_of(answer: &str, labels: &[Json]) -> Option<String> {
    let said = answer
        .trim()
        .trim_matches(|ch: char| !ch.is_alphanumeric() && ch != '_')
        .to_lowercase();
    labels
        .iter()
        .filter_map(Json::as_str)
        .find(|l| l.to_lowercase() == said)
        .map(str::to_string)
}

/// What the employee recalls about `q`, newest knowledge and episodes best first.
async fn recall(hands: &Hands, me: &Sender, context: &Json, q: &str) -> Vec<String> {
    let viewer = Viewer {
        employee: me.id,
        team: context["me"]["team"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let r = Recall {
        q: q.to_string(),
        from: None,
        to: None,
        with: None,
        mode: Mode::Hybrid,
        limit: MEMORIES,
        offset: 0,
    };
    match hands.store.recall(&hands.tenant, &viewer, &r).await {
        Ok(items) => items
            .into_iter()
            .map(|i| i.text.chars().take(MEMORY_CHARS).collect())
            .collect(),
        Err(e) => {
            tracing::warn!(employee = %me.id, error = %e, "memories for a prompt could not be recalled");
            Vec::new()
        }
    }
}

/// The employee's open deals, one line each.
async fn deals(hands: &Hands, me: &Sender) -> Vec<String> {
    let f = DealFilter {
        owner: Some(me.id.to_string()),
        open: true,
        ..Default::default()
    };
    let page = Page {
        limit: DEALS,
        offset: 0,
    };
    match super::crm::Books::of(hands).driver().deals(&f, page).await {
        Ok(deals) => deals
            .iter()
            .map(|d| {
                let mut line = format!("{}: {}, ${:.0}", d.name, d.stage, d.amount);
                if let Some(c) = d.close_date {
                    line.push_str(&format!(", closing {c}"));
                }
                if let Some(n) = &d.next_step {
                    line.push_str(&format!(", next step: {n}"));
                }
                line
            })
            .collect(),
        Err(e) => {
            tracing::warn!(employee = %me.id, error = %e, "deals for a prompt could not be read");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_classify_answer_counts_only_when_it_is_one_of_the_labels() {
        let labels = [json!("urgent"), json!("needs_reply"), json!("fyi")];
        assert_eq!(
            label_of(" Needs_Reply.\n", &labels).as_deref(),
            Some("needs_reply")
        );
        assert_eq!(label_of("\"fyi\"", &labels).as_deref(), Some("fyi"));
        assert_eq!(label_of("It is urgent", &labels), None);
        assert_eq!(label_of("spam", &labels), None);
    }
}
