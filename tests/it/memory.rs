//! Memory: recall by full text, participant, time, similarity, cause and graph; shared
//! knowledge with visibility; the same answers on SQLite and PostgreSQL.

use super::common::{postgres, profile, sqlite};
use empla::memory::{Document, Item, Mode, NewFact, Recall, Source, Viewer, Visibility};
use empla::model::{EmployeeId, EmployeeProfile, Episode, EpisodeId, EpisodeKind};
use empla::store::{Completion, NewHire, Store, StoreWriter};
use serde_json::{Value, json};

crate::on_every_store!(
    full_text_participant_time_and_cause_recall,
    knowledge_is_seen_within_its_visibility_and_tenant,
    hybrid_finds_what_neither_text_nor_vectors_rank_first,
);

pub(super) fn t0() -> chrono::DateTime<chrono::Utc> {
    "2026-10-01T09:00:00Z".parse().unwrap()
}

pub(super) async fn hire(store: &Store, tenant: &str, name: &str, team: &str) -> EmployeeProfile {
    let email = format!("{}@{tenant}.com", name.to_lowercase().replace(' ', "."));
    let mut p = profile(tenant, "sales_ae", name, &email);
    p.team = team.into();
    store
        .insert_employees(&[NewHire {
            profile: p.clone(),
            config_key: None,
            schedules: Vec::new(),
        }])
        .await
        .unwrap();
    p
}

pub(super) fn viewer(p: &EmployeeProfile) -> Viewer {
    Viewer {
        employee: p.id,
        team: p.team.clone(),
    }
}

pub(super) fn episode(
    p: &EmployeeProfile,
    kind: EpisodeKind,
    summary: &str,
    payload: Value,
    hours: i64,
) -> Episode {
    Episode {
        id: EpisodeId::new(),
        tenant: p.tenant.clone(),
        employee_id: p.id,
        kind,
        event_id: None,
        cause_id: None,
        channel: Some("email".into()),
        summary: summary.into(),
        payload,
        at: t0() + chrono::Duration::hours(hours),
    }
}

/// Writes `episodes` through the group committer, as employees do.
pub(super) async fn remember(store: &Store, episodes: Vec<Episode>) {
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    for e in episodes {
        writer
            .complete(
                Completion {
                    fence: None,
                    tenant: e.tenant.clone(),
                    employee: e.employee_id,
                    event_id: None,
                    episodes: vec![e],
                    snapshot: None,
                    wake_at: None,
                    approvals: Vec::new(),
                    actions: Vec::new(),
                },
                None,
            )
            .await
            .unwrap();
    }
    writer.flush().await;
}

pub(super) fn recall(q: &str, mode: Mode) -> Recall {
    Recall {
        q: q.into(),
        mode,
        limit: 20,
        ..Recall::default()
    }
}

pub(super) fn texts(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.text.as_str()).collect()
}

/// The fixed corpus of the cross-store comparison: mail with three people over ten
/// days, an action caused by one of them, facts about the accounts.
pub(super) async fn corpus(store: &Store) -> (EmployeeProfile, Vec<Episode>) {
    let ae = hire(store, "acme", "Jordan Lee", "west").await;
    let people = [
        "Sarah Chen <sarah@northwind.com>",
        "Raj Patel <raj@contoso.com>",
        "Maria Lopez <maria@fabrikam.com>",
    ];
    let topics = [
        (
            "Pricing question",
            "Can we get volume pricing for 200 seats?",
        ),
        (
            "Renewal",
            "Our renewal is coming up next month; the contract needs review.",
        ),
        (
            "Outage",
            "Dashboards were down this morning, please advise.",
        ),
        ("Invoice", "The invoice shows the wrong billing address."),
    ];
    let mut eps = Vec::new();
    for i in 0..40i64 {
        let (subject, body) = topics[(i % 4) as usize];
        let from = people[(i % 3) as usize];
        eps.push(episode(
            &ae,
            EpisodeKind::Event,
            "email.received",
            json!({"from": from, "to": "jordan.lee@acme.com", "subject": subject, "body": format!("{body} (ref {i})")}),
            i * 6,
        ));
    }
    let mut reply = episode(
        &ae,
        EpisodeKind::Action,
        "execute email.send",
        json!({"action": {"kind": "email.send", "params": {"to": "Sarah Chen <sarah@northwind.com>", "subject": "Re: Pricing question", "body": "Volume pricing starts at 100 seats."}}}),
        1,
    );
    reply.cause_id = Some(eps[0].id);
    // Recorded in the order it happened: right after the mail it answers.
    eps.insert(1, reply);
    remember(store, eps.clone()).await;
    let facts = [
        ("Sarah Chen", "works_at", "Northwind Traders"),
        ("Northwind Traders", "uses", "Insight Cloud"),
        ("Insight Cloud", "includes", "Dashboards"),
        ("Jordan Lee", "owns", "Northwind Traders"),
        ("Raj Patel", "works_at", "Contoso"),
    ];
    store
        .put_facts(
            &ae.tenant,
            &facts
                .iter()
                .map(|(s, p, o)| NewFact {
                    subject: s.to_string(),
                    predicate: p.to_string(),
                    object: o.to_string(),
                    confidence: 0.9,
                    source: "crm".into(),
                    visibility: Visibility::Company,
                    owner: None,
                    team: None,
                    at: t0(),
                })
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    (ae, eps)
}

async fn full_text_participant_time_and_cause_recall(store: Store) {
    let (ae, eps) = corpus(&store).await;
    let v = viewer(&ae);
    // Full text: every keyword must match; best first.
    let found = store
        .recall(&ae.tenant, &v, &recall("volume pricing", Mode::Text))
        .await
        .unwrap();
    assert_eq!(found.len(), 11, "{:#?}", texts(&found));
    assert!(
        found
            .iter()
            .all(|i| i.text.to_lowercase().contains("volume pricing"))
    );
    assert!(found.iter().all(|i| i.sources == [Source::Text]));
    assert!(found.windows(2).all(|w| w[0].score >= w[1].score));
    // Every string of the payload is searchable, addresses included.
    let by_ref = store
        .recall(&ae.tenant, &v, &recall("ref 37", Mode::Text))
        .await
        .unwrap();
    assert!(by_ref[0].text.contains("(ref 37)"), "{:#?}", texts(&by_ref));
    // Participant, newest first: Sarah wrote 14 of the 40 and was written to once.
    let mut with = recall("", Mode::Text);
    with.with = Some("Sarah".into());
    with.limit = 100;
    let sarah = store.recall(&ae.tenant, &v, &with).await.unwrap();
    assert_eq!(sarah.len(), 15);
    assert!(sarah.windows(2).all(|w| w[0].at >= w[1].at));
    with.with = Some("raj@contoso.com".into());
    assert_eq!(store.recall(&ae.tenant, &v, &with).await.unwrap().len(), 13);
    // Participant and full text together.
    let mut renewal_with_maria = recall("renewal", Mode::Text);
    renewal_with_maria.with = Some("maria lopez".into());
    let r = store
        .recall(&ae.tenant, &v, &renewal_with_maria)
        .await
        .unwrap();
    assert!(
        !r.is_empty()
            && r.iter()
                .all(|i| i.text.contains("Maria Lopez") && i.text.contains("renewal")),
        "{:#?}",
        texts(&r)
    );
    // Time range: day 2 holds episodes 4..=7 (every 6 hours).
    let mut day2 = recall("", Mode::Text);
    day2.from = Some(t0() + chrono::Duration::hours(24));
    day2.to = Some(t0() + chrono::Duration::hours(48));
    let d = store.recall(&ae.tenant, &v, &day2).await.unwrap();
    assert_eq!(d.len(), 4);
    assert!(
        d.iter()
            .all(|i| i.at >= day2.from.unwrap() && i.at < day2.to.unwrap())
    );
    // Paging: two pages of the same query never overlap and together give the whole.
    let mut page = recall("pricing", Mode::Text);
    page.limit = 5;
    let first = store.recall(&ae.tenant, &v, &page).await.unwrap();
    page.offset = 5;
    let second = store.recall(&ae.tenant, &v, &page).await.unwrap();
    assert_eq!(first.len(), 5);
    assert!(second.iter().all(|s| !first.iter().any(|f| f.id == s.id)));
    // Why: the reply, then the mail that caused it.
    let reply = eps.iter().find(|e| e.kind == EpisodeKind::Action).unwrap();
    let chain = store
        .cause_chain(&ae.tenant, ae.id, reply.id)
        .await
        .unwrap();
    assert_eq!(
        chain.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![reply.id, eps[0].id]
    );
    // Another employee has no such episode.
    assert!(
        store
            .cause_chain(&ae.tenant, EmployeeId::new(), reply.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Graph traversal: Sarah's company and what it uses, within two hops.
    let near = store
        .facts(&ae.tenant, &v, &["sarah chen".into()], 1, 100, 0)
        .await
        .unwrap();
    assert_eq!(
        near.iter().map(|f| f.sentence()).collect::<Vec<_>>(),
        vec!["Sarah Chen works at Northwind Traders"]
    );
    let two = store
        .facts(&ae.tenant, &v, &["sarah chen".into()], 2, 100, 0)
        .await
        .unwrap();
    let mut two: Vec<(String, i64)> = two.iter().map(|f| (f.sentence(), f.depth)).collect();
    two.sort();
    assert_eq!(
        two,
        vec![
            ("Jordan Lee owns Northwind Traders".to_string(), 2),
            ("Northwind Traders uses Insight Cloud".to_string(), 2),
            ("Sarah Chen works at Northwind Traders".to_string(), 1),
        ]
    );
}

/// The answers compared across stores: everything but ids (each store's own) and the
/// fused scores' last digits.
fn comparable(items: &[Item]) -> Vec<(String, String, String, Vec<Source>, String)> {
    items
        .iter()
        .map(|i| {
            (
                i.kind.clone(),
                i.text.clone(),
                format!("{:.9}", i.score),
                i.sources.clone(),
                i.at.to_rfc3339(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_answers_the_same_on_sqlite_and_postgres() {
    let Some(pg) = postgres().await else { return };
    let lite = sqlite().await;
    let mut answers = Vec::new();
    for store in [&lite.store, &pg.store] {
        let (ae, _) = corpus(store).await;
        let v = viewer(&ae);
        let mut queries = vec![
            recall("volume pricing", Mode::Text),
            recall("renewal contract", Mode::Text),
            recall("dashboards down", Mode::Vector),
            recall(
                "What did Sarah Chen say about Insight Cloud dashboards?",
                Mode::Hybrid,
            ),
        ];
        let mut sarah = recall("", Mode::Text);
        sarah.with = Some("sarah".into());
        queries.push(sarah);
        let mut range = recall("invoice", Mode::Text);
        range.from = Some(t0() + chrono::Duration::hours(30));
        range.to = Some(t0() + chrono::Duration::hours(150));
        queries.push(range);
        let mut results = Vec::new();
        for q in &queries {
            results.push(comparable(&store.recall(&ae.tenant, &v, q).await.unwrap()));
        }
        let graph = store
            .facts(&ae.tenant, &v, &["northwind traders".into()], 3, 100, 0)
            .await
            .unwrap();
        let graph: Vec<(String, i64)> = graph.iter().map(|f| (f.sentence(), f.depth)).collect();
        answers.push((results, graph));
    }
    for (i, (a, b)) in answers[0].0.iter().zip(&answers[1].0).enumerate() {
        assert!(!a.is_empty(), "query {i} found nothing");
        assert_eq!(a, b, "query {i} differs between SQLite and PostgreSQL");
    }
    assert_eq!(answers[0].1, answers[1].1, "graph traversal differs");
    assert_eq!(answers[0].1.len(), 4);
}

async fn knowledge_is_seen_within_its_visibility_and_tenant(store: Store) {
    let ae = hire(&store, "acme", "Jordan Lee", "west").await;
    let teammate = hire(&store, "acme", "Kim Park", "west").await;
    let other_team = hire(&store, "acme", "Ola Berg", "east").await;
    let stranger = hire(&store, "globex", "Ann Ray", "west").await;
    let doc = |title: &str, text: &str, visibility, owner: &EmployeeProfile| Document {
        title: title.into(),
        text: text.into(),
        source: title.into(),
        visibility,
        owner: Some(owner.id),
        team: Some(owner.team.clone()),
        at: t0(),
    };
    let t = &ae.tenant;
    store
        .publish(
            t,
            &doc(
                "private note",
                "Zephyr discount ceiling is 12 percent.",
                Visibility::Private,
                &ae,
            ),
        )
        .await
        .unwrap();
    store
        .publish(
            t,
            &doc(
                "team playbook",
                "Zephyr deals close faster with a pilot. Zephyr Labs uses Insight Cloud.",
                Visibility::Team,
                &ae,
            ),
        )
        .await
        .unwrap();
    let published = store
        .publish(
            t,
            &doc(
                "company policy",
                "Zephyr pricing needs finance sign-off above 50 seats.",
                Visibility::Company,
                &ae,
            ),
        )
        .await
        .unwrap();
    assert_eq!((published.chunks, published.facts), (1, 0));
    store
        .publish(
            &stranger.tenant,
            &doc(
                "globex secret",
                "Zephyr is our codename at Globex.",
                Visibility::Company,
                &stranger,
            ),
        )
        .await
        .unwrap();
    let seen = |p: EmployeeProfile| {
        let store = store.clone();
        async move {
            let mut found: Vec<String> = store
                .recall(&p.tenant, &viewer(&p), &recall("zephyr", Mode::Text))
                .await
                .unwrap()
                .into_iter()
                .map(|i| i.text)
                .collect();
            found.sort();
            found
        }
    };
    assert_eq!(seen(ae.clone()).await.len(), 3);
    let mate = seen(teammate.clone()).await;
    assert_eq!(mate.len(), 2, "{mate:?}");
    assert!(mate.iter().all(|t| !t.contains("ceiling")));
    assert_eq!(
        seen(other_team.clone()).await,
        vec!["Zephyr pricing needs finance sign-off above 50 seats."]
    );
    assert_eq!(
        seen(stranger.clone()).await,
        vec!["Zephyr is our codename at Globex."]
    );
    // Vector search keeps to the same bounds.
    for (p, n) in [(&other_team, 1), (&stranger, 1)] {
        let v = store
            .recall(
                &p.tenant,
                &viewer(p),
                &recall("zephyr pricing sign-off", Mode::Vector),
            )
            .await
            .unwrap();
        assert_eq!(v.len(), n, "{:?}", texts(&v));
    }
    // The team document's plain statement became a team fact.
    let seeds = ["zephyr labs".to_string()];
    let mate_facts = store
        .facts(&ae.tenant, &viewer(&teammate), &seeds, 1, 10, 0)
        .await
        .unwrap();
    assert_eq!(mate_facts.len(), 1);
    assert_eq!(mate_facts[0].sentence(), "Zephyr Labs uses Insight Cloud");
    assert!(
        store
            .facts(&ae.tenant, &viewer(&other_team), &seeds, 1, 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    // Publishing again from the same source replaces the document.
    store
        .publish(
            t,
            &doc(
                "company policy",
                "Zephyr pricing is list price only.",
                Visibility::Company,
                &ae,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        seen(other_team).await,
        vec!["Zephyr pricing is list price only."]
    );
}

/// A few hundred mails about a dozen accounts. The planted one comes from the
/// Northwind CSM and answers the question, but never names Northwind; only the
/// knowledge graph (the relationship map) ties its sender to the account.
async fn hybrid_finds_what_neither_text_nor_vectors_rank_first(store: Store) {
    let ae = hire(&store, "acme", "Jordan Lee", "west").await;
    let accounts = [
        "Northwind",
        "Contoso",
        "Fabrikam",
        "Tailspin",
        "Wingtip",
        "Litware",
        "Proseware",
        "Adatum",
        "Lucerne",
        "Margie",
        "Fourth Coffee",
        "Woodgrove",
    ];
    let subjects = [
        "{a} account: quarterly review agenda for the CSM",
        "{a} account renewal and pricing",
        "Outage report for {a}: service restored",
        "{a} invoice question from finance",
        "Training session for {a} admins",
        "{a} CSM handover notes",
    ];
    let mut eps = Vec::new();
    let mut n = 0;
    for a in accounts {
        for s in subjects {
            for k in 0..4 {
                n += 1;
                eps.push(episode(
                    &ae,
                    EpisodeKind::Event,
                    "email.received",
                    json!({"from": format!("contact{k}@{}.com", a.to_lowercase().replace(' ', "")), "subject": s.replace("{a}", a), "body": format!("Note {n} about {a}.")}),
                    n,
                ));
            }
        }
    }
    let planted = episode(
        &ae,
        EpisodeKind::Event,
        "email.received",
        json!({"from": "Priya Natarajan <priya@acme.com>", "subject": "Root cause", "body": "About the outage: a misconfigured load balancer dropped traffic; I told the customer the fix ships Friday."}),
        n + 1,
    );
    eps.push(planted.clone());
    remember(&store, eps).await;
    assert!(n >= 250);
    // The relationship map, as the CRM gives it.
    let csm = |person: &str, account: &str| NewFact {
        subject: person.into(),
        predicate: "csm_of".into(),
        object: account.into(),
        confidence: 1.0,
        source: "crm".into(),
        visibility: Visibility::Company,
        owner: None,
        team: None,
        at: t0(),
    };
    store
        .put_facts(
            &ae.tenant,
            &[
                csm("Priya Natarajan", "Northwind"),
                csm("Omar Haddad", "Contoso"),
            ],
        )
        .await
        .unwrap();
    let q = "What did the Northwind CSM say about the outage?";
    let v = viewer(&ae);
    let by_text = store
        .recall(&ae.tenant, &v, &recall(q, Mode::Text))
        .await
        .unwrap();
    let by_vector = store
        .recall(&ae.tenant, &v, &recall(q, Mode::Vector))
        .await
        .unwrap();
    let hybrid = store
        .recall(&ae.tenant, &v, &recall(q, Mode::Hybrid))
        .await
        .unwrap();
    let planted_id = planted.id.to_string();
    assert_ne!(
        by_text.first().map(|i| &i.id),
        Some(&planted_id),
        "text alone ranks it first"
    );
    assert_ne!(by_vector[0].id, planted_id, "vectors alone rank it first");
    assert_eq!(hybrid[0].id, planted_id, "hybrid: {:#?}", &hybrid[..5]);
    assert!(
        hybrid[0].sources.contains(&Source::Graph),
        "{:?}",
        hybrid[0].sources
    );
    assert!(hybrid.windows(2).all(|w| w[0].score >= w[1].score));
}
