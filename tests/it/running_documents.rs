//! Running documents: the PM files each feature request that comes in as a dated entry
//! of its "feature requests" log, each entry a new version, readable as a PDF.

use super::common::{self, eventually};
use empla::bdi::Phase;
use empla::capabilities::documents::{DocumentFilter, Format};
use empla::lifecycle::HireRequest;
use empla::model::OutgoingMail;
use empla::node::Node;
use empla::store::Page;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_requests_are_filed_in_a_running_log_one_version_per_entry() {
    crate::documents::readers();
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), common::options("running"))
        .await
        .unwrap();
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
        let asked = node
            .send_mail(OutgoingMail {
                from: from.into(),
                to: casey.email.clone(),
                subject: subject.into(),
                body: "It would be great for our team.".into(),
                in_reply_to: None,
            })
            .await
            .unwrap();
        let address = empla::model::bare_address(from).to_string();
        let ack = eventually(20, "the acknowledgement", || async {
            node.mail_inbox(&address, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.in_reply_to.as_deref() == Some(asked.as_str()))
        })
        .await;
        assert!(ack.body.contains("filed"), "{}", ack.body);
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
