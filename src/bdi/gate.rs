//! The gate every action passes (seed 0.2): the employee's onboarding phase and the
//! role's policies decide whether it is executed, proposed only, or queued for approval.
//!
//! - `shadow`: recorded as proposed, never executed; the mentor's real action for the
//!   same event is compared with it and the agreement scored.
//! - `assisted`: waits in the approval queue (an action that only reads runs); a
//!   rejection is feedback.
//! - `autonomous`: executed, unless a policy says it needs approval.
//!
//! Escalations to a human pass in every phase: asking for help is never held back.
//!
//! Before the phase, a pause on contact (a directive, see `directives.rs`): an action
//! that reaches people outside — mail, chat, calendar invitations, or any action with
//! recipients — addressed to a paused person or to anyone at a paused account is held
//! back, its intention waiting at that step until the pause ends or is lifted.

use super::expr::{Condition, cel_map, json_to_cel};
use super::intention::Seen;
use super::{Mind, Situation};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Onboarding phase.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Proposes only.
    #[default]
    Shadow,
    /// Acts after approval.
    Assisted,
    /// Acts on its own, within policy.
    Autonomous,
}

impl Phase {
    /// The phase after this one.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Shadow => Some(Phase::Assisted),
            Phase::Assisted => Some(Phase::Autonomous),
            Phase::Autonomous => None,
        }
    }

    /// Name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Shadow => "shadow",
            Phase::Assisted => "assisted",
            Phase::Autonomous => "autonomous",
        }
    }
}

/// What happens to an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "gate", rename_all = "snake_case")]
pub enum Disposition {
    /// Run it.
    Execute,
    /// Record it as proposed (shadow).
    Propose,
    /// Queue it for a human's approval.
    AwaitApproval {
        /// Why approval is needed.
        reason: String,
    },
}

/// A policy as written in the role's TOML (`[[policies]]`): actions of this kind that
/// satisfy `when` need approval even from an autonomous employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Action kind, e.g. `email.send`.
    pub action: String,
    /// CEL over `action.params` (and beliefs, goals, metrics); always when unset.
    #[serde(default)]
    pub when: Option<String>,
    /// Shown to the approver.
    pub reason: String,
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// As written.
    pub spec: PolicySpec,
    /// Compiled condition.
    pub when: Option<Condition>,
}

/// When an employee proposes its own promotion (`[promotion]` in the role's TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionSpec {
    /// Share of decisions that must agree with the mentor (shadow) or be approved
    /// (assisted), 0..=1.
    #[serde(default = "eighty")]
    pub min_agreement: f64,
    /// Decisions scored before promotion is considered.
    #[serde(default = "fifty")]
    pub min_decisions: u32,
}

fn eighty() -> f64 {
    0.8
}
fn fifty() -> u32 {
    50
}

impl Default for PromotionSpec {
    fn default() -> Self {
        PromotionSpec {
            min_agreement: eighty(),
            min_decisions: fifty(),
        }
    }
}

/// How well the employee's judgement matches its humans' in its current phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Decisions that agreed (shadow) or were approved (assisted).
    pub agreed: u32,
    /// Decisions scored.
    pub scored: u32,
    /// Whether a promotion has been proposed and awaits the manager.
    pub proposed: bool,
}

impl Agreement {
    /// Share agreed, 0 when nothing was scored.
    pub fn rate(&self) -> f64 {
        if self.scored == 0 {
            0.0
        } else {
            self.agreed as f64 / self.scored as f64
        }
    }

    /// Whether the criteria for promotion are met (and not yet proposed).
    pub fn ready(&self, spec: &PromotionSpec) -> bool {
        !self.proposed && self.scored >= spec.min_decisions && self.rate() >= spec.min_agreement
    }
}

/// Kinds that reach people by their nature (a reply goes to its thread's sender).
const CONTACT_KINDS: &[&str] = &["email.", "chat.", "calendar."];
/// Parameters naming whom an action reaches.
const RECIPIENTS: &[&str] = &["to", "cc", "bcc", "attendees", "recipients", "recipient"];
/// Parameters naming a person or an account an action is about.
const NAMED: &[&str] = &[
    "email", "address", "contact", "lead", "account", "company", "customer",
];
/// Fields of the triggering event's payload naming whom a reply in its thread reaches.
const THREAD: &[&str] = &[
    "from",
    "from_address",
    "reply_to",
    "email",
    "lead",
    "contact",
    "company",
    "account",
];

/// The text under `keys` in `v` (strings, or lists of them).
fn texts_at(v: &Json, keys: &[&str], out: &mut Vec<String>) {
    fn texts(v: &Json, out: &mut Vec<String>) {
        match v {
            Json::String(s) => out.push(s.clone()),
            Json::Array(a) => a.iter().for_each(|x| texts(x, out)),
            _ => {}
        }
    }
    for k in keys {
        texts(&v[*k], out);
    }
}

impl Mind {
    /// The pause (its index) that holds back an action of `kind` with `params`, taken
    /// by an intention started by `trigger`, if one does: an action that only reads,
    /// or an escalation, is never held; one that reaches people is held when a
    /// recipient, or the person or account it names (a reply: its thread's sender), is
    /// paused.
    pub(super) fn paused_for(
        &self,
        s: &Situation<'_>,
        kind: &str,
        params: &Json,
        trigger: &Json,
    ) -> Option<usize> {
        if self.directives.pauses.is_empty()
            || kind == "escalate"
            || s.playbook.reads.contains(kind)
        {
            return None;
        }
        let mut who = Vec::new();
        texts_at(params, RECIPIENTS, &mut who);
        let contact = CONTACT_KINDS.iter().any(|p| kind.starts_with(p));
        if !contact && who.is_empty() {
            return None;
        }
        let addressed = !who.is_empty();
        texts_at(params, NAMED, &mut who);
        if !addressed {
            texts_at(&trigger["payload"], THREAD, &mut who);
        }
        self.directives
            .pauses
            .iter()
            .position(|p| p.in_force(s.now) && p.covers(&who))
    }

    /// The gate: phase first, then policies.
    pub(super) fn gate(&self, s: &Situation<'_>, kind: &str, params: &Json) -> Disposition {
        match self.phase {
            Phase::Shadow => return Disposition::Propose,
            // Reading changes nothing a human must answer for: it runs (within policy);
            // everything that acts on the world waits for approval.
            Phase::Assisted if !s.playbook.reads.contains(kind) => {
                return Disposition::AwaitApproval {
                    reason:
                        "assisted phase: every action that changes something is approved by a human"
                            .into(),
                };
            }
            Phase::Assisted | Phase::Autonomous => {}
        }
        if kind == "email.reply" && crate::model::truthy(&params["reply_all"]) {
            return Disposition::AwaitApproval {
                reason:
                    "a reply to everyone on the thread, not just its sender, is approved by a human"
                        .into(),
            };
        }
        let view = self.beliefs.view(s.now, &s.playbook.decay);
        let seen = Seen::new(s, &Json::Null);
        for p in s.playbook.policies.iter().filter(|p| p.spec.action == kind) {
            let holds = match &p.when {
                None => true,
                Some(c) => {
                    let mut scope = seen.scope(&view, &self.goals, &self.metrics);
                    scope.action = cel_map([
                        (
                            "kind",
                            cel::Value::String(std::sync::Arc::new(kind.to_string())),
                        ),
                        ("params", json_to_cel(params)),
                    ]);
                    // A policy that cannot be evaluated errs on the side of asking.
                    c.eval(&scope).unwrap_or(true)
                }
            };
            if holds {
                return Disposition::AwaitApproval {
                    reason: p.spec.reason.clone(),
                };
            }
        }
        Disposition::Execute
    }
}
