//! What a language model is told about the employee's state: its goals with their
//! figures, what it is working on and what waits for a human — the same facts the
//! offline answers are made from, so a model's words rest on them.

use super::plans::LlmKind;
use super::{IntentionState, Mind, Situation, style};
use crate::model::Comparison;
use serde_json::{Value as Json, json};

/// What an employee's prompts may carry besides its own state, as its role allows for
/// the node's model (a model in the node's own process may see everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    /// What it remembers (recalled episodes and knowledge, recent interactions).
    pub memories: bool,
    /// Its CRM records (open deals).
    pub crm: bool,
}

/// `text` from `source` (mail, chat, a web page, another agent) marked as untrusted for
/// a prompt: inside `<untrusted>` tags that the text itself cannot close. Plan templates
/// mark outside text with the `untrusted` filter (`{{ event.payload.body | untrusted }}`).
pub fn untrusted(source: &str, text: &str) -> String {
    let clean = text
        .replace("</untrusted", "</ untrusted")
        .replace("<untrusted", "< untrusted");
    format!("<untrusted source=\"{source}\">\n{clean}\n</untrusted>")
}

/// The one JSON object a model's `answer` holds (any words or code fences around it
/// aside), or why there is none; `what` names the answer in the message ("the
/// model's notes").
pub fn json_object(answer: &str, what: &str) -> Result<Json, String> {
    let object = match (answer.find('{'), answer.rfind('}')) {
        (Some(a), Some(b)) if a < b => &answer[a..=b],
        _ => return Err(format!("{what} is not a JSON object: {answer:?}")),
    };
    serde_json::from_str(object).map_err(|e| format!("{what} is not a JSON object ({e})"))
}

/// How a goal's figure must stand to its target, as a sign (`≥`, `>`, `≤`, `<`).
pub fn sign(c: Comparison) -> &'static str {
    match c {
        Comparison::AtLeast => "≥",
        Comparison::Above => ">",
        Comparison::AtMost => "≤",
        Comparison::Below => "<",
    }
}

impl Mind {
    /// The parameters of a language step's action: the step's own text (what stands
    /// without the model) and what the model is to be told (`compose`).
    pub(super) fn writing(
        &self,
        s: &Situation<'_>,
        kind: LlmKind,
        brief: &str,
        text: &str,
        labels: &[String],
        share: &Share,
    ) -> Json {
        let mut context = self.language_view(s);
        context["brief"] = json!(brief);
        context["draft"] = json!(text);
        context["labels"] = json!(labels);
        let mut compose = json!({
            "prompt": kind.as_str(),
            "field": "text",
            "context": context,
            "recall": if share.memories { json!(brief.chars().take(300).collect::<String>()) } else { Json::Null },
            "crm": share.crm,
        });
        if kind == LlmKind::Classify {
            compose["labels"] = json!(labels);
        }
        json!({"text": text, "compose": compose})
    }

    /// Every goal, most pressing first, as templates and prompts read it: `id`,
    /// `description`, `current`, `target`, `unit`, `progress`, `met`, `at_risk`,
    /// `projected`, and `now` / `aim` (the figures in words, e.g. `2.1x`, `≥ 3x`).
    pub fn goals_view(&self) -> Vec<Json> {
        let mut gs: Vec<_> = self.goals.iter().collect();
        gs.sort_by(|a, b| b.priority.total_cmp(&a.priority));
        gs.iter()
            .map(|g| {
                let unit = g.spec.unit.as_deref();
                let cmp = sign(g.spec.comparison);
                json!({
                    "id": g.spec.id,
                    "description": g.spec.description,
                    "progress": g.progress,
                    "current": g.current,
                    "target": g.spec.target,
                    "unit": g.spec.unit,
                    "met": g.met(),
                    "at_risk": g.at_risk(),
                    "projected": g.projected,
                    "blocked": g.blocked,
                    "now": g.current.map(|c| super::asking::figure(c, unit, g.spec.target)),
                    "aim": format!("{cmp} {}", super::asking::figure(g.spec.target, unit, g.spec.target)),
                })
            })
            .collect()
    }

    /// What a model is told of the employee's state: who it is (`me`, `persona`,
    /// `style`), `goals` (see [`Mind::goals_view`]), `intentions` in words, `phase` and
    /// the number of `approvals` waiting.
    pub fn language_view(&self, s: &Situation<'_>) -> Json {
        let intentions: Vec<String> = self
            .intentions
            .iter()
            .take(12)
            .map(|i| {
                let what = s
                    .playbook
                    .plans
                    .get(&i.plan)
                    .map(|p| p.spec.description.clone())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| i.plan.replace('_', " "));
                let state = match &i.state {
                    IntentionState::AwaitingApproval { action } => {
                        format!("waiting for a human to approve {}", action.kind)
                    }
                    IntentionState::Waiting { event, .. } => format!("waiting for {event}"),
                    IntentionState::AwaitingOutcome { .. } => "waiting to see how it lands".into(),
                    IntentionState::AwaitingSubgoal { .. } => "on a sub-goal".into(),
                    IntentionState::Ready => format!("at step {}", i.step + 1),
                };
                format!("{what} ({state})")
            })
            .collect();
        json!({
            "me": s.me,
            "persona": s.persona,
            "style": style::style(s.persona, self.style_shift),
            "goals": self.goals_view(),
            "intentions": intentions,
            "phase": self.phase.as_str(),
            "approvals": self.pending_approvals().len(),
        })
    }
}
