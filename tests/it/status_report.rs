//! The PM's ship check through the binary on the demo employees: two weeks before the
//! quarter ends, Casey writes a status report (a PDF of where each goal stands and what
//! was carried through), mails it to the manager, and escalates the scope cut.

use super::common::{NodeProcess, TOKEN, eventually, start_binary_with};
use serde_json::{Value, json};

/// The first mail to the manager, Dana Wu, whose subject starts with `subject`.
async fn dana_mail(node: &NodeProcess, subject: &str) -> Value {
    eventually(30, subject, || async {
        let mail = node
            .get_json("/api/v1/mail/inbox?address=dana.wu@example.com")
            .await;
        mail["items"].as_array().and_then(|i| {
            i.iter()
                .find(|m| m["subject"].as_str().unwrap_or("").starts_with(subject))
                .cloned()
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ship_check_mails_a_status_report_and_escalates_the_scope() {
    crate::documents::readers();
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("casey.kim", "autonomous").await;
    let post = |path: &str, body: Value| {
        node.client()
            .post(node.url(path))
            .bearer_auth(&node.token)
            .json(&body)
            .send()
    };
    let r = post(
        "/api/v1/employees/casey.kim/events",
        json!({"kind": "metric", "source": "test", "payload": {"metric": "high_impact_features_shipped", "value": 1}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    let r = post(
        "/api/v1/employees/casey.kim/events",
        json!({"kind": "signal.features_milestone", "source": "test", "payload": {}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    let report = dana_mail(&node, "Status report: quarter roadmap").await;
    let document = report["attachments"][0]["document"].as_str().unwrap();
    let text = node.document_text(document).await;
    assert!(text.contains("Status report: quarter roadmap"), "{text}");
    assert!(
        text.contains("Ship 3 high-impact features per quarter: 1 against 3"),
        "{text}"
    );
    let meta = node
        .get_json(&format!("/api/v1/documents/{document}"))
        .await;
    assert_eq!(meta["kind"], "report", "{meta}");
    let casey = node.get_json("/api/v1/employees/casey.kim").await;
    assert_eq!(meta["employee"], casey["id"], "{meta}");
    let escalation = dana_mail(&node, "Escalation from Casey Kim").await;
    assert!(
        escalation["body"]
            .as_str()
            .unwrap()
            .contains("The status report is in your inbox"),
        "{escalation}"
    );
    node.terminate();
}
