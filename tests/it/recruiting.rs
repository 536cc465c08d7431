//! The candidate pipeline on both stores: requisitions and candidates checked (every
//! problem named), stored, listed and filtered; a candidate in a requisition once per
//! address; stage moves recorded with their history; the demo requisitions opened
//! once; forgetting a person removes their candidacies with their CV files, history,
//! interviews and feedback; retention removes those who left the pipeline. The
//! Recruiter's work with it, through the binary and a mail server, is in
//! `recruiting_e2e.rs`.

use super::common::{self, TestStore};
use empla::capabilities::recruiting::{
    NewCandidate, NewRequisition, RecruitingError, Requirement, RequisitionPatch, StageMove,
};
use empla::node::Node;
use empla::store::{CandidateFilter, Page};

crate::on_every_test_store!(
    the_pipeline_checks_stores_lists_and_moves_candidates,
    demo_requisitions_are_opened_once,
    forgetting_a_person_removes_their_candidacies_cvs_and_feedback,
    retention_removes_candidates_who_left_the_pipeline_long_ago,
);

fn fields(e: RecruitingError) -> Vec<String> {
    match e {
        RecruitingError::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
        other => panic!("expected field errors, got {other}"),
    }
}

fn rust() -> Requirement {
    Requirement {
        text: "Rust".into(),
        weight: 3.0,
        must_have: true,
        keywords: vec![],
    }
}

async fn the_pipeline_checks_stores_lists_and_moves_candidates(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("recruiting"))
        .await
        .unwrap();
    let p = node.pipeline();

    let bad = NewRequisition {
        title: " ".into(),
        requirements: vec![Requirement {
            weight: 0.0,
            ..rust()
        }],
        hiring_manager: "dana".into(),
        panel: Some("nobody".into()),
        pass_score: Some(1.5),
    };
    assert_eq!(
        fields(p.create_requisition(bad).await.unwrap_err()),
        [
            "title",
            "requirements[0].weight",
            "hiring_manager",
            "pass_score",
            "panel"
        ]
    );
    let backend = p
        .create_requisition(NewRequisition {
            title: "Senior Backend Engineer".into(),
            requirements: vec![rust()],
            hiring_manager: "Dana Wu <dana.wu@example.com>".into(),
            panel: None,
            pass_score: None,
        })
        .await
        .unwrap();
    assert_eq!(backend.status, "open");
    assert_eq!(backend.pass_score, 0.6);
    assert_eq!(
        backend.panel.as_deref(),
        Some("hiring-panel"),
        "the shipped panel is the default"
    );
    let designer = p
        .create_requisition(NewRequisition {
            title: "Product Designer".into(),
            requirements: vec![Requirement {
                text: "Figma".into(),
                weight: 1.0,
                must_have: false,
                keywords: vec![],
            }],
            hiring_manager: "dana.wu@example.com".into(),
            panel: Some("team:hiring-panel".into()),
            pass_score: Some(0.5),
        })
        .await
        .unwrap();
    let open = p.requisitions(Some("open"), Page::default()).await.unwrap();
    assert_eq!(
        open.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(),
        ["Product Designer", "Senior Backend Engineer"],
        "newest first"
    );
    assert!(matches!(
        p.requisitions(Some("shut"), Page::default()).await,
        Err(RecruitingError::Invalid(_))
    ));

    let nobody = NewCandidate {
        name: "".into(),
        email: "not-an-address".into(),
        requisition: "no-such".into(),
        source: Some("cold call".into()),
        recruiter: Some("nobody.here".into()),
    };
    assert_eq!(
        fields(p.create_candidate(nobody, "api").await.unwrap_err()),
        ["name", "email", "source", "recruiter", "requisition"]
    );
    let ada = p
        .create_candidate(
            NewCandidate {
                name: "Ada Byron".into(),
                email: "Ada Byron <Ada@Candidate.test>".into(),
                requisition: backend.id.clone(),
                source: None,
                recruiter: None,
            },
            "api",
        )
        .await
        .unwrap();
    assert_eq!(ada.email, "Ada@Candidate.test");
    assert_eq!(
        (ada.source.as_str(), ada.stage.as_str()),
        ("referral", "applied")
    );
    let again = p
        .create_candidate(
            NewCandidate {
                name: "Ada B.".into(),
                email: "ada@candidate.test".into(),
                requisition: backend.id.clone(),
                source: Some("application".into()),
                recruiter: None,
            },
            "api",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&again, RecruitingError::Conflict(m) if m.contains(&ada.id)),
        "{again}"
    );
    let sourced = p
        .create_candidate(
            NewCandidate {
                name: "Grace Hopper".into(),
                email: "grace@candidate.test".into(),
                requisition: designer.id.clone(),
                source: Some("sourcing".into()),
                recruiter: None,
            },
            "api",
        )
        .await
        .unwrap();
    assert_eq!(sourced.stage, "sourced");

    let for_backend = p
        .candidates(
            &CandidateFilter {
                requisition: Some(backend.id.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(for_backend.len(), 1);
    let by_mail = p
        .candidates(
            &CandidateFilter {
                email: Some("ADA@candidate.TEST".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(by_mail[0].id, ada.id, "addresses compare without case");
    assert!(matches!(
        p.candidates(
            &CandidateFilter {
                stage: Some("limbo".into()),
                ..Default::default()
            },
            Page::default()
        )
        .await,
        Err(RecruitingError::Invalid(_))
    ));

    let bad_move = p
        .move_stage(
            &ada.id,
            StageMove {
                stage: "limbo".into(),
                reason: None,
            },
            "api",
        )
        .await
        .unwrap_err();
    assert_eq!(fields(bad_move), ["stage"]);
    for stage in ["screened", "interview", "interview"] {
        p.move_stage(
            &ada.id,
            StageMove {
                stage: stage.into(),
                reason: Some(format!("to {stage}")),
            },
            "api",
        )
        .await
        .unwrap();
    }
    let record = p.record(&ada.id).await.unwrap();
    assert_eq!(record.candidate.stage, "interview");
    let moves: Vec<(Option<&str>, &str)> = record
        .history
        .iter()
        .map(|c| (c.from.as_deref(), c.to.as_str()))
        .collect();
    assert_eq!(
        moves,
        [
            (None, "applied"),
            (Some("applied"), "screened"),
            (Some("screened"), "interview")
        ],
        "a move to the stage they are in records nothing"
    );
    assert_eq!(record.history[2].reason, "to interview");
    assert!(matches!(
        p.record("nope").await,
        Err(RecruitingError::NotFound(_))
    ));

    let closed = p
        .update_requisition(
            &designer.id,
            RequisitionPatch {
                status: Some("closed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(closed.closed_at.is_some());
    let late = p
        .create_candidate(
            NewCandidate {
                name: "Late Comer".into(),
                email: "late@candidate.test".into(),
                requisition: designer.id.clone(),
                ..Default::default()
            },
            "api",
        )
        .await
        .unwrap_err();
    assert_eq!(
        fields(late),
        ["requisition"],
        "a closed requisition takes no one"
    );
    node.shutdown().await;
}

async fn demo_requisitions_are_opened_once(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("recruiting-demo"))
        .await
        .unwrap();
    let dir = super::crm::demo_dir();
    let n = node.load_demo_requisitions(&dir).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(node.load_demo_requisitions(&dir).await.unwrap(), 0);
    let open = node
        .pipeline()
        .requisitions(Some("open"), Page::default())
        .await
        .unwrap();
    let backend = open
        .iter()
        .find(|r| r.title == "Senior Backend Engineer")
        .expect("the demo opens the backend role");
    let asks: Vec<&str> = backend
        .requirements
        .iter()
        .map(|r| r.text.as_str())
        .collect();
    assert!(
        asks.contains(&"Rust") && asks.contains(&"PostgreSQL"),
        "{asks:?}"
    );
    node.shutdown().await;
}

/// A backend requisition and a candidate for it.
async fn candidate_for(
    node: &Node,
    name: &str,
    email: &str,
) -> empla::capabilities::recruiting::Candidate {
    let p = node.pipeline();
    let open = p.requisitions(Some("open"), Page::default()).await.unwrap();
    let requisition = match open.first() {
        Some(r) => r.id.clone(),
        None => {
            p.create_requisition(NewRequisition {
                title: "Senior Backend Engineer".into(),
                requirements: vec![rust()],
                hiring_manager: "dana.wu@example.com".into(),
                panel: None,
                pass_score: None,
            })
            .await
            .unwrap()
            .id
        }
    };
    p.create_candidate(
        NewCandidate {
            name: name.into(),
            email: email.into(),
            requisition,
            source: Some("application".into()),
            recruiter: None,
        },
        "api",
    )
    .await
    .unwrap()
}

async fn forgetting_a_person_removes_their_candidacies_cvs_and_feedback(s: &TestStore) {
    let data = tempfile::tempdir().unwrap();
    let mut opts = common::options("recruiting-forget");
    opts.data_dir = data.path().to_path_buf();
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let ada = candidate_for(&node, "Ada Byron", "ada@candidate.example").await;
    let grace = candidate_for(&node, "Grace Hopper", "grace@candidate.example").await;
    // Ada's CV, kept where the mail intake keeps attachments.
    let folder = data.path().join("attachments").join("cv-ada");
    std::fs::create_dir_all(&folder).unwrap();
    let cv = folder.join("ada.pdf");
    std::fs::write(&cv, b"%PDF-1.4 Ada's CV").unwrap();
    let mut with_cv = ada.clone();
    with_cv.cv_path = Some(cv.display().to_string());
    with_cv.cv_text = Some("Rust, PostgreSQL".into());
    let tenant = node.tenant().clone();
    s.store
        .update_candidate(&tenant, &with_cv, &[], None)
        .await
        .unwrap();
    for (who, candidate) in [("ada", &ada), ("grace", &grace)] {
        let f = empla::capabilities::recruiting::Feedback {
            id: format!("fb-{who}"),
            candidate: candidate.id.clone(),
            author: "marco.rossi@example.com".into(),
            text: format!("{who} was great"),
            recommendation: "yes".into(),
            at: chrono::Utc::now(),
        };
        assert!(s.store.insert_feedback(&tenant, &f, None).await.unwrap());
    }

    let f = node
        .forget("Ada Byron <ADA@candidate.example>")
        .await
        .unwrap();
    assert_eq!(f.candidates, 1);
    assert!(f.attachments >= 1, "{f:?}");
    assert!(!cv.exists(), "her CV file is deleted");
    let p = node.pipeline();
    assert!(matches!(
        p.record(&ada.id).await,
        Err(RecruitingError::NotFound(_))
    ));
    assert!(
        s.store
            .stage_history(&tenant, &ada.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.store.feedback(&tenant, &ada.id).await.unwrap().is_empty());
    let kept = p.record(&grace.id).await.unwrap();
    assert_eq!(kept.feedback.len(), 1, "someone else's record is kept");
    assert_eq!(kept.history.len(), 1);
    node.shutdown().await;
}

async fn retention_removes_candidates_who_left_the_pipeline_long_ago(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("recruiting-retention"))
        .await
        .unwrap();
    let declined = candidate_for(&node, "Boris Petrov", "boris@candidate.example").await;
    let active = candidate_for(&node, "Cleo Marsh", "cleo@candidate.example").await;
    let p = node.pipeline();
    p.move_stage(
        &declined.id,
        StageMove {
            stage: "declined".into(),
            reason: None,
        },
        "api",
    )
    .await
    .unwrap();
    let tenant = node.tenant().clone();
    let long_ago = chrono::Utc::now() - chrono::Duration::days(400);
    assert_eq!(
        s.store
            .expire_candidates(&tenant, long_ago)
            .await
            .unwrap()
            .candidates,
        0,
        "a decline of today is within retention"
    );
    let gone = s
        .store
        .expire_candidates(&tenant, chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(gone.candidates, 1, "only the one who left the pipeline");
    assert!(matches!(
        p.record(&declined.id).await,
        Err(RecruitingError::NotFound(_))
    ));
    assert_eq!(
        p.record(&active.id).await.unwrap().candidate.stage,
        "applied"
    );
    node.shutdown().await;
}
