//! Plans: declarative recipes from the role's TOML, compiled once into a [`PlanLibrary`].
//!
//! A plan has a trigger (an event kind and an optional condition), a context condition
//! over beliefs and goals, a risk and an expected cost, steps (a capability action, a
//! sub-goal, a wait for an event with a timeout, a language-model request, an
//! escalation to a human), a success criterion and an optional contingency plan. Every
//! condition is CEL and every text a minijinja template; a plan with an error is
//! rejected at load with the plan's name and the expression's error.

use super::expr::Condition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A plan as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// Unique within the role, e.g. `prospect_for_pipeline`.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The goal it serves (an id from the role's goals), if any.
    #[serde(default)]
    pub goal: Option<String>,
    /// What starts it.
    pub trigger: TriggerSpec,
    /// CEL over `beliefs`, `goals`, `metrics`, `persona`, `event`: must hold to adopt it.
    #[serde(default)]
    pub context: Option<String>,
    /// 0..=1; employees with a low risk tolerance do not choose risky plans.
    #[serde(default)]
    pub risk: f64,
    /// Expected cost, in any unit consistent within the role (hours of work, say).
    #[serde(default = "one")]
    pub cost: f64,
    /// How the outcome is judged; without it, finishing the steps is a success.
    #[serde(default)]
    pub success: Option<SuccessSpec>,
    /// Plan to run when this one fails.
    #[serde(default)]
    pub contingency: Option<String>,
    /// Runs once for each distinct value of this path in the triggering event (e.g.
    /// `payload.contact`: one outreach sequence per lead at a time); without it, one
    /// intention of the plan at a time.
    #[serde(default)]
    pub per: Option<String>,
    /// Adopted only when no other plan takes the event up, and only with a language
    /// model (e.g. working out a task no plan covers with the employee's tools).
    #[serde(default)]
    pub last_resort: bool,
    /// What it does, in order.
    pub steps: Vec<StepSpec>,
}

fn one() -> f64 {
    1.0
}

/// What starts a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    /// Event kind, exact (`metric`, `cron.tick`, `signal.pipeline_low`) or a prefix
    /// ending in `*` (`email.*`).
    pub event: String,
    /// CEL that must hold for the event.
    #[serde(default)]
    pub when: Option<String>,
}

/// How a plan's outcome is judged: an event of this kind within this time after the
/// plan finished its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessSpec {
    /// Event kind that means success, e.g. `email.reply`.
    pub event: String,
    /// CEL that must hold for it.
    #[serde(default)]
    pub when: Option<String>,
    /// How long to wait, e.g. `48h`.
    #[serde(with = "humantime_serde")]
    pub within: std::time::Duration,
}

/// One step; exactly one of `action`, `subgoal`, `wait`, `llm`, `escalate` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// A capability action, e.g. `email.send`, `crm.update`.
    #[serde(default)]
    pub action: Option<String>,
    /// Parameters of the action; strings are minijinja templates.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Alternative parameter sets (A/B variants), merged over `params`; choice learns
    /// which works.
    #[serde(default)]
    pub variants: Vec<VariantSpec>,
    /// Pursue this goal (by id) and continue when the plan chosen for it finishes.
    #[serde(default)]
    pub subgoal: Option<String>,
    /// Wait for an event of this kind.
    #[serde(default)]
    pub wait: Option<String>,
    /// CEL that the awaited event must satisfy.
    #[serde(default)]
    pub when: Option<String>,
    /// How long to wait before the step fails, e.g. `48h`.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<std::time::Duration>,
    /// With `wait`: what the awaited event does — `continue` with the next step (the
    /// default) or `finish` the plan there, successfully (a follow-up sequence stops on
    /// the reply).
    #[serde(default)]
    pub on_event: Option<String>,
    /// With `wait`: what the timeout does — `fail` the plan (the default) or `continue`
    /// with the next step (the next touch of a follow-up sequence).
    #[serde(default)]
    pub on_timeout: Option<String>,
    /// With `wait`: a time (a template rendering RFC 3339, e.g. `{{ awaited.payload.end
    /// }}`, the end of a meeting an earlier wait saw booked) at which the plan goes on
    /// with the next step if the event has not come by then.
    #[serde(default)]
    pub until: Option<String>,
    /// A language step of this kind: `compose` (write a mail, message or section),
    /// `classify` (pick one of `labels`), `summarise` or `plan`. Its text is the model's
    /// answer, or the fallback's without one; later steps read it as
    /// `{{ intention.text }}`, and as `{{ results.<save_as> }}` when `save_as` is set.
    #[serde(default)]
    pub llm: Option<String>,
    /// With `llm`: the brief the model works from (a template).
    #[serde(default)]
    pub prompt: Option<String>,
    /// With `llm`: the template whose rendering is the step's text without a model
    /// (required: a step never depends on a model that may not be there). For
    /// `classify`, the rules' label.
    #[serde(default)]
    pub fallback: Option<String>,
    /// With `llm`: the name later steps read its text by (`{{ results.<name> }}`).
    #[serde(default)]
    pub save_as: Option<String>,
    /// With `llm = "classify"`: the labels to choose from.
    #[serde(default)]
    pub labels: Vec<String>,
    /// With `llm = "tools"`: most turns of the model (default 6).
    #[serde(default)]
    pub turns: Option<u32>,
    /// Escalate to the manager with this message (a template).
    #[serde(default)]
    pub escalate: Option<String>,
    /// With `escalate`: what the employee recommends (a template).
    #[serde(default)]
    pub recommend: Option<String>,
    /// With `escalate`: the kind of case, whose decisions are precedents for the next
    /// case of that kind; the plan's name when unset.
    #[serde(default)]
    pub case: Option<String>,
}

/// A named variant of a step's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Variant name, e.g. `direct`.
    pub name: String,
    /// Parameters replacing the step's.
    pub params: BTreeMap<String, serde_json::Value>,
}

/// A compiled step.
#[derive(Debug, Clone)]
pub enum Step {
    /// Run a capability action with rendered parameters.
    Action {
        /// Action kind.
        action: String,
        /// Template names per parameter variant: `[base, variant...]`.
        variants: Vec<String>,
    },
    /// Pursue a goal.
    Subgoal(String),
    /// Wait for an event.
    Wait {
        /// Event kind.
        event: String,
        /// Condition on it.
        when: Option<Condition>,
        /// Give up after.
        timeout: Option<std::time::Duration>,
        /// The event ends the plan (successfully) instead of going on.
        finish_on_event: bool,
        /// The timeout goes on with the next step instead of failing the plan.
        continue_on_timeout: bool,
        /// Template of the time the wait ends and the plan goes on.
        until: Option<String>,
    },
    /// Ask the language model; without one, the fallback gives the text.
    Llm {
        /// What is asked.
        kind: LlmKind,
        /// Template of the brief.
        prompt: String,
        /// Template of the text without a model.
        fallback: String,
        /// The name later steps read the text by.
        save_as: Option<String>,
        /// For `classify`: the labels.
        labels: Vec<String>,
        /// For `tools`: most turns of the model.
        turns: u32,
    },
    /// Escalate to a human.
    Escalate {
        /// Template of the message.
        message: String,
        /// Template of the recommendation.
        recommend: Option<String>,
        /// Kind of case.
        case: Option<String>,
    },
}

/// What a language step asks of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmKind {
    /// Write a mail, message or document section from a brief.
    Compose,
    /// Pick one of a fixed set of labels.
    Classify,
    /// Summarise (consolidation, meeting notes, reviews).
    Summarise,
    /// Plan: situation, gaps, what to do.
    Plan,
    /// Work out a task with the employee's actions as tools, a bounded loop whose every
    /// call passes the gate.
    Tools,
}

impl LlmKind {
    /// The kinds, as plans name them.
    pub const ALL: [LlmKind; 5] = [
        LlmKind::Compose,
        LlmKind::Classify,
        LlmKind::Summarise,
        LlmKind::Plan,
        LlmKind::Tools,
    ];

    /// Its name in plans (and its prompt's name).
    pub fn as_str(self) -> &'static str {
        match self {
            LlmKind::Compose => "compose",
            LlmKind::Classify => "classify",
            LlmKind::Summarise => "summarise",
            LlmKind::Plan => "plan",
            LlmKind::Tools => "tools",
        }
    }

    fn parse(s: &str) -> Option<LlmKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A compiled plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan as written.
    pub spec: PlanSpec,
    /// Trigger condition.
    pub when: Option<Condition>,
    /// Context condition.
    pub context: Option<Condition>,
    /// Success condition.
    pub success_when: Option<Condition>,
    /// Steps.
    pub steps: Vec<Step>,
}

/// A problem in a plan, naming the plan and the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} `{plan}`: `{field}` {message}", section.trim_end_matches('s'))]
pub struct PlanError {
    /// Where in the role: `plans`, `triggers` or `policies`.
    pub section: &'static str,
    /// Plan name (trigger name, policy action).
    pub plan: String,
    /// Field, e.g. `trigger.when` or `steps[2].params.body`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Every plan of a role, compiled, with its templates, indexed by trigger.
pub struct PlanLibrary {
    plans: Vec<Plan>,
    by_name: BTreeMap<String, usize>,
    /// Exact trigger kind → plans, in declaration order.
    by_event: BTreeMap<String, Vec<usize>>,
    /// Prefix triggers (`email.*`).
    by_prefix: Vec<(String, usize)>,
    pub(crate) templates: minijinja::Environment<'static>,
}

impl std::fmt::Debug for PlanLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanLibrary")
            .field("plans", &self.plans.len())
            .finish()
    }
}

/// Names of the templates of an action's parameters end so.
const PARAMS: &str = ".params";
/// Auto-escaping of text going inside a JSON string.
const JSON_STRING: &str = "json-string";

/// An action's parameters are one template of their JSON (compiled once), so every
/// value put in them lands inside a JSON string: it is escaped for that place (quotes,
/// backslashes, newlines), so a customer's reply quoted in a parameter cannot break the
/// JSON. Other templates (escalations, prompts) are plain text.
fn json_string_escaping(env: &mut minijinja::Environment<'static>) {
    use minijinja::AutoEscape;
    env.set_auto_escape_callback(|name| {
        if name.ends_with(PARAMS) {
            AutoEscape::Custom(JSON_STRING.into())
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Custom(n) if n == JSON_STRING)
            && !value.is_safe()
        {
            let quoted = serde_json::to_string(&value.to_string()).expect("strings serialise");
            out.write_str(&quoted[1..quoted.len() - 1]).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
}

impl PlanLibrary {
    /// Compiles `specs`; `goals` are the role's goal ids. Returns every problem found.
    pub fn compile(specs: &[PlanSpec], goals: &[&str]) -> Result<PlanLibrary, Vec<PlanError>> {
        let mut errors = Vec::new();
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        json_string_escaping(&mut env);
        // Outside text a template puts into a model's brief is marked as such.
        env.add_filter("untrusted", |text: String| {
            super::language::untrusted("outside", &text)
        });
        // A value as JSON text, e.g. a structure an action takes whole
        // (`data = "{{ event.payload.handoff | json }}"`); escaped like any text.
        env.add_filter("json", |v: minijinja::Value| {
            serde_json::to_string(&v).unwrap_or_default()
        });
        let mut lib = PlanLibrary {
            plans: Vec::new(),
            by_name: BTreeMap::new(),
            by_event: BTreeMap::new(),
            by_prefix: Vec::new(),
            templates: minijinja::Environment::new(),
        };
        for spec in specs {
            let err = |field: String, message: String| PlanError {
                section: "plans",
                plan: spec.name.clone(),
                field,
                message,
            };
            if lib.by_name.contains_key(&spec.name) {
                errors.push(err(
                    "name".into(),
                    "is used by another plan; names must be unique".into(),
                ));
                continue;
            }
            let mut cond = |field: &str, src: Option<&str>| {
                Condition::compile_optional(src).unwrap_or_else(|m| {
                    errors.push(err(field.into(), m));
                    None
                })
            };
            let when = cond("trigger.when", spec.trigger.when.as_deref());
            let context = cond("context", spec.context.as_deref());
            let success_when = cond(
                "success.when",
                spec.success.as_ref().and_then(|s| s.when.as_deref()),
            );
            if !(0.0..=1.0).contains(&spec.risk) {
                errors.push(err(
                    "risk".into(),
                    format!("must be between 0 and 1, got {}", spec.risk),
                ));
            }
            if let Some(g) = &spec.goal
                && !goals.contains(&g.as_str())
            {
                errors.push(err(
                    "goal".into(),
                    format!(
                        "names `{g}`, which is not one of the role's goals ({})",
                        goals.join(", ")
                    ),
                ));
            }
            if spec.steps.is_empty() {
                errors.push(err(
                    "steps".into(),
                    "is empty; give the plan at least one step".into(),
                ));
            }
            let mut steps = Vec::new();
            for (i, s) in spec.steps.iter().enumerate() {
                let field = |f: &str| format!("steps[{i}].{f}");
                let set = [
                    s.action.is_some(),
                    s.subgoal.is_some(),
                    s.wait.is_some(),
                    s.llm.is_some(),
                    s.escalate.is_some(),
                ]
                .iter()
                .filter(|x| **x)
                .count();
                if set != 1 {
                    errors.push(err(
                        format!("steps[{i}]"),
                        "must set exactly one of `action`, `subgoal`, `wait`, `llm`, `escalate`"
                            .into(),
                    ));
                    continue;
                }
                let mut template = |name: String, f: String, src: &str| {
                    if let Err(e) = env.add_template_owned(name.clone(), src.to_string()) {
                        errors.push(err(f, format!("is not a valid template: {e}")));
                    }
                    name
                };
                if let Some(action) = &s.action {
                    let mut variants = Vec::new();
                    // The step's own parameters, then each variant merged over them.
                    let mut sets = vec![s.params.clone()];
                    for v in &s.variants {
                        let mut merged = s.params.clone();
                        merged.extend(v.params.clone());
                        sets.push(merged);
                    }
                    for (vi, params) in sets.iter().enumerate() {
                        let src = serde_json::to_string(params).expect("JSON values serialise");
                        let f = if vi == 0 {
                            field("params")
                        } else {
                            format!("steps[{i}].variants[{}]", vi - 1)
                        };
                        variants.push(template(format!("{}/{i}/{vi}{PARAMS}", spec.name), f, &src));
                    }
                    steps.push(Step::Action {
                        action: action.clone(),
                        variants,
                    });
                } else if let Some(g) = &s.subgoal {
                    if !goals.contains(&g.as_str()) {
                        errors.push(err(
                            field("subgoal"),
                            format!("names `{g}`, which is not one of the role's goals"),
                        ));
                    }
                    steps.push(Step::Subgoal(g.clone()));
                } else if let Some(kind) = &s.wait {
                    let until = s
                        .until
                        .as_ref()
                        .map(|u| template(format!("{}/{i}/until", spec.name), field("until"), u));
                    let when = Condition::compile_optional(s.when.as_deref()).unwrap_or_else(|m| {
                        errors.push(err(field("when"), m));
                        None
                    });
                    let choice = |f: &str, v: &Option<String>, default: &str, other: &str| match v
                        .as_deref()
                    {
                        None => Ok(false),
                        Some(x) if x == default => Ok(false),
                        Some(x) if x == other => Ok(true),
                        Some(x) => Err(err(
                            field(f),
                            format!("must be \"{default}\" or \"{other}\", got {x:?}"),
                        )),
                    };
                    let finish_on_event = choice("on_event", &s.on_event, "continue", "finish")
                        .unwrap_or_else(|e| {
                            errors.push(e);
                            false
                        });
                    let continue_on_timeout =
                        choice("on_timeout", &s.on_timeout, "fail", "continue").unwrap_or_else(
                            |e| {
                                errors.push(e);
                                false
                            },
                        );
                    let continue_on_timeout = continue_on_timeout || until.is_some();
                    if continue_on_timeout && s.timeout.is_none() && until.is_none() {
                        errors.push(err(
                            field("on_timeout"),
                            "needs a `timeout`, e.g. \"3d\"".into(),
                        ));
                    }
                    steps.push(Step::Wait {
                        event: kind.clone(),
                        when,
                        timeout: s.timeout,
                        finish_on_event,
                        continue_on_timeout,
                        until,
                    });
                } else if let Some(kind) = &s.llm {
                    let Some(kind) = LlmKind::parse(kind) else {
                        errors.push(err(
                            field("llm"),
                            format!("is {kind:?}: it is the kind of language step, one of compose, classify, summarise, plan, tools; the brief goes in `prompt`"),
                        ));
                        continue;
                    };
                    let prompt = s
                        .prompt
                        .as_deref()
                        .map(|p| template(format!("{}/{i}/prompt", spec.name), field("prompt"), p));
                    let fallback = s.fallback.as_deref().map(|f| {
                        template(format!("{}/{i}/fallback", spec.name), field("fallback"), f)
                    });
                    if prompt.is_none() {
                        errors.push(err(
                            field("prompt"),
                            "is missing: an `llm` step needs a `prompt` template, the brief the model works from".into(),
                        ));
                    }
                    if fallback.is_none() {
                        errors.push(err(
                            field("fallback"),
                            "is missing: an `llm` step needs a `fallback` template that gives its text without a model (e.g. from `goals`, `goal` and `event`)".into(),
                        ));
                    }
                    if kind == LlmKind::Classify && s.labels.is_empty() {
                        errors.push(err(
                            field("labels"),
                            "is missing: an `llm = \"classify\"` step needs the labels to choose from".into(),
                        ));
                    }
                    if kind != LlmKind::Classify && !s.labels.is_empty() {
                        errors.push(err(
                            field("labels"),
                            "goes with `llm = \"classify\"` only".into(),
                        ));
                    }
                    if let Some(n) = &s.save_as
                        && (n.is_empty()
                            || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    {
                        errors.push(err(
                            field("save_as"),
                            format!("is {n:?}: a name of letters, digits and _, read as `{{{{ results.{n} }}}}`"),
                        ));
                    }
                    if let (Some(prompt), Some(fallback)) = (prompt, fallback) {
                        steps.push(Step::Llm {
                            kind,
                            prompt,
                            fallback,
                            save_as: s.save_as.clone(),
                            labels: s.labels.clone(),
                            turns: s.turns.unwrap_or(6).clamp(1, 20),
                        });
                    }
                } else if let Some(msg) = &s.escalate {
                    let message = template(
                        format!("{}/{i}/escalate", spec.name),
                        field("escalate"),
                        msg,
                    );
                    let recommend = s.recommend.as_deref().map(|r| {
                        template(
                            format!("{}/{i}/recommend", spec.name),
                            field("recommend"),
                            r,
                        )
                    });
                    steps.push(Step::Escalate {
                        message,
                        recommend,
                        case: s.case.clone(),
                    });
                }
                if s.wait.is_none() && (s.on_event.is_some() || s.on_timeout.is_some()) {
                    errors.push(err(
                        format!("steps[{i}]"),
                        "sets `on_event` or `on_timeout`, which go with `wait` only".into(),
                    ));
                }
                if s.escalate.is_none() && (s.recommend.is_some() || s.case.is_some()) {
                    errors.push(err(
                        format!("steps[{i}]"),
                        "sets `recommend` or `case`, which go with `escalate` only".into(),
                    ));
                }
                if s.llm.is_none()
                    && (s.fallback.is_some() || s.prompt.is_some() || s.save_as.is_some())
                {
                    errors.push(err(
                        format!("steps[{i}]"),
                        "sets `prompt`, `fallback` or `save_as`, which go with `llm` only".into(),
                    ));
                }
            }
            let idx = lib.plans.len();
            lib.by_name.insert(spec.name.clone(), idx);
            match spec.trigger.event.strip_suffix('*') {
                Some(prefix) => lib.by_prefix.push((prefix.to_string(), idx)),
                None => lib
                    .by_event
                    .entry(spec.trigger.event.clone())
                    .or_default()
                    .push(idx),
            }
            lib.plans.push(Plan {
                spec: spec.clone(),
                when,
                context,
                success_when,
                steps,
            });
        }
        for p in &lib.plans {
            if let Some(c) = &p.spec.contingency
                && !lib.by_name.contains_key(c)
            {
                errors.push(PlanError {
                    section: "plans",
                    plan: p.spec.name.clone(),
                    field: "contingency".into(),
                    message: format!("names `{c}`, which is not a plan of this role"),
                });
            }
        }
        lib.templates = env;
        if errors.is_empty() {
            Ok(lib)
        } else {
            Err(errors)
        }
    }

    /// A plan by name.
    pub fn get(&self, name: &str) -> Option<&Plan> {
        self.by_name.get(name).map(|i| &self.plans[*i])
    }

    /// Number of plans.
    pub fn len(&self) -> usize {
        self.plans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }

    /// Plans whose trigger names `kind`, in declaration order.
    pub fn triggered_by<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Plan> + 'a {
        let mut idx: Vec<usize> = self.by_event.get(kind).cloned().unwrap_or_default();
        idx.extend(
            self.by_prefix
                .iter()
                .filter(|(p, _)| kind.starts_with(p.as_str()))
                .map(|(_, i)| *i),
        );
        idx.sort_unstable();
        idx.into_iter().map(|i| &self.plans[i])
    }

    /// Plans serving `goal`, in declaration order.
    pub fn serving<'a>(&'a self, goal: &'a str) -> impl Iterator<Item = &'a Plan> + 'a {
        self.plans
            .iter()
            .filter(move |p| p.spec.goal.as_deref() == Some(goal))
    }
}

/// A shareable library.
pub type SharedPlans = Arc<PlanLibrary>;

#[cfg(test)]
mod tests;
