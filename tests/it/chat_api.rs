//! Chat that promises only what follows: a request made in chat, which no plan takes
//! up, points to the task route instead of "I'll take it up"; a chat message posted as
//! an event is answered in the node's own chat, and one without text is refused.

use super::common::{TOKEN, eventually, start_binary_with};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_request_points_to_the_task_route_and_chat_events_are_answered_in_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    let post = |path: &str, body: Value| {
        node.client()
            .post(node.url(path))
            .bearer_auth(&node.token)
            .json(&body)
            .send()
    };
    let r = post(
        "/api/v1/employees/jordan.lee/chat",
        json!({"from": "Alex Morgan", "text": "Please send Acme the pricing deck"}),
    )
    .await
    .unwrap();
    let answer: Value = r.json().await.unwrap();
    let reply = answer["reply"].as_str().unwrap();
    assert!(!reply.contains("I'll take it up"), "{reply}");
    assert!(
        reply.contains("can't act on a request made in chat"),
        "{reply}"
    );
    assert!(
        reply.contains("empla task assign jordan.lee \"Please send Acme the pricing deck\""),
        "{reply}"
    );

    // An event with no conversation: answered in the node's chat, under its writer.
    let r = post(
        "/api/v1/employees/jordan.lee/events",
        json!({"kind": "chat.message", "source": "api", "payload": {"text": "What are you working on?", "from": "Alex Morgan"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    let answered = eventually(20, "the answer in the node's chat", || async {
        let chat = node
            .get_json("/api/v1/employees/jordan.lee/chat?conversation=Alex%20Morgan")
            .await;
        chat["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["from"] == "jordan.lee" && m["text"] != reply)
            .cloned()
    })
    .await;
    assert!(
        answered["text"]
            .as_str()
            .unwrap()
            .contains("I'm in the shadow phase"),
        "{answered}"
    );
    // Both answers went out: no chat.reply failed for want of a conversation.
    node.actions_when("jordan.lee", "chat.reply", "done", 2, 20)
        .await;
    let actions = node
        .get_json("/api/v1/employees/jordan.lee/actions?limit=50")
        .await;
    assert!(
        actions["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] != "failed"),
        "{actions}"
    );

    // No text: refused, saying what to add.
    let r = post(
        "/api/v1/employees/jordan.lee/events",
        json!({"kind": "chat.message", "source": "api", "payload": {"from": "Alex Morgan"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("payload.text"),
        "{e}"
    );
    node.terminate();
}
