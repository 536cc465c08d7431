//! The product actions: `product.file_request` files a feature request in the backlog
//! (or votes for the open request it repeats), and `product.acknowledge` tells the
//! requester which, in the channel the request came by — a reply in their mail thread
//! or an answer in their chat conversation — by handing `email.reply` or `chat.reply`
//! the words, under its own action's key (so a retry after a crash is recognised).

use super::backlog::{Filed, Filing, file};
use super::records::MAX_TITLE;
use super::{NewRequest, Source};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, param};
use crate::model::{ActionStatus, OutboxEntry};
use serde_json::{Value as Json, json};

/// The product action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "product.measure",
            "Tells the employee the days since it last wrote the roadmap (since its start when it never has) as `days_since_roadmap_review`.",
            false,
            |a| Box::pin(super::roadmap::measure(a)),
        ),
        ActionKind::new(
            "product.file_request",
            "Files a feature request in the product backlog: a vote for the open request it repeats (by similarity), else a new request; `text` is what was asked (its first line the title unless `title` is given), `requester` who asked, `source` the channel (mail, chat, task or api). The result names the request and says which.",
            false,
            |a| Box::pin(file_request(a)),
        )
        .params(vec![
            Param::required("text", Text),
            Param::optional("title", Text),
            Param::optional("requester", Text),
            Param::required("source", Text),
        ]),
        ActionKind::new(
            "product.acknowledge",
            "Tells the requester what `product.file_request` (`filed_by`, its action number: \"{{ intention.last_action }}\") did with their request: a reply in their mail thread (`in_reply_to`, a Message-ID) or an answer in their chat conversation (`conversation`, with `in_reply_to` the chat event and `thread`), between `greeting` and `signoff`.",
            true,
            |a| Box::pin(acknowledge(a)),
        )
        .params(vec![
            Param::required("filed_by", Text),
            Param::optional("in_reply_to", Text),
            Param::optional("conversation", Text),
            Param::optional("thread", Text),
            Param::optional("greeting", Text),
            Param::optional("signoff", Text),
        ])
        .one_of(&["in_reply_to", "conversation"]),
        ActionKind::new(
            "product.hypothesis",
            "Records a hypothesis about a feature's usage (`text`, from a `crm.feature_usage` event's `hypothesis`) in the product backlog as a request about `feature` (`signal`: drop_off or friction); another about the same feature counts as a vote.",
            false,
            |a| Box::pin(super::usage::record(a)),
        )
        .params(vec![
            Param::required("feature", Text),
            Param::required("text", Text),
            Param::optional("signal", Text),
        ]),
        ActionKind::new(
            "product.interviews",
            "Chooses `count` (3) customers to interview about `topic` from the CRM (people at customer accounts: those who asked for something like it first, then champions) and offers each interview times by mail; the replies are booked and noted by the role's plans.",
            true,
            |a| Box::pin(super::research::interviews(a)),
        )
        .params(vec![
            Param::required("topic", Text),
            Param::optional("count", Integer),
        ]),
        ActionKind::new(
            "product.synthesis",
            "Writes the user research synthesis of `topic` as a report document: the interview notes (the running document \"interview notes: <topic>\"), the themes more than one raised, and the backlog requests they touch.",
            false,
            |a| Box::pin(super::research::synthesis(a)),
        )
        .params(vec![Param::required("topic", Text)]),
        ActionKind::new(
            "product.roadmap",
            "Ranks the open feature requests by RICE score (then votes) and writes the top `top` (10) as the roadmap document, with what moved since the last roadmap and why; its result lists the requests that moved.",
            false,
            |a| Box::pin(super::roadmap::roadmap(a)),
        )
        .params(vec![Param::optional("top", Integer)]),
        ActionKind::new(
            "product.tell_movers",
            "Mails everyone who asked for a request whose status moved on the roadmap (`roadmap_from`, the `product.roadmap` action's number) what changed, between `greeting` and `signoff`; its result names the roadmap document, so a later step can attach it with `attach_from`.",
            true,
            |a| Box::pin(super::roadmap::tell_movers(a)),
        )
        .params(vec![
            Param::required("roadmap_from", Text),
            Param::optional("greeting", Text),
            Param::optional("signoff", Text),
        ]),
    ]
}

/// A title from what was asked: the first line that says something, cut at a word
/// before [`MAX_TITLE`] characters.
fn title_of(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line = line
        .trim_start_matches(|c: char| c == '>' || c.is_whitespace())
        .trim();
    if line.chars().count() <= 120 {
        return line.to_string();
    }
    let mut out = String::new();
    for w in line.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > 117 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    format!("{out}…")
}

/// A subject without what wraps it: `Re:`, `Fwd:`, `Feature request:`.
fn unwrapped(title: &str) -> &str {
    let mut t = title.trim();
    loop {
        let lower = t.to_ascii_lowercase();
        let Some(rest) = [
            "re:",
            "fw:",
            "fwd:",
            "feature request:",
            "feature request -",
            "request:",
        ]
        .iter()
        .find(|p| lower.starts_with(*p))
        .map(|p| t[p.len()..].trim_start()) else {
            return t;
        };
        t = rest;
    }
}

/// `product.file_request`.
async fn file_request(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let text = param(p, "text").ok_or_else(|| {
        CapabilityError::Invalid("`product.file_request` needs `text`, what was asked".into())
    })?;
    let source = param(p, "source").unwrap_or("");
    let source = Source::parse(source).ok_or_else(|| {
        CapabilityError::Invalid(format!(
            "`source` of `product.file_request` must be mail, chat, task or api, got {source:?}"
        ))
    })?;
    let title = match param(p, "title").map(unwrapped) {
        Some(t) if !t.is_empty() && t.chars().count() <= MAX_TITLE => t.to_string(),
        _ => unwrapped(&title_of(text)).to_string(),
    };
    let description = if text.trim() == title {
        String::new()
    } else {
        text.trim().to_string()
    };
    let filed = file(
        a.hands,
        Filing {
            request: NewRequest {
                title,
                description: description
                    .chars()
                    .take(super::records::MAX_DESCRIPTION)
                    .collect(),
                requester: param(p, "requester").map(str::to_string),
            },
            source,
            key: a.entry.key.clone(),
        },
    )
    .await?;
    Ok(result(&filed))
}

/// What filing did, as an action's result: the request, whether it is new, and the
/// words the requester is told (the `text` a task's result is read from).
pub(crate) fn result(filed: &Filed) -> Json {
    let r = filed.request();
    json!({
        "request": r.id, "title": r.title, "votes": r.votes, "status": r.status,
        "filed": match filed { Filed::New(_) => "new", Filed::Vote { .. } => "vote" },
        "text": filed.told(),
    })
}

/// `product.acknowledge`.
async fn acknowledge(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, p) = (a.hands, &a.entry.params);
    let number = param(p, "filed_by")
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "`filed_by` names the `product.file_request` action by its number, e.g. \"{{{{ intention.last_action }}}}\"; got {}",
                p["filed_by"]
            ))
        })?;
    let key = OutboxEntry::key_for(a.me.id, number);
    let record = hands.store.action(&hands.tenant, &key).await?;
    let told = match record.as_ref().and_then(|r| r.result.as_ref()) {
        Some(r) if r["request"].is_string() => r["text"].as_str().unwrap_or_default().to_string(),
        _ => {
            return Err(CapabilityError::Invalid(format!(
                "action {number} filed no request to acknowledge: it is {}",
                record.map_or("not taken".to_string(), |r| format!(
                    "{} ({})",
                    r.entry.kind,
                    r.status.as_str()
                ))
            )));
        }
    };
    let body = [
        param(p, "greeting"),
        Some(told.as_str()),
        param(p, "signoff"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n\n");
    let (kind, params) = match param(p, "conversation") {
        Some(c) => (
            "chat.reply",
            json!({"text": body, "conversation": c, "in_reply_to": p["in_reply_to"], "thread": p["thread"]}),
        ),
        None => (
            "email.reply",
            json!({"in_reply_to": p["in_reply_to"], "body": body, "auto_reply": true}),
        ),
    };
    let entry = OutboxEntry {
        kind: kind.into(),
        params,
        ..a.entry.clone()
    };
    let (status, out) = hands
        .actions
        .execute(&Act {
            entry: &entry,
            ..*a
        })
        .await;
    match status {
        ActionStatus::Done => Ok(out),
        _ => Err(CapabilityError::Service(
            out["error"]
                .as_str()
                .unwrap_or("the reply was not sent")
                .to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::title_of;

    #[test]
    fn a_subject_loses_what_wraps_it() {
        assert_eq!(
            super::unwrapped("Re: Feature request: CSV export"),
            "CSV export"
        );
        assert_eq!(super::unwrapped("Dark mode"), "Dark mode");
    }

    #[test]
    fn a_title_is_the_first_line_cut_at_a_word() {
        assert_eq!(title_of("\n  CSV export\nmore"), "CSV export");
        let long = "word ".repeat(60);
        let t = title_of(&long);
        assert!(t.ends_with('…') && t.chars().count() <= 120, "{t}");
    }
}
