//! Teams as recipients: a plan writes `team:product` where it names recipients or
//! attendees, and the action reaches each member — an address as written, an employee
//! handle as that employee's mailbox.

use super::{CapabilityError, Hands};
use crate::config::teams::{PREFIX, Team};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// The node's teams by id.
pub type Teams = BTreeMap<String, Team>;

/// `v` (text or a list of recipients) with every `team:<id>` replaced by the team's
/// members; `None` when it names no team.
pub(crate) async fn expand(hands: &Hands, v: &Json) -> Result<Option<Json>, CapabilityError> {
    if crate::config::teams::named(v).is_empty() {
        return Ok(None);
    }
    let parts: Vec<String> = match v {
        Json::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Json::String(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
        _ => return Ok(None),
    };
    let mut out: Vec<String> = Vec::new();
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        let Some(id) = part.strip_prefix(PREFIX).map(str::trim) else {
            out.push(part);
            continue;
        };
        let team = hands.teams.get(id).ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "no team `{id}` on this node; add config/teams/{id}.toml, or name one of: {}",
                hands.teams.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        for member in &team.members {
            let member = member.trim();
            let mailbox = if member.contains('@') {
                member.to_string()
            } else {
                let who = hands.employees.resolve(member).ok_or_else(|| {
                    CapabilityError::Invalid(format!(
                        "team `{id}` names `{member}`, who is not an employee here; fix config/teams/{id}.toml"
                    ))
                })?;
                match hands.sender(who).await? {
                    Some((s, _)) => s.mailbox(),
                    None => continue,
                }
            };
            let bare = crate::model::bare_address(&mailbox).to_ascii_lowercase();
            if !out
                .iter()
                .any(|o| crate::model::bare_address(o).eq_ignore_ascii_case(&bare))
            {
                out.push(mailbox);
            }
        }
    }
    Ok(Some(match v {
        Json::Array(_) => Json::Array(out.into_iter().map(Json::String).collect()),
        _ => Json::String(out.join(", ")),
    }))
}

/// `params` with the teams named in `names` (recipient parameters) expanded.
pub(crate) async fn expand_params(
    hands: &Hands,
    params: &Json,
    names: impl Iterator<Item = &str>,
) -> Result<Option<Json>, CapabilityError> {
    let mut changed: Option<Json> = None;
    for name in names {
        if let Some(v) = expand(hands, &params[name]).await? {
            changed.get_or_insert_with(|| params.clone())[name] = v;
        }
    }
    Ok(changed)
}
