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

/// `value` in `unit`, as a person reads it: a ratio whose target is a multiple (≥ 1.5)
/// as `2.1x`, other ratios as a percentage, money and durations with their unit.
pub fn figure(value: f64, unit: Option<&str>, target: f64) -> String {
    let n = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 1e12 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        }
    };
    match unit {
        Some("ratio") if target >= 1.5 => format!("{}x", n(value)),
        Some("ratio") => format!("{}%", n((value * 100.0 * 10.0).round() / 10.0)),
        Some("usd") => format!("${}", n(value)),
        Some(u) => format!("{} {u}", n(value)),
        None => n(value),
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
                let cmp = match g.spec.comparison {
                    Comparison::AtLeast => "≥",
                    Comparison::Above => ">",
                    Comparison::AtMost => "≤",
                    Comparison::Below => "<",
                };
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
                    "now": g.current.map(|c| figure(c, unit, g.spec.target)),
                    "aim": format!("{cmp} {}", figure(g.spec.target, unit, g.spec.target)),
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

#[cfg(test)]
mod tests {
    use super::figure;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(figure(2.1, Some("ratio"), 3.0), "2.1x");
        assert_eq!(figure(0.915, Some("ratio"), 0.9), "91.5%");
        assert_eq!(figure(250000.0, Some("usd"), 1e6), "$250000");
        assert_eq!(figure(12.5, Some("days"), 30.0), "12.5 days");
        assert_eq!(figure(3.0, None, 3.0), "3");
    }
}
