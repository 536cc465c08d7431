//! Chat without a model, against the shipped roles: goal questions in words answered
//! with the figure, the target and the work (the seed's own example, section 6.2), and
//! directives applied — a focus segment the next lead search follows, a pause on
//! contact the gate honours until its date or until lifted, a top goal deliberation
//! prefers — visible in the status and recorded.

use super::*;
use crate::bdi::conversation::Asked;
use crate::config::Config;

/// An employee of a shipped role, as the node runs it.
struct Hire {
    pb: Playbook,
    persona: Persona,
    me: Json,
    goals: Vec<crate::model::Goal>,
    now: DateTime<Utc>,
    mind: Mind,
}

fn hire(role: &str, phase: Phase) -> Hire {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/empla.toml");
    let cfg = Config::load(std::path::Path::new(path), &[])
        .unwrap_or_else(|e| panic!("the shipped configuration loads: {e}"));
    let r = &cfg.roles[role];
    Hire {
        pb: r.playbook(8).expect("the shipped playbook compiles"),
        persona: r.persona.clone(),
        me: json!({"name": "Jordan Lee", "handle": "jordan.lee", "email": "jordan.lee@example.com",
                   "job_title": r.job_title, "manager": "pat@example.com"}),
        goals: r.goals.clone(),
        now: t0(),
        mind: Mind::new(&r.goals, phase, 11),
    }
}

impl Hire {
    fn run(&mut self, input: Input) -> Vec<Decision> {
        let s = Situation {
            playbook: &self.pb,
            persona: &self.persona,
            me: &self.me,
            now: self.now,
            memory: None,
            language: None,
        };
        self.mind.cycle(&s, input)
    }

    fn metric(&mut self, metric: &str, value: f64) -> Vec<Decision> {
        self.run(ev("metric", json!({"metric": metric, "value": value})))
    }

    fn say(&mut self, text: &str) -> (Asked, String, Vec<Decision>) {
        let s = Situation {
            playbook: &self.pb,
            persona: &self.persona,
            me: &self.me,
            now: self.now,
            memory: None,
            language: None,
        };
        self.mind.answer(&s, "vp <vp@example.com>", text)
    }

    fn status(&mut self) -> String {
        self.say("what are you working on?").1
    }
}

fn said(d: &[Decision]) -> Vec<String> {
    d.iter()
        .filter_map(|x| match x {
            Decision::Directive { summary, .. } => Some(summary.clone()),
            _ => None,
        })
        .collect()
}

fn sent(d: &[Decision], kind: &str) -> Vec<Action> {
    d.iter()
        .filter_map(|x| match x {
            Decision::Act(a) if a.kind == kind => Some(a.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn hows_the_pipeline_gets_the_figure_the_target_and_the_work_not_a_greeting() {
    let mut jordan = hire("sales_ae", Phase::Autonomous);
    // Before any figure: no number, and why nothing is being done.
    let (asked, text, _) = jordan.say("Hey Jordan, how's the pipeline looking?");
    assert_eq!(asked, Asked::Goals, "{text}");
    assert!(
        text.contains("no figure for pipeline coverage yet"),
        "{text}"
    );
    assert!(
        text.contains("not working on it right now")
            && text.contains("prospect for pipeline starts when pipeline coverage falls below 3"),
        "{text}"
    );
    // The seed's example: coverage reported at 2.1.
    let d = jordan.metric("pipeline_coverage", 2.1);
    assert_eq!(sent(&d, "crm.find_leads").len(), 1, "{d:?}");
    let (asked, text, made) = jordan.say("Hey Jordan, how's the pipeline looking?");
    assert_eq!(asked, Asked::Goals);
    assert!(made.is_empty());
    assert!(
        text.starts_with("Hi vp! Pipeline coverage is at 2.1x right now"),
        "{text}"
    );
    assert!(text.contains("below our 3x target"), "{text}");
    assert!(
        !text.contains("I'm Jordan"),
        "the greeting word does not win: {text}"
    );
    assert!(
        text.contains("What I'm doing about it: find the accounts that fit the ideal customer profile (waiting for its result)"),
        "{text}"
    );
    // Leads found: each is worked, and counted.
    for (i, who) in [
        "ann@acme.example",
        "bo@globex.example",
        "cy@initech.example",
    ]
    .iter()
    .enumerate()
    {
        jordan.run(ev(
            "crm.lead",
            json!({"lead": format!("Lead {i} <{who}>"), "email": who, "contact": format!("c{i}"),
                   "company": format!("Company {i}"), "account": format!("a{i}"), "first_name": "Lee"}),
        ));
    }
    let (_, text, _) = jordan.say("what about pipeline coverage?");
    assert!(
        text.contains("write to its contact about their company and what is happening there, and follow up until they answer — for 3 leads: 3 waiting for a result"),
        "{text}"
    );
    assert!(
        text.ends_with("I'm on it!"),
        "in the persona's voice: {text}"
    );
    // Revenue and quota name the revenue goal, in dollars.
    jordan.metric("closed_revenue_usd", 412_500.0);
    let (_, text, _) = jordan.say("How are we doing against quota?");
    assert!(
        text.contains("Closed revenue is at $412.5K right now — below our $500K target"),
        "{text}"
    );
    // Work on a sub-goal (pipeline coverage) is work on revenue.
    assert!(
        text.contains("What I'm doing about it: find the accounts that fit"),
        "{text}"
    );
    let (_, text, _) = jordan.say("what's our win rate?");
    assert!(
        text.contains("I have no figure for win rate yet (the target is at least 25%)"),
        "{text}"
    );
}

#[test]
fn focus_more_on_enterprise_deals_changes_the_next_lead_search_and_shows_in_status() {
    let mut jordan = hire("sales_ae", Phase::Autonomous);
    let (asked, text, made) = jordan.say("Can you focus more on enterprise deals?");
    assert_eq!(asked, Asked::Directive, "{text}");
    assert_eq!(
        text,
        "Hi vp! Absolutely! I'll prioritise accounts with 1000+ employees: my lead searches look in the enterprise segment from now on, starting with the next one."
    );
    assert_eq!(
        said(&made),
        ["focusing on enterprise accounts (1000+ employees)"]
    );
    assert!(
        matches!(&made[0], Decision::Directive { by: Some(by), .. } if by.contains("vp@example.com"))
    );
    assert!(
        jordan
            .status()
            .contains("directives in force: focusing on enterprise accounts (1000+ employees)")
    );
    let views = jordan.mind.directives().views(&jordan.mind.goals);
    assert_eq!(
        (views[0].kind.as_str(), views[0].value.as_str()),
        ("focus", "enterprise")
    );
    // The next search looks in the enterprise band; without the focus, mid-market.
    let d = jordan.metric("pipeline_coverage", 2.1);
    assert_eq!(
        sent(&d, "crm.find_leads")[0].params["segment"],
        "enterprise"
    );
    let mut other = hire("sales_ae", Phase::Autonomous);
    let d = other.metric("pipeline_coverage", 2.1);
    assert_eq!(
        sent(&d, "crm.find_leads")[0].params["segment"],
        "mid-market"
    );
    // It outlives a restart, and the belief a bound forgets is set again.
    let bytes = rmp_serde::to_vec(&jordan.mind).unwrap();
    let mut back: Mind = rmp_serde::from_slice(&bytes).unwrap();
    back.restore(&jordan.goals, jordan.now);
    back.beliefs.remove(directives::FOCUS_BELIEF);
    jordan.mind = back;
    jordan.run(Input::Tick);
    assert_eq!(
        jordan
            .mind
            .beliefs
            .get(directives::FOCUS_BELIEF)
            .map(|b| b.value.clone()),
        Some(json!("enterprise"))
    );
    // Lifted: the role's own segment again.
    let (_, text, made) = jordan.say("stop focusing on enterprise");
    assert!(text.contains("no longer focused on enterprise"), "{text}");
    assert_eq!(said(&made).len(), 1);
    assert!(jordan.mind.beliefs.get(directives::FOCUS_BELIEF).is_none());
    assert!(jordan.mind.directives().is_empty());
}

#[test]
fn the_csm_answers_retention_and_nps_and_the_recruiter_hiring() {
    let mut sam = hire("csm", Phase::Autonomous);
    let (_, text, _) = sam.say("what's our NPS?");
    assert!(
        text.contains("I have no figure for NPS yet (the target is above 50)"),
        "{text}"
    );
    sam.metric("retention_rate", 0.91);
    sam.metric("nps", 42.0);
    let (asked, text, _) = sam.say("How's retention?");
    assert_eq!(asked, Asked::Goals);
    assert!(
        text.starts_with("Hello vp. Retention rate is at 91% right now — below our 95% target"),
        "{text}"
    );
    assert!(!text.contains("NPS"), "only the goal asked about: {text}");
    let (_, text, _) = sam.say("what's our NPS?");
    assert!(
        text.contains("NPS is at 42 right now — below our 50 target"),
        "{text}"
    );
    let (_, text, _) = sam.say("are customers churning?");
    assert!(
        text.contains("Retention rate is at 91%"),
        "churn means retention: {text}"
    );
    let (_, text, _) = sam.say("how is customer satisfaction?");
    assert!(text.contains("NPS is at 42"), "{text}");

    let mut riley = hire("recruiter", Phase::Autonomous);
    riley.metric("time_to_hire_days", 41.0);
    let (asked, text, _) = riley.say("how's hiring going?");
    assert_eq!(asked, Asked::Goals);
    assert!(
        text.contains("Time to hire is at 41 days right now — above our target of under 30 days"),
        "{text}"
    );
    assert!(
        text.contains("no figure for probation pass rate yet"),
        "every hiring goal: {text}"
    );
    let (_, text, made) = riley.say("prioritise hiring");
    assert!(text.contains("is my top priority now"), "{text}");
    assert_eq!(
        said(&made),
        ["top priority: quality of hire (Make quality hires: 90% pass their probation)"]
    );
    let (_, text, _) = riley.say("back to your normal priorities please");
    assert!(text.contains("no longer ahead of my other goals"), "{text}");
    assert!(riley.mind.directives().is_empty());
    let (_, text, _) = riley.say("how many candidates are in the pipeline?");
    assert!(
        text.contains("no figure for qualified candidates per role yet"),
        "{text}"
    );
    assert!(!text.contains("Time to hire"), "{text}");
}

/// The shipped Sales AE working a lead at Acme, up to the mail it would send.
fn lead_at_acme(jordan: &mut Hire) -> Vec<Decision> {
    jordan.run(ev(
        "crm.lead",
        json!({"lead": "Jane Doe <jane@acme.example>", "email": "jane@acme.example", "contact": "c1",
               "company": "Acme", "account": "a1", "first_name": "Jane", "signal": "hiring"}),
    ));
    // Research gives nothing within the minute: the outreach is next.
    jordan.now += Duration::minutes(2);
    jordan.run(Input::Tick)
}

#[test]
fn a_paused_account_gets_no_mail_until_the_date_and_then_gets_it() {
    let mut jordan = hire("sales_ae", Phase::Autonomous);
    let (asked, text, made) = jordan.say("Stop emailing Acme until January");
    assert_eq!(asked, Asked::Directive);
    assert!(
        text.contains("I won't contact anyone at Acme (an address at their domain or the account in my CRM) until 2027-01-01"),
        "{text}"
    );
    assert_eq!(said(&made), ["not contacting Acme until 2027-01-01"]);
    let d = lead_at_acme(&mut jordan);
    assert!(sent(&d, "email.send").is_empty(), "{d:?}");
    assert_eq!(
        said(&d),
        ["held email.send of reach_out_to_lead: not contacting Acme until 2027-01-01"]
    );
    let status = jordan.status();
    assert!(
        status.contains("reach out to lead (held by a pause on contact)"),
        "{status}"
    );
    assert!(
        status.contains("not contacting Acme until 2027-01-01"),
        "{status}"
    );
    // Still held later in December; and a lead elsewhere is written to meanwhile.
    jordan.now = Utc.with_ymd_and_hms(2026, 12, 20, 9, 0, 0).unwrap();
    let d = jordan.run(ev(
        "crm.lead",
        json!({"lead": "Bo Ray <bo@globex.example>", "email": "bo@globex.example", "contact": "c2",
               "company": "Globex", "account": "a2", "first_name": "Bo"}),
    ));
    assert!(sent(&d, "email.send").is_empty());
    jordan.now += Duration::minutes(2);
    let d = jordan.run(Input::Tick);
    let to: Vec<Json> = sent(&d, "email.send")
        .iter()
        .map(|a| a.params["to"].clone())
        .collect();
    assert_eq!(to, [json!("Bo Ray <bo@globex.example>")]);
    // The employee wakes on the date, and the held mail goes out.
    let due = jordan.mind.next_due(&jordan.pb, jordan.now);
    assert!(
        due <= Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
        "{due:?}"
    );
    jordan.now = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let d = jordan.run(Input::Tick);
    assert_eq!(
        said(&d),
        ["the pause on contacting Acme ended (until 2027-01-01)"]
    );
    let to: Vec<Json> = sent(&d, "email.send")
        .iter()
        .map(|a| a.params["to"].clone())
        .collect();
    assert_eq!(to, [json!("Jane Doe <jane@acme.example>")]);
    assert!(jordan.mind.directives().is_empty());
}

#[test]
fn a_pause_until_lifted_holds_mail_and_follow_ups_until_resumed() {
    let mut jordan = hire("sales_ae", Phase::Autonomous);
    let (_, text, _) = jordan.say("pause outreach to Acme");
    assert!(text.contains("until told otherwise"), "{text}");
    assert!(
        text.contains("Tell me \"resume Acme\" when I may again."),
        "{text}"
    );
    let d = lead_at_acme(&mut jordan);
    assert!(sent(&d, "email.send").is_empty());
    // Weeks pass: still held.
    jordan.now += Duration::weeks(3);
    assert!(sent(&jordan.run(Input::Tick), "email.send").is_empty());
    let (_, text, made) = jordan.say("You can email Acme again");
    assert!(
        text.contains("I can contact Acme again. The message I held for them goes out now."),
        "{text}"
    );
    assert_eq!(said(&made), ["contact with Acme resumed"]);
    let d = jordan.run(Input::Tick);
    let mail = sent(&d, "email.send");
    assert_eq!(mail.len(), 1, "{d:?}");
    let id = mail[0].id;
    // Paused again before the follow-up: the reply in the thread is held too.
    jordan.say("don't contact jane@acme.example for two weeks");
    jordan.run(outcome(id, true));
    jordan.now += Duration::days(3) + Duration::minutes(1);
    let d = jordan.run(Input::Tick);
    assert!(sent(&d, "email.reply").is_empty(), "{d:?}");
    assert_eq!(said(&d).len(), 1, "{d:?}");
    let (_, text, _) = jordan.say("resume jane@acme.example");
    assert!(
        text.contains("I can contact jane@acme.example again"),
        "{text}"
    );
    assert_eq!(sent(&jordan.run(Input::Tick), "email.reply").len(), 1);
    let (_, text, made) = jordan.say("resume Initech");
    assert!(text.contains("I wasn't holding off on Initech"), "{text}");
    assert!(made.is_empty());
}

#[test]
fn a_top_goal_is_ranked_first_and_its_work_kept_when_there_is_too_much() {
    let mut sam = hire("csm", Phase::Autonomous);
    let (asked, text, made) = sam.say("Make retention your top priority");
    assert_eq!(asked, Asked::Directive);
    assert!(
        text.contains("Of course. Retention is my top priority now (Maintain 95%+ retention rate)"),
        "{text}"
    );
    assert_eq!(
        said(&made),
        ["top priority: retention (Maintain 95%+ retention rate)"]
    );
    sam.run(Input::Tick);
    let top = sam.mind.goals.get("retention").unwrap().priority;
    assert!(
        sam.mind
            .goals
            .iter()
            .all(|g| g.spec.id == "retention" || g.priority < top)
    );
    assert!(sam.status().contains("top priority: retention"));
    // Kept through a restart.
    let bytes = rmp_serde::to_vec(&sam.mind).unwrap();
    let mut back: Mind = rmp_serde::from_slice(&bytes).unwrap();
    back.restore(&sam.goals, sam.now);
    assert_eq!(back.goals.top(), Some("retention"));
    assert_eq!(back.goals.get("retention").unwrap().priority, top);

    // With room for one intention, the top goal's is the one kept.
    let mut w = World::new(Phase::Autonomous);
    w.pb = playbook(1);
    w.run(ev("deal.stalled", json!({})));
    let s = Situation {
        playbook: &w.pb,
        persona: &w.persona,
        me: &w.me,
        now: w.now,
        memory: None,
        language: None,
    };
    let (_, text, _) = w
        .mind
        .answer(&s, "Pat", "make pipeline coverage your top priority");
    assert!(
        text.contains("Pipeline coverage is my top priority now"),
        "{text}"
    );
    let d = w.run(metric(2.0));
    assert_eq!(adopted(&d), ["prospect_for_pipeline"]);
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Drop { plan, .. } if plan == "await_reply")),
        "{d:?}"
    );
    assert_eq!(w.mind.intentions[0].plan, "prospect_for_pipeline");
}

#[test]
fn words_that_change_nothing_get_an_honest_answer_not_a_yes() {
    let mut jordan = hire("sales_ae", Phase::Autonomous);
    for text in [
        "Please focus on the board deck",
        "From now on, cc me on every deal",
    ] {
        let (asked, answer, made) = jordan.say(text);
        assert_eq!(asked, Asked::Directive, "{text}");
        assert!(!answer.contains("Absolutely"), "{answer}");
        assert!(answer.contains("I can't change that from chat"), "{answer}");
        assert!(
            answer.contains("focus my prospecting on a segment"),
            "{answer}"
        );
        assert!(answer.contains("pause or resume contact"), "{answer}");
        assert!(answer.contains("empla task assign jordan.lee"), "{answer}");
        assert!(made.is_empty());
    }
    assert!(jordan.mind.directives().is_empty());
    // A role whose plans pick no segment is not offered a focus, and is honest about one.
    let mut sam = hire("csm", Phase::Autonomous);
    let (_, answer, _) = sam.say("Please focus on the board deck");
    assert!(!answer.contains("segment"), "{answer}");
    let (_, answer, _) = sam.say("focus on enterprise accounts");
    assert!(answer.contains("changes nothing I do"), "{answer}");
    // A directive is not coaching: "please don't" here rates nothing.
    assert!(crate::bdi::feedback::read("please don't contact Acme for a week").is_none());
}

#[test]
fn a_snapshot_from_before_directives_still_loads() {
    let mut jordan = hire("sales_ae", Phase::Autonomous);
    jordan.metric("pipeline_coverage", 2.1);
    let bytes = rmp_serde::to_vec(&jordan.mind).unwrap();
    // The same mind as an older node stored it: without the last field.
    let mut fields: Vec<Json> = rmp_serde::from_slice(&bytes).unwrap();
    assert_eq!(fields.pop(), Some(json!([null, [], null])));
    let old = rmp_serde::to_vec(&fields).unwrap();
    let mut loaded: Mind = rmp_serde::from_slice(&old).expect("an old snapshot loads");
    loaded.restore(&jordan.goals, jordan.now);
    assert_eq!(loaded.directives, Directives::default());
    assert_eq!(loaded.intentions, jordan.mind.intentions);
}

#[test]
fn a_role_written_in_config_is_understood_from_its_own_goals() {
    let goal =
        |id: &str, metric: &str, unit: &str, target: f64, description: &str| crate::model::Goal {
            id: id.into(),
            description: description.into(),
            horizon: crate::model::GoalHorizon::Tactical,
            metric: metric.into(),
            comparison: crate::model::Comparison::Below,
            target,
            unit: Some(unit.into()),
            period: None,
            importance: 0.5,
            parent: None,
        };
    let goals = [
        goal(
            "first_response",
            "first_response_minutes",
            "minutes",
            30.0,
            "Answer every ticket within 30 minutes",
        ),
        goal(
            "backlog",
            "open_tickets",
            "tickets",
            20.0,
            "Keep fewer than 20 tickets open",
        ),
    ];
    let ids: Vec<&str> = goals.iter().map(|g| g.id.as_str()).collect();
    let pb = Playbook::compile(&PlaybookSpec::default(), &ids, 4).unwrap();
    let persona = role().persona;
    let me = json!({"name": "Robin Support", "handle": "robin"});
    let mut mind = Mind::new(&goals, Phase::Autonomous, 3);
    let s = Situation {
        playbook: &pb,
        persona: &persona,
        me: &me,
        now: t0(),
        memory: None,
        language: None,
    };
    mind.cycle(
        &s,
        ev("metric", json!({"metric": "open_tickets", "value": 27.0})),
    );
    let (asked, text, _) = mind.answer(&s, "Kim", "hey, how many tickets are open?");
    assert_eq!(asked, Asked::Goals);
    assert!(
        text.contains(
            "Open tickets is at 27 tickets right now — above our target of under 20 tickets"
        ),
        "{text}"
    );
    assert!(text.contains("none of my plans serves it"), "{text}");
    let (_, text, _) = mind.answer(&s, "Kim", "what's our first response time?");
    assert!(
        text.contains("no figure for first response yet (the target is under 30 minutes)"),
        "{text}"
    );
}

#[test]
fn a_mail_approved_after_its_recipient_was_paused_is_held_not_sent() {
    let mut jordan = hire("sales_ae", Phase::Assisted);
    // Research only reads: it runs in the assisted phase; the mail waits for a human.
    jordan.pb.reads.insert("research.search".into());
    let d = lead_at_acme(&mut jordan);
    let mail = sent(&d, "email.send");
    assert!(
        matches!(mail.as_slice(), [a] if matches!(a.disposition, Disposition::AwaitApproval { .. })),
        "{d:?}"
    );
    jordan.say("Stop emailing Acme until January");
    let d = jordan.run(Input::Decided {
        action: mail[0].id,
        approved: true,
        reason: None,
    });
    assert!(
        !d.iter().any(|x| matches!(x, Decision::Act(a) if a.kind == "email.send" && a.disposition == Disposition::Execute)),
        "{d:?}"
    );
    assert_eq!(
        said(&d),
        ["held email.send of reach_out_to_lead: not contacting Acme until 2027-01-01"]
    );
    // When the pause ends, the mail is asked for again.
    jordan.now = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let d = jordan.run(Input::Tick);
    assert!(
        sent(&d, "email.send")
            .iter()
            .any(|a| matches!(a.disposition, Disposition::AwaitApproval { .. })),
        "{d:?}"
    );
}
