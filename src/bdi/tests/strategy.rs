//! The planning cycle over the shipped Sales AE's plan library: gaps from its goals,
//! its proactive plans scored by their record, the best committed to and the whole
//! reasoning kept as one decision.

use super::*;

fn sales_ae() -> World {
    let mut w = World::new(Phase::Autonomous);
    w.pb = role().playbook(8).expect("the shipped role compiles");
    w
}

fn strategy(d: &[Decision]) -> (String, Vec<Json>, Vec<Json>, Vec<Json>) {
    d.iter()
        .find_map(|x| match x {
            Decision::Strategy {
                summary,
                gaps,
                candidates,
                chosen,
                ..
            } => Some((
                summary.clone(),
                gaps.clone(),
                candidates.clone(),
                chosen.clone(),
            )),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a planning cycle: {d:?}"))
}

#[test]
fn the_weekly_tick_weighs_the_gaps_and_commits_to_the_best_strategies() {
    let mut w = sales_ae();
    // Without figures there is no gap to plan on.
    let d = w.run(ev("strategy.review", json!({})));
    let (summary, gaps, _, chosen) = strategy(&d);
    assert!(gaps.is_empty() && chosen.is_empty(), "{summary}");
    // Coverage 2.1 (its signal starts prospecting) and revenue far behind.
    w.run(metric(2.1));
    w.run(ev(
        "metric",
        json!({"metric": "closed_revenue_usd", "value": 100000.0}),
    ));
    let d = w.run(ev(
        "cron.tick",
        json!({"schedule": "weekly_strategic_planning"}),
    ));
    let (summary, gaps, candidates, chosen) = strategy(&d);
    assert!(!gaps.is_empty());
    assert!(summary.starts_with("committing to "), "{summary}");
    // Every candidate is a proactive plan serving a gap, scored.
    for c in &candidates {
        let plan = w.pb.plans.get(c["plan"].as_str().unwrap()).unwrap();
        assert!(
            plan.spec.trigger.event.starts_with("signal.")
                || plan.spec.trigger.event.starts_with("manual.")
        );
        assert!(gaps.iter().any(|g| g["goal"] == c["goal"]));
        assert!(c["score"].as_f64().unwrap() > 0.0);
    }
    // Prospecting already runs: the pipeline's strategy is another one.
    assert!(
        candidates
            .iter()
            .any(|c| c["plan"] == "prospect_for_pipeline" && c["running"] == true)
    );
    assert!(!chosen.iter().any(|c| c["plan"] == "prospect_for_pipeline"));
    // What was chosen became intentions in the same cycle.
    assert!(!chosen.is_empty());
    for c in &chosen {
        let id = c["intention"].as_u64().unwrap();
        assert!(
            d.iter()
                .any(|x| matches!(x, Decision::Adopt { intention, .. } if *intention == id))
        );
    }
    // Asked again at once, a strategy still running is not started twice.
    let running: Vec<String> = w.mind.intentions.iter().map(|i| i.plan.clone()).collect();
    let d = w.run(ev("strategy.review", json!({})));
    let (_, _, _, chosen2) = strategy(&d);
    assert!(
        chosen2
            .iter()
            .all(|x| !running.iter().any(|r| x["plan"] == r.as_str())),
        "{chosen2:?}"
    );
}

#[test]
fn a_strategy_that_keeps_failing_loses_to_one_that_works() {
    let pick = |failing: &str| {
        let mut w = sales_ae();
        // Only the pipeline is behind (and has a figure).
        w.run(metric(2.1));
        w.mind.intentions.clear();
        let plan = w.pb.plans.get(failing).unwrap();
        let key = Stats::plan_key(failing, &plan.spec.trigger.event);
        for _ in 0..20 {
            w.mind.stats.record(&key, false);
        }
        let d = w.run(ev("strategy.review", json!({})));
        let (_, _, candidates, chosen) = strategy(&d);
        let score = |p: &str| {
            candidates
                .iter()
                .find(|c| c["plan"] == p)
                .and_then(|c| c["score"].as_f64())
        };
        (chosen, score(failing))
    };
    let (chosen, low) = pick("prospect_for_pipeline");
    assert!(
        chosen.iter().all(|c| c["plan"] != "prospect_for_pipeline"),
        "{chosen:?}"
    );
    assert!(low.is_some_and(|s| s < 0.05), "{low:?}");
    let (chosen, _) = pick("ask_manager_for_leads");
    assert!(
        chosen.iter().any(|c| c["plan"] == "prospect_for_pipeline"),
        "{chosen:?}"
    );
}

/// The `llm.strategy` action a cycle with a model asks, among `d`.
fn asked(d: &[Decision]) -> Action {
    d.iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == "llm.strategy" => Some(a.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the model is asked for strategies: {d:?}"))
}

/// The outcome of `a` with `text` written by `by`.
fn answered(a: &Action, text: &str, by: &str) -> Input {
    Input::Outcome {
        action: a.id,
        success: true,
        event: Perceived {
            id: format!("outcome-{}", a.id),
            kind: "empla.outcome".into(),
            source: "outbox".into(),
            payload: json!({"action_id": a.id, "kind": "llm.strategy", "status": "done",
                "result": {"text": text, "written_by": by, "about": a.params["about"]}}),
        },
    }
}

/// A Sales AE whose pipeline and revenue are behind, with nothing running.
fn behind() -> World {
    let mut w = sales_ae();
    w.run(metric(2.1));
    w.run(ev(
        "metric",
        json!({"metric": "closed_revenue_usd", "value": 100000.0}),
    ));
    w.mind.intentions.clear();
    w
}

#[test]
fn with_a_model_the_strategies_it_proposes_and_scores_are_committed_to() {
    let mut w = behind();
    let d = w.with_model(ev("strategy.review", json!({})));
    // Nothing is committed before the model answers.
    assert!(
        !d.iter()
            .any(|x| matches!(x, Decision::Strategy { .. } | Decision::Adopt { .. }))
    );
    let a = asked(&d);
    let context = &a.params["compose"]["context"];
    assert_eq!(a.params["compose"]["prompt"], "strategy");
    assert!(!context["gaps"].as_array().unwrap().is_empty());
    let plans: Vec<&str> = context["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["plan"].as_str().unwrap())
        .collect();
    assert!(plans.contains(&"ask_manager_for_leads"), "{plans:?}");
    // Offline, the action's own text is the rules' choice in the answer's shape.
    let draft: Json = serde_json::from_str(a.params["text"].as_str().unwrap()).unwrap();
    assert!(!draft["strategies"].as_array().unwrap().is_empty());

    let answer = r#"{"strategies": [
        {"name": "Refill the top of the funnel", "goal": "pipeline_coverage",
         "plans": ["ask_manager_for_leads", "prospect_for_pipeline"],
         "success": 0.7, "impact": 0.9, "cost": 2, "days_to_value": 5,
         "why": "Coverage is 2.1x against 3x; more leads close the gap fastest."},
        {"name": "Discount blitz", "goal": "quarterly_revenue", "plans": ["give_everyone_discounts"],
         "success": 0.9, "impact": 1.0, "cost": 0.1, "days_to_value": 1, "why": "Cheap."}
    ]}"#;
    let d = w.with_model(answered(&a, answer, "anthropic/claude-test"));
    let Some(Decision::Strategy {
        summary,
        candidates,
        chosen,
        by,
        ..
    }) = d.iter().find(|x| matches!(x, Decision::Strategy { .. }))
    else {
        panic!("a planning cycle: {d:?}");
    };
    assert_eq!(by, "anthropic/claude-test");
    assert!(
        summary.starts_with("committing to \"Refill the top of the funnel\": ask_manager_for_leads + prospect_for_pipeline"),
        "{summary}"
    );
    // The strategy is decomposed into intentions, one per plan.
    let committed: Vec<&str> = chosen.iter().map(|c| c["plan"].as_str().unwrap()).collect();
    assert_eq!(
        committed,
        ["ask_manager_for_leads", "prospect_for_pipeline"]
    );
    for c in chosen {
        let id = c["intention"].as_u64().unwrap();
        assert!(
            d.iter()
                .any(|x| matches!(x, Decision::Adopt { intention, .. } if *intention == id))
        );
        assert_eq!(c["strategy"], "Refill the top of the funnel");
    }
    // A plan the role lacks is kept in the episode as rejected, never run.
    let rejected = candidates
        .iter()
        .find(|c| c["strategy"] == "Discount blitz")
        .expect("the rejected proposal is recorded");
    assert!(
        rejected["rejected"]
            .as_str()
            .unwrap()
            .contains("give_everyone_discounts is not one of my plans"),
        "{rejected}"
    );
}

#[test]
fn when_the_models_strategies_cannot_run_the_rules_choose_and_say_why() {
    for (text, by, why) in [
        (
            "Let's just work harder!",
            "anthropic/claude-test",
            "not a JSON object",
        ),
        (
            r#"{"strategies": [{"name": "x", "plans": ["nope"], "success": 1}]}"#,
            "anthropic/claude-test",
            "proposed nothing I can run",
        ),
        (
            "{}",
            "offline: the daily budget of 10 tokens is spent",
            "no model answered",
        ),
    ] {
        let mut w = behind();
        let a = asked(&w.with_model(ev("strategy.review", json!({}))));
        let d = w.with_model(answered(&a, text, by));
        let (summary, _, _, chosen) = strategy(&d);
        assert!(summary.starts_with("committing to "), "{summary}");
        assert!(summary.contains(why), "{text}: {summary}");
        assert!(!chosen.is_empty());
        let rules = d
            .iter()
            .any(|x| matches!(x, Decision::Strategy { by, .. } if by == "rules"));
        assert!(rules, "{d:?}");
    }
}
