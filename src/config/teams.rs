//! Teams, one file each in `teams_dir` (`config/teams/product.toml`): who is on the
//! team — mail addresses and employee handles — its lead, and the chat channel it uses.
//! A plan names a team where it names recipients or attendees (`team:product`); the
//! team's members are who the action reaches.

use super::{ConfigError, parse_toml_file, toml_files};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What names a team in a recipients value.
pub const PREFIX: &str = "team:";

/// One team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Its id: the file's stem (`product`), as plans name it (`team:product`).
    #[serde(default)]
    pub id: String,
    /// Its name, e.g. "Product team".
    pub name: String,
    /// Who is on it: mail addresses (`"Ana Diaz <ana@example.com>"`) or employee
    /// handles (`casey.kim`).
    pub members: Vec<String>,
    /// Its lead, one of the members.
    #[serde(default)]
    pub lead: Option<String>,
    /// The chat channel it uses, e.g. `#product`.
    #[serde(default)]
    pub channel: Option<String>,
    /// When its daily stand-up is (cron, UTC, e.g. `"0 9 * * 1-5"`): each employee
    /// member's update (done, next, blocked) is posted to `channel` and remembered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standup: Option<String>,
    /// Shared goals its members' goals roll up into.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<TeamGoal>,
}

/// A goal the whole team shares: its progress is the sum of the members' current
/// values of `metric` (the metric their own goals measure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamGoal {
    /// Its id within the team, e.g. `q4_revenue`.
    pub id: String,
    /// The metric members' goals measure, e.g. `closed_revenue_usd`.
    pub metric: String,
    /// The team's target for the sum.
    pub target: f64,
    /// What it is, in words.
    #[serde(default)]
    pub description: String,
}

fn handle_like(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Whether `member` names someone: an address or an employee handle.
pub fn is_member(member: &str) -> bool {
    let m = member.trim();
    crate::model::is_address(crate::model::bare_address(m)) || handle_like(m)
}

/// The teams of `dir` by id; a missing directory means none. Each problem is an error
/// naming the file and key.
pub fn load_dir(dir: &Path, errors: &mut Vec<ConfigError>) -> BTreeMap<String, Team> {
    let mut teams = BTreeMap::new();
    if !dir.is_dir() {
        return teams;
    }
    for path in toml_files(dir, errors) {
        let file = path.display().to_string();
        let Some(mut team) = parse_toml_file::<Team>(&path, errors) else {
            continue;
        };
        team.id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !handle_like(&team.id) {
            errors.push(ConfigError::new(
                &file,
                "",
                format!(
                    "the file name names the team ({:?}): use lowercase letters, digits, `.`, `_` or `-`",
                    team.id
                ),
            ));
        }
        if team.members.is_empty() {
            errors.push(ConfigError::new(
                &file,
                "members",
                "names no one; list mail addresses (\"Ana Diaz <ana@example.com>\") or employee handles (casey.kim)",
            ));
        }
        for (i, m) in team.members.iter().enumerate() {
            if !is_member(m) {
                errors.push(ConfigError::new(
                    &file,
                    format!("members[{i}]"),
                    format!("{m:?} is neither a mail address nor an employee handle"),
                ));
            }
        }
        if let Some(lead) = &team.lead
            && !team.members.iter().any(|m| m.trim() == lead.trim())
        {
            errors.push(ConfigError::new(
                &file,
                "lead",
                format!("{lead:?} is not among the team's `members`; add them, or name a member"),
            ));
        }
        if let Some(cron) = &team.standup {
            if team.channel.is_none() {
                errors.push(ConfigError::new(
                    &file,
                    "standup",
                    "needs the team's `channel` (e.g. \"#sales\"), where the updates are posted",
                ));
            }
            if let Err(m) = super::normalize_cron(cron) {
                errors.push(ConfigError::new(
                    &file,
                    "standup",
                    format!("{m}; write it like \"0 9 * * 1-5\" (09:00 UTC on weekdays)"),
                ));
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for (i, g) in team.goals.iter().enumerate() {
            if !handle_like(&g.id) || !ids.insert(g.id.as_str()) {
                errors.push(ConfigError::new(
                    &file,
                    format!("goals[{i}].id"),
                    format!(
                        "{:?} must be a unique id of lowercase letters, digits, `.`, `_` or `-`",
                        g.id
                    ),
                ));
            }
            if g.metric.trim().is_empty() {
                errors.push(ConfigError::new(
                    &file,
                    format!("goals[{i}].metric"),
                    "must name the metric members' goals measure, e.g. \"closed_revenue_usd\"",
                ));
            }
            if !g.target.is_finite() || g.target <= 0.0 {
                errors.push(ConfigError::new(
                    &file,
                    format!("goals[{i}].target"),
                    format!("must be a number above 0, got {}", g.target),
                ));
            }
        }
        teams.insert(team.id.clone(), team);
    }
    teams
}

/// Why `id` names no team of `teams` (`None` when it names one, or is empty: no team).
pub fn unknown(teams: &BTreeMap<String, Team>, id: &str) -> Option<String> {
    if id.is_empty() || teams.contains_key(id) {
        return None;
    }
    Some(format!(
        "names team `{id}`, which has no file; add teams/{id}.toml next to the roles, or name one of: {}",
        if teams.is_empty() {
            "(no teams yet)".to_string()
        } else {
            teams.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    ))
}

/// The team ids a recipients value names (`team:product` in text or a list).
pub fn named(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(named).collect(),
        serde_json::Value::String(s) => s
            .split(',')
            .filter_map(|part| part.trim().strip_prefix(PREFIX))
            .map(|id| id.trim().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_load_and_each_problem_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("product.toml"),
            "name = \"Product team\"\nmembers = [\"casey.kim\", \"Dana Wu <dana.wu@example.com>\"]\nlead = \"casey.kim\"\nchannel = \"#product\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"Broken\"\nmembers = [\"the whole floor\"]\nlead = \"someone.else\"\nstandup = \"at nine\"\n[[goals]]\nid = \"rev\"\nmetric = \"closed_revenue_usd\"\ntarget = 0\n",
        )
        .unwrap();
        let mut errors = Vec::new();
        let teams = load_dir(dir.path(), &mut errors);
        assert_eq!(teams["product"].members.len(), 2);
        assert_eq!(teams["product"].id, "product");
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "members[0]",
                "lead",
                "standup",
                "standup",
                "goals[0].target"
            ],
            "{errors:?}"
        );
        assert!(load_dir(&dir.path().join("none"), &mut errors).is_empty());
        assert_eq!(
            named(&serde_json::json!("team:product, ana@example.com")),
            ["product"]
        );
        assert_eq!(named(&serde_json::json!(["team:a", "team:b"])), ["a", "b"]);
    }
}
