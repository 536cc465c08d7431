//! Working memory in a running node: an employee's latest interactions, its active
//! tasks and what it recalled, within the configured token budget.

use super::common::{eventually, options, sqlite};
use empla::lifecycle::HireRequest;
use empla::memory::{Mode, Recall};
use empla::model::NewEvent;
use empla::node::Node;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn working_memory_holds_recent_interactions_tasks_and_recalls_within_budget() {
    let s = sqlite().await;
    let mut opts = options("acme");
    opts.memory.working_memory_tokens = 300;
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let id = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap()
        .id;
    for i in 0..30 {
        node.submit_event(id, NewEvent {
            kind: "email.received".into(),
            source: "email".into(),
            payload: json!({"from": "Sarah Chen <sarah@northwind.com>", "subject": format!("Question {i}"),
                "body": format!("Message number {i}: could you send the renewal quote and the volume pricing sheet before our call on Thursday?")}),
            idempotency_key: None,
        })
        .await
        .unwrap();
    }
    let w = eventually(10, "the last mail in working memory", || async {
        let w = node.working_memory(id).await.unwrap();
        w.recent
            .front()
            .is_some_and(|e| e.text.contains("Question 29"))
            .then_some(w)
    })
    .await;
    assert_eq!(w.budget, 300);
    assert!(w.tokens <= 300, "{}", w.tokens);
    assert!(
        w.recent.len() > 3 && w.recent.len() < 30,
        "older interactions evicted: {}",
        w.recent.len()
    );
    let numbers: Vec<u32> = w
        .recent
        .iter()
        .map(|e| {
            e.text
                .split("Message number ")
                .nth(1)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        numbers.windows(2).all(|p| p[0] == p[1] + 1),
        "newest first, none skipped: {numbers:?}"
    );
    // The tasks are the intentions the employee pursues.
    let status = node.employee_runtime(id).await.unwrap();
    assert_eq!(
        w.tasks.len(),
        status.intentions.len(),
        "{:?} vs {:?}",
        w.tasks,
        status.intentions
    );
    // A recall made for it is kept, and the budget still holds.
    let r = Recall {
        q: "renewal quote".into(),
        mode: Mode::Text,
        limit: 3,
        ..Recall::default()
    };
    let found = node.recall(id, &r).await.unwrap();
    assert_eq!(found.len(), 3);
    let w = eventually(10, "the recall in working memory", || async {
        let w = node.working_memory(id).await.unwrap();
        w.retrieved
            .front()
            .is_some_and(|r| r.query == "renewal quote")
            .then_some(w)
    })
    .await;
    assert!(w.tokens <= 300);
    assert_eq!(w.retrieved[0].items.len(), 3);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_conditions_read_working_memory() {
    let s = sqlite().await;
    let mut opts = options("acme");
    // Answer someone who keeps asking the same thing: the third time, not the first.
    let plan: empla::bdi::PlanSpec = toml::from_str(
        r#"
name = "answer_repeated_question"
trigger = { event = "chat.message", when = "size(memory.recent.filter(r, r.contains('renewal quote'))) >= 2" }
steps = [{ action = "chat.reply", params = { conversation = "{{ event.payload.from }}", text = "Sorry for the wait: the quote is on its way." } }]
"#,
    )
    .unwrap();
    opts.roles.get_mut("sales_ae").unwrap().plans.push(plan);
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let id = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap()
        .id;
    let adopted = || async {
        node.episodes(id, 1000, None)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, e)| e.summary == "adopt answer_repeated_question")
            .count()
    };
    for i in 1..=3 {
        node.submit_event(id, NewEvent {
            kind: "chat.message".into(),
            source: "chat".into(),
            payload: json!({"from": "Sarah Chen", "text": format!("Any news on the renewal quote? ({i})")}),
            idempotency_key: None,
        })
        .await
        .unwrap();
        eventually(10, "the message handled", || async {
            let n = node
                .episodes(id, 1000, None)
                .await
                .unwrap()
                .iter()
                .filter(|(_, e)| e.summary == "chat.message")
                .count();
            (n == i).then_some(())
        })
        .await;
        // Before the third message, working memory held fewer than two such messages.
        assert_eq!(adopted().await, usize::from(i == 3), "after message {i}");
    }
    node.shutdown().await;
}
