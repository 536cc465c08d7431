//! Running documents: a plan appends each note it is handed as a dated entry of a
//! running log ("feature requests" here), each entry a new version, readable as a PDF.

use super::common::{self, eventually};
use empla::bdi::Phase;
use empla::bdi::PlanSpec;
use empla::capabilities::documents::{DocumentFilter, Format};
use empla::lifecycle::HireRequest;
use empla::model::NewEvent;
use empla::node::Node;
use empla::store::Page;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_requests_are_filed_in_a_running_log_one_version_per_entry() {
    crate::documents::readers();
    let s = common::sqlite().await;
    let mut opts = common::options("running");
    let plans: Vec<PlanSpec> = toml::from_str::<toml::Table>(
        r#"
[[plans]]
name = "log_request"
goal = "user_satisfaction"
trigger = { event = "documents.log_request" }
steps = [
  { action = "documents.append", params = { document = "feature requests", entry = "{{ event.payload.subject }} (from {{ event.payload.from }})" } },
]
"#,
    )
    .unwrap()["plans"]
        .clone()
        .try_into()
        .unwrap();
    opts.roles.get_mut("pm").unwrap().plans.extend(plans);
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let casey = node
        .hire(HireRequest::new("pm", "Casey Kim"))
        .await
        .unwrap();
    node.set_phase(casey.id, Phase::Autonomous).await.unwrap();
    let logs = || async {
        node.documents(
            &DocumentFilter {
                kind: Some("log".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap()
    };
    for (n, (from, subject)) in [
        (
            "Sarah Chen <sarah@acme.example>",
            "Feature request: dark mode",
        ),
        (
            "Raj Patel <raj@contoso.example>",
            "Could you add SSO for Okta?",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        node.submit_event(
            casey.id,
            NewEvent {
                kind: "documents.log_request".into(),
                source: "test".into(),
                payload: json!({"subject": subject, "from": from}),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
        eventually(20, "the entry filed", || async {
            let l = logs().await;
            (l.len() == n + 1).then_some(())
        })
        .await;
    }
    let versions = logs().await;
    assert_eq!(versions[0].title, "feature requests");
    assert_eq!(versions[0].version, 2);
    assert_eq!(versions[1].version, 1);
    assert_eq!(versions[0].series, versions[1].series);
    assert_eq!(versions[0].facts["entries"], 2);
    let text = crate::documents::pdf_text(
        &node
            .document_content(&versions[0].id, Format::Pdf)
            .await
            .unwrap()
            .unwrap(),
    );
    assert!(
        text.contains("Feature request: dark mode (from Sarah Chen"),
        "{text}"
    );
    assert!(
        text.contains("Could you add SSO for Okta? (from Raj Patel"),
        "{text}"
    );
    assert!(text.contains("Casey Kim"), "who filed it: {text}");
    // The first version still holds only the first entry.
    let first = String::from_utf8(
        node.document_content(&versions[1].id, Format::Md)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(
        first.contains("dark mode") && !first.contains("Okta"),
        "{first}"
    );
    node.shutdown().await;
}
