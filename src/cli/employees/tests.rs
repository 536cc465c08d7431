use super::*;
use crate::config::Config;
use crate::lifecycle::build_profile;
use crate::model::TenantId;
use serde_json::json;

/// A Sales AE hired from the shipped role, as `hire` would.
fn sales_ae(name: &str, email: &str) -> EmployeeProfile {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = Config::load(&dir.join("config/empla.toml"), &[]).expect("shipped config");
    build_profile(
        &cfg.roles["sales_ae"],
        &HireRequest::new("sales_ae", name),
        &TenantId::new("t"),
        EmployeeId::new(),
        email.into(),
        Utc::now(),
    )
    .expect("a valid hire")
}

/// A status as the node sends it: `goals` as (id, progress, current) and the agreement.
fn status(
    phase: &str,
    goals: &[(&str, f64, Option<f64>)],
    agreed: u32,
    scored: u32,
) -> EmployeeRuntime {
    let goals: Vec<Value> = goals
        .iter()
        .map(|(id, progress, current)| {
            json!({"id": id, "description": "", "progress": progress, "current": current,
                   "target": 1.0, "priority": 0.1, "blocked": false, "at_risk": false})
        })
        .collect();
    let rate = if scored == 0 {
        0.0
    } else {
        f64::from(agreed) / f64::from(scored)
    };
    serde_json::from_value(json!({
        "role": "sales_ae", "phase": phase, "intentions": [], "goals": goals,
        "blocked_goals": [], "pending_approvals": 1,
        "agreement": {"agreed": agreed, "scored": scored, "rate": rate},
        "today": {"events": 2, "actions_executed": 0, "actions_proposed": 1,
                  "approvals_requested": 0, "escalations": 0, "completed": 0, "failed": 0},
        "events_handled": 2, "last_event_at": null, "state": "active"
    }))
    .expect("a status as the node sends it")
}

fn line<'a>(text: &'a str, goal: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(goal))
        .unwrap_or_else(|| panic!("no line for {goal} in\n{text}"))
}

#[test]
fn a_goal_without_a_figure_says_so_and_a_parent_says_its_progress_is_its_sub_goals() {
    let p = sales_ae("Pat Doe", "pat.doe@example.com");
    let s = status(
        "shadow",
        &[
            ("quarterly_revenue", 0.35, None),
            ("pipeline_coverage", 0.7, Some(2.1)),
            ("win_rate", 0.0, None),
            ("response_time", 0.0, None),
        ],
        0,
        0,
    );
    let text = status_text(&p, &s);
    assert!(
        text.starts_with(
            "Pat Doe (pat.doe) · sales_ae · phase shadow · 1 pending approval · active"
        ),
        "{text}"
    );
    assert_eq!(
        line(&text, "quarterly_revenue").trim(),
        "quarterly_revenue  no figure yet; 35% by its sub-goals (pipeline_coverage, win_rate) · target at least 500000 usd"
    );
    assert_eq!(
        line(&text, "pipeline_coverage").trim(),
        "pipeline_coverage  70% · current 2.1 · target at least 3 ratio"
    );
    assert_eq!(
        line(&text, "response_time").trim(),
        "response_time      no figure yet · target below 4 hours"
    );
    assert!(!text.contains("current -"), "{text}");
}

#[test]
fn the_agreement_is_said_for_what_it_counts_in_each_phase() {
    let p = sales_ae("Pat Doe", "pat.doe@example.com");
    let said = |phase: &str, agreed, scored| {
        status_text(&p, &status(phase, &[], agreed, scored))
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        said("shadow", 0, 0),
        "agreement with mentor: no observations yet (how often its proposals match what the mentor did)"
    );
    assert_eq!(
        said("shadow", 3, 4),
        "agreement with mentor: 3 of 4 proposals matched what the mentor did (75%)"
    );
    assert_eq!(
        said("assisted", 0, 0),
        "approvals in this phase: none decided yet"
    );
    assert_eq!(
        said("assisted", 9, 10),
        "approvals in this phase: 9 of 10 actions approved (90%)"
    );
    assert_eq!(said("autonomous", 0, 0), "intentions:");
}

#[test]
fn a_second_hire_of_a_name_is_told_its_numbered_handle() {
    let first = hired(&sales_ae("Riley Quinn", "riley.quinn@example.com"));
    assert!(first.contains("handle  riley.quinn\n"), "{first}");
    assert!(!first.contains("taken"), "{first}");
    let second = hired(&sales_ae("Riley Quinn", "riley.quinn2@example.com"));
    assert!(
        second.contains(
            "handle  riley.quinn2  (riley.quinn is taken by another employee: this Riley Quinn is riley.quinn2; other commands take riley.quinn2)"
        ),
        "{second}"
    );
}

#[test]
fn episodes_are_one_line_each_with_time_kind_summary_and_gist() {
    let p = sales_ae("Pat Doe", "pat.doe@example.com");
    let at: DateTime<Utc> = "2026-12-04T17:00:05Z".parse().unwrap();
    let episode = |kind, summary: &str, payload| Episode {
        id: crate::model::EpisodeId::new(),
        tenant: TenantId::new("t"),
        employee_id: p.id,
        kind,
        event_id: None,
        cause_id: None,
        channel: None,
        summary: summary.into(),
        payload,
        at,
    };
    let text = episodes(&[
        episode(
            EpisodeKind::Action,
            "propose email.reply",
            json!({"decision": "act", "id": 7, "intention": 3, "kind": "email.reply",
                   "params": {"to": "Sarah <sarah@acme.com>", "subject": "Re: Pricing", "follows": "6"}}),
        ),
        episode(
            EpisodeKind::Event,
            "email.received",
            json!({"from": "Sarah <sarah@acme.com>", "subject": "Pricing\nfor 40 seats?"}),
        ),
    ]);
    assert_eq!(
        text,
        "TIME (UTC)           KIND    SUMMARY\n\
         2026-12-04 17:00:05  action  propose email.reply — to Sarah <sarah@acme.com>: Re: Pricing\n\
         2026-12-04 17:00:05  event   email.received — from Sarah <sarah@acme.com>: Pricing for 40 seats?"
    );
}

#[test]
fn the_directives_in_force_and_the_models_use_today_are_printed() {
    let p = sales_ae("Pat Doe", "pat.doe@example.com");
    let mut s = status("autonomous", &[], 0, 0);
    let text = status_text(&p, &s);
    assert!(!text.contains("directives:"), "{text}");
    assert!(!text.contains("language model"), "{text}");
    s.directives = serde_json::from_value(json!([{
        "kind": "pause", "value": "acme", "summary": "not contacting Acme until 2027-01-01",
        "until": "2027-01-01T00:00:00Z", "by": "vp <vp@example.com>",
        "since": "2026-12-01T09:00:00Z"
    }]))
    .expect("a directive as the node sends it");
    s.language = serde_json::from_value(json!({
        "model": "anthropic/claude-test", "tokens_today": 1234, "cost_today_usd": 0.0456,
        "offline": "the daily budget of 1000 tokens is spent"
    }))
    .expect("a language status as the node sends it");
    let text = status_text(&p, &s);
    assert!(
        text.contains(
            "\ndirectives:\n  not contacting Acme until 2027-01-01 (asked by vp <vp@example.com>)"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nlanguage model: anthropic/claude-test · 1234 tokens, $0.05 today · offline now: the daily budget of 1000 tokens is spent"),
        "{text}"
    );
}
