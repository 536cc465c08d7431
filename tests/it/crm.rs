//! The built-in CRM on both stores: records checked, stored, changed and listed; CSV
//! imports that store all rows or none; mail logged against contacts; and a Sales AE
//! that prospects the demo book of business and writes to real contacts about their
//! company.

use super::common::{self, TestStore, eventually};
use empla::bdi::Phase;
use empla::capabilities::crm::health::{MetricValue, MetricValues};
use empla::capabilities::crm::import::{ImportError, ImportKind, import};
use empla::capabilities::crm::{
    AccountPatch, CrmError, DealPatch, NewAccount, NewActivity, NewContact, NewDeal,
};
use empla::lifecycle::HireRequest;
use empla::node::Node;
use empla::store::{AccountFilter, ActivityFilter, DealFilter, Page};
use serde_json::json;

crate::on_every_test_store!(
    records_are_checked_stored_changed_and_listed,
    an_import_with_one_bad_row_imports_nothing_and_names_each_problem,
    goal_metrics_are_computed_from_deals_and_drive_the_triggers,
    account_health_falls_with_usage_and_the_csm_checks_in_and_offers_walkthroughs,
    won_deals_are_onboarded_quiet_deals_followed_up_and_upsells_flagged,
);

fn fields(e: CrmError) -> Vec<String> {
    match e {
        CrmError::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
        other => panic!("expected field errors, got {other}"),
    }
}

fn demo_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo")
}

async fn records_are_checked_stored_changed_and_listed(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    let crm = node.crm();

    let bad = NewAccount {
        name: " ".into(),
        employees: Some(-3),
        ..Default::default()
    };
    assert_eq!(
        fields(crm.create_account(bad).await.unwrap_err()),
        ["name", "employees"]
    );
    let nobody = NewAccount {
        name: "Northwind".into(),
        owner: Some("nobody.here".into()),
        ..Default::default()
    };
    assert_eq!(
        fields(crm.create_account(nobody).await.unwrap_err()),
        ["owner"]
    );

    let northwind = crm
        .create_account(NewAccount {
            name: "Northwind Analytics".into(),
            domain: Some("Northwind.Example".into()),
            employees: Some(420),
            owner: Some("jordan.lee".into()),
            signals: vec!["Hiring 12 sales reps".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        northwind.owner,
        Some(jordan.id.to_string()),
        "a handle is stored as the id"
    );
    assert_eq!(northwind.domain.as_deref(), Some("northwind.example"));
    let bluefin = crm
        .create_account(NewAccount {
            name: "Bluefin Logistics".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let d = crm.driver();
    let all = d
        .accounts(&AccountFilter::default(), Page::default())
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["Bluefin Logistics", "Northwind Analytics"],
        "newest first"
    );
    let second = d
        .accounts(
            &AccountFilter::default(),
            Page {
                limit: 1,
                offset: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(second[0].id, northwind.id);
    let owned = AccountFilter {
        owner: Some(jordan.id.to_string()),
        ..Default::default()
    };
    assert_eq!(d.accounts(&owned, Page::default()).await.unwrap().len(), 1);
    assert_eq!(
        d.account_by_domain("NORTHWIND.example")
            .await
            .unwrap()
            .unwrap()
            .id,
        northwind.id
    );

    // A patch changes what it names; null clears a field.
    let patched = crm
        .update_account(
            &bluefin.id,
            serde_json::from_value::<AccountPatch>(
                json!({"domain": null, "industry": "logistics", "employees": 650}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            patched.domain,
            patched.industry.as_deref(),
            patched.employees
        ),
        (None, Some("logistics"), Some(650))
    );
    let too_healthy = AccountPatch {
        health: Some(Some(150.0)),
        ..Default::default()
    };
    assert_eq!(
        fields(
            crm.update_account(&bluefin.id, too_healthy)
                .await
                .unwrap_err()
        ),
        ["health"]
    );
    assert!(matches!(
        crm.update_account("no-such-id", AccountPatch::default())
            .await,
        Err(CrmError::NotFound(_))
    ));

    // Contacts are unique per email, without case; a contact names an account that exists.
    let ana = crm
        .create_contact(NewContact {
            name: "Ana Torres".into(),
            email: "ana.torres@northwind.example".into(),
            title: Some("VP of Sales".into()),
            account: Some(northwind.id.clone()),
            role: Some("champion".into()),
        })
        .await
        .unwrap();
    let again = NewContact {
        name: "Ana T.".into(),
        email: "ANA.TORRES@northwind.example".into(),
        ..Default::default()
    };
    match crm.create_contact(again).await {
        Err(CrmError::Conflict(m)) => {
            assert!(m.contains(&ana.id) && m.contains("Ana Torres"), "{m}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let orphan = NewContact {
        name: "Ben".into(),
        email: "ben@nowhere.example".into(),
        account: Some("no-such-account".into()),
        ..Default::default()
    };
    assert_eq!(
        fields(crm.create_contact(orphan).await.unwrap_err()),
        ["account"]
    );

    // Deals: stages from the pipeline; closing stamps the time it closed.
    let won = NewDeal {
        name: "x".into(),
        amount: 1.0,
        stage: Some("won".into()),
        ..Default::default()
    };
    match crm.create_deal(won).await {
        Err(CrmError::Invalid(f)) => assert!(
            f[0].message.contains("prospecting, discovery"),
            "{}",
            f[0].message
        ),
        other => panic!("expected a stage error, got {other:?}"),
    }
    let deal = crm
        .create_deal(NewDeal {
            name: "Northwind — 40 seats".into(),
            account: Some(northwind.id.clone()),
            amount: 48_000.0,
            owner: Some("jordan.lee".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        deal.stage, "prospecting",
        "new deals start in the pipeline's first stage"
    );
    let closed = crm
        .update_deal(
            &deal.id,
            DealPatch {
                stage: Some("closed_won".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(closed.closed_at.is_some());
    let reopened = crm
        .update_deal(
            &deal.id,
            DealPatch {
                stage: Some("negotiation".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (reopened.stage.as_str(), reopened.closed_at),
        ("negotiation", None)
    );
    let in_negotiation = DealFilter {
        stage: Some("negotiation".into()),
        ..Default::default()
    };
    assert_eq!(
        d.deals(&in_negotiation, Page::default())
            .await
            .unwrap()
            .len(),
        1
    );

    // An activity against a contact is the account's too.
    let call = crm
        .log_activity(
            NewActivity {
                kind: "call".into(),
                subject: "Discovery call".into(),
                contact: Some(ana.id.clone()),
                ..Default::default()
            },
            "api",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.account.as_deref(), Some(northwind.id.as_str()));
    let of_account = ActivityFilter {
        account: Some(northwind.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        d.activities(&of_account, Page::default())
            .await
            .unwrap()
            .len(),
        1
    );

    // Deleting an account leaves its contact and deal, no longer linked.
    assert!(d.delete_account(&northwind.id).await.unwrap());
    assert!(d.account(&northwind.id).await.unwrap().is_none());
    assert_eq!(d.contact(&ana.id).await.unwrap().unwrap().account, None);
    assert_eq!(d.deal(&deal.id).await.unwrap().unwrap().account, None);
    assert!(!d.delete_account(&northwind.id).await.unwrap());

    // Forgetting a person removes their contact and what was logged against it.
    let forgotten = node
        .forget("Ana Torres <ANA.TORRES@northwind.example>")
        .await
        .unwrap();
    assert_eq!((forgotten.crm_contacts, forgotten.crm_activities), (1, 1));
    assert!(d.contact(&ana.id).await.unwrap().is_none());
    assert!(
        d.activities(
            &ActivityFilter {
                contact: Some(ana.id.clone()),
                ..Default::default()
            },
            Page::default()
        )
        .await
        .unwrap()
        .is_empty()
    );
    node.shutdown().await;
}

async fn an_import_with_one_bad_row_imports_nothing_and_names_each_problem(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-import"))
        .await
        .unwrap();
    node.hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    node.hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    let crm = node.crm();

    let accounts = "name,domain,employees,owner\n\
                    Northwind,northwind.example,420,jordan.lee\n\
                    Bluefin,bluefin.example,many,jordan.lee\n\
                    Helios,helios.example,310,nobody\n";
    let Err(ImportError::Rows(errors)) = import(&crm, ImportKind::Accounts, accounts).await else {
        panic!("a file with bad rows must be refused");
    };
    let found: Vec<(u64, Option<&str>)> = errors
        .iter()
        .map(|e| (e.line, e.column.as_deref()))
        .collect();
    assert_eq!(found, [(3, Some("employees")), (4, Some("owner"))]);
    assert!(
        errors[1].message.contains("\"nobody\""),
        "{}",
        errors[1].message
    );
    let stored = crm
        .driver()
        .accounts(&AccountFilter::default(), Page::default())
        .await
        .unwrap();
    assert!(stored.is_empty(), "nothing is half-imported");

    let unknown = "name,website\nNorthwind,northwind.example\n";
    let Err(ImportError::Rows(errors)) = import(&crm, ImportKind::Accounts, unknown).await else {
        panic!("an unknown column must be refused");
    };
    assert_eq!(
        (errors[0].line, errors[0].column.as_deref()),
        (1, Some("website"))
    );

    // The demo book of business: accounts, then contacts and deals naming them by domain.
    let n = node.load_demo_crm(&demo_dir()).await.unwrap();
    assert_eq!(n, 11 + 14 + 5);
    assert_eq!(
        node.load_demo_crm(&demo_dir()).await.unwrap(),
        0,
        "loaded once"
    );
    let quarry = crm
        .driver()
        .account_by_domain("quarry.example")
        .await
        .unwrap()
        .unwrap();
    let deals = crm
        .driver()
        .deals(
            &DealFilter {
                account: Some(quarry.id.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        (deals.len(), deals[0].amount, deals[0].stage.as_str()),
        (1, 48_000.0, "proposal")
    );

    // A second import of a contact already stored, or one listed twice, is refused.
    let contacts = "name,email,account\n\
                    Ana Again,ana.torres@northwind.example,northwind.example\n\
                    Zoe,zoe@new.example,nowhere.example\n\
                    Zed,zed@new.example,\n\
                    Zed Twice,ZED@new.example,\n";
    let Err(ImportError::Rows(errors)) = import(&crm, ImportKind::Contacts, contacts).await else {
        panic!("duplicates must be refused");
    };
    let found: Vec<(u64, Option<&str>)> = errors
        .iter()
        .map(|e| (e.line, e.column.as_deref()))
        .collect();
    assert_eq!(
        found,
        [(2, Some("email")), (3, Some("account")), (5, Some("email"))]
    );
    assert!(
        errors[2].message.contains("line 4"),
        "{}",
        errors[2].message
    );
    assert!(
        crm.driver()
            .contact_by_email("zoe@new.example")
            .await
            .unwrap()
            .is_none()
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prospecting_writes_to_real_contacts_about_their_company_and_logs_it() {
    let store = common::sqlite().await;
    let node = Node::start_with_store(store.store.clone(), common::options("prospecting"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    node.hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    // Jordan's deals in the demo book: 207,000 won this quarter against a 500,000 quota,
    // 168,000 open. Coverage 0.57 is below 3x: the employee starts prospecting.
    node.load_demo_crm(&demo_dir()).await.unwrap();

    // The mid-market accounts in the profile without an open deal: Northwind, Cobalt
    // and Orchard. Each hears from Jordan, by name, about their own company.
    let ana = eventually(20, "outreach to Northwind's champion", || async {
        node.mail_inbox("ana.torres@northwind.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(ana.to, "Ana Torres <ana.torres@northwind.example>");
    assert!(ana.body.starts_with("Hi Ana,"), "{}", ana.body);
    assert!(ana.body.contains("Northwind Analytics"), "{}", ana.body);
    assert!(
        ana.body.contains("Hiring 12 sales reps") || ana.body.contains("Opened a Chicago office"),
        "{}",
        ana.body
    );
    let ivy = eventually(20, "outreach to Cobalt", || async {
        node.mail_inbox("ivy.chen@cobalt.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert!(
        ivy.body.starts_with("Hi Ivy,") && ivy.body.contains("Cobalt Security"),
        "{}",
        ivy.body
    );
    eventually(20, "outreach to Orchard", || async {
        node.mail_inbox("hugo.laurent@orchard.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    // Not a customer, not an account with an open deal, not outside the segment.
    for address in [
        "jonas.berg@meridian.example",
        "chloe.martin@bluefin.example",
        "felix.wagner@tidewater.example",
        "grace.liu@lumen.example",
    ] {
        assert!(
            node.mail_inbox(address, 10).await.unwrap().is_empty(),
            "{address} was written to"
        );
    }

    // The mail is in the CRM against Ana, with the task of the outreach.
    let crm = node.crm();
    let contact = crm
        .driver()
        .contact_by_email("ana.torres@northwind.example")
        .await
        .unwrap()
        .unwrap();
    let logged = eventually(20, "the outreach logged", || async {
        let acts = crm
            .driver()
            .activities(
                &ActivityFilter {
                    contact: Some(contact.id.clone()),
                    ..Default::default()
                },
                Page::default(),
            )
            .await
            .unwrap();
        (acts.len() >= 2).then_some(acts)
    })
    .await;
    let mut kinds: Vec<&str> = logged.iter().map(|a| a.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["email_sent", "task"]);
    let sent = logged.iter().find(|a| a.kind == "email_sent").unwrap();
    assert_eq!(
        sent.employee.as_deref(),
        Some(jordan.id.to_string().as_str())
    );
    assert_eq!(sent.subject, ana.subject);
    node.shutdown().await;
}

/// The current value of each goal of `id`, once `ready` holds for them.
async fn goals_when(
    node: &Node,
    id: empla::model::EmployeeId,
    what: &str,
    ready: impl Fn(&std::collections::BTreeMap<String, Option<f64>>) -> bool,
) -> std::collections::BTreeMap<String, Option<f64>> {
    eventually(20, what, || async {
        let s = node.employee_runtime(id).await.unwrap();
        let goals: std::collections::BTreeMap<String, Option<f64>> =
            s.goals.into_iter().map(|g| (g.id, g.current)).collect();
        ready(&goals).then_some(goals)
    })
    .await
}

async fn goal_metrics_are_computed_from_deals_and_drive_the_triggers(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-metrics"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    let crm = node.crm();
    let deal = |name: &str, amount: f64| NewDeal {
        name: name.into(),
        amount,
        owner: Some("jordan.lee".into()),
        ..Default::default()
    };
    let open = crm.create_deal(deal("Open", 100_000.0)).await.unwrap();
    let won = crm.create_deal(deal("Won", 200_000.0)).await.unwrap();
    crm.update_deal(
        &won.id,
        DealPatch {
            stage: Some("closed_won".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Quota 500,000 (the quarterly_revenue goal), 200,000 won this quarter: coverage is
    // 100,000 open over 300,000 left.
    let goals = goals_when(&node, jordan.id, "computed metrics", |g| {
        g["quarterly_revenue"] == Some(200_000.0) && g["pipeline_coverage"] == Some(0.33)
    })
    .await;
    assert_eq!(goals["win_rate"], Some(1.0));
    // Coverage below 3x raised the pipeline_low signal, and prospecting started.
    eventually(20, "prospecting adopted", || async {
        let eps = node.episodes(jordan.id, 100, None).await.unwrap();
        eps.iter()
            .any(|(_, e)| e.summary == "adopt prospect_for_pipeline")
            .then_some(())
    })
    .await;

    // A posted value and a computed one share the timeline: the latest wins.
    node.submit_event(
        jordan.id,
        empla::model::NewEvent {
            kind: "metric".into(),
            source: "test".into(),
            payload: json!({"metric": "pipeline_coverage", "value": 3.5}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    goals_when(&node, jordan.id, "the posted value", |g| {
        g["pipeline_coverage"] == Some(3.5)
    })
    .await;
    crm.update_deal(
        &open.id,
        DealPatch {
            amount: Some(150_000.0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    goals_when(&node, jordan.id, "the computed value again", |g| {
        g["pipeline_coverage"] == Some(0.5)
    })
    .await;
    node.shutdown().await;
}

fn values(items: &[(&str, f64, i64)]) -> MetricValues {
    let now = chrono::Utc::now();
    MetricValues {
        items: items
            .iter()
            .map(|(metric, value, days_ago)| MetricValue {
                metric: metric.to_string(),
                value: *value,
                at: now - chrono::Duration::days(*days_ago),
                feature: None,
            })
            .collect(),
    }
}

async fn account_health_falls_with_usage_and_the_csm_checks_in_and_offers_walkthroughs(
    s: &TestStore,
) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-health"))
        .await
        .unwrap();
    let sam = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    node.set_phase(sam.id, Phase::Autonomous).await.unwrap();
    let crm = node.crm();
    let meridian = crm
        .create_account(NewAccount {
            name: "Meridian Travel".into(),
            plan: Some("growth".into()),
            owner: Some("sam.rivera".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    crm.create_contact(NewContact {
        name: "Jonas Berg".into(),
        email: "jonas.berg@meridian.example".into(),
        account: Some(meridian.id.clone()),
        role: Some("champion".into()),
        ..Default::default()
    })
    .await
    .unwrap();

    // A steady run: healthy.
    let steady = values(&[
        ("usage", 0.8, 6),
        ("usage", 0.82, 5),
        ("usage", 0.79, 4),
        ("usage", 0.81, 3),
        ("usage", 0.8, 2),
        ("engagement", 0.7, 2),
        ("nps", 40.0, 2),
    ]);
    let h = crm
        .record_metrics(&meridian.id, steady.clone())
        .await
        .unwrap();
    assert_eq!((h.stored, h.churn_risk.as_str()), (7, "low"));
    let healthy = h.health.unwrap();
    assert!(healthy > 70.0, "{h:?}");
    // The same values again change nothing.
    let again = crm.record_metrics(&meridian.id, steady).await.unwrap();
    assert_eq!(again.health, Some(healthy));
    assert_eq!(
        crm.driver()
            .account(&meridian.id)
            .await
            .unwrap()
            .unwrap()
            .health,
        Some(healthy)
    );

    // Bad values name their item.
    match crm
        .record_metrics(&meridian.id, values(&[("nps", 150.0, 0)]))
        .await
    {
        Err(CrmError::Invalid(f)) => assert_eq!(f[0].field, "items[0].value"),
        other => panic!("expected a field error, got {other:?}"),
    }

    // Usage collapses and NPS turns negative: health falls below 60, the owner is told,
    // and Sam checks in with the account's champion (customer mail waits for approval).
    let fall = crm
        .record_metrics(
            &meridian.id,
            values(&[("usage", 0.1, 1), ("nps", -30.0, 1), ("engagement", 0.2, 1)]),
        )
        .await
        .unwrap();
    assert!(
        fall.health.unwrap() < 60.0 && fall.usage_z.unwrap() < -2.0,
        "{fall:?}"
    );
    assert_eq!(fall.previous, Some(healthy));
    assert_eq!(fall.churn_risk, "high");
    let pending = eventually(20, "the check-in", || async {
        let a = node
            .approvals(
                Some(sam.id),
                Some(empla::model::ApprovalStatus::Pending),
                10,
            )
            .await
            .unwrap();
        a.into_iter().find(|a| a.action["kind"] == "email.send")
    })
    .await;
    assert_eq!(
        pending.action["params"]["to"],
        "Jonas Berg <jonas.berg@meridian.example>"
    );
    assert!(
        pending.action["params"]["subject"]
            .as_str()
            .unwrap()
            .contains("Meridian Travel"),
        "{:?}",
        pending.action
    );

    // Adoption 40%: Sam's feature_adoption goal (the mean over its customers) falls
    // below 60%, and the walkthrough offer to Jonas names the account's own figure.
    crm.record_metrics(&meridian.id, values(&[("feature_adoption", 0.4, 0)]))
        .await
        .unwrap();
    let offer = eventually(20, "the walkthrough offer", || async {
        let a = node
            .approvals(
                Some(sam.id),
                Some(empla::model::ApprovalStatus::Pending),
                10,
            )
            .await
            .unwrap();
        a.into_iter()
            .find(|a| a.action["plan"] == "offer_walkthrough")
    })
    .await;
    assert_eq!(
        offer.action["params"]["to"],
        "Jonas Berg <jonas.berg@meridian.example>"
    );
    assert!(
        offer.action["params"]["body"]
            .as_str()
            .unwrap()
            .contains("about 40%"),
        "{:?}",
        offer.action
    );
    let goals = goals_when(&node, sam.id, "adoption told", |g| {
        g["feature_adoption"] == Some(0.4)
    })
    .await;
    assert_eq!(goals["nps"], Some(-30.0));
    node.shutdown().await;
}

async fn won_deals_are_onboarded_quiet_deals_followed_up_and_upsells_flagged(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-follow-ups"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    let sam = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    for id in [jordan.id, sam.id] {
        node.set_phase(id, Phase::Autonomous).await.unwrap();
    }
    let crm = node.crm();
    let account = |name: &str, domain: &str, owner: &str, plan: Option<&str>| NewAccount {
        name: name.into(),
        domain: Some(domain.into()),
        owner: Some(owner.into()),
        plan: plan.map(Into::into),
        ..Default::default()
    };
    let meridian = crm
        .create_account(account(
            "Meridian Travel",
            "meridian.example",
            "sam.rivera",
            Some("growth"),
        ))
        .await
        .unwrap();
    let bluefin = crm
        .create_account(account(
            "Bluefin Logistics",
            "bluefin.example",
            "jordan.lee",
            None,
        ))
        .await
        .unwrap();
    for (name, email, at, role) in [
        (
            "Jonas Berg",
            "jonas.berg@meridian.example",
            &meridian.id,
            Some("champion"),
        ),
        (
            "Kara Singh",
            "kara.singh@meridian.example",
            &meridian.id,
            None,
        ),
        (
            "Chloe Martin",
            "chloe.martin@bluefin.example",
            &bluefin.id,
            Some("champion"),
        ),
    ] {
        crm.create_contact(NewContact {
            name: name.into(),
            email: email.into(),
            account: Some(at.clone()),
            role: role.map(Into::into),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let deal = |name: &str, at: &str| NewDeal {
        name: name.into(),
        account: Some(at.into()),
        amount: 60_000.0,
        stage: Some("negotiation".into()),
        owner: Some("jordan.lee".into()),
        ..Default::default()
    };
    let expansion = crm
        .create_deal(deal("Meridian — expansion", &meridian.id))
        .await
        .unwrap();
    let quiet = crm
        .create_deal(deal("Bluefin — platform", &bluefin.id))
        .await
        .unwrap();

    // Won: the account's CSM offers its people times for the onboarding kickoff.
    crm.update_deal(
        &expansion.id,
        DealPatch {
            stage: Some("closed_won".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for address in ["jonas.berg@meridian.example", "kara.singh@meridian.example"] {
        let offer = eventually(20, "the onboarding kickoff offered", || async {
            node.mail_inbox(address, 10)
                .await
                .unwrap()
                .into_iter()
                .next()
        })
        .await;
        assert!(
            offer
                .subject
                .contains("Onboarding kickoff: Meridian Travel"),
            "{}",
            offer.subject
        );
        assert!(
            offer.from.contains("sam.rivera@example.com"),
            "{}",
            offer.from
        );
    }
    eventually(20, "the milestones tracked", || async {
        let acts = crm
            .driver()
            .activities(
                &ActivityFilter {
                    account: Some(meridian.id.clone()),
                    ..Default::default()
                },
                Page::default(),
            )
            .await
            .unwrap();
        acts.iter()
            .any(|a| a.kind == "task" && a.subject.contains("go-live"))
            .then_some(())
    })
    .await;

    // Usage crosses 90% of the plan: the CSM tells the seller who won the account.
    crm.record_metrics(&meridian.id, values(&[("usage", 0.5, 3)]))
        .await
        .unwrap();
    crm.record_metrics(&meridian.id, values(&[("usage", 0.95, 1)]))
        .await
        .unwrap();
    let upsell = eventually(20, "the upsell signal", || async {
        let inbox = node.mail_inbox("jordan.lee@example.com", 20).await.unwrap();
        inbox
            .into_iter()
            .find(|m| m.subject.starts_with("Upsell signal"))
    })
    .await;
    assert_eq!(
        upsell.subject,
        "Upsell signal: Meridian Travel at 95% of its plan"
    );
    assert!(upsell.body.contains("Jonas Berg"), "{}", upsell.body);

    // A deal quiet for 20 days: the morning sweep writes to its contact.
    let mut stale = crm.driver().deal(&quiet.id).await.unwrap().unwrap();
    stale.updated_at = chrono::Utc::now() - chrono::Duration::days(20);
    node.store()
        .update_deal(node.tenant(), &stale)
        .await
        .unwrap();
    node.submit_event(
        jordan.id,
        empla::model::NewEvent {
            kind: "cron.tick".into(),
            source: "scheduler".into(),
            payload: json!({"schedule": "daily_priority_review"}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let nudge = eventually(20, "the follow-up of the quiet deal", || async {
        node.mail_inbox("chloe.martin@bluefin.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(nudge.subject, "Bluefin Logistics: next steps");
    assert!(
        nudge.body.starts_with("Hi Chloe,") && nudge.body.contains("20 days"),
        "{}",
        nudge.body
    );
    node.shutdown().await;
}
