//! Memory upkeep: forgetting a person, retention, and the daily consolidation — on
//! SQLite and PostgreSQL.

use super::memory::{corpus, episode, hire, recall, remember, t0, texts, viewer};
use empla::memory::{Document, Mode, Visibility};
use empla::model::EpisodeKind;
use empla::store::Store;
use serde_json::{Value, json};

crate::on_every_store!(
    forgetting_a_person_removes_them_from_every_memory,
    retention_deletes_episodes_past_their_age,
    consolidation_summarises_promotes_and_counts_once,
);

async fn forgetting_a_person_removes_them_from_every_memory(store: Store) {
    let (ae, _) = corpus(&store).await;
    let v = viewer(&ae);
    let t = &ae.tenant;
    // Mentioned in a mail from someone else, and in a shared document.
    remember(&store, vec![episode(&ae, EpisodeKind::Event, "email.received",
        json!({"from": "Raj Patel <raj@contoso.com>", "body": "Sarah Chen asked me to join the pricing call."}), 500)]).await;
    store
        .publish(
            t,
            &Document {
                title: "Contacts".into(),
                text:
                    "Our champion at Northwind is Sarah Chen.\n\nBilling questions go to Raj Patel."
                        .into(),
                source: "contacts.md".into(),
                visibility: Visibility::Company,
                owner: None,
                team: None,
                at: t0(),
            },
        )
        .await
        .unwrap();
    let about_sarah = |q: &str, mode| recall(q, mode);
    assert!(
        !store
            .recall(t, &v, &about_sarah("sarah chen", Mode::Text))
            .await
            .unwrap()
            .is_empty()
    );
    let gone = store
        .forget(t, "Sarah Chen <sarah@northwind.com>")
        .await
        .unwrap();
    assert_eq!(gone.episodes, 15 + 1, "{gone:?}");
    assert_eq!(gone.facts, 1);
    assert_eq!(gone.knowledge, 1);
    for mode in [Mode::Text, Mode::Vector, Mode::Hybrid] {
        let left = store
            .recall(t, &v, &about_sarah("Sarah Chen sarah@northwind.com", mode))
            .await
            .unwrap();
        assert!(
            left.iter()
                .all(|i| !i.text.to_lowercase().contains("sarah")),
            "{mode:?}: {:#?}",
            texts(&left)
        );
    }
    let mut with = recall("", Mode::Text);
    with.with = Some("sarah".into());
    assert!(store.recall(t, &v, &with).await.unwrap().is_empty());
    assert!(
        store
            .facts(t, &v, &["sarah chen".into()], 3, 100, 0)
            .await
            .unwrap()
            .is_empty()
    );
    // Everyone else is remembered as before.
    with.with = Some("raj patel".into());
    assert_eq!(store.recall(t, &v, &with).await.unwrap().len(), 13);
    assert_eq!(
        store
            .facts(t, &v, &["raj patel".into()], 1, 100, 0)
            .await
            .unwrap()
            .len(),
        1
    );
    // Forgetting again finds nothing more.
    assert_eq!(
        store
            .forget(t, "Sarah Chen <sarah@northwind.com>")
            .await
            .unwrap(),
        Default::default()
    );
}

async fn retention_deletes_episodes_past_their_age(store: Store) {
    let (ae, _) = corpus(&store).await;
    let v = viewer(&ae);
    // Mail every 6 hours from t0, and the reply at 1 hour: 18 are older than 100 hours.
    let cutoff = t0() + chrono::Duration::hours(100);
    assert_eq!(
        store
            .expire_episodes(&ae.tenant, ae.id, cutoff)
            .await
            .unwrap(),
        18
    );
    let mut all = recall("", Mode::Text);
    all.limit = 100;
    let left = store.recall(&ae.tenant, &v, &all).await.unwrap();
    assert_eq!(left.len(), 41 - 18);
    assert!(left.iter().all(|i| i.at >= cutoff));
    // Nor can full text or vectors reach them.
    for mode in [Mode::Text, Mode::Vector] {
        let found = store
            .recall(&ae.tenant, &v, &recall("ref 3 pricing", mode))
            .await
            .unwrap();
        assert!(found.iter().all(|i| i.at >= cutoff), "{mode:?}");
        assert!(!found.is_empty());
    }
    assert_eq!(
        store
            .expire_episodes(&ae.tenant, ae.id, cutoff)
            .await
            .unwrap(),
        0
    );
}

async fn consolidation_summarises_promotes_and_counts_once(store: Store) {
    let ae = hire(&store, "acme", "Jordan Lee", "west").await;
    let mate = hire(&store, "acme", "Kim Park", "west").await;
    let t = &ae.tenant;
    let mail = |h: i64, body: &str| {
        episode(
            &ae,
            EpisodeKind::Event,
            "email.received",
            json!({"from": "Sarah Chen <sarah@northwind.com>", "subject": "Update", "body": body}),
            h,
        )
    };
    let outcome =
        |h: i64, payload: Value| episode(&ae, EpisodeKind::Outcome, "outcome", payload, h);
    let day = t0().date_naive();
    remember(&store, vec![
        mail(1, "Northwind Traders uses Insight Cloud. The dashboards load slowly for the finance team."),
        mail(3, "Quick note: Northwind Traders uses Insight Cloud. Finance team dashboards still slow this afternoon."),
        mail(5, "Lunch is at noon on Friday."),
        // Stated once only: not promoted.
        mail(7, "Contoso uses Insight Cloud."),
        outcome(2, json!({"decision": "complete", "plan": "reply_to_customer", "task": "email.received", "success": true})),
        outcome(4, json!({"decision": "complete", "plan": "reply_to_customer", "task": "email.received", "success": true})),
        outcome(6, json!({"decision": "fail", "plan": "escalate_issue", "task": "email.received", "reason": "no manager reachable"})),
        // The next day: not part of this one.
        mail(30, "Northwind Traders uses Insight Cloud."),
    ]).await;
    let first = store.consolidate(t, ae.id, day).await.unwrap();
    assert_eq!(
        (first.episodes, first.facts, first.procedures),
        (7, 1, 2),
        "{first:?}"
    );
    let summary = first.summary.unwrap();
    // The summary is an episode, found by what the day was about.
    let found = store
        .recall(
            t,
            &viewer(&ae),
            &recall("finance dashboards slow", Mode::Text),
        )
        .await
        .unwrap();
    let s = found
        .iter()
        .find(|i| i.kind == "summary")
        .expect("the summary is recalled");
    assert_eq!(s.id, summary.to_string());
    assert!(s.text.contains("dashboards"), "{}", s.text);
    assert!(
        s.text.contains("4 event") && s.text.contains("3 outcome"),
        "{}",
        s.text
    );
    // The repeated fact is promoted and private to the employee.
    let facts = store
        .facts(t, &viewer(&ae), &["northwind traders".into()], 1, 10, 0)
        .await
        .unwrap();
    assert_eq!(
        facts
            .iter()
            .map(|f| (f.sentence(), f.visibility.as_str()))
            .collect::<Vec<_>>(),
        vec![(
            "Northwind Traders uses Insight Cloud".to_string(),
            "private"
        )]
    );
    assert!(
        store
            .facts(t, &viewer(&mate), &["northwind traders".into()], 1, 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    // Procedural memory: the best known workflow for the task first, failures by reason.
    let procs = store
        .procedures(t, ae.id, Some("email.received"))
        .await
        .unwrap();
    assert_eq!(
        procs
            .iter()
            .map(|p| (p.workflow.as_str(), p.successes, p.failures))
            .collect::<Vec<_>>(),
        vec![("reply_to_customer", 2, 0), ("escalate_issue", 0, 1)]
    );
    assert_eq!(
        procs[1].failure_patterns,
        vec![("no manager reachable".to_string(), 1)]
    );
    // Again: the same answer, and nothing new stored.
    let mut all = recall("", Mode::Text);
    all.limit = 200;
    let before = store.recall(t, &viewer(&ae), &all).await.unwrap().len();
    let second = store.consolidate(t, ae.id, day).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(
        store.recall(t, &viewer(&ae), &all).await.unwrap().len(),
        before
    );
    assert_eq!(store.procedures(t, ae.id, None).await.unwrap(), procs);
    assert_eq!(
        store
            .facts(t, &viewer(&ae), &["northwind traders".into()], 1, 10, 0)
            .await
            .unwrap(),
        facts
    );
    // A day without episodes consolidates to nothing.
    let empty = store
        .consolidate(t, ae.id, day - chrono::Duration::days(3))
        .await
        .unwrap();
    assert_eq!((empty.episodes, empty.summary), (0, None));
}
