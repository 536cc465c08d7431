//! Role templates (`config/roles/<role>.toml`): what an employee of a role is hired with —
//! job title, department, default persona, goals with metrics and targets, and the cron
//! schedules it works to.

use super::{ConfigError, parse_toml_file, toml_files};
use crate::model::{AccessLevel, Goal, Integration, Persona, Skill};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Capabilities an employee may be given.
pub const KNOWN_CAPABILITIES: &[&str] = &[
    "email",
    "chat",
    "calendar",
    "crm",
    "documents",
    "research",
    "llm",
    "mcp",
];

/// Whether `name` is a capability an employee may be given.
pub fn role_capability_known(name: &str) -> bool {
    KNOWN_CAPABILITIES.contains(&name)
}

/// A role template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleTemplate {
    /// Role id: the file stem, e.g. `sales_ae`.
    #[serde(skip)]
    pub id: String,
    /// Job title, e.g. `Sales Account Executive`.
    pub job_title: String,
    /// Department.
    pub department: String,
    /// The team a new hire joins: a team id (`config/teams/<id>.toml`), or none.
    #[serde(default)]
    pub team: String,
    /// What the role does, in a sentence.
    pub description: String,
    /// Enabled capabilities.
    pub capabilities: Vec<String>,
    /// Starting skills.
    #[serde(default)]
    pub skills: Vec<Skill>,
    /// Access level.
    pub access_level: AccessLevel,
    /// Permissions per system.
    #[serde(default)]
    pub permissions: BTreeMap<String, Vec<String>>,
    /// Connected services.
    #[serde(default)]
    pub integrations: Vec<Integration>,
    /// Default persona.
    pub persona: Persona,
    /// Goals with metrics and targets.
    pub goals: Vec<Goal>,
    /// Cron schedules: each tick becomes a `cron.tick` event for the employee.
    #[serde(default)]
    pub schedules: Vec<Schedule>,
    /// Plans the role's employees pursue their goals with.
    #[serde(default)]
    pub plans: Vec<crate::bdi::PlanSpec>,
    /// Proactive triggers (signals) plans can start on.
    #[serde(default)]
    pub triggers: Vec<crate::bdi::SignalSpec>,
    /// Actions that need approval even from an autonomous employee.
    #[serde(default)]
    pub policies: Vec<crate::bdi::PolicySpec>,
    /// When an employee proposes its promotion to the next onboarding phase.
    #[serde(default)]
    pub promotion: crate::bdi::PromotionSpec,
    /// How inbound mail is triaged (priority and intent), before the node's defaults.
    #[serde(default)]
    pub triage: Vec<crate::capabilities::email::TriageRule>,
    /// Action kinds of the role's own, for its plans (recorded, not carried out, until
    /// a driver takes them).
    #[serde(default)]
    pub actions: Vec<crate::capabilities::CustomAction>,
    /// `[language]`: what the role's employees may send to a language model outside
    /// the node.
    #[serde(default)]
    pub language: LanguageSpec,
    /// Plans, triggers and policies added from shared plan files: name → file.
    #[serde(skip)]
    pub added_from: BTreeMap<String, String>,
    /// The file the template was read from (empty when built in code).
    #[serde(skip)]
    pub file: String,
}

/// `[language]` of a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageSpec {
    /// What goes into prompts sent to a provider outside the node (`anthropic`,
    /// `openai`): `memories` (what the employee recalls), `crm` (the employee's open
    /// deals). A local model sees both. Credentials never go into a prompt.
    #[serde(default = "LanguageSpec::everything")]
    pub share: Vec<String>,
}

impl LanguageSpec {
    /// What may be shared.
    pub const KINDS: [&str; 2] = ["memories", "crm"];

    fn everything() -> Vec<String> {
        Self::KINDS.iter().map(|s| s.to_string()).collect()
    }
}

impl Default for LanguageSpec {
    fn default() -> Self {
        LanguageSpec {
            share: Self::everything(),
        }
    }
}

/// A shared plan file (`config/plans/*.toml`): plans, triggers and policies added to
/// every role it names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    /// Role ids this file adds to; `"*"` for every role.
    roles: Vec<String>,
    #[serde(default)]
    plans: Vec<crate::bdi::PlanSpec>,
    #[serde(default)]
    triggers: Vec<crate::bdi::SignalSpec>,
    #[serde(default)]
    policies: Vec<crate::bdi::PolicySpec>,
}

/// A recurring moment in the role's week, e.g. weekly planning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Name carried by the tick event, e.g. `weekly_strategic_planning`.
    pub name: String,
    /// Cron expression, 5 fields (minute first) or 6 (seconds first), in UTC.
    pub cron: String,
    /// What happens at this moment.
    #[serde(default)]
    pub description: String,
}

/// Parses a cron expression (5 or 6 fields) and returns it in the 6-field form the
/// scheduler runs, or a message saying what is wrong.
pub fn normalize_cron(expr: &str) -> Result<String, String> {
    let fields = expr.split_whitespace().count();
    let six = match fields {
        5 => format!("0 {}", expr.trim()),
        6 => expr.split_whitespace().collect::<Vec<_>>().join(" "),
        n => {
            return Err(format!(
                "must have 5 fields (min hour day month weekday) or 6 (with seconds first), got {n} in {expr:?}"
            ));
        }
    };
    parse_cron6(&six).map_err(|e| format!("is not a valid cron expression ({e}): {expr:?}"))?;
    Ok(six)
}

/// A 6-field cron expression (seconds first; day of month and weekday both apply), as
/// every schedule of the node is read.
pub fn parse_cron6(six: &str) -> Result<croner::Cron, croner::errors::CronError> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(six)
}

impl RoleTemplate {
    /// Checks every plan step and policy against the action registry (with the role's
    /// own `[[actions]]`): an unknown kind, a missing required parameter, a parameter the
    /// kind does not take, a kind no driver carries out, and a recipient that is a
    /// placeholder rather than an address, team or template naming someone are errors.
    /// `file` is the role's template; plans added from a shared plan file are reported
    /// there.
    pub fn check_actions(
        &self,
        file: &str,
        builtin: &crate::capabilities::ActionRegistry,
    ) -> Vec<ConfigError> {
        let mut found = Vec::new();
        let (registry, errors) = builtin.with_custom(&self.actions);
        for (i, message) in errors {
            found.push(ConfigError::new(
                file,
                format!("actions[{i}].kind"),
                message,
            ));
        }
        for plan in &self.plans {
            let from = self.added_from.get(&plan.name);
            let (where_, role) = match from {
                Some(f) => (f.as_str(), format!(" (added to role `{}`)", self.id)),
                None => (file, String::new()),
            };
            for (i, step) in plan.steps.iter().enumerate() {
                let Some(kind) = &step.action else { continue };
                let mut sets = vec![step.params.clone()];
                for v in &step.variants {
                    let mut merged = step.params.clone();
                    merged.extend(v.params.clone());
                    sets.push(merged);
                }
                for f in registry.check_step(kind, &sets) {
                    found.push(ConfigError::new(
                        where_,
                        format!("plans.{}.steps[{i}]", plan.name),
                        format!("`{kind}`{role}: {f}"),
                    ));
                }
            }
        }
        for (i, policy) in self.policies.iter().enumerate() {
            if registry.get(&policy.action).is_none() {
                let where_ = self
                    .added_from
                    .get(&policy.action)
                    .map_or(file, String::as_str);
                found.push(ConfigError::new(
                    where_,
                    format!("policies[{i}].action"),
                    format!(
                        "policy on `{}`: {}; a policy on an unknown kind never applies",
                        policy.action,
                        registry.unknown(&policy.action)
                    ),
                ));
            }
        }
        found
    }

    /// The role's plans, triggers, policies and promotion criteria.
    pub fn playbook_spec(&self) -> crate::bdi::PlaybookSpec {
        crate::bdi::PlaybookSpec {
            plans: self.plans.clone(),
            triggers: self.triggers.clone(),
            policies: self.policies.clone(),
            promotion: self.promotion.clone(),
        }
    }

    /// Compiles the role's playbook.
    pub fn playbook(
        &self,
        max_intentions: usize,
    ) -> Result<crate::bdi::Playbook, Vec<crate::bdi::PlanError>> {
        let goals: Vec<&str> = self.goals.iter().map(|g| g.id.as_str()).collect();
        let mut pb = crate::bdi::Playbook::compile(&self.playbook_spec(), &goals, max_intentions)?;
        pb.share = self.language.share.clone();
        pb.capabilities = self.capabilities.clone();
        Ok(pb)
    }

    fn validate(&self, file: &str) -> Vec<ConfigError> {
        let mut e: Vec<ConfigError> = self
            .persona
            .validate()
            .into_iter()
            .map(|x| ConfigError::new(file, x.field, x.message))
            .collect();
        for (i, s) in self.language.share.iter().enumerate() {
            if !LanguageSpec::KINDS.contains(&s.as_str()) {
                e.push(ConfigError::new(
                    file,
                    format!("language.share[{i}]"),
                    format!(
                        "is {s:?}; what may be shared with a language model is one of {}",
                        LanguageSpec::KINDS.join(", ")
                    ),
                ));
            }
        }
        for (i, c) in self.capabilities.iter().enumerate() {
            if !KNOWN_CAPABILITIES.contains(&c.as_str()) {
                e.push(ConfigError::new(
                    file,
                    format!("capabilities[{i}]"),
                    format!(
                        "`{c}` is not a capability; use any of {}",
                        KNOWN_CAPABILITIES.join(", ")
                    ),
                ));
            }
        }
        for (i, g) in self.goals.iter().enumerate() {
            for x in g.validate() {
                e.push(ConfigError::new(
                    file,
                    format!("goals[{i}].{}", x.field),
                    x.message,
                ));
            }
        }
        if let Err(plan_errors) = self.playbook(1) {
            for x in plan_errors {
                // A plan from a shared plan file is reported in that file.
                let from = self.added_from.get(&x.plan).map_or(file, String::as_str);
                e.push(ConfigError::new(
                    from,
                    format!("{}.{}.{}", x.section, x.plan, x.field),
                    x.message,
                ));
            }
        }
        for (i, t) in self.triage.iter().enumerate() {
            if let Some(m) = t.problem() {
                e.push(ConfigError::new(file, format!("triage[{i}]"), m));
            }
        }
        for (i, s) in self.schedules.iter().enumerate() {
            if let Err(m) = normalize_cron(&s.cron) {
                e.push(ConfigError::new(file, format!("schedules[{i}].cron"), m));
            }
            if s.name.trim().is_empty() {
                e.push(ConfigError::new(
                    file,
                    format!("schedules[{i}].name"),
                    "must not be empty",
                ));
            }
        }
        e
    }
}

/// Loads every role template of `dir`, keyed by file stem, adds the shared plan files
/// of `plans_dir` to the roles they name, and validates each role (its plan steps
/// against the action registry too), every problem into `errors`.
pub(crate) fn load_dir(
    dir: &Path,
    plans_dir: &Path,
    registry: &crate::capabilities::ActionRegistry,
    errors: &mut Vec<ConfigError>,
) -> BTreeMap<String, RoleTemplate> {
    let mut roles = BTreeMap::new();
    let mut files = BTreeMap::new();
    for path in toml_files(dir, errors) {
        let Some(mut role) = parse_toml_file::<RoleTemplate>(&path, errors) else {
            continue;
        };
        role.id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.insert(role.id.clone(), path.display().to_string());
        roles.insert(role.id.clone(), role);
    }
    if plans_dir.is_dir() {
        for path in toml_files(plans_dir, errors) {
            if let Some(f) = parse_toml_file::<PlanFile>(&path, errors) {
                add_plan_file(&mut roles, f, &path.display().to_string(), errors);
            }
        }
    }
    for (id, role) in &mut roles {
        role.file = files[id].clone();
    }
    for role in roles.values() {
        errors.extend(role.validate(&role.file));
        errors.extend(role.check_actions(&role.file, registry));
    }
    roles
}

fn add_plan_file(
    roles: &mut BTreeMap<String, RoleTemplate>,
    f: PlanFile,
    file: &str,
    errors: &mut Vec<ConfigError>,
) {
    if f.roles.is_empty() {
        errors.push(ConfigError::new(
            file,
            "roles",
            "must name at least one role id (a file stem in the roles directory), or \"*\" for all",
        ));
    }
    let mut targets = Vec::new();
    for (i, r) in f.roles.iter().enumerate() {
        if r == "*" {
            targets.extend(roles.keys().cloned());
        } else if roles.contains_key(r) {
            targets.push(r.clone());
        } else {
            errors.push(ConfigError::new(
                file,
                format!("roles[{i}]"),
                format!(
                    "names `{r}`, which is not a role; use one of: {}",
                    roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    targets.sort();
    targets.dedup();
    for id in targets {
        let role = roles.get_mut(&id).expect("checked above");
        for p in &f.plans {
            role.added_from.insert(p.name.clone(), file.into());
        }
        for t in &f.triggers {
            role.added_from.insert(t.name.clone(), file.into());
        }
        for p in &f.policies {
            role.added_from.insert(p.action.clone(), file.into());
        }
        role.plans.extend(f.plans.iter().cloned());
        role.triggers.extend(f.triggers.iter().cloned());
        role.policies.extend(f.policies.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_field_cron_gains_a_seconds_field() {
        assert_eq!(normalize_cron("0 9 * * 1").unwrap(), "0 0 9 * * 1");
        assert_eq!(normalize_cron("*/5 * * * * *").unwrap(), "*/5 * * * * *");
        assert!(normalize_cron("61 * * * *").is_err());
        assert!(normalize_cron("* *").unwrap_err().contains("5 fields"));
    }
}
