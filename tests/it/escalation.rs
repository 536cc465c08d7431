//! Escalations through the real binary on the built-in mail driver: the employee asks
//! its manager with context and a recommendation, waits, acts on the decision given
//! by a reply to its mail, decides the next case of the same kind alike, and the
//! manager can overrule — with each bad input's error.

use super::common::{NodeProcess, eventually, start_binary};
use serde_json::{Value, json};

async fn post(node: &NodeProcess, path: &str, body: Value) -> (u16, Value) {
    let r = node
        .client()
        .post(node.url(path))
        .bearer_auth(&node.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Priya's inbox, newest first.
async fn priyas_mail(node: &NodeProcess) -> Vec<Value> {
    node.get_json("/api/v1/mail/inbox?address=priya.shah@example.com")
        .await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// How many `calendar.propose_meetings` actions Sam has run (recorded `unsupported`
/// until a calendar driver is configured).
async fn reviews_proposed(node: &NodeProcess) -> usize {
    node.get_json("/api/v1/employees/sam.rivera/actions?limit=50")
        .await["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["kind"] == "calendar.propose_meetings")
                .count()
        })
        .unwrap_or(0)
}

/// Retention at risk, reported twice: a CSM (decision speed 0.6) wants to see it twice
/// before it acts on what it notices.
async fn retention_at_risk(node: &NodeProcess, key: &str) {
    for n in 0..2 {
        let (status, r) = post(
            node,
            "/api/v1/employees/sam.rivera/events",
            json!({"kind": "signal.retention_at_risk", "source": "test", "payload": {"projected": 0.81}, "idempotency_key": format!("{key}-{n}")}),
        )
        .await;
        assert_eq!(status, 202, "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_is_decided_by_reply_acted_on_and_the_next_alike_by_precedent() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let (status, _) = {
        let r = node
            .client()
            .put(node.url("/api/v1/employees/sam.rivera/phase"))
            .bearer_auth(&node.token)
            .json(&json!({"phase": "autonomous"}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), ())
    };
    assert_eq!(status, 202);

    // The case reaches Priya with its recommendation, and waits.
    retention_at_risk(&node, "risk-1").await;
    let asked = eventually(20, "the escalation mail", || async {
        priyas_mail(&node).await.into_iter().next()
    })
    .await;
    assert_eq!(
        asked["subject"],
        "Escalation from Sam Rivera: decision needed"
    );
    let body = asked["body"].as_str().unwrap();
    assert!(body.contains("Retention is projected at 0.81"), "{body}");
    assert!(
        body.contains("My recommendation: A renewal review"),
        "{body}"
    );
    assert!(body.contains("Reply APPROVE or REJECT"), "{body}");
    let pending = node.get_json("/api/v1/escalations?status=pending").await;
    let first = pending["items"][0].clone();
    assert_eq!(first["case"], "retention_review");
    assert_eq!(first["manager"], "Priya Shah <priya.shah@example.com>");
    assert_eq!(first["context"]["plan"], "flag_retention_risk");
    assert_eq!(
        reviews_proposed(&node).await,
        0,
        "nothing is done before the decision"
    );
    let out = node.cli(&["escalation", "list"]);
    assert!(
        out.contains("retention_review") && out.contains("pending"),
        "{out}"
    );

    // Priya answers the mail: approved. Sam goes on with the review.
    let (status, _) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Priya Shah <priya.shah@example.com>", "to": "sam.rivera@example.com",
               "subject": "Re: escalation", "in_reply_to": asked["message_id"],
               "body": "Approved, go ahead with the reviews.\n\n> Retention is projected"}),
    )
    .await;
    assert_eq!(status, 202);
    eventually(20, "the review proposed", || async {
        (reviews_proposed(&node).await == 1).then_some(())
    })
    .await;
    let decided = node.get_json("/api/v1/escalations?status=decided").await;
    let first = decided["items"][0].clone();
    assert_eq!(first["decision"], "approve");
    assert_eq!(first["decided_by"], "priya.shah@example.com");
    assert!(first["reason"].as_str().unwrap().starts_with("Approved"));

    // The same kind of case again: decided alike at once, and Priya is told.
    retention_at_risk(&node, "risk-2").await;
    eventually(20, "the second review proposed", || async {
        (reviews_proposed(&node).await == 2).then_some(())
    })
    .await;
    let all = node.get_json("/api/v1/escalations?status=all").await;
    let second = all["items"][0].clone();
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["decided_by"], "precedent");
    assert_eq!(second["decision"], "approve");
    assert_eq!(second["precedent"], first["id"]);
    let told = eventually(20, "Priya told", || async {
        priyas_mail(&node)
            .await
            .into_iter()
            .find(|m| m["subject"] == "Decided as before: retention_review")
    })
    .await;
    assert!(
        told["body"].as_str().unwrap().contains("To overrule"),
        "{told}"
    );

    // Priya overrules by the CLI; a human's decision is not changed again.
    let id = second["id"].as_str().unwrap();
    let out = node.cli(&[
        "escalation",
        "decide",
        id,
        "reject",
        "--reason",
        "not this month",
    ]);
    assert!(out.contains("decided: reject"), "{out}");
    let (status, e) = post(
        &node,
        &format!("/api/v1/escalations/{id}/decide"),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already decided"),
        "{e}"
    );

    // Bad decisions.
    let (status, e) = post(
        &node,
        &format!("/api/v1/escalations/{id}/decide"),
        json!({"decision": "maybe"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("approve or reject"),
        "{e}"
    );
    let (status, _) = post(
        &node,
        "/api/v1/escalations/no-such/decide",
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, e) = post(
        &node,
        &format!("/api/v1/escalations/{id}/decide"),
        json!({"decision": "approve", "verdict": "x"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("verdict"),
        "{e}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_no_plan_answers_is_acknowledged_in_the_thread_and_handed_to_the_manager() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    node.set_phase("sam.rivera", "autonomous").await;
    let (status, sent) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Sarah Chen <sarah@acme.com>", "to": "sam.rivera@example.com",
               "subject": "Office in Berlin?", "body": "Do you have an office in Berlin we could visit?"}),
    )
    .await;
    assert_eq!(status, 202);
    let asked = sent["message_id"].as_str().unwrap().to_string();
    let ack = eventually(20, "the acknowledgment", || async {
        node.get_json("/api/v1/mail/inbox?address=sarah@acme.com")
            .await["items"]
            .as_array()
            .and_then(|i| i.first().cloned())
    })
    .await;
    assert_eq!(ack["in_reply_to"], asked.as_str());
    assert!(
        ack["body"].as_str().unwrap().contains("passed it on"),
        "{ack}"
    );
    let handed = eventually(20, "the escalation to Priya", || async {
        priyas_mail(&node).await.into_iter().next()
    })
    .await;
    let body = handed["body"].as_str().unwrap();
    assert!(
        body.contains("Office in Berlin?") && body.contains("enquiry"),
        "{body}"
    );
    assert!(body.contains("office in Berlin we could visit"), "{body}");
    // A question, not a decision: the options are to answer it.
    assert_eq!(handed["subject"], "Question from Sam Rivera");
    assert!(
        body.contains("Reply to this mail with your answer") && !body.contains("APPROVE"),
        "{body}"
    );
    let pending = node
        .get_json("/api/v1/escalations?employee=sam.rivera")
        .await;
    assert_eq!(pending["items"][0]["case"], "unanswered_mail");
    // Priya answers in words (opening with "No", which is an answer here, not a
    // refusal): the answer decides it and is kept as given.
    let (status, _) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Priya Shah <priya.shah@example.com>", "to": "sam.rivera@example.com",
               "subject": format!("Re: {}", handed["subject"].as_str().unwrap()),
               "body": "No office in Berlin, but our nearest is in Amsterdam and you are welcome to visit it.",
               "in_reply_to": handed["message_id"]}),
    )
    .await;
    assert_eq!(status, 202);
    let answered = eventually(20, "the answer recorded", || async {
        let e = node
            .get_json("/api/v1/escalations?employee=sam.rivera")
            .await["items"][0]
            .clone();
        (e["status"] == "decided").then_some(e)
    })
    .await;
    assert_eq!(answered["decision"], "approve", "{answered}");
    assert_eq!(
        answered["reason"],
        "No office in Berlin, but our nearest is in Amsterdam and you are welcome to visit it.",
        "{answered}"
    );
    // The promise in the acknowledgement is kept: the answer goes back in Sarah's thread.
    let answer = eventually(20, "the answer in Sarah's thread", || async {
        node.get_json("/api/v1/mail/inbox?address=sarah@acme.com")
            .await["items"]
            .as_array()
            .and_then(|i| {
                i.iter()
                    .find(|m| {
                        m["in_reply_to"] == asked.as_str()
                            && m["body"].as_str().unwrap_or("").contains("Amsterdam")
                    })
                    .cloned()
            })
    })
    .await;
    assert!(
        answer["body"].as_str().unwrap().contains(
            "No office in Berlin, but our nearest is in Amsterdam and you are welcome to visit it."
        ),
        "{answer}"
    );
    node.terminate();
}
