//! Agent cards: each employee is an agent (its card at
//! `/a2a/{handle}/.well-known/agent-card.json`), and the node's front desk is one more
//! (at `/.well-known/agent-card.json`), which routes a message to the right employee
//! and lists the employees as its skills. Both bindings (JSON-RPC and HTTP+JSON) are
//! served at the same absolute URL, `{base}/a2a/{agent}`. Pure: the caller gives the
//! base URL (`node.public_url`, else the request's Host).

use crate::config::RoleTemplate;
use crate::model::EmployeeProfile;
use a2a::{
    AgentCapabilities, AgentCard, AgentInterface, AgentSkill, HttpAuthSecurityScheme,
    SecurityScheme, TRANSPORT_PROTOCOL_HTTP_JSON, TRANSPORT_PROTOCOL_JSONRPC,
};
use std::collections::HashMap;

/// Media types the agents take and give.
pub const MODES: [&str; 2] = ["text/plain", "application/json"];

/// The URL of agent `agent` (a handle, or `desk`) under `base`.
pub fn agent_url(base: &str, agent: &str) -> String {
    format!("{}/a2a/{agent}", base.trim_end_matches('/'))
}

fn interfaces(url: &str) -> Vec<AgentInterface> {
    vec![
        AgentInterface::new(url, TRANSPORT_PROTOCOL_JSONRPC),
        AgentInterface::new(url, TRANSPORT_PROTOCOL_HTTP_JSON),
    ]
}

fn card(name: String, description: String, url: &str, skills: Vec<AgentSkill>) -> AgentCard {
    AgentCard {
        name,
        description,
        version: env!("CARGO_PKG_VERSION").into(),
        supported_interfaces: interfaces(url),
        capabilities: AgentCapabilities {
            streaming: Some(true),
            push_notifications: Some(true),
            extensions: None,
            extended_agent_card: Some(true),
        },
        default_input_modes: MODES.iter().map(|m| m.to_string()).collect(),
        default_output_modes: MODES.iter().map(|m| m.to_string()).collect(),
        skills,
        provider: None,
        documentation_url: None,
        icon_url: None,
        security_schemes: Some(HashMap::from([(
            "bearer".to_string(),
            SecurityScheme::HttpAuth(HttpAuthSecurityScheme {
                scheme: "Bearer".into(),
                description: Some("The node's API token (as for the HTTP API).".into()),
                bearer_format: None,
            }),
        )])),
        security_requirements: Some(vec![HashMap::from([("bearer".to_string(), Vec::new())])]),
        signatures: None,
    }
}

/// Event kinds addressed to an employee, whose plans are skills other agents can ask
/// for.
fn asked_for(kind: &str) -> bool {
    ["a2a.", "task.", "email.", "chat."]
        .iter()
        .any(|p| kind.starts_with(p))
}

fn words(s: &str) -> String {
    s.replace('_', " ")
}

/// The skills of an employee: talking with it, each plan of its role that a message or
/// task can start, and each of its capabilities.
pub fn skills(p: &EmployeeProfile, role: Option<&RoleTemplate>) -> Vec<AgentSkill> {
    let skill = |id: String, name: String, description: String, tags: Vec<String>| AgentSkill {
        id,
        name,
        description,
        tags,
        examples: None,
        input_modes: None,
        output_modes: None,
        security_requirements: None,
    };
    let mut out = vec![skill(
        "conversation".into(),
        "Conversation".into(),
        format!(
            "Ask {} about their work, goals and status, or give them a directive; answered in their words.",
            p.name
        ),
        vec!["chat".into(), p.role.clone()],
    )];
    if let Some(role) = role {
        for plan in role
            .plans
            .iter()
            .filter(|plan| asked_for(&plan.trigger.event))
        {
            let description = if plan.description.is_empty() {
                words(&plan.name)
            } else {
                plan.description.clone()
            };
            out.push(skill(
                format!("plan:{}", plan.name),
                words(&plan.name),
                description,
                vec!["plan".into(), plan.trigger.event.clone()],
            ));
        }
    }
    for c in &p.capabilities {
        out.push(skill(
            format!("capability:{c}"),
            words(c),
            format!("{} works with {}.", p.name, words(c)),
            vec!["capability".into(), c.clone()],
        ));
    }
    out
}

/// The card of an employee, at `base`.
pub fn employee(p: &EmployeeProfile, role: Option<&RoleTemplate>, base: &str) -> AgentCard {
    let tone = serde_json::to_value(p.persona.communication.tone)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let what = role.map(|r| r.description.trim()).unwrap_or("");
    let mut description = format!("{}, {}", p.name, p.job_title);
    if !p.department.is_empty() {
        description.push_str(&format!(" ({})", p.department));
    }
    description.push('.');
    if !what.is_empty() {
        description.push(' ');
        description.push_str(what);
    }
    if !tone.is_empty() {
        description.push_str(&format!(" Writes in a {} tone.", words(&tone)));
    }
    card(
        p.name.clone(),
        description,
        &agent_url(base, &p.chat_handle),
        skills(p, role),
    )
}

/// The card of the node's front desk, at `base`: one skill per employee.
pub fn desk(company: &str, employees: &[EmployeeProfile], base: &str) -> AgentCard {
    let skills = employees
        .iter()
        .map(|p| AgentSkill {
            id: p.chat_handle.clone(),
            name: format!("{} ({})", p.name, p.job_title),
            description: format!(
                "Routes the message to {}, {}: set `metadata.employee` to `{}`, name them, or ask for one of their skills.",
                p.name, p.job_title, p.chat_handle
            ),
            tags: std::iter::once(p.role.clone())
                .chain(p.capabilities.iter().cloned())
                .collect(),
            examples: None,
            input_modes: None,
            output_modes: None,
            security_requirements: None,
        })
        .collect();
    card(
        format!("{company} front desk"),
        format!(
            "The front desk of {company}'s digital employees: a message is routed to the right employee by `metadata.employee` (a handle), by the name or handle it mentions, or by the skill it asks for."
        ),
        &agent_url(base, super::DESK),
        skills,
    )
}
