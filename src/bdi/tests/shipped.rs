//! Every shipped role and plan runs: each action a plan takes has a driver, each
//! recipient names someone, and each `llm` step gives its text without a model.

use super::*;
use crate::capabilities::{ActionRegistry, ParamType};
use crate::config::Config;

fn shipped() -> Config {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/empla.toml");
    Config::load(std::path::Path::new(path), &[])
        .unwrap_or_else(|e| panic!("the shipped configuration loads: {e}"))
}

/// Whether a recipients value names someone: an address, a team with a file, or a
/// template that takes them from the triggering event, what a wait accepted, the
/// employee itself (its manager) or its last action's thread.
fn names_someone(v: &Json, teams: &BTreeMap<String, crate::config::teams::Team>) -> bool {
    match v {
        Json::Array(items) => !items.is_empty() && items.iter().all(|i| names_someone(i, teams)),
        Json::String(s) if s.contains("{{") => {
            ["event.", "trigger.", "awaited.", "me.", "intention."]
                .iter()
                .any(|from| s.contains(from))
        }
        Json::String(s) => s.split(',').all(|part| {
            let part = part.trim();
            match part.strip_prefix(crate::config::teams::PREFIX) {
                Some(team) => teams.contains_key(team),
                None => crate::model::is_address(crate::model::bare_address(part)),
            }
        }),
        _ => false,
    }
}

#[test]
fn every_action_of_every_shipped_plan_has_a_driver_and_reaches_someone() {
    let cfg = shipped();
    let registry = ActionRegistry::builtin();
    let mut steps = 0;
    for (id, role) in &cfg.roles {
        for plan in &role.plans {
            for (i, step) in plan.steps.iter().enumerate() {
                let Some(kind) = &step.action else { continue };
                steps += 1;
                let at = format!("{id}/{}/steps[{i}] `{kind}`", plan.name);
                let k = registry
                    .get(kind)
                    .unwrap_or_else(|| panic!("{at}: unknown kind"));
                assert!(k.has_driver(), "{at}: no driver");
                let sets =
                    std::iter::once(&step.params).chain(step.variants.iter().map(|v| &v.params));
                for params in sets {
                    for p in k.params.iter().filter(|p| p.ty == ParamType::Recipients) {
                        if let Some(v) = params.get(&p.name) {
                            assert!(names_someone(v, &cfg.teams), "{at}: `{}` = {v}", p.name);
                        }
                    }
                }
            }
        }
    }
    assert!(steps > 50, "only {steps} action steps found");
}

#[test]
fn every_llm_step_of_every_shipped_plan_writes_its_text_without_a_model() {
    let cfg = shipped();
    let mut written = 0;
    for (id, role) in &cfg.roles {
        let book = role.playbook(4).expect("the shipped playbook compiles");
        let goals: Vec<Json> = role
            .goals
            .iter()
            .map(|g| json!({"id": g.id, "description": g.description, "current": null, "target": g.target, "unit": g.unit, "progress": 0.0, "met": false, "at_risk": false}))
            .collect();
        let ctx = json!({
            "me": {"name": "Avery Stone", "handle": "avery.stone", "email": "avery.stone@example.com", "manager": "lee@example.com"},
            "goals": goals,
            "goal": goals.first(),
            "event": {"kind": "cron.tick", "payload": {}},
            "intention": {"id": 1, "last_action": null, "text": null},
            "style": style::style(&role.persona, (0, 0)),
        });
        for plan in &role.plans {
            for (i, step) in plan.steps.iter().enumerate() {
                if step.llm.is_none() {
                    continue;
                }
                let at = format!("{id}/{}/steps[{i}]", plan.name);
                assert!(step.fallback.is_some(), "{at}: no fallback");
                let text = book
                    .plans
                    .templates
                    .get_template(&format!("{}/{i}/fallback", plan.name))
                    .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
                    .unwrap_or_else(|e| panic!("{at}: the fallback does not render: {e}"));
                assert!(!text.trim().is_empty(), "{at}: the fallback writes nothing");
                // One written from the goals (a reflection, a weekly plan) says where
                // they stand, from the role's own goals.
                if step
                    .fallback
                    .as_deref()
                    .is_some_and(|f| f.contains("goals"))
                {
                    let first = role.goals[0].description.as_str();
                    assert!(
                        text.contains("Avery Stone") && text.contains(first),
                        "{at}: {text}"
                    );
                }
                written += 1;
            }
        }
    }
    assert!(written >= 3, "only {written} llm steps found");
}
