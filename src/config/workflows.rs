//! Collaborative workflows, one file each in `workflows_dir`
//! (`config/workflows/launch-feature.toml`): named steps, each handed to an employee of
//! a role (or of any role with a capability) as a delegated task once the steps it
//! comes `after` are done, and escalated when it stays open longer than `stuck_after`.
//!
//! Loading checks every file and reports each problem naming the file and key: an
//! unknown role or capability, an `after` naming no step or closing a cycle, a
//! duration that does not parse. Nothing here starts a run (see
//! [`crate::lifecycle::workflows`]).

use super::{ConfigError, RoleTemplate, parse_toml_file, toml_files};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use utoipa::ToSchema;

/// One workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// Its id: the file's stem (`launch-feature`), as runs name it.
    #[serde(default)]
    pub id: String,
    /// Its name, e.g. "Launch a feature".
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The inputs a run must be given (`feature`, `account`): each step's text may use
    /// them as `{{ inputs.feature }}`.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// The steps, in the order they are listed; `after` orders them.
    pub steps: Vec<WorkflowStepSpec>,
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowStepSpec {
    /// Its id within the workflow, e.g. `spec`.
    pub id: String,
    /// What to do, as the task's words: a template over the run's `inputs`.
    pub title: String,
    /// The role whose employee does it (`pm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Or a capability the employee's role must have (`crm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    /// The steps that must be done first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// How long the step may stay open before it is escalated, e.g. `2d`.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub stuck_after: Option<Duration>,
}

impl WorkflowStepSpec {
    /// Who may do the step, in words: `role pm` or `a role with crm`.
    pub fn who(&self) -> String {
        match (&self.role, &self.capability) {
            (Some(r), _) => format!("role {r}"),
            (None, Some(c)) => format!("a role with {c}"),
            (None, None) => "anyone".into(),
        }
    }
}

/// The workflows of `dir` by id; a missing directory means none. Each problem is an
/// error naming the file and key.
pub fn load_dir(
    dir: &Path,
    roles: &BTreeMap<String, RoleTemplate>,
    errors: &mut Vec<ConfigError>,
) -> BTreeMap<String, Workflow> {
    let mut out = BTreeMap::new();
    if !dir.is_dir() {
        return out;
    }
    for path in toml_files(dir, errors) {
        let file = path.display().to_string();
        let Some(mut w) = parse_toml_file::<Workflow>(&path, errors) else {
            continue;
        };
        w.id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        errors.extend(
            check(&w, roles)
                .into_iter()
                .map(|(key, message)| ConfigError::new(&file, key, message)),
        );
        out.insert(w.id.clone(), w);
    }
    out
}

fn id_like(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
}

/// Every problem of `w` as (key, message).
pub fn check(w: &Workflow, roles: &BTreeMap<String, RoleTemplate>) -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = Vec::new();
    if !id_like(&w.id) {
        e.push((
            String::new(),
            format!(
                "the file name names the workflow ({:?}): use lowercase letters, digits, `_` or `-`",
                w.id
            ),
        ));
    }
    if w.steps.is_empty() {
        e.push((
            "steps".into(),
            "lists no step; add [[steps]] with `id`, `title` and `role`".into(),
        ));
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in w.steps.iter().enumerate() {
        let key = |k: &str| format!("steps[{i}].{k}");
        if !id_like(&s.id) {
            e.push((
                key("id"),
                format!("{:?} must be lowercase letters, digits, `_` or `-`", s.id),
            ));
        }
        if seen.insert(&s.id, i).is_some() {
            e.push((
                key("id"),
                format!("{:?} names two steps; give each step its own id", s.id),
            ));
        }
        if s.title.trim().is_empty() {
            e.push((key("title"), "must say what to do".into()));
        } else if let Err(m) = render(&s.title, &serde_json::json!({})) {
            e.push((key("title"), m));
        }
        match (&s.role, &s.capability) {
            (Some(_), Some(_)) => e.push((
                key("role"),
                "give `role` or `capability`, not both".into(),
            )),
            (None, None) => e.push((
                key("role"),
                format!(
                    "is missing: name the role whose employee does the step (one of: {}), or a `capability` its role must have",
                    roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )),
            (Some(r), None) if !roles.contains_key(r) => e.push((
                key("role"),
                format!(
                    "names role `{r}`, which has no template; use one of: {}",
                    roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )),
            (None, Some(c)) if !roles.values().any(|r| r.capabilities.contains(c)) => {
                e.push((
                    key("capability"),
                    format!(
                        "no role has capability `{c}`; use one of: {}",
                        super::KNOWN_CAPABILITIES.join(", ")
                    ),
                ))
            }
            _ => {}
        }
        if s.stuck_after.is_some_and(|d| d.is_zero()) {
            e.push((
                key("stuck_after"),
                "must be longer than 0s, e.g. \"2d\"".into(),
            ));
        }
    }
    for (i, s) in w.steps.iter().enumerate() {
        for (j, a) in s.after.iter().enumerate() {
            if !seen.contains_key(a.as_str()) {
                e.push((
                    format!("steps[{i}].after[{j}]"),
                    format!(
                        "names step {a:?}, which this workflow does not have; use one of: {}",
                        w.steps
                            .iter()
                            .map(|s| s.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            } else if a == &s.id {
                e.push((
                    format!("steps[{i}].after[{j}]"),
                    "names the step itself; a step cannot wait for itself".into(),
                ));
            }
        }
    }
    if let Some(cycle) = cycle(w) {
        e.push((
            "steps".into(),
            format!(
                "`after` goes round in a cycle ({}); no step of it could ever start: remove one of these `after` entries",
                cycle.join(" → ")
            ),
        ));
    }
    e
}

/// A cycle of `after` among the steps (longer than one step), as step ids, if any.
fn cycle(w: &Workflow) -> Option<Vec<String>> {
    let index: BTreeMap<&str, usize> = w
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    // 0 unvisited, 1 on the path, 2 done.
    let mut mark = vec![0u8; w.steps.len()];
    fn visit(
        i: usize,
        w: &Workflow,
        index: &BTreeMap<&str, usize>,
        mark: &mut Vec<u8>,
        path: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        mark[i] = 1;
        path.push(i);
        for a in &w.steps[i].after {
            let Some(&j) = index.get(a.as_str()) else {
                continue;
            };
            if j == i {
                continue;
            }
            if mark[j] == 1 {
                let from = path.iter().position(|&p| p == j).unwrap_or(0);
                let mut ids: Vec<String> = path[from..]
                    .iter()
                    .map(|&p| w.steps[p].id.clone())
                    .collect();
                ids.push(w.steps[j].id.clone());
                return Some(ids);
            }
            if mark[j] == 0
                && let Some(c) = visit(j, w, index, mark, path)
            {
                return Some(c);
            }
        }
        path.pop();
        mark[i] = 2;
        None
    }
    for i in 0..w.steps.len() {
        if mark[i] == 0
            && let Some(c) = visit(i, w, &index, &mut mark, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// A step's words with the run's inputs filled in (`{{ inputs.feature }}`).
pub fn render(template: &str, inputs: &serde_json::Value) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    env.render_str(
        template,
        minijinja::context! { inputs => minijinja::Value::from(minijinja::value::Serde(inputs)) },
    )
    .map_err(|e| format!("is not a valid template ({e}); write inputs as {{{{ inputs.name }}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped roles (pm has no `crm`; csm has it).
    fn roles() -> BTreeMap<String, RoleTemplate> {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/empla.toml");
        crate::config::Config::load(&file, &[]).unwrap().roles
    }

    #[test]
    fn each_problem_of_a_workflow_names_its_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("launch.toml"),
            r#"
name = "Launch"
inputs = ["feature"]
[[steps]]
id = "spec"
title = "Write the spec for {{ inputs.feature }}"
role = "pm"
stuck_after = "2d"
[[steps]]
id = "tell"
title = "Tell customers"
capability = "crm"
after = ["spec"]
"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            r#"
name = "Broken"
[[steps]]
id = "a"
title = "A"
role = "cfo"
after = ["b"]
[[steps]]
id = "b"
title = "B"
role = "pm"
after = ["a", "nowhere"]
[[steps]]
id = "c"
title = "C"
capability = "telepathy"
"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("slow.toml"),
            "name = \"Slow\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nrole = \"pm\"\nstuck_after = \"two days\"\n",
        )
        .unwrap();
        let mut errors = Vec::new();
        let w = load_dir(dir.path(), &roles(), &mut errors);
        assert_eq!(
            w["launch"].steps[0].stuck_after,
            Some(Duration::from_secs(172_800))
        );
        assert_eq!(
            render(
                &w["launch"].steps[0].title,
                &serde_json::json!({"feature": "SSO"})
            )
            .unwrap(),
            "Write the spec for SSO"
        );
        let keys: Vec<String> = errors
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    Path::new(&e.file).file_name().unwrap().to_string_lossy(),
                    e.key
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                "broken.toml:steps[0].role",
                "broken.toml:steps[2].capability",
                "broken.toml:steps[1].after[1]",
                "broken.toml:steps",
                "slow.toml:steps[0].stuck_after",
            ],
            "{errors:#?}"
        );
        assert!(errors[3].message.contains("a → b → a"), "{}", errors[3]);
    }
}
