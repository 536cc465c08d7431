//! Configuration: the node file (`config/empla.toml`), role templates
//! (`config/roles/*.toml`) and employee specs (`config/employees/*.toml`).
//!
//! The node file is assembled from each component's own section, defined beside the
//! component (as Vector's sources and sinks carry their config): `[store]` in
//! [`crate::store`], `[runtime]` in [`crate::actors`], `[memory]` in [`crate::memory`],
//! `[mail]`, `[chat]` and `[calendar]` in their capabilities, `[log]` in
//! [`crate::telemetry`]. Only `[node]` itself lives here.
//!
//! Loading validates everything and reports every problem at once, each naming the file,
//! the key and the fix. Unknown keys are errors. `EMPLA_*` environment variables override
//! node keys. Nothing here opens a store or starts anything.

mod env;
mod node;
mod role;
pub mod teams;
pub mod workflows;

pub use crate::actors::RuntimeConfig;
pub use crate::capabilities::calendar::{CalendarConfig, CalendarDriverKind, PersonHours};
pub use crate::capabilities::chat::{ChatConfig, ChatDriver, SlackApp, SlackApps};
pub use crate::capabilities::email::{
    MailAccount, MailAccounts, MailConfig, MailDriver, Secret, Security,
};
pub use crate::connections::OAuthConfig;
pub use crate::memory::{EmbedderKind, MemoryConfig};
pub use crate::store::{SqliteSync, StoreConfig};
pub use crate::telemetry::LogConfig;
pub use node::{NodeConfig, NodeSection};
pub use role::{
    KNOWN_CAPABILITIES, RoleTemplate, Schedule, normalize_cron, parse_cron6, role_capability_known,
};

use crate::lifecycle::HireRequest;
use crate::model::FieldError;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in the configuration: where, which key, what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file (or `environment`) the problem is in.
    pub file: String,
    /// Dotted key path, empty when the whole file is at fault.
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(
        file: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            key: key.into(),
            message: message.into(),
        }
    }

    fn from_field(file: &str, e: FieldError) -> Self {
        Self::new(file, e.field, e.message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: `{}` {}", self.file, self.key, self.message)
        }
    }
}

/// Every problem found while loading the configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The whole configuration of a node.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the node file was read from (None: built-in defaults).
    pub path: Option<PathBuf>,
    /// The node's own settings.
    pub node: NodeConfig,
    /// Role templates by role id (the file stem).
    pub roles: BTreeMap<String, RoleTemplate>,
    /// Demo employees to hire on start, with the file each came from.
    pub employees: Vec<(PathBuf, HireRequest)>,
    /// Teams by id (the file stem).
    pub teams: BTreeMap<String, teams::Team>,
    /// Collaborative workflows by id (the file stem).
    pub workflows: BTreeMap<String, workflows::Workflow>,
}

impl Config {
    /// Loads `path` and the role and employee directories it names, applying `EMPLA_*`
    /// overrides from `env`.
    pub fn load(path: &Path, env: &[(String, String)]) -> Result<Config, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError::new(
                &file,
                "",
                format!("cannot be read ({e}); pass --config PATH to a node config such as config/empla.toml"),
            )])
        })?;
        let node = NodeConfig::parse(&file, &text, env)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut errors = Vec::new();
        // A plan may name the tools of the configured MCP servers (`mcp.SERVER.TOOL`).
        let registry = crate::capabilities::ActionRegistry::builtin()
            .with_mcp_servers(node.mcp.servers.keys().map(String::as_str));
        let roles = role::load_dir(
            &base.join(&node.node.roles_dir),
            &base.join(&node.node.plans_dir),
            &registry,
            &mut errors,
        );
        let employees = load_employees(&base.join(&node.node.employees_dir), &roles, &mut errors);
        let teams = teams::load_dir(&base.join(&node.node.teams_dir), &mut errors);
        unknown_teams(&roles, &employees, &teams, &mut errors);
        let workflows =
            workflows::load_dir(&base.join(&node.node.workflows_dir), &roles, &mut errors);
        if errors.is_empty() {
            Ok(Config {
                path: Some(path.to_path_buf()),
                node,
                roles,
                employees,
                teams,
                workflows,
            })
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Loads the configuration a command should use: `explicit` when given, else
    /// `config/empla.toml` when it exists, else built-in defaults with no roles.
    pub fn load_default(explicit: Option<&Path>) -> Result<Config, ConfigErrors> {
        let env = env::vars();
        match explicit {
            Some(p) => Self::load(p, &env),
            None if Path::new("config/empla.toml").exists() => {
                Self::load(Path::new("config/empla.toml"), &env)
            }
            None => Ok(Config {
                path: None,
                node: NodeConfig::parse("(built-in defaults)", "", &env)?,
                roles: BTreeMap::new(),
                employees: Vec::new(),
                teams: BTreeMap::new(),
                workflows: BTreeMap::new(),
            }),
        }
    }
}

/// Every team named without a file is an error: a plan step's `team:<id>`, a role's
/// `team`, a demo employee's `team`.
fn unknown_teams(
    roles: &BTreeMap<String, RoleTemplate>,
    employees: &[(PathBuf, HireRequest)],
    teams: &BTreeMap<String, teams::Team>,
    errors: &mut Vec<ConfigError>,
) {
    let mut check = |file: &str, key: String, team: &str| {
        if let Some(message) = teams::unknown(teams, team) {
            errors.push(ConfigError::new(file, key, message));
        }
    };
    for (id, role) in roles {
        let file = if role.file.is_empty() {
            format!("role `{id}`")
        } else {
            role.file.clone()
        };
        check(&file, "team".into(), &role.team);
        for plan in &role.plans {
            for (i, step) in plan.steps.iter().enumerate() {
                let values = step
                    .params
                    .iter()
                    .chain(step.variants.iter().flat_map(|v| v.params.iter()));
                for (param, v) in values {
                    for team in teams::named(v) {
                        check(
                            &file,
                            format!("plans.{}.steps[{i}].params.{param}", plan.name),
                            &team,
                        );
                    }
                }
            }
        }
    }
    for (path, hire) in employees {
        if let Some(team) = &hire.team {
            check(&path.display().to_string(), "team".into(), team);
        }
    }
}

fn load_employees(
    dir: &Path,
    roles: &BTreeMap<String, RoleTemplate>,
    errors: &mut Vec<ConfigError>,
) -> Vec<(PathBuf, HireRequest)> {
    let mut out = Vec::new();
    for path in toml_files(dir, errors) {
        let file = path.display().to_string();
        let Some(spec) = parse_toml_file::<HireRequest>(&path, errors) else {
            continue;
        };
        match roles.get(&spec.role) {
            None => errors.push(ConfigError::new(
                &file,
                "role",
                format!(
                    "names role `{}`, which has no template; use one of: {} (or add config/roles/{}.toml)",
                    spec.role,
                    roles.keys().cloned().collect::<Vec<_>>().join(", "),
                    spec.role
                ),
            )),
            Some(role) => {
                if let Err(es) = spec.check_against(role) {
                    errors.extend(es.into_iter().map(|e| ConfigError::from_field(&file, e)));
                }
            }
        }
        out.push((path, spec));
    }
    out
}

/// The `.toml` files of `dir`, sorted; a missing directory is an error.
pub(crate) fn toml_files(dir: &Path, errors: &mut Vec<ConfigError>) -> Vec<PathBuf> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(ConfigError::new(
                dir.display().to_string(),
                "",
                format!("cannot be read as a directory ({e})"),
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Reads and deserialises one TOML file, recording an error naming the key on failure.
pub(crate) fn parse_toml_file<T: serde::de::DeserializeOwned>(
    path: &Path,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(ConfigError::new(&file, "", format!("cannot be read ({e})")));
            return None;
        }
    };
    match parse_toml_str(&text) {
        Ok(v) => Some(v),
        Err((key, message)) => {
            errors.push(ConfigError::new(file, key, message));
            None
        }
    }
}

/// Deserialises TOML text, returning the failing key path and message on error.
pub(crate) fn parse_toml_str<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, (String, String)> {
    let value: toml::Value = toml::from_str(text)
        .map_err(|e| (String::new(), format!("is not valid TOML: {}", e.message())))?;
    from_value(value)
}

/// Deserialises a TOML value, returning the failing key path and message on error.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    value: toml::Value,
) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let msg = e.into_inner().to_string();
        // For an unknown key, name the key itself rather than the table holding it.
        let key = match msg
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            Some(field) if path.is_empty() => field.to_string(),
            Some(field) if path == field || path.ends_with(&format!(".{field}")) => path,
            Some(field) => format!("{path}.{field}"),
            None => path,
        };
        (key, explain_serde(&msg))
    })
}

/// Turns a serde message into one that says what to do.
fn explain_serde(msg: &str) -> String {
    if msg.starts_with("unknown field") {
        format!("{msg}; remove it or fix its spelling")
    } else if msg.starts_with("missing field") {
        format!("{msg}; add it")
    } else {
        msg.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let r: Result<NodeSection, _> = parse_toml_str("lisen = \"x\"");
        let (key, msg) = r.unwrap_err();
        assert!(msg.contains("unknown field `lisen`"), "{msg}");
        assert!(msg.contains("remove it"), "{msg}");
        assert_eq!(key, "lisen");
    }
}
