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
