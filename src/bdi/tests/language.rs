//! Language steps with a model: the step's action carries its brief, its own text and
//! the employee's state for the model; the intention waits for the text, which later
//! steps read (`intention.text`, `results.<save_as>`); a model that fails or does not
//! answer in time leaves the step its own text.

use super::*;
use crate::bdi::language::Share;

fn with_model(w: &mut World, input: Input) -> Vec<Decision> {
    let s = Situation {
        playbook: &w.pb,
        persona: &w.persona,
        me: &w.me,
        now: w.now,
        memory: None,
        language: Some(Share {
            memories: true,
            crm: false,
        }),
    };
    w.mind.cycle(&s, input)
}

fn writing(d: &[Decision]) -> Action {
    d.iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == "llm.compose" => Some(a.clone()),
            _ => None,
        })
        .expect("the language step asks the model")
}

fn mail(d: &[Decision]) -> Option<Json> {
    d.iter().find_map(|x| match x {
        Decision::Act(a) if a.kind == "email.send" => Some(a.params.clone()),
        _ => None,
    })
}

fn written(action: u64, status: &str, text: Option<&str>) -> Input {
    Input::Outcome {
        action,
        success: status == "done",
        event: Perceived {
            id: format!("outcome-{action}"),
            kind: "empla.outcome".into(),
            source: "outbox".into(),
            payload: json!({"action_id": action, "kind": "llm.compose", "status": status,
                            "result": {"text": text, "written_by": "anthropic/claude-test"}}),
        },
    }
}

#[test]
fn the_models_text_is_what_the_next_step_reads() {
    let mut w = World::new(Phase::Autonomous);
    let d = with_model(&mut w, ev("note.due", json!({})));
    let a = writing(&d);
    assert_eq!(
        a.disposition,
        Disposition::Execute,
        "writing passes the gate: it changes nothing outside"
    );
    let own = a.params["text"].as_str().unwrap().to_string();
    assert!(own.starts_with("Jordan Lee: "), "{own}");
    let c = &a.params["compose"];
    assert_eq!(c["prompt"], "compose");
    assert_eq!(c["context"]["brief"], "Write Jordan Lee's weekly note");
    assert_eq!(c["context"]["draft"], own.as_str());
    assert_eq!(c["context"]["me"]["name"], "Jordan Lee");
    assert!(
        c["context"]["goals"]
            .as_array()
            .is_some_and(|g| !g.is_empty())
    );
    assert_eq!(c["recall"], "Write Jordan Lee's weekly note");
    assert_eq!(c["crm"], false);
    assert!(mail(&d).is_none(), "the mail waits for the text");
    assert_eq!(w.mind.intentions[0].state.name(), "waiting");

    let d = with_model(
        &mut w,
        written(a.id, "done", Some("Dear Pat, this week went well.")),
    );
    assert!(d.iter().any(
        |x| matches!(x, Decision::AskLlm { text, .. } if text == "Dear Pat, this week went well.")
    ));
    let sent = mail(&d).expect("the next step runs with the model's text");
    assert_eq!(sent["body"], "Dear Pat, this week went well.");
}

#[test]
fn a_failed_or_silent_model_leaves_the_step_its_own_text() {
    let mut w = World::new(Phase::Autonomous);
    let a = writing(&with_model(&mut w, ev("note.due", json!({}))));
    let own = a.params["text"].as_str().unwrap().to_string();
    let d = with_model(&mut w, written(a.id, "failed", None));
    assert!(
        !d.iter().any(|x| matches!(x, Decision::Fail { .. })),
        "{d:?}"
    );
    assert_eq!(mail(&d).expect("the plan goes on")["body"], own.as_str());

    let mut w = World::new(Phase::Autonomous);
    writing(&with_model(&mut w, ev("note.due", json!({}))));
    w.now += chrono::Duration::minutes(11);
    let d = with_model(&mut w, Input::Tick);
    assert!(mail(&d).is_some_and(|m| m["body"] == own.as_str()), "{d:?}");
}
