//! A role's playbook: its plans, proactive triggers, approval policies and promotion
//! criteria, compiled once and shared by every employee of the role.

use super::*;

/// What a role adds to its employees' reasoning, as written in its TOML.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookSpec {
    /// Plans.
    #[serde(default)]
    pub plans: Vec<PlanSpec>,
    /// Proactive triggers.
    #[serde(default)]
    pub triggers: Vec<SignalSpec>,
    /// Actions that need approval even when autonomous.
    #[serde(default)]
    pub policies: Vec<PolicySpec>,
    /// When the employee proposes its promotion.
    #[serde(default)]
    pub promotion: PromotionSpec,
}

/// A role's compiled playbook, shared by its employees.
#[derive(Debug)]
pub struct Playbook {
    /// Plans.
    pub plans: PlanLibrary,
    /// Signals.
    pub signals: Vec<SignalSpec>,
    /// Policies.
    pub policies: Vec<Policy>,
    /// Promotion criteria.
    pub promotion: PromotionSpec,
    /// Most intentions an employee pursues at once.
    pub max_intentions: usize,
    /// How confidence fades per belief kind.
    pub decay: Decay,
    /// An intention waiting longer than this blocks its goal.
    pub wait_limit: chrono::Duration,
    /// Action kinds that only read (the CRM, the web) and change nothing outside the
    /// node: in the assisted phase they run without waiting for a human.
    pub reads: std::collections::BTreeSet<String>,
    /// What goes into prompts for a model outside the node (`memories`, `crm`).
    pub share: Vec<String>,
    /// The role's capabilities (`email`, `crm`, ...): whose actions a model may call as
    /// tools.
    pub capabilities: Vec<String>,
}

impl Playbook {
    /// Compiles a role's playbook; every problem is reported, naming plan and field.
    pub fn compile(
        spec: &PlaybookSpec,
        goals: &[&str],
        max_intentions: usize,
    ) -> Result<Playbook, Vec<PlanError>> {
        let mut errors = Vec::new();
        let plans = PlanLibrary::compile(&spec.plans, goals).map_err(|e| errors.extend(e));
        for s in &spec.triggers {
            for (field, message) in s.validate() {
                errors.push(PlanError {
                    section: "triggers",
                    plan: s.name.clone(),
                    field,
                    message,
                });
            }
        }
        let mut policies = Vec::new();
        for p in &spec.policies {
            let when = Condition::compile_optional(p.when.as_deref()).unwrap_or_else(|message| {
                errors.push(PlanError {
                    section: "policies",
                    plan: p.action.clone(),
                    field: "when".into(),
                    message,
                });
                None
            });
            policies.push(Policy {
                spec: p.clone(),
                when,
            });
        }
        match plans {
            Ok(plans) if errors.is_empty() => Ok(Playbook {
                plans,
                signals: spec.triggers.clone(),
                policies,
                promotion: spec.promotion.clone(),
                max_intentions: max_intentions.max(1),
                decay: Decay::default(),
                wait_limit: chrono::Duration::days(3),
                reads: Default::default(),
                share: vec!["memories".into(), "crm".into()],
                capabilities: Vec::new(),
            }),
            _ => Err(errors),
        }
    }
}
