//! What a model reads for an employee, checked before anything follows from it: an
//! instruction in chat the rules cannot read, turned into the same knobs (or into none,
//! saying so); strategies it proposes and scores, committed to as intentions; and a
//! meeting's notes taken from the transcript, owners resolved among the attendees and
//! the employee's own items made its tasks.

use super::common::{TOKEN, eventually, start_binary_with};
use super::llm_fixture::{FakeModel, MODEL_ANTHROPIC, Reply, Seen, node_with_jordan};
use empla::bdi::Phase;
use empla::model::NewEvent;
use serde_json::{Value, json};
use std::time::Duration;

const DANA: &str = "Dana Boss <dana@example.com>";

/// The offline answer a chat prompt carries: what a model that keeps every fact says.
fn offline_of(s: &Seen) -> String {
    let text = s.text();
    text.split("Offline answer: ")
        .nth(1)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn is_directive_prompt(s: &Seen) -> bool {
    s.text()
        .contains("sounds like an instruction about how you work")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instruction_the_rules_miss_is_read_by_the_model_into_a_pause_and_confirmed() {
    let until = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let reading =
        json!({"knob": "pause", "target": "Globex", "until": until.to_string()}).to_string();
    let fake = FakeModel::start(move |s| {
        if is_directive_prompt(s) {
            Reply::Text(format!("Sure:\n{reading}"))
        } else {
            Reply::Text(offline_of(s))
        }
    })
    .await;
    let (_db, node, id) = node_with_jordan(&fake, Phase::Autonomous).await;
    let said = "Please never email Globex over the holidays, they asked for some quiet.";
    let asked = node
        .chat(id, DANA, said, Duration::from_secs(20))
        .await
        .unwrap();
    let reply = asked.reply.expect("answered within the wait").text;
    assert!(
        reply.contains("I won't contact anyone at Globex") && reply.contains(&until.to_string()),
        "{reply}"
    );
    // The model was asked with the employee's knobs and the words marked untrusted.
    let seen = fake.seen();
    let read = seen
        .iter()
        .find(|s| is_directive_prompt(s))
        .expect("the model read it");
    let prompt = read.text();
    assert!(
        prompt.contains(&format!(
            "<untrusted source=\"chat\">\n{said}\n</untrusted>"
        )),
        "{prompt}"
    );
    assert!(
        prompt.contains("\"prioritise\": put one goal first. \"goal\" is one of these ids: "),
        "{prompt}"
    );
    // The pause is in force, kept and shown, given by Dana.
    let status = node.employee_runtime(id).await.unwrap();
    let pause = status
        .directives
        .iter()
        .find(|d| d.kind == "pause")
        .expect("the pause is in the status");
    assert_eq!(pause.value, "Globex");
    assert_eq!(pause.by, DANA);
    assert_eq!(pause.until.map(|u| u.date_naive()), Some(until));
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_that_names_no_knob_changes_nothing_and_says_what_can_be_changed() {
    let fake = FakeModel::start(|s| {
        if is_directive_prompt(s) {
            Reply::Text(r#"{"knob": "pause", "target": "Globex", "until": "2019-01-01"}"#.into())
        } else {
            Reply::Text(offline_of(s))
        }
    })
    .await;
    let (_db, node, id) = node_with_jordan(&fake, Phase::Autonomous).await;
    let asked = node
        .chat(
            id,
            DANA,
            "Never email Globex again before last Christmas.",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    let reply = asked.reply.expect("answered within the wait").text;
    assert!(reply.contains("I can't change that from chat"), "{reply}");
    let status = node.employee_runtime(id).await.unwrap();
    assert!(status.directives.is_empty(), "{:?}", status.directives);
    let episodes = node.episodes(id, 50, None).await.unwrap();
    assert!(
        episodes.iter().any(|(_, e)| e.summary.contains(
            "the model's reading turned no knob: the end date 2019-01-01 is not in the future"
        )),
        "{:?}",
        episodes.iter().map(|(_, e)| &e.summary).collect::<Vec<_>>()
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_proposes_and_scores_the_strategies_the_employee_commits_to() {
    let answer = json!({"strategies": [{
        "name": "Ask for warm leads", "goal": "pipeline_coverage", "plans": ["ask_manager_for_leads"],
        "success": 0.8, "impact": 0.6, "cost": 1, "days_to_value": 3,
        "why": "Coverage is 2.1x against 3x; the manager's network is the quickest source."
    }]})
    .to_string();
    let fake = FakeModel::start(move |s| {
        if s.text().contains("It is time for your strategic planning") {
            Reply::Text(answer.clone())
        } else {
            Reply::Text("Noted.".into())
        }
    })
    .await;
    let (_db, node, id) = node_with_jordan(&fake, Phase::Autonomous).await;
    super::llm_fixture::coverage(&node, id, 2.1).await;
    let event = |kind: &str, payload: Value| NewEvent {
        kind: kind.into(),
        source: "test".into(),
        payload,
        idempotency_key: None,
    };
    node.submit_event(id, event("strategy.review", json!({})))
        .await
        .unwrap();
    let strategy = eventually(30, "the planning cycle's episode", || async {
        node.episodes(id, 100, None)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .find(|e| e.summary.starts_with("strategy: "))
    })
    .await;
    assert!(
        strategy
            .summary
            .starts_with("strategy: committing to \"Ask for warm leads\": ask_manager_for_leads (for pipeline_coverage)"),
        "{}",
        strategy.summary
    );
    assert_eq!(
        strategy.payload["by"],
        format!("anthropic/{MODEL_ANTHROPIC}")
    );
    let chosen = &strategy.payload["chosen"][0];
    assert_eq!(chosen["strategy"], "Ask for warm leads");
    assert!(chosen["why"].as_str().unwrap().contains("2.1x against 3x"));
    // The prompt carried the gaps and the plans with their records.
    let asked = fake
        .seen()
        .into_iter()
        .find(|s| s.text().contains("It is time for your strategic planning"))
        .unwrap()
        .text();
    assert!(
        asked.contains("- ask_manager_for_leads, for pipeline_coverage: "),
        "{asked}"
    );
    // The strategy became an intention the engine pursued, in the same cycle.
    let episodes = node.episodes(id, 100, None).await.unwrap();
    assert!(
        episodes
            .iter()
            .any(|(_, e)| e.summary == "adopt ask_manager_for_leads"
                && e.event_id == strategy.event_id),
        "{:?}",
        episodes.iter().map(|(_, e)| &e.summary).collect::<Vec<_>>()
    );
    node.shutdown().await;
}

const TRANSCRIPT: &str = "\
[00:00:05] Jordan Lee: Thanks for making the time. The pilot went well and the team wants to expand to 40 seats.
[00:01:10] Sarah Chen: Budget is approved, but our CFO will want to see the numbers before we sign.
[00:02:30] Jordan Lee: Makes sense. The revised proposal goes out on Friday.
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meetings_notes_are_taken_by_the_model_and_its_own_items_become_tasks() {
    let at = super::calendar::next_weekday_at_ten();
    let friday = {
        use chrono::Datelike;
        let mut d = at.date_naive() + chrono::Duration::days(1);
        while d.weekday() != chrono::Weekday::Fri {
            d += chrono::Duration::days(1);
        }
        d
    };
    let notes = json!({
        "notes": [{"speaker": "Sarah Chen", "text": "Budget is approved; the CFO wants the numbers before signing."}],
        "decisions": [{"text": "Expand the pilot to 40 seats", "by": "Sarah Chen"}],
        "action_items": [
            {"text": "Send the revised proposal", "owner": "Jordan Lee", "due": friday.to_string(), "said_by": "Jordan Lee"},
            {"text": "Walk the CFO through the numbers", "owner": "Sarah", "due": null}
        ]
    })
    .to_string();
    let fake = FakeModel::start(move |s| {
        if s.text().contains("Take the notes of the meeting") {
            Reply::Text(notes.clone())
        } else {
            Reply::Text("Here are the notes.".into())
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("EMPLA_LLM__PROVIDER", "anthropic".to_string()),
        ("EMPLA_LLM__BASE_URL", fake.url.clone()),
        ("EMPLA_LLM__MODEL", MODEL_ANTHROPIC.to_string()),
        ("EMPLA_LLM__API_KEY_ENV", "MEETING_LLM_KEY".to_string()),
        ("MEETING_LLM_KEY", "sk-ant-test".to_string()),
    ];
    let node = start_binary_with(dir.path(), Some(TOKEN), &env);
    node.set_phase("jordan.lee", "autonomous").await;
    let (status, booked) = node.post_json(
        "/api/v1/employees/jordan.lee/calendar",
        json!({"title": "Acme expansion", "attendees": ["Sarah Chen <sarah@acme.com>"], "start": at, "duration_minutes": 30}),
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    let uid = booked["event"]["uid"].as_str().unwrap().to_string();
    let (status, taken) = node
        .post_json(
            &format!("/api/v1/meetings/{uid}/transcript"),
            json!({"transcript": TRANSCRIPT}),
        )
        .await;
    assert_eq!(status, 202, "{taken}");
    let stored = eventually(30, "the meeting's notes", || async {
        node.get_ok(&format!("/api/v1/meetings/{uid}/notes")).await
    })
    .await;
    let items: Vec<(String, String, bool, Value)> = stored["action_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["text"].as_str().unwrap().to_string(),
                i["owner"].as_str().unwrap_or("").to_string(),
                i["mine"].as_bool().unwrap_or(false),
                i["due"].clone(),
            )
        })
        .collect();
    // The model's items, owners resolved among the attendees: the rules found no
    // item in these words.
    assert_eq!(
        items,
        vec![
            (
                "Send the revised proposal".to_string(),
                "Jordan Lee".to_string(),
                true,
                json!(friday.to_string())
            ),
            (
                "Walk the CFO through the numbers".to_string(),
                "Sarah Chen".to_string(),
                false,
                Value::Null
            ),
        ],
        "{stored}"
    );
    assert_eq!(
        stored["decisions"][0]["text"],
        "Expand the pilot to 40 seats"
    );
    // Only Jordan's own item is its task.
    let tasks = eventually(30, "Jordan's task from the meeting", || async {
        let all = node
            .get_json("/api/v1/employees/jordan.lee/tasks?limit=100")
            .await;
        let mine: Vec<String> = all["items"]
            .as_array()?
            .iter()
            .filter(|t| t["channel"] == "meeting")
            .map(|t| t["description"].as_str().unwrap_or("").to_string())
            .collect();
        (!mine.is_empty()).then_some(mine)
    })
    .await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(
        tasks[0].starts_with("Send the revised proposal (an action item of \"Acme expansion\""),
        "{tasks:?}"
    );
    node.terminate();
}
