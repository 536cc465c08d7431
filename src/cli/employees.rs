//! Employee commands: `empla hire`, `list`, `show`, `offboard`, `episodes` and
//! `status`, through the node's API. Each prints readable text, or the node's JSON
//! with `--json`; the text names employees by handle, never by internal number.

use super::Command;
use super::client::{Client, manager, print, read};
use super::out::{one_line, table};
use crate::actors::EmployeeRuntime;
use crate::api::wire::{EmployeeView, EmployeesQuery, EpisodePage, EpisodesQuery, Items};
use crate::bdi::Phase;
use crate::lifecycle::{HireRequest, address_local_part};
use crate::model::{Comparison, EmployeeId, EmployeeProfile, Episode, EpisodeKind, Goal, Manager};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;

pub(super) async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Hire {
            role,
            name,
            manager: m,
            team,
            node,
        } => {
            let c = Client::new(&node)?;
            let mut body = HireRequest::new(role, name);
            if let Some(m) = m {
                body.manager = Some(manager(&c, &m).await?);
            }
            body.team = team;
            let p: EmployeeView = c.post("/employees").json(&body).answer().await?;
            outln!("{}", hired(&p.profile));
        }
        Command::List { limit, json, node } => {
            let v: Value = Client::new(&node)?
                .get("/employees")
                .query(&EmployeesQuery {
                    limit: Some(limit.into()),
                    offset: None,
                })
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let list: Items<EmployeeView> = read(v)?;
            if list.items.is_empty() {
                outln!("no employees hired yet; `empla hire` hires one");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .items
                .iter()
                .map(|e| {
                    let p = &e.profile;
                    vec![
                        p.chat_handle.clone(),
                        p.name.clone(),
                        p.role.clone(),
                        p.status.as_str().into(),
                        e.runtime.as_str().into(),
                        p.email.clone(),
                        p.id.to_string(),
                    ]
                })
                .collect();
            outln!(
                "{}",
                table(
                    &["HANDLE", "NAME", "ROLE", "STATUS", "RUNTIME", "EMAIL", "ID"],
                    &rows
                )
            );
        }
        Command::Show { id, json, node } => {
            let c = Client::new(&node)?;
            let v: Value = c.get(&format!("/employees/{id}")).answer().await?;
            if json {
                return print(&v);
            }
            let e: EmployeeView = read(v)?;
            let managers = match &e.profile.manager {
                Some(Manager::Employee { id }) => handles(&c, [*id]).await,
                _ => HashMap::new(),
            };
            outln!("{}", shown(&e, &managers));
        }
        Command::Offboard { id, node } => {
            let p: EmployeeView = Client::new(&node)?
                .delete(&format!("/employees/{id}"))
                .answer()
                .await?;
            outln!("offboarded {} ({})", p.profile.name, p.profile.chat_handle);
        }
        Command::Episodes {
            id,
            limit,
            json,
            node,
        } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/employees/{id}/episodes"))
                .query(&EpisodesQuery {
                    limit: Some(limit.into()),
                    before: None,
                })
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let page: EpisodePage = read(v)?;
            if page.items.is_empty() {
                outln!("{id} has no episodes yet");
            } else {
                outln!("{}", episodes(&page.items));
            }
        }
        Command::Status { id, json, node } => {
            let c = Client::new(&node)?;
            let v: Value = c.get(&format!("/employees/{id}/status")).answer().await?;
            if json {
                return print(&v);
            }
            let status: EmployeeRuntime = read(v)?;
            let who: EmployeeView = c.get(&format!("/employees/{id}")).answer().await?;
            outln!("{}", status_text(&who.profile, &status));
        }
        _ => unreachable!("only employee commands are routed here"),
    }
    Ok(())
}

/// The handles of employees `ids`, looked up one by one; one the node does not know
/// is left out (and shown by its id).
pub(super) async fn handles(
    c: &Client,
    ids: impl IntoIterator<Item = EmployeeId>,
) -> HashMap<EmployeeId, String> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        if let Ok(e) = c
            .get(&format!("/employees/{id}"))
            .answer::<EmployeeView>()
            .await
        {
            out.insert(id, e.profile.chat_handle);
        }
    }
    out
}

/// An employee's handle from `handles`, or its id when unknown.
pub(super) fn handle_or_id(handles: &HashMap<EmployeeId, String>, id: EmployeeId) -> String {
    handles.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

/// What `hire` prints: who was hired, under which handle and address, and — when the
/// name's own handle was taken — that this one got a numbered one.
fn hired(p: &EmployeeProfile) -> String {
    let wanted = address_local_part(&p.name);
    let taken = if p.chat_handle != wanted {
        format!(
            "  ({wanted} is taken by another employee: this {} is {}; other commands take {})",
            p.name, p.chat_handle, p.chat_handle
        )
    } else {
        String::new()
    };
    format!(
        "hired {} as {}\n  handle  {}{taken}\n  mail    {}\n  id      {}",
        p.name, p.job_title, p.chat_handle, p.email, p.id
    )
}

/// What `show` prints: who the employee is, whom it reports to, what it may do, its
/// goals and persona. `managers` holds the handle of a digital manager.
fn shown(e: &EmployeeView, managers: &HashMap<EmployeeId, String>) -> String {
    let p = &e.profile;
    let manager = match &p.manager {
        None => "none".to_string(),
        Some(Manager::Human { name, email }) if name == email => email.clone(),
        Some(Manager::Human { name, email }) => format!("{name} <{email}>"),
        Some(Manager::Employee { id }) => handle_or_id(managers, *id),
    };
    let skills: Vec<String> = p
        .skills
        .iter()
        .map(|s| format!("{} {}", s.name, s.level))
        .collect();
    let mut fields = vec![
        ("mail", p.email.clone()),
        (
            "role",
            format!("{} · {} / {}", p.role, p.department, p.team),
        ),
        ("manager", manager),
        (
            "status",
            format!("{} · runtime {}", p.status.as_str(), e.runtime.as_str()),
        ),
        (
            "hired",
            format!("{} by {}", short_time(&p.created_at), p.created_by),
        ),
    ];
    if let Some(t) = &p.last_active {
        fields.push(("last active", short_time(t)));
    }
    fields.push(("capabilities", or_none(p.capabilities.join(", "))));
    fields.push(("skills", or_none(skills.join(", "))));
    let persona = serde_json::to_value(&p.persona).unwrap_or(Value::Null);
    for (section, label) in [
        ("personality", "personality"),
        ("communication", "writes"),
        ("decision", "decides"),
        ("behavior", "works"),
    ] {
        if let Value::Object(traits) = &persona[section] {
            let traits: Vec<String> = traits
                .iter()
                .map(|(k, v)| format!("{} {}", k.replace('_', " "), plain(v)))
                .collect();
            fields.push((label, traits.join(", ")));
        }
    }
    fields.push(("id", p.id.to_string()));
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = format!("{} ({}) — {}", p.name, p.chat_handle, p.job_title);
    for (k, v) in &fields {
        out.push_str(&format!("\n  {k:<width$}  {v}"));
    }
    out.push_str("\ngoals:");
    if p.goals.is_empty() {
        out.push_str("\n  none");
    }
    let width = p.goals.iter().map(|g| g.id.len()).max().unwrap_or(0);
    for g in &p.goals {
        let period = g
            .period
            .as_deref()
            .map(|p| format!(", per {p}"))
            .unwrap_or_default();
        let parent = g
            .parent
            .as_deref()
            .map(|p| format!("; serves {p}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n  {:<width$}  {} ({} {}{period}{parent})",
            g.id,
            g.description,
            g.metric,
            target(g)
        ));
    }
    out
}

fn or_none(s: String) -> String {
    if s.is_empty() { "none".into() } else { s }
}

/// A JSON value as plain text: strings unquoted, lists joined.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.replace('_', " "),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join("/"),
        other => other.to_string(),
    }
}

/// A time as `2026-12-04 17:00 UTC`.
fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A goal's target in words: `at least 500000 usd`.
fn target(g: &Goal) -> String {
    let how = match g.comparison {
        Comparison::AtLeast => "at least",
        Comparison::Above => "above",
        Comparison::AtMost => "at most",
        Comparison::Below => "below",
    };
    let unit = g
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    format!("{how} {}{unit}", g.target)
}

/// What `episodes` prints: one line per episode, as the node lists them (newest
/// first): its time (UTC), kind and summary, with whom and what it was about.
fn episodes(items: &[Episode]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|e| {
            let gist = gist(e);
            let summary = if gist.is_empty() {
                e.summary.clone()
            } else {
                format!("{} — {}", e.summary, one_line(&gist, 90))
            };
            vec![
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.kind.as_str().into(),
                summary,
            ]
        })
        .collect();
    table(&["TIME (UTC)", "KIND", "SUMMARY"], &rows)
}

/// Who and what an episode is about, from its payload: the sender of an event or the
/// recipient of an action, and a subject, text or reason.
fn gist(e: &Episode) -> String {
    let scopes = [&e.payload, &e.payload["params"]];
    let text = |key: &str| {
        scopes
            .iter()
            .find_map(|s| s[key].as_str().filter(|t| !t.trim().is_empty()))
    };
    let who = match e.kind {
        EpisodeKind::Event => text("from").map(|f| format!("from {f}")),
        EpisodeKind::Action => text("to").map(|t| format!("to {t}")),
        _ => None,
    };
    let what = [
        "subject",
        "text",
        "title",
        "description",
        "message",
        "reason",
    ]
    .into_iter()
    .find_map(text);
    match (who, what) {
        (Some(w), Some(t)) => format!("{w}: {t}"),
        (Some(w), None) => w,
        (None, Some(t)) => t.to_string(),
        (None, None) => String::new(),
    }
}

/// What `status` prints: phase, agreement, intentions, goals and today's counts.
fn status_text(p: &EmployeeProfile, s: &EmployeeRuntime) -> String {
    let pending = match s.pending_approvals {
        1 => "1 pending approval".to_string(),
        n => format!("{n} pending approvals"),
    };
    let mut runtime = s.state.as_str().to_string();
    if let Some(n) = s.backlog {
        runtime.push_str(&format!(", {n} events waiting"));
    }
    let mut out = format!(
        "{} ({}) · {} · phase {} · {pending} · {runtime}",
        p.name,
        p.chat_handle,
        s.role,
        s.phase.as_str()
    );
    let a = &s.agreement;
    match s.phase {
        Phase::Shadow if a.scored == 0 => out.push_str(
            "\nagreement with mentor: no observations yet (how often its proposals match what the mentor did)",
        ),
        Phase::Shadow => out.push_str(&format!(
            "\nagreement with mentor: {} of {} proposals matched what the mentor did ({:.0}%)",
            a.agreed,
            a.scored,
            a.rate * 100.0
        )),
        Phase::Assisted if a.scored == 0 => {
            out.push_str("\napprovals in this phase: none decided yet")
        }
        Phase::Assisted => out.push_str(&format!(
            "\napprovals in this phase: {} of {} actions approved ({:.0}%)",
            a.agreed,
            a.scored,
            a.rate * 100.0
        )),
        Phase::Autonomous => {}
    }
    out.push_str("\nintentions:");
    if s.intentions.is_empty() {
        out.push_str("\n  none");
    }
    let width = s.intentions.iter().map(|i| i.plan.len()).max().unwrap_or(0);
    for i in &s.intentions {
        let waiting = i
            .waiting_for
            .as_deref()
            .map(|e| format!(" for {e}"))
            .unwrap_or_default();
        let goal = i
            .goal
            .as_deref()
            .map(|g| format!("  (for {g})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n  {:<width$}  step {}  {}{waiting}{goal}",
            i.plan,
            i.step + 1,
            i.state
        ));
    }
    out.push_str("\ngoals:");
    if s.goals.is_empty() {
        out.push_str("\n  none");
    }
    let width = s.goals.iter().map(|g| g.id.len()).max().unwrap_or(0);
    for g in &s.goals {
        let spec = p.goals.iter().find(|x| x.id == g.id);
        let subgoals: Vec<&str> = p
            .goals
            .iter()
            .filter(|x| x.parent.as_deref() == Some(g.id.as_str()))
            .map(|x| x.id.as_str())
            .collect();
        let standing = match g.current {
            Some(c) => format!("{:.0}% · current {c}", g.progress * 100.0),
            None if !subgoals.is_empty() => format!(
                "no figure yet; {:.0}% by its sub-goals ({})",
                g.progress * 100.0,
                subgoals.join(", ")
            ),
            None => "no figure yet".into(),
        };
        let goal_target = spec.map(target).unwrap_or_else(|| g.target.to_string());
        let mut flags = String::new();
        if g.blocked {
            flags.push_str(&format!(
                "  BLOCKED: {}",
                g.blocked_reason.as_deref().unwrap_or("")
            ));
        }
        if g.at_risk {
            flags.push_str("  AT RISK");
        }
        out.push_str(&format!(
            "\n  {:<width$}  {standing} · target {goal_target}{flags}",
            g.id
        ));
    }
    if !s.directives.is_empty() {
        out.push_str("\ndirectives:");
        for d in &s.directives {
            out.push_str(&format!("\n  {} (asked by {})", d.summary, d.by));
        }
    }
    if let Some(l) = &s.language {
        out.push_str(&format!(
            "\nlanguage model: {} · {} tokens, ${:.2} today",
            l.model, l.tokens_today, l.cost_today_usd
        ));
        if let Some(why) = &l.offline {
            out.push_str(&format!(" · offline now: {why}"));
        }
    }
    let t = &s.today;
    out.push_str(&format!(
        "\ntoday: {} events, {} actions executed, {} proposed, {} approvals asked, {} escalations",
        t.events, t.actions_executed, t.actions_proposed, t.approvals_requested, t.escalations
    ));
    out
}

#[cfg(test)]
mod tests;
