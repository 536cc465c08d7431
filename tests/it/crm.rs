//! The CRM on both stores: records checked, stored, changed and listed; CSV imports
//! that store all rows or none; forgetting a person. The Sales AE's and the CSM's work
//! with it is in `crm_sales.rs` and `crm_success.rs`.

use super::common::{self, TestStore, eventually};
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
);

pub(super) fn fields(e: CrmError) -> Vec<String> {
    match e {
        CrmError::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
        other => panic!("expected field errors, got {other}"),
    }
}

pub(super) fn demo_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo")
}

/// The current value of each goal of `id`, once `ready` holds for them.
pub(super) async fn goals_when(
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

/// The activities logged against an account, newest first.
pub(super) async fn account_activities(
    node: &Node,
    account: &str,
) -> Vec<empla::capabilities::crm::Activity> {
    node.crm()
        .driver()
        .activities(
            &ActivityFilter {
                account: Some(account.to_string()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap()
}

pub(super) fn values(items: &[(&str, f64, i64)]) -> MetricValues {
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

    // Forgetting people removes their contacts and what was logged against them: each
    // one named, by address or by name.
    let ben = d
        .create_contact(NewContact {
            name: "Ben Ode".into(),
            email: "ben.ode@bluefin.example".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let forgotten = node
        .forget("Ana Torres <ANA.TORRES@northwind.example>, Ben Ode")
        .await
        .unwrap();
    assert_eq!((forgotten.crm_contacts, forgotten.crm_activities), (2, 1));
    assert!(d.contact(&ana.id).await.unwrap().is_none());
    assert!(d.contact(&ben.id).await.unwrap().is_none());
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

/// The last day of this quarter.
pub(super) fn quarter_end() -> chrono::NaiveDate {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let first = today.month0() / 3 * 3 + 1;
    let next = if first == 10 {
        chrono::NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(today.year(), first + 3, 1)
    };
    next.unwrap() - chrono::Duration::days(1)
}
