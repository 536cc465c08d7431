//! Collaborative workflows through the real binary: a run's steps are handed to the
//! employees of their roles in order, each moving on when its task is done, until the
//! run completes; a step open past its `stuck_after` is escalated to the manager once,
//! also across a restart. And the store's workflow tables on SQLite and PostgreSQL.

use super::common::{self, NodeProcess, eventually, start_binary_from};
use chrono::Utc;
use empla::model::{
    EmployeeId, RunProgress, RunStatus, RunStep, StepStatus, TenantId, WorkflowRun,
};
use empla::store::Store;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Plans the test's employees work workflow steps with: a step is done by posting to
/// the launch channel, except a legal sign-off, which waits for an answer that never
/// comes.
const PLANS: &str = r##"
roles = ["pm", "sales_ae", "csm"]

[[plans]]
name = "do_workflow_step"
description = "A workflow step: do it and say so in the launch channel"
trigger = { event = "task.assigned", when = "event.payload.channel == 'workflow' && !event.payload.description.contains('legal sign-off')" }
steps = [
  { action = "chat.send", params = { conversation = "#launch", text = "Done: {{ event.payload.description }}" } },
]

[[plans]]
name = "await_legal"
description = "A legal sign-off: wait for legal"
trigger = { event = "task.assigned", when = "event.payload.channel == 'workflow' && event.payload.description.contains('legal sign-off')" }
steps = [
  { wait = "legal.signed_off", timeout = "1h" },
]
"##;

const STALLED: &str = r#"
name = "Stalled launch"
inputs = ["feature"]

[[steps]]
id = "legal"
title = "Get the legal sign-off for {{ inputs.feature }}"
role = "pm"
stuck_after = "1s"
"#;

/// A workflow whose first step no plan of the role takes up (and no model is
/// configured): its task fails at once, and so the run.
const DOOMED: &str = r#"
name = "Doomed offsite"

[[steps]]
id = "book"
title = "Book the team offsite"
role = "ea"

[[steps]]
id = "announce"
title = "Announce the team offsite"
role = "pm"
after = ["book"]
"#;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The shipped config with the test's plans and a workflow that stalls; its node file.
pub(super) fn config(dir: &Path) -> PathBuf {
    let config = dir.join("config");
    copy_dir(&common::repo().join("config"), &config);
    std::fs::write(config.join("plans/workflow_test.toml"), PLANS).unwrap();
    std::fs::write(config.join("workflows/stalled.toml"), STALLED).unwrap();
    std::fs::write(config.join("workflows/doomed.toml"), DOOMED).unwrap();
    config.join("empla.toml")
}

/// The node on `data`, its employees who take workflow steps autonomous.
pub(super) async fn start(config: &Path, data: &Path) -> NodeProcess {
    let node = start_binary_from(config, data, Some(common::TOKEN), &[]);
    for who in ["casey.kim", "jordan.lee", "sam.rivera"] {
        node.set_phase(who, "autonomous").await;
    }
    node
}

async fn id_of(node: &NodeProcess, handle: &str) -> String {
    node.get_json(&format!("/api/v1/employees/{handle}")).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn run_of(v: Value) -> WorkflowRun {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}"))
}

fn step<'a>(r: &'a WorkflowRun, id: &str) -> &'a RunStep {
    r.steps.iter().find(|s| s.id == id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_hands_each_step_to_its_role_in_order_until_it_completes() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(&config(dir.path()), &dir.path().join("data")).await;
    let (casey, jordan, sam) = (
        id_of(&node, "casey.kim").await,
        id_of(&node, "jordan.lee").await,
        id_of(&node, "sam.rivera").await,
    );

    // Bad starts say what was wrong.
    let (status, body) = node
        .post_json(
            "/api/v1/workflows/launch-feature/runs",
            json!({"inputs": {}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("inputs.feature"), "{body}");
    let (status, body) = node
        .post_json(
            "/api/v1/workflows/launch-feature/runs",
            json!({"inputs": {"feature": "SSO", "colour": "red"}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("inputs.colour"), "{body}");
    let (status, body) = node
        .post_json(
            "/api/v1/workflows/no-such-thing/runs",
            json!({"inputs": {}}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.to_string().contains("launch-feature"), "{body}");

    // Started: the spec goes to the PM at once, the rest wait for it.
    let (status, body) = node
        .post_json(
            "/api/v1/workflows/launch-feature/runs",
            json!({"inputs": {"feature": "Single sign-on"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let started = run_of(body);
    let spec = step(&started, "spec");
    assert_eq!(spec.status, StepStatus::Assigned);
    assert_eq!(spec.employee_id.map(|e| e.to_string()), Some(casey.clone()));
    assert!(spec.title.contains("Single sign-on"), "{}", spec.title);
    for later in ["brief_sales", "update_customers", "launch_plan"] {
        assert_eq!(step(&started, later).status, StepStatus::Waiting, "{later}");
    }
    // The PM got the step as a delegated task.
    let task = node
        .get_json(&format!(
            "/api/v1/employees/casey.kim/tasks/{}",
            spec.task_id.as_deref().unwrap()
        ))
        .await;
    assert_eq!(task["channel"], "workflow", "{task}");
    assert!(
        task["description"]
            .as_str()
            .unwrap()
            .contains("Write the launch spec for Single sign-on"),
        "{task}"
    );

    // Each employee does its step through its plan; the run moves on to the end.
    let path = format!("/api/v1/workflows/runs/{}", started.id);
    let done = eventually(60, "the run completes", || async {
        let r = run_of(node.get_json(&path).await);
        assert_ne!(r.status, RunStatus::Failed, "{r:?}");
        (r.status == RunStatus::Completed).then_some(r)
    })
    .await;
    assert_eq!(done.progress, RunProgress { done: 4, total: 4 });
    let who = |s: &str| step(&done, s).employee_id.map(|e| e.to_string());
    assert_eq!(who("spec"), Some(casey.clone()));
    assert_eq!(who("brief_sales"), Some(jordan.clone()));
    assert_eq!(who("update_customers"), Some(sam.clone()));
    assert_eq!(who("launch_plan"), Some(casey.clone()));
    assert_eq!(
        step(&done, "brief_sales").employee.as_deref(),
        Some("jordan.lee")
    );
    // In order: a step starts only once what it comes after is done.
    let ended = |s: &str| step(&done, s).ended_at.unwrap();
    let assigned = |s: &str| step(&done, s).assigned_at.unwrap();
    assert!(assigned("brief_sales") >= ended("spec"));
    assert!(assigned("update_customers") >= ended("spec"));
    assert!(assigned("launch_plan") >= ended("brief_sales").max(ended("update_customers")));
    // The work is real: each step's employee posted in the launch channel.
    let posted = node
        .get_json("/api/v1/employees/jordan.lee/chat?conversation=%23launch")
        .await;
    assert!(
        posted["items"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Brief the prospects and customers who asked for Single sign-on"),
        "{posted}"
    );

    // The list and the CLI show it.
    let list = node
        .get_json("/api/v1/workflows/runs?status=completed")
        .await;
    assert_eq!(list["items"][0]["id"], done.id.as_str(), "{list}");
    let out = node.cli(&["workflow", "status", &done.id]);
    assert!(
        out.contains("completed") && out.contains("4 of 4 steps done"),
        "{out}"
    );
    let out = node.cli(&["workflow", "list"]);
    assert!(out.contains(&done.id), "{out}");
    // A failed step fails the run, saying which and why; what waited is canceled.
    let (status, body) = node
        .post_json("/api/v1/workflows/doomed/runs", json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    let doomed = run_of(body);
    let path = format!("/api/v1/workflows/runs/{}", doomed.id);
    let failed = eventually(30, "the run fails", || async {
        let r = run_of(node.get_json(&path).await);
        (r.status == RunStatus::Failed).then_some(r)
    })
    .await;
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .starts_with("step `book` failed: "),
        "{failed:?}"
    );
    assert_eq!(step(&failed, "book").status, StepStatus::Failed);
    assert_eq!(step(&failed, "announce").status, StepStatus::Canceled);
    assert_eq!(failed.progress, RunProgress { done: 0, total: 2 });
    let out = node.cli(&["workflow", "list", "--status", "failed"]);
    assert!(out.contains(&doomed.id) && !out.contains(&done.id), "{out}");

    // The API document lists the routes.
    let doc = node.get_json("/api/v1/openapi.json").await;
    for p in [
        "/api/v1/workflows/{name}/runs",
        "/api/v1/workflows/runs/{id}",
        "/api/v1/teams/{id}",
        "/api/v1/teams/{id}/standup",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} is not in the document");
    }

    let out = node.cli(&[
        "workflow",
        "start",
        "new-enterprise-customer",
        "--input",
        "account=Acme Corp",
    ]);
    assert!(
        out.contains("handover") && out.contains("Acme Corp"),
        "{out}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_step_is_escalated_to_the_manager_once_also_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let data = dir.path().join("data");
    let node = start(&config, &data).await;
    let (status, body) = node
        .post_json(
            "/api/v1/workflows/stalled/runs",
            json!({"inputs": {"feature": "SSO"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let run = run_of(body);
    let path = format!("/api/v1/workflows/runs/{}", run.id);
    let stuck = eventually(30, "the step is stuck", || async {
        let r = run_of(node.get_json(&path).await);
        step(&r, "legal").stuck.then_some(r)
    })
    .await;
    let legal = step(&stuck, "legal");
    assert_eq!(legal.status, StepStatus::Assigned);
    assert_eq!(stuck.status, RunStatus::Running);
    let escalation = legal.escalation_id.clone().expect("escalated");
    let cases = pending(&node).await;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["id"], escalation.as_str());
    assert!(
        cases[0]["message"]
            .as_str()
            .unwrap()
            .contains("Get the legal sign-off for SSO"),
        "{cases:?}"
    );
    assert!(
        cases[0]["manager"]
            .as_str()
            .unwrap()
            .contains("dana.wu@example.com")
    );
    let out = node.cli(&["workflow", "status", &run.id]);
    assert!(out.contains("stuck"), "{out}");

    // Stopped and started again: the run is taken up where it was, not escalated again.
    node.terminate();
    let node = start_binary_from(&config, &data, Some(common::TOKEN), &[]);
    let again = run_of(node.get_json(&path).await);
    assert_eq!(again.status, RunStatus::Running);
    assert_eq!(
        step(&again, "legal").escalation_id.as_deref(),
        Some(escalation.as_str())
    );
    // Several rounds of the engine later, still the one case.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(pending(&node).await.len(), 1);
    node.terminate();
}

#[test]
fn config_check_names_the_file_and_key_of_each_workflow_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = config(dir.path());
    let workflows = file.parent().unwrap().join("workflows");
    std::fs::write(
        workflows.join("broken.toml"),
        "name = \"Broken\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nrole = \"cfo\"\nafter = [\"b\"]\n\
         [[steps]]\nid = \"b\"\ntitle = \"B\"\nrole = \"pm\"\nafter = [\"a\"]\nstuck_after = \"soon\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["config", "check", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // A duration that does not parse stops the file there; the rest is checked once it does.
    assert!(err.contains("broken.toml: `steps[1].stuck_after`"), "{err}");
    std::fs::write(
        workflows.join("broken.toml"),
        "name = \"Broken\"\n[[steps]]\nid = \"a\"\ntitle = \"A\"\nrole = \"cfo\"\nafter = [\"b\"]\n\
         [[steps]]\nid = \"b\"\ntitle = \"B\"\nrole = \"pm\"\nafter = [\"a\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["config", "check", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.toml: `steps[0].role` names role `cfo`"),
        "{err}"
    );
    assert!(
        err.contains("broken.toml: `steps` `after` goes round in a cycle (a → b → a)"),
        "{err}"
    );
}

/// The pending escalations of stuck workflow steps of casey.kim.
async fn pending(node: &NodeProcess) -> Vec<Value> {
    let v = node
        .get_json("/api/v1/escalations?employee=casey.kim&status=pending")
        .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["case"] == "workflow_step_stuck")
        .cloned()
        .collect()
}

fn new_run(id: &str, steps: &[&str]) -> WorkflowRun {
    let now = Utc::now();
    WorkflowRun {
        id: id.into(),
        workflow: "launch".into(),
        name: "Launch".into(),
        inputs: json!({"feature": "SSO"}),
        status: RunStatus::Running,
        started_by: "test".into(),
        error: None,
        progress: RunProgress {
            done: 0,
            total: steps.len(),
        },
        steps: steps
            .iter()
            .map(|s| RunStep {
                id: s.to_string(),
                title: format!("do {s}"),
                status: StepStatus::Waiting,
                stuck: false,
                employee_id: None,
                employee: None,
                task_id: None,
                result: None,
                escalation_id: None,
                assigned_at: None,
                stuck_at: None,
                ended_at: None,
            })
            .collect(),
        created_at: now,
        updated_at: now,
        ended_at: None,
    }
}

async fn workflow_rows_change_once_each(store: Store) {
    let t = TenantId::new("wf");
    let now = Utc::now();
    let who = EmployeeId::new();
    store
        .start_workflow_run(
            &t,
            &new_run("r1", &["a", "b", "c"]),
            &json!({"name": "Launch"}),
        )
        .await
        .unwrap();
    assert!(
        store
            .assign_workflow_step(&t, "r1", "a", who, "t1", now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .assign_workflow_step(&t, "r1", "a", who, "t2", now)
            .await
            .unwrap()
    );
    assert!(
        store
            .mark_workflow_step_stuck(&t, "r1", "a", Some("e1"), now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_workflow_step_stuck(&t, "r1", "a", Some("e2"), now)
            .await
            .unwrap()
    );
    assert!(
        store
            .end_workflow_step(&t, "r1", "a", StepStatus::Done, Some("ok"), now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_workflow_step(&t, "r1", "a", StepStatus::Failed, None, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .assign_workflow_step(&t, "r1", "b", who, "t3", now)
            .await
            .unwrap()
    );
    let r = store.workflow_run(&t, "r1").await.unwrap().unwrap();
    assert_eq!(r.definition["name"], "Launch");
    let a = &r.run.steps[0];
    assert_eq!(
        (a.status, a.task_id.as_deref(), a.stuck),
        (StepStatus::Done, Some("t1"), true)
    );
    assert_eq!(a.escalation_id.as_deref(), Some("e1"));
    assert_eq!(a.employee_id, Some(who));
    assert_eq!(r.run.progress, RunProgress { done: 1, total: 3 });
    assert_eq!(store.running_workflow_runs(&t).await.unwrap(), ["r1"]);
    // A failed run cancels what still waits, once.
    assert!(
        store
            .end_workflow_run(&t, "r1", RunStatus::Failed, Some("step `b` failed"), now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_workflow_run(&t, "r1", RunStatus::Completed, None, now)
            .await
            .unwrap()
    );
    let r = store.workflow_run(&t, "r1").await.unwrap().unwrap().run;
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("step `b` failed"));
    let states: Vec<StepStatus> = r.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        states,
        [StepStatus::Done, StepStatus::Assigned, StepStatus::Canceled]
    );
    assert!(store.running_workflow_runs(&t).await.unwrap().is_empty());
    store
        .start_workflow_run(&t, &new_run("r2", &["a"]), &json!({"name": "Launch"}))
        .await
        .unwrap();
    let all = store.workflow_runs(&t, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r2", "r1"]
    );
    assert_eq!(all[1].steps.len(), 3);
    let failed = store
        .workflow_runs(&t, Some(RunStatus::Failed), 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        store
            .workflow_run(&TenantId::new("other"), "r1")
            .await
            .unwrap()
            .is_none()
    );
}

async fn standups_are_recorded_once_per_tick(store: Store) {
    let t = TenantId::new("su");
    let who = EmployeeId::new();
    let monday = "2026-12-07T09:00:00Z".parse().unwrap();
    let tuesday = "2026-12-08T09:00:00Z".parse().unwrap();
    assert!(
        store
            .record_standup(&t, "sales", monday, who, "update")
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_standup(&t, "sales", monday, who, "again")
            .await
            .unwrap()
    );
    assert_eq!(
        store.standup_posted(&t, "sales", monday).await.unwrap(),
        [who]
    );
    assert!(
        store
            .standup_posted(&t, "sales", tuesday)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.last_standup(&t, "sales", who, tuesday).await.unwrap(),
        Some(monday)
    );
    assert_eq!(
        store.last_standup(&t, "sales", who, monday).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .last_standup(&t, "product", who, tuesday)
            .await
            .unwrap(),
        None
    );
}

crate::on_every_store!(
    workflow_rows_change_once_each,
    standups_are_recorded_once_per_tick
);
