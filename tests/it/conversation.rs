//! Chat without a model, through a real node: the seed's conversation (section 6.2) —
//! "how's the pipeline looking?" answered with the figure and the 3x target, "can you
//! focus more on enterprise deals?" applied, shown in the status and the timeline, and
//! followed by the next lead search.

use super::common::{eventually, start_binary};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sales_ae_answers_the_pipeline_question_and_prospects_where_it_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    // A fresh Sales AE (no deals of its own, so no coverage computed for it), acting.
    node.cli(&["hire", "--role", "sales_ae", "--name", "Riley Quinn"]);
    node.set_phase("riley.quinn", "autonomous").await;
    let post = |path: &str, body: Value| {
        node.client()
            .post(node.url(path))
            .bearer_auth(&node.token)
            .json(&body)
            .send()
    };
    let chat = |text: &str| {
        let text = text.to_string();
        async move {
            let r = post(
                "/api/v1/employees/riley.quinn/chat",
                json!({"from": "Alex Morgan <alex.morgan@example.com>", "text": text}),
            )
            .await
            .unwrap();
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            v["reply"].as_str().unwrap().to_string()
        }
    };

    let reply = chat("Hey Riley, how's the pipeline looking?").await;
    assert!(!reply.contains("I'm Riley"), "not a greeting: {reply}");
    assert!(
        reply.contains("ipeline coverage") && reply.contains("3x"),
        "{reply}"
    );

    let reply = chat("Can you focus more on enterprise deals?").await;
    assert!(
        reply.contains("Absolutely! I'll prioritise accounts with 1000+ employees"),
        "{reply}"
    );
    let status = node.get_json("/api/v1/employees/riley.quinn/status").await;
    assert_eq!(status["directives"][0]["kind"], "focus", "{status}");
    assert_eq!(status["directives"][0]["value"], "enterprise", "{status}");
    assert_eq!(
        status["directives"][0]["summary"],
        "focusing on enterprise accounts (1000+ employees)"
    );
    let reply = chat("What are you working on?").await;
    assert!(
        reply.contains("directives in force: focusing on enterprise accounts (1000+ employees)"),
        "{reply}"
    );
    let episodes = node
        .get_json("/api/v1/employees/riley.quinn/episodes?limit=100")
        .await;
    assert!(
        episodes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["summary"] == "directive: focusing on enterprise accounts (1000+ employees)"),
        "{episodes}"
    );

    // Coverage falls to 2.1x: the search that follows looks in the enterprise band.
    let r = post(
        "/api/v1/employees/riley.quinn/events",
        json!({"kind": "metric", "source": "api", "payload": {"metric": "pipeline_coverage", "value": 2.1}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    let search = eventually(20, "a lead search", || async {
        let actions = node
            .get_json("/api/v1/employees/riley.quinn/actions?limit=100")
            .await;
        actions["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "crm.find_leads")
            .cloned()
    })
    .await;
    assert_eq!(search["params"]["segment"], "enterprise", "{search}");

    // And the seed's answer: the figure, the target, what is being done.
    let reply = chat("Hey Riley, how's the pipeline looking?").await;
    assert!(
        reply.contains("Pipeline coverage is at 2.1x right now — below our 3x target"),
        "{reply}"
    );
    assert!(
        reply.contains(
            "What I'm doing about it: find the accounts that fit the ideal customer profile"
        ),
        "{reply}"
    );

    // A pause on contact: in the status with its end, and lifted again.
    let reply = chat("Stop emailing Acme until January").await;
    assert!(reply.contains("I won't contact anyone at Acme"), "{reply}");
    let status = node.get_json("/api/v1/employees/riley.quinn/status").await;
    let pause = status["directives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "pause")
        .cloned()
        .unwrap_or_else(|| panic!("no pause in {status}"));
    assert_eq!(pause["value"], "Acme");
    assert!(
        pause["until"].as_str().unwrap().contains("-01-01T00:00:00"),
        "the next 1 January: {pause}"
    );
    let reply = chat("resume Acme").await;
    assert!(reply.contains("I can contact Acme again"), "{reply}");
    let status = node.get_json("/api/v1/employees/riley.quinn/status").await;
    assert_eq!(
        status["directives"].as_array().unwrap().len(),
        1,
        "{status}"
    );
    node.terminate();
}
