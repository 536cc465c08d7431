//! The chat actions: `chat.reply` answers in a conversation (in the thread it answers,
//! on Slack), `chat.send` starts one. A caller waiting for the employee's answer (the
//! API's chat call) gets it as soon as it is posted.

use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, param};
use crate::store::ChatMessage;
use chrono::Utc;
use serde_json::{Value as Json, json};

/// The chat action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    let params = || {
        vec![
            Param::required("text", Text),
            Param::optional("conversation", Text),
            Param::optional("to", Recipients),
            Param::optional("in_reply_to", Text),
            Param::optional("thread", Text),
        ]
    };
    vec![
        ActionKind::new(
            "chat.reply",
            "Answers in a chat conversation, in the thread it answers.",
            true,
            |a| Box::pin(post_chat(a)),
        )
        .params(params())
        .one_of(&["conversation", "to"]),
        ActionKind::new(
            "chat.send",
            "Writes to a person or channel in chat.",
            true,
            |a| Box::pin(post_chat(a)),
        )
        .params(params())
        .one_of(&["conversation", "to"]),
    ]
}

/// `chat.reply` / `chat.send`: posted in the conversation; a caller waiting for the
/// answer gets it.
async fn post_chat(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let text = param(&entry.params, "text")
        .ok_or_else(|| CapabilityError::Invalid(format!("`{}` needs `text`", entry.kind)))?;
    let conversation = param(&entry.params, "conversation")
        .or(param(&entry.params, "to"))
        .ok_or_else(|| {
            CapabilityError::Invalid(format!("`{}` needs `conversation` or `to`", entry.kind))
        })?;
    // An answer to another agent's message ends its A2A task rather than being posted.
    if let Some(task) = conversation.strip_prefix(crate::a2a::CONVERSATION_PREFIX) {
        return crate::capabilities::tasks::answer_agent(
            hands,
            me.id,
            task,
            text,
            &entry.key,
            entry.action_id,
        )
        .await;
    }
    let m = ChatMessage {
        seq: 0,
        employee_id: me.id,
        conversation: conversation.to_string(),
        from: me.handle.clone(),
        text: text.to_string(),
        in_reply_to: param(&entry.params, "in_reply_to").map(str::to_string),
        thread: param(&entry.params, "thread").map(str::to_string),
        action: Some(entry.key.clone()),
        at: Utc::now(),
    };
    hands.chat.transport.post(&hands.tenant, &m).await?;
    if let Some(asked) = &m.in_reply_to
        && let Some((_, waiters)) = hands.chat.waiting.remove(asked)
    {
        for w in waiters {
            let _ = w.send(m.clone());
        }
    }
    Ok(json!({"conversation": m.conversation, "text": m.text}))
}
