//! Directives the rules cannot read, read by the node's language model into the same
//! knobs. Words that sound like an order but name no knob the rules know ("lay off
//! Globex over the holidays", "enterprise first, please") are given to the model with
//! the knobs the employee has; its answer, one JSON object, is checked here like any
//! outside input — a segment must be one the employee knows, a goal one of its goals,
//! a date in the future — and what fails the check turns no knob. The employee then
//! answers exactly as if the rules had read it: it changes only what it says it does.

use super::super::goals::GoalBook;
use super::{Directive, FOCUS_BELIEF, SEGMENTS, read};
use crate::bdi::{Mind, Situation, language};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value as Json, json};

/// The action kind that asks the model to read a directive.
pub const READ: &str = "llm.directive";

/// What the rules read when the model turns no knob: words that change nothing.
const NONE: &str = r#"{"knob": "none"}"#;

/// Longest account name or address a pause may name.
const TARGET_CHARS: usize = 120;

impl Mind {
    /// Whether `text` sounds like an order the rules cannot read into a knob — the
    /// words a model is asked to read when the node has one.
    pub fn unread_directive(&self, s: &Situation<'_>, text: &str) -> bool {
        super::super::feedback::read(text).is_none()
            && read(text, s.now, &self.goals) == Some(Directive::Unknown)
    }

    /// The parameters of the `llm.directive` action reading `text`: the rules' answer
    /// (`text`: no knob), what the model is told (`compose`) and `about` (carried back
    /// with the outcome, to answer the message).
    pub fn directive_reading(&self, s: &Situation<'_>, text: &str, about: Json) -> Json {
        let focus = s
            .playbook
            .plans
            .templates
            .templates()
            .any(|(_, t)| t.source().contains(FOCUS_BELIEF));
        let segments: Vec<Json> = SEGMENTS
            .iter()
            .filter(|_| focus)
            .map(|g| json!({"name": g.name, "band": g.band}))
            .collect();
        let goals: Vec<Json> = self
            .goals
            .iter()
            .map(|g| json!({"id": g.spec.id, "description": g.spec.description}))
            .collect();
        let mut context = self.language_view(s);
        context["segments"] = json!(segments);
        context["goal_ids"] = json!(goals);
        context["today"] = json!(s.now.date_naive().to_string());
        context["question"] = json!(language::untrusted("chat", text));
        json!({
            "text": NONE,
            "compose": {"prompt": "directive", "field": "text", "context": context},
            "about": about,
        })
    }
}

/// The directive a model's `answer` reads (one JSON object, e.g. `{"knob": "pause",
/// "target": "Globex", "until": "2027-01-04"}`), checked against what the employee has:
/// `Unknown` for `none`; an error saying what is wrong for anything else it cannot use.
pub fn from_answer(
    answer: &str,
    now: DateTime<Utc>,
    goals: &GoalBook,
) -> Result<Directive, String> {
    let v = crate::bdi::language::json_object(answer, "the answer")?;
    let field = |k: &str| v[k].as_str().map(str::trim).filter(|x| !x.is_empty());
    let target = || match field("target") {
        Some(t) if t.chars().count() <= TARGET_CHARS && !t.contains('\n') => Ok(t.to_string()),
        Some(_) => Err("the target is not an account's name or an address".to_string()),
        None => Err("no target was named".to_string()),
    };
    match field("knob").unwrap_or("none") {
        "none" => Ok(Directive::Unknown),
        "focus" => {
            let name = field("segment").unwrap_or_default().to_lowercase();
            SEGMENTS
                .iter()
                .find(|s| s.name == name || s.words.contains(&name.as_str()))
                .map(|s| Directive::Focus(s.name))
                .ok_or_else(|| format!("{name:?} is not a segment (enterprise, mid-market, smb)"))
        }
        "unfocus" => Ok(Directive::Unfocus),
        "pause" => {
            let until = match field("until") {
                None => None,
                Some(d) => {
                    let day = NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| format!("the end date {d:?} is not YYYY-MM-DD"))?;
                    let at = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
                    if at <= now {
                        return Err(format!("the end date {d} is not in the future"));
                    }
                    Some(at)
                }
            };
            Ok(Directive::Pause {
                target: target()?,
                until,
            })
        }
        "resume" => Ok(Directive::Resume { target: target()? }),
        "prioritise" | "prioritize" => {
            let goal = field("goal").unwrap_or_default();
            goals
                .get(goal)
                .map(|g| Directive::Prioritise(g.spec.id.clone()))
                .ok_or_else(|| format!("{goal:?} is not one of the employee's goals"))
        }
        "unprioritise" | "unprioritize" => Ok(Directive::Unprioritise),
        other => Err(format!("{other:?} is not a knob the employee has")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Goal;

    fn goals() -> GoalBook {
        let g: Goal = serde_json::from_value(json!({
            "id": "pipeline_coverage", "description": "Pipeline coverage",
            "horizon": "tactical", "metric": "pipeline_coverage", "comparison": ">=",
            "target": 3.0
        }))
        .expect("a goal");
        GoalBook::new(&[g])
    }

    fn now() -> DateTime<Utc> {
        "2026-12-06T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_models_answer_turns_only_the_knobs_the_employee_has() {
        let g = goals();
        let read = |a: &str| from_answer(a, now(), &g);
        assert_eq!(
            read(
                "```json\n{\"knob\": \"pause\", \"target\": \"Globex\", \"until\": \"2027-01-04\"}\n```"
            ),
            Ok(Directive::Pause {
                target: "Globex".into(),
                until: Some("2027-01-04T00:00:00Z".parse().unwrap())
            })
        );
        assert_eq!(
            read(r#"{"knob": "focus", "segment": "Enterprise"}"#),
            Ok(Directive::Focus("enterprise"))
        );
        assert_eq!(
            read(r#"{"knob": "prioritise", "goal": "pipeline_coverage"}"#),
            Ok(Directive::Prioritise("pipeline_coverage".into()))
        );
        assert_eq!(read(r#"{"knob": "none"}"#), Ok(Directive::Unknown));
        assert_eq!(
            read(r#"{"knob": "resume", "target": "sam@globex.test"}"#),
            Ok(Directive::Resume {
                target: "sam@globex.test".into()
            })
        );
        for (bad, why) in [
            ("I'll pause Globex", "not a JSON object"),
            (
                r#"{"knob": "focus", "segment": "government"}"#,
                "not a segment",
            ),
            (
                r#"{"knob": "prioritise", "goal": "world_peace"}"#,
                "not one of the employee's goals",
            ),
            (
                r#"{"knob": "pause", "target": "Globex", "until": "2020-01-01"}"#,
                "not in the future",
            ),
            (
                r#"{"knob": "pause", "target": "Globex", "until": "next week"}"#,
                "not YYYY-MM-DD",
            ),
            (r#"{"knob": "pause"}"#, "no target"),
            (r#"{"knob": "delete_crm"}"#, "not a knob"),
        ] {
            let e = read(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
