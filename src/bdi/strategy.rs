//! Strategic planning (weekly, on the `weekly_strategic_planning` tick every role has,
//! and on demand, `strategy.review`): the situation from the goals and their figures →
//! the gaps (goals not met, weighed by priority) → candidate strategies (the role's
//! proactive plans serving each gap) scored on their chance of success (the procedural
//! statistics' posterior), impact (the gap they close), cost and time to value → the
//! best committed to as intentions. The whole reasoning is one decision, kept as an
//! episode the manager can read, with the intentions it started as its consequences.

use super::adoption::proactive;
use super::intention::Seen;
use super::*;

/// The tick that runs it every week.
pub const WEEKLY: &str = "weekly_strategic_planning";
/// The event that runs it on demand.
pub const REVIEW: &str = "strategy.review";
/// Gaps considered.
const GAPS: usize = 3;
/// Strategies committed to at once.
const CHOSEN: usize = 2;

/// Whether `e` asks for a planning cycle.
pub(super) fn asks(e: &Perceived) -> bool {
    e.kind == REVIEW || (e.kind == "cron.tick" && e.payload["schedule"] == WEEKLY)
}

impl Mind {
    /// One planning cycle for `e`.
    pub(super) fn strategize(&mut self, s: &Situation<'_>, e: &Perceived, out: &mut Vec<Decision>) {
        let mut gaps: Vec<(String, String, f64)> = self
            .goals
            .iter()
            // A goal without a figure is no gap to plan on: what it needs is a figure.
            .filter(|g| !g.met() && g.current.is_some())
            .map(|g| {
                let gap = g.priority.max(0.01) * (1.0 - g.progress.clamp(0.0, 1.0));
                (g.spec.id.clone(), g.spec.description.clone(), gap)
            })
            .filter(|(_, _, gap)| *gap > 0.0)
            .collect();
        gaps.sort_by(|a, b| b.2.total_cmp(&a.2));
        gaps.truncate(GAPS);
        let mut candidates: Vec<Json> = Vec::new();
        let mut best: Vec<(f64, &Plan, Json)> = Vec::new();
        for (goal, _, gap) in &gaps {
            let mut for_goal: Option<(f64, &Plan, Json)> = None;
            for plan in s.playbook.plans.serving(goal) {
                if !proactive(&plan.spec.trigger.event) || plan.spec.last_resort {
                    continue;
                }
                let running = self.intentions.iter().any(|i| i.plan == plan.spec.name);
                let record = self
                    .stats
                    .get(&Stats::plan_key(&plan.spec.name, &plan.spec.trigger.event));
                let p = record.mean();
                let cost = plan.spec.cost.max(0.1);
                let days = plan
                    .spec
                    .success
                    .as_ref()
                    .map_or(1.0, |x| x.within.as_secs_f64() / 86_400.0);
                let score = p * gap / (cost * (1.0 + days).sqrt());
                let event = json!({"id": format!("{}:{}", e.id, plan.spec.name), "kind": plan.spec.trigger.event, "source": "strategy", "payload": {"goal": goal}});
                let fits = self
                    .check(s, plan.context.as_ref(), &Seen::new(s, &event))
                    .unwrap_or(false);
                candidates.push(json!({
                    "plan": plan.spec.name, "goal": goal, "success": p, "impact": gap,
                    "cost": cost, "days_to_value": days, "score": score,
                    "tried": record.successes + record.failures,
                    "fits": fits, "running": running,
                }));
                if fits && !running && for_goal.as_ref().is_none_or(|(b, ..)| score > *b) {
                    for_goal = Some((score, plan, event));
                }
            }
            best.extend(for_goal);
        }
        best.sort_by(|a, b| b.0.total_cmp(&a.0));
        best.truncate(CHOSEN);
        let mut chosen = Vec::new();
        for (_, plan, event) in best {
            // Adopted in its trigger's context, so what it learns counts for the plan as usual.
            let intention = self.adopt(s, plan, plan.spec.trigger.event.clone(), event, None, out);
            chosen.push(
                json!({"plan": plan.spec.name, "goal": plan.spec.goal, "intention": intention}),
            );
        }
        let mut situation: Vec<String> = gaps
            .iter()
            .filter_map(|(id, d, _)| {
                let g = self.goals.get(id)?;
                Some(format!(
                    "{d}: {} against {} ({:.0}% there)",
                    g.current.unwrap_or_default(),
                    g.spec.target,
                    g.progress * 100.0
                ))
            })
            .collect();
        let unknown: Vec<&str> = self
            .goals
            .iter()
            .filter(|g| g.current.is_none())
            .map(|g| g.spec.description.as_str())
            .collect();
        if !unknown.is_empty() {
            situation.push(format!("no figure yet for: {}", unknown.join(", ")));
        }
        let situation = if situation.is_empty() {
            "every goal is met".to_string()
        } else {
            situation.join("; ")
        };
        let summary = match chosen.as_slice() {
            [] if gaps.is_empty() => {
                "no goal with a figure is behind; nothing to change".to_string()
            }
            [] => {
                "no strategy fits now (each is running, or its context does not hold)".to_string()
            }
            c => format!(
                "committing to {}",
                c.iter()
                    .map(|x| format!(
                        "{} (for {})",
                        x["plan"].as_str().unwrap_or_default(),
                        x["goal"].as_str().unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        };
        out.push(Decision::Strategy {
            summary,
            situation,
            gaps: gaps
                .iter()
                .map(|(id, _, gap)| json!({"goal": id, "gap": gap}))
                .collect(),
            candidates,
            chosen,
        });
    }
}
