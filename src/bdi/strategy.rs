//! Strategic planning (weekly, on the `weekly_strategic_planning` tick every role has,
//! and on demand, `strategy.review`): the situation from the goals and their figures →
//! the gaps (goals not met, weighed by priority) → candidate strategies scored on their
//! chance of success, impact, cost and time to value → the best committed to as
//! intentions. The whole reasoning is one decision, kept as an episode the manager can
//! read, with the intentions it started as its consequences.
//!
//! Offline the candidates are the role's proactive plans serving each gap, scored from
//! the procedural statistics (the posterior of each plan's record). With a language
//! model the cycle asks it (`llm.strategy`) to propose strategies — each one or more of
//! those plans for one goal, with its own estimates of the four figures — and commits
//! to the best of what it proposed that the engine can run; where a plan has a record
//! of its own, the record tempers the model's estimate of its success. A proposal
//! naming a plan the role lacks, or one that cannot start, is kept in the episode as
//! rejected; when nothing the model proposed can run (or no model answers) the cycle
//! commits as it would offline, and says so.

use super::adoption::proactive;
use super::intention::{Seen, event_json};
use super::*;

/// The tick that runs it every week.
pub const WEEKLY: &str = "weekly_strategic_planning";
/// The event that runs it on demand.
pub const REVIEW: &str = "strategy.review";
/// The action asking a model for strategies.
pub const ASK: &str = "llm.strategy";
/// Gaps considered.
const GAPS: usize = 3;
/// Strategies committed to at once.
const CHOSEN: usize = 2;
/// Plans one strategy may combine.
const PLANS_PER_STRATEGY: usize = 3;
/// Tries after which a plan's record counts beside a model's estimate.
const PROVEN: u32 = 3;

/// Whether `e` asks for a planning cycle.
pub(super) fn asks(e: &Perceived) -> bool {
    e.kind == REVIEW || (e.kind == "cron.tick" && e.payload["schedule"] == WEEKLY)
}

/// A plan that may serve a strategy now.
struct Candidate {
    plan: String,
    goal: String,
    /// Its score by the rules.
    score: f64,
    /// The event it is adopted on.
    event: Json,
    fits: bool,
    running: bool,
    /// Its record's posterior mean, and how often it was tried.
    record: (f64, u32),
}

/// What a planning cycle weighs: the situation, the gaps and every candidate plan.
struct Weighing {
    situation: String,
    /// `(goal, description, gap)`, largest first.
    gaps: Vec<(String, String, f64)>,
    options: Vec<Candidate>,
    /// The candidates as the episode shows them.
    candidates: Vec<Json>,
}

/// A strategy to commit to: its plans and score, and (by a model) its name and why.
struct Strategy {
    name: String,
    goal: String,
    plans: Vec<String>,
    score: f64,
    why: Option<String>,
}

fn score(success: f64, impact: f64, cost: f64, days: f64) -> f64 {
    success * impact / (cost.max(0.1) * (1.0 + days.max(0.0)).sqrt())
}

impl Mind {
    fn weigh(&self, s: &Situation<'_>, e: &Perceived) -> Weighing {
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
        let mut options = Vec::new();
        let mut candidates = Vec::new();
        for (goal, _, gap) in &gaps {
            for plan in s.playbook.plans.serving(goal) {
                if !proactive(&plan.spec.trigger.event) || plan.spec.last_resort {
                    continue;
                }
                let running = self.intentions.iter().any(|i| i.plan == plan.spec.name);
                let record = self
                    .stats
                    .get(&Stats::plan_key(&plan.spec.name, &plan.spec.trigger.event));
                let p = record.mean();
                let tried = record.successes + record.failures;
                let cost = plan.spec.cost.max(0.1);
                let days = plan
                    .spec
                    .success
                    .as_ref()
                    .map_or(1.0, |x| x.within.as_secs_f64() / 86_400.0);
                let score = score(p, *gap, cost, days);
                let event = json!({"id": format!("{}:{}", e.id, plan.spec.name), "kind": plan.spec.trigger.event, "source": "strategy", "payload": {"goal": goal}});
                let fits = self
                    .check(s, plan.context.as_ref(), &Seen::new(s, &event))
                    .unwrap_or(false);
                candidates.push(json!({
                    "plan": plan.spec.name, "goal": goal, "success": p, "impact": gap,
                    "cost": cost, "days_to_value": days, "score": score,
                    "tried": tried, "fits": fits, "running": running,
                    "description": plan.spec.description,
                }));
                options.push(Candidate {
                    plan: plan.spec.name.clone(),
                    goal: goal.clone(),
                    score,
                    event,
                    fits,
                    running,
                    record: (p, tried),
                });
            }
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
        Weighing {
            situation,
            gaps,
            options,
            candidates,
        }
    }

    /// The rules' choice: the best plan that can start for each gap, best first.
    fn by_rules(w: &Weighing) -> Vec<Strategy> {
        let mut best: Vec<&Candidate> = Vec::new();
        for (goal, ..) in &w.gaps {
            if let Some(o) = w
                .options
                .iter()
                .filter(|o| &o.goal == goal && o.fits && !o.running)
                .max_by(|a, b| a.score.total_cmp(&b.score))
            {
                best.push(o);
            }
        }
        best.sort_by(|a, b| b.score.total_cmp(&a.score));
        best.into_iter()
            .take(CHOSEN)
            .map(|o| Strategy {
                name: o.plan.clone(),
                goal: o.goal.clone(),
                plans: vec![o.plan.clone()],
                score: o.score,
                why: None,
            })
            .collect()
    }

    /// One planning cycle for `e`: decided at once offline; with a model, asked of it
    /// (the answer comes back as the `llm.strategy` action's outcome).
    pub(super) fn strategize(&mut self, s: &Situation<'_>, e: &Perceived, out: &mut Vec<Decision>) {
        let w = self.weigh(s, e);
        let rules = Self::by_rules(&w);
        let Some(share) = s.language.as_ref().filter(|_| !rules.is_empty()) else {
            self.commit(s, w, rules, "rules".into(), None, out);
            return;
        };
        // What stands if no model answers: the rules' choice, in the answer's shape.
        let draft = json!({"strategies": rules.iter().map(|r| {
            let o = w.options.iter().find(|o| o.plan == r.name);
            json!({"name": r.name, "goal": r.goal, "plans": r.plans,
                   "success": o.map(|o| o.record.0), "impact": w.gaps.iter().find(|g| g.0 == r.goal).map(|g| g.2),
                   "why": "the best record among the plans serving this goal"})
        }).collect::<Vec<_>>()});
        let mut params = self.writing(
            s,
            LlmKind::Plan,
            "strategic planning",
            &draft.to_string(),
            &[],
            share,
        );
        let context = &mut params["compose"]["context"];
        context["situation"] = json!(w.situation);
        context["gaps"] = json!(
            w.gaps
                .iter()
                .map(|(id, d, gap)| json!({"goal": id, "description": d, "gap": gap}))
                .collect::<Vec<_>>()
        );
        context["candidates"] = json!(w.candidates);
        params["compose"]["prompt"] = json!("strategy");
        params["compose"]["recall"] = Json::Null;
        params["about"] = json!({"event": event_json(e)});
        let act = Action {
            id: self.id(),
            intention: 0,
            plan: "strategic_planning".into(),
            step: 0,
            kind: ASK.into(),
            params,
            variant: None,
            disposition: Disposition::Execute,
        };
        out.push(Decision::Act(act));
    }

    /// The model's strategies (the `llm.strategy` outcome `e`) weighed and committed to.
    pub(super) fn strategy_answered(
        &mut self,
        s: &Situation<'_>,
        e: &Perceived,
        out: &mut Vec<Decision>,
    ) {
        let about = &e.payload["result"]["about"]["event"];
        let asked = Perceived {
            id: about["id"].as_str().unwrap_or_default().to_string(),
            kind: about["kind"].as_str().unwrap_or(REVIEW).to_string(),
            source: about["source"].as_str().unwrap_or_default().to_string(),
            payload: about["payload"].clone(),
        };
        let mut w = self.weigh(s, &asked);
        let rules = Self::by_rules(&w);
        let by = e.payload["result"]["written_by"]
            .as_str()
            .unwrap_or("offline")
            .to_string();
        let answer = e.payload["result"]["text"].as_str().unwrap_or_default();
        let (proposed, why_not) = if by.starts_with("offline") || e.payload["status"] != "done" {
            (Vec::new(), Some(format!("no model answered ({by})")))
        } else {
            match self.proposals_of(&mut w, answer) {
                Ok(p) if p.is_empty() => (p, Some("the model proposed nothing I can run".into())),
                Ok(p) => (p, None),
                Err(why) => (Vec::new(), Some(why)),
            }
        };
        if proposed.is_empty() {
            self.commit(s, w, rules, "rules".into(), why_not, out);
        } else {
            self.commit(s, w, proposed, by, None, out);
        }
    }

    /// The strategies a model's `answer` proposes that can run, best first; each one
    /// it proposed is added to the candidates (rejected ones with why).
    fn proposals_of(&self, w: &mut Weighing, answer: &str) -> Result<Vec<Strategy>, String> {
        let v = language::json_object(answer, "the model's answer")?;
        let list = v["strategies"]
            .as_array()
            .ok_or("the model's answer has no `strategies` list")?;
        let mut out = Vec::new();
        for x in list.iter().take(5) {
            let figure = |k: &str, lo: f64, hi: f64, or: f64| {
                x[k].as_f64()
                    .filter(|f| f.is_finite())
                    .map_or(or, |f| f.clamp(lo, hi))
            };
            let name = x["name"]
                .as_str()
                .unwrap_or("unnamed")
                .chars()
                .take(80)
                .collect::<String>();
            let plans: Vec<String> = x["plans"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect();
            let (success, impact) = (
                figure("success", 0.0, 1.0, 0.5),
                figure("impact", 0.0, 1.0, 0.5),
            );
            let (cost, days) = (
                figure("cost", 0.1, 100.0, 1.0),
                figure("days_to_value", 0.0, 365.0, 7.0),
            );
            let mut problem = None;
            if plans.is_empty() || plans.len() > PLANS_PER_STRATEGY {
                problem = Some(format!(
                    "it names {} plans (1 to {PLANS_PER_STRATEGY})",
                    plans.len()
                ));
            }
            let mut records = Vec::new();
            let mut goal = x["goal"].as_str().unwrap_or_default().to_string();
            for p in &plans {
                match w.options.iter().find(|o| &o.plan == p) {
                    None => {
                        problem.get_or_insert(format!(
                            "{p} is not one of my plans for the goals behind"
                        ));
                    }
                    Some(o) if o.running => {
                        problem.get_or_insert(format!("{p} is already running"));
                    }
                    Some(o) if !o.fits => {
                        problem.get_or_insert(format!(
                            "{p} cannot start now (its context does not hold)"
                        ));
                    }
                    Some(o) => {
                        records.push(o.record);
                        if !w.gaps.iter().any(|g| g.0 == goal) {
                            goal = o.goal.clone();
                        }
                    }
                }
            }
            // A plan's own record tempers the model's estimate of its success.
            let proven: Vec<f64> = records
                .iter()
                .filter(|r| r.1 >= PROVEN)
                .map(|r| r.0)
                .collect();
            let success = if proven.is_empty() {
                success
            } else {
                (success + proven.iter().sum::<f64>() / proven.len() as f64) / 2.0
            };
            let score = score(success, impact, cost, days);
            let why = x["why"]
                .as_str()
                .map(|w| w.chars().take(300).collect::<String>());
            w.candidates.push(json!({
                "strategy": name, "plans": plans, "goal": goal, "success": success,
                "impact": impact, "cost": cost, "days_to_value": days, "score": score,
                "why": why, "by": "model", "rejected": problem,
            }));
            if problem.is_none() {
                out.push(Strategy {
                    name,
                    goal,
                    plans,
                    score,
                    why,
                });
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        // Strategies sharing a plan: the better one takes it.
        let mut taken = std::collections::BTreeSet::new();
        out.retain(|x| x.plans.iter().all(|p| taken.insert(p.clone())));
        out.truncate(CHOSEN);
        Ok(out)
    }

    /// Commits to `chosen` (each plan adopted as an intention) and records the cycle.
    fn commit(
        &mut self,
        s: &Situation<'_>,
        w: Weighing,
        chosen: Vec<Strategy>,
        by: String,
        fallback: Option<String>,
        out: &mut Vec<Decision>,
    ) {
        let mut committed = Vec::new();
        for strategy in &chosen {
            for name in &strategy.plans {
                let (Some(plan), Some(o)) = (
                    s.playbook.plans.get(name),
                    w.options.iter().find(|o| &o.plan == name),
                ) else {
                    continue;
                };
                // Adopted in its trigger's context, so what it learns counts for the plan.
                let intention = self.adopt(
                    s,
                    plan,
                    plan.spec.trigger.event.clone(),
                    o.event.clone(),
                    None,
                    out,
                );
                committed.push(json!({
                    "plan": name, "goal": plan.spec.goal, "intention": intention,
                    "strategy": strategy.name, "score": strategy.score, "why": strategy.why,
                }));
            }
        }
        let words: Vec<String> = chosen
            .iter()
            .map(|x| match x.plans.as_slice() {
                [one] if *one == x.name => format!("{one} (for {})", x.goal),
                plans => format!("\"{}\": {} (for {})", x.name, plans.join(" + "), x.goal),
            })
            .collect();
        let mut summary = match words.as_slice() {
            [] if w.gaps.is_empty() => {
                "no goal with a figure is behind; nothing to change".to_string()
            }
            [] => {
                "no strategy fits now (each is running, or its context does not hold)".to_string()
            }
            c => format!("committing to {}", c.join(" and ")),
        };
        if let Some(why) = fallback {
            summary.push_str(&format!(" (by my plan statistics: {why})"));
        }
        out.push(Decision::Strategy {
            summary,
            situation: w.situation,
            gaps: w
                .gaps
                .iter()
                .map(|(id, _, gap)| json!({"goal": id, "gap": gap}))
                .collect(),
            candidates: w.candidates,
            chosen: committed,
            by,
        });
    }
}
