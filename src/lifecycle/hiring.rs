//! Hiring: turns a [`HireRequest`] and a role template into an [`EmployeeProfile`].
//!
//! The same request shape is read from `config/employees/*.toml` and from
//! `POST /api/v1/employees`. Overrides replace the template's values; a persona override
//! may give only the traits it changes.

use crate::config::RoleTemplate;
use crate::model::{
    AccessLevel, EmployeeId, EmployeeProfile, EmployeeStatus, FieldError, Goal, Integration,
    Manager, Persona, Skill, TenantId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What to hire: a role and a name, plus optional overrides of the role's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HireRequest {
    /// Role template id, e.g. `sales_ae`.
    pub role: String,
    /// Full name, e.g. `Jordan Lee`; the email address is made from it.
    pub name: String,
    /// Who the employee reports to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Manager>,
    /// Overrides the role's job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Overrides the role's department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Overrides the role's team: a team id (`config/teams/<id>.toml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Avatar image address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Persona traits to change from the role's default; only the given ones change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub persona: Option<serde_json::Value>,
    /// Overrides the role's capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
    /// Overrides the role's skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<Skill>>,
    /// Completed trainings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certifications: Option<Vec<String>>,
    /// Overrides the role's access level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_level: Option<AccessLevel>,
    /// Overrides the role's permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<BTreeMap<String, Vec<String>>>,
    /// Overrides the role's integrations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrations: Option<Vec<Integration>>,
    /// Overrides the role's goals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goals: Option<Vec<Goal>>,
    /// Who is hiring (a person's name or address); defaults to `api` or `config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl HireRequest {
    /// A request for `role` and `name` with no overrides.
    pub fn new(role: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            name: name.into(),
            manager: None,
            job_title: None,
            department: None,
            team: None,
            avatar_url: None,
            persona: None,
            capabilities: None,
            skills: None,
            certifications: None,
            access_level: None,
            permissions: None,
            integrations: None,
            goals: None,
            created_by: None,
        }
    }

    /// Checks the request against its role, returning every problem.
    pub fn check_against(&self, role: &RoleTemplate) -> Result<(), Vec<FieldError>> {
        let placeholder = build_profile(
            role,
            self,
            &TenantId::new("check"),
            EmployeeId::new(),
            "check@example.com".into(),
            Utc::now(),
        )?;
        drop(placeholder);
        Ok(())
    }
}

/// The local part of an address made from a name: `Jordan Lee` → `jordan.lee`.
/// Letters and digits are kept (lower-cased, ASCII), words are joined by dots.
pub fn address_local_part(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .map(|w| {
            w.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        "employee".into()
    } else {
        words.join(".")
    }
}

/// Builds the profile of a new hire: the template's values, overridden by the request's,
/// validated. `email` is the address provisioned for it; its local part is also the chat
/// handle, and the calendar id is derived from it.
pub fn build_profile(
    role: &RoleTemplate,
    req: &HireRequest,
    tenant: &TenantId,
    id: EmployeeId,
    email: String,
    now: DateTime<Utc>,
) -> Result<EmployeeProfile, Vec<FieldError>> {
    let mut errors = Vec::new();
    let persona = match merged_persona(&role.persona, req.persona.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            errors.push(e);
            role.persona.clone()
        }
    };
    if let Some(caps) = &req.capabilities {
        for (i, c) in caps.iter().enumerate() {
            if !crate::config::role_capability_known(c) {
                errors.push(FieldError::new(
                    format!("capabilities[{i}]"),
                    format!("`{c}` is not a capability"),
                ));
            }
        }
    }
    if req.name.chars().count() > 200 {
        errors.push(FieldError::new("name", "must be at most 200 characters"));
    }
    let handle = email.split('@').next().unwrap_or_default().to_string();
    let profile = EmployeeProfile {
        id,
        tenant: tenant.clone(),
        name: req.name.trim().to_string(),
        calendar_id: format!("calendar:{email}"),
        chat_handle: handle,
        email,
        avatar_url: req.avatar_url.clone(),
        role: role.id.clone(),
        job_title: req
            .job_title
            .clone()
            .unwrap_or_else(|| role.job_title.clone()),
        department: req
            .department
            .clone()
            .unwrap_or_else(|| role.department.clone()),
        team: req.team.clone().unwrap_or_else(|| role.team.clone()),
        manager: req.manager.clone(),
        start_date: now,
        status: EmployeeStatus::Onboarding,
        capabilities: req
            .capabilities
            .clone()
            .unwrap_or_else(|| role.capabilities.clone()),
        skills: req.skills.clone().unwrap_or_else(|| role.skills.clone()),
        certifications: req.certifications.clone().unwrap_or_default(),
        access_level: req.access_level.unwrap_or(role.access_level),
        permissions: req
            .permissions
            .clone()
            .unwrap_or_else(|| role.permissions.clone()),
        integrations: req
            .integrations
            .clone()
            .unwrap_or_else(|| role.integrations.clone()),
        goals: req.goals.clone().unwrap_or_else(|| role.goals.clone()),
        performance_history: Vec::new(),
        persona,
        created_at: now,
        created_by: req.created_by.clone().unwrap_or_else(|| "api".into()),
        last_active: None,
    };
    errors.extend(profile.validate());
    if errors.is_empty() {
        Ok(profile)
    } else {
        Err(errors)
    }
}

/// The role's persona with the override's keys laid over it.
fn merged_persona(base: &Persona, over: Option<&serde_json::Value>) -> Result<Persona, FieldError> {
    let Some(over) = over else {
        return Ok(base.clone());
    };
    let mut value = serde_json::to_value(base).expect("a persona serialises");
    merge(&mut value, over);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "persona".to_string()
        } else {
            format!("persona.{path}")
        };
        FieldError::new(field, e.into_inner().to_string())
    })
}

fn merge(base: &mut serde_json::Value, over: &serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_local_part_joins_lowercased_words_with_dots() {
        assert_eq!(address_local_part("Jordan Lee"), "jordan.lee");
        assert_eq!(
            address_local_part("  Mary-Jane  O'Neil "),
            "mary.jane.o.neil"
        );
        assert_eq!(address_local_part("李"), "employee");
    }

    #[test]
    fn persona_override_changes_only_the_given_traits() {
        let base = crate::model::persona_sample();
        let p = merged_persona(
            &base,
            Some(&serde_json::json!({"personality": {"openness": 0.2}})),
        )
        .unwrap();
        assert_eq!(p.personality.openness, 0.2);
        assert_eq!(p.personality.extraversion, base.personality.extraversion);
    }

    #[test]
    fn persona_override_with_an_unknown_trait_names_it() {
        let base = crate::model::persona_sample();
        let e = merged_persona(
            &base,
            Some(&serde_json::json!({"personality": {"openess": 0.2}})),
        )
        .unwrap_err();
        assert!(e.field.starts_with("persona.personality"), "{}", e.field);
        assert!(e.message.contains("openess"), "{}", e.message);
    }
}
