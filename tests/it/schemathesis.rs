//! The API against its own OpenAPI document, checked by schemathesis (PyPI, pinned in
//! `tests/api/schemathesis.sh`): a throwaway `empla` node process on SQLite with the
//! shipped config (so its demo employees exist), seeded through the API with one record
//! of each kind, and schemathesis generating requests for every documented operation
//! within a bounded budget, most of them naming the seeded records so they reach past
//! "no such id". It fails, with schemathesis' report, on any 5xx answer, any status code
//! the document does not list for the operation, any content type it does not list, and
//! any body that does not match the documented schema. No operation is left out: the
//! deletes are bound to records made only to be deleted, so the rest stay for the run.
//! The stateful phase is off, as the document has no links for it to follow. The venv
//! comes from `tests/api/schemathesis.sh install` (`.ci/run` runs it); without it the
//! test fails saying so, never skips.

use crate::common::{self, NodeProcess, TOKEN};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Test cases schemathesis generates per operation and phase: what bounds the run (about
/// a minute and a half on two cores for the ~90 operations). Its `--max-time` is no
/// bound: it repeats the fuzzing until the time is spent.
const EXAMPLES_PER_OPERATION: &str = "40";
/// The seed of the generated data, so a failure found in CI is found again locally.
const SEED: &str = "23";
/// What is checked on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";
/// How often a seeded id is used where an operation takes one (else a generated one).
const SEEDED: f64 = 0.8;

/// `default`, unless the environment sets `var` (a deeper or differently seeded run).
fn setting(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

fn schemathesis() -> PathBuf {
    let out = Command::new("bash")
        .arg(common::repo().join("tests/api/schemathesis.sh"))
        .arg("st")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "schemathesis is not installed: run `bash tests/api/schemathesis.sh install` \
         (`.ci/run` does) — {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// POSTs `body` to `path` and returns the answer, which must be a success.
async fn create(node: &NodeProcess, path: &str, body: Value) -> Value {
    let (status, answer) = node.post_json(path, body).await;
    assert!(
        (200..300).contains(&status),
        "seeding {path}: {status} {answer}"
    );
    answer
}

fn strings(items: &Value, field: &str) -> Vec<String> {
    items["items"]
        .as_array()
        .expect("a page of items")
        .iter()
        .map(|i| i[field].as_str().expect("a text field").to_string())
        .collect()
}

/// The records the run names: dictionary name → ids.
struct Seeded(Vec<(&'static str, Vec<String>)>);

/// One record of each kind the API has an id for, made through the API itself; the
/// employees, teams and workflows are the shipped config's.
async fn seed(node: &NodeProcess) -> Seeded {
    let employees = node.get_json("/api/v1/employees?limit=1000").await;
    let mut ids = strings(&employees, "id");
    ids.truncate(4);
    let handles = strings(&employees, "chat_handle");
    ids.extend(handles.into_iter().take(2));
    let role = employees["items"][0]["role"].as_str().unwrap().to_string();
    // Offboarded during the run, so the others stay.
    let leaver = create(
        node,
        "/api/v1/employees",
        json!({"role": role, "name": "Lee Leaver"}),
    )
    .await;
    let task = create(
        node,
        &format!("/api/v1/employees/{}/tasks", ids[0]),
        json!({"description": "Prepare the board pack"}),
    )
    .await;
    let account = create(node, "/api/v1/crm/accounts", json!({"name": "Acme"})).await;
    let contact = create(
        node,
        "/api/v1/crm/contacts",
        json!({"name": "Dana Buyer", "email": "dana@acme.test", "account": account["id"]}),
    )
    .await;
    let deal = create(
        node,
        "/api/v1/crm/deals",
        json!({"name": "Acme renewal", "amount": 12000, "account": account["id"]}),
    )
    .await;
    let requisition = create(
        node,
        "/api/v1/recruiting/requisitions",
        json!({"title": "Rust engineer", "requirements": [{"text": "Rust"}],
               "hiring_manager": "Robin Hayes <robin.hayes@example.com>"}),
    )
    .await;
    let candidate = create(
        node,
        "/api/v1/recruiting/candidates",
        json!({"name": "Ada Applicant", "email": "ada@applicant.test",
               "requisition": requisition["id"]}),
    )
    .await;
    let request = create(
        node,
        "/api/v1/product/requests",
        json!({"title": "Export the pipeline to a spreadsheet"}),
    )
    .await;
    // Deleted during the run, so the ones above stay.
    let doomed = [
        create(node, "/api/v1/crm/accounts", json!({"name": "Gone Ltd"})).await,
        create(
            node,
            "/api/v1/crm/contacts",
            json!({"name": "Gone Contact", "email": "gone@gone.test"}),
        )
        .await,
        create(
            node,
            "/api/v1/crm/deals",
            json!({"name": "Gone deal", "amount": 1}),
        )
        .await,
    ];
    let id = |v: &Value| vec![v["id"].as_str().expect("an id").to_string()];
    Seeded(vec![
        ("employees", ids),
        ("doomed_employee", id(&leaver)),
        ("tasks", id(&task)),
        ("accounts", id(&account)),
        ("contacts", id(&contact)),
        ("deals", id(&deal)),
        ("doomed_account", id(&doomed[0])),
        ("doomed_contact", id(&doomed[1])),
        ("doomed_deal", id(&doomed[2])),
        ("requisitions", id(&requisition)),
        ("candidates", id(&candidate)),
        ("requests", id(&request["request"])),
        (
            "teams",
            strings(&node.get_json("/api/v1/teams").await, "id"),
        ),
        (
            "workflows",
            strings(&node.get_json("/api/v1/workflows").await, "id"),
        ),
    ])
}

/// Which operations take which seeded ids: `(path regex, method regex, parameter →
/// dictionary)`. Each operation matches one line at most.
type Binding = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);
const BINDINGS: &[Binding] = &[
    (
        r"^/api/v1/employees/\{id\}/",
        ".*",
        &[("path.id", "employees"), ("path.task_id", "tasks")],
    ),
    (
        r"^/api/v1/employees/\{id\}$",
        "^GET$",
        &[("path.id", "employees")],
    ),
    // Only the employee hired to leave is offboarded, always, so the run keeps the rest.
    (
        r"^/api/v1/employees/\{id\}$",
        "^DELETE$",
        &[("path.id", "doomed_employee")],
    ),
    (
        r"^/api/v1/crm/accounts/\{id\}",
        "^(GET|PATCH|POST)$",
        &[("path.id", "accounts")],
    ),
    (
        r"^/api/v1/crm/contacts/\{id\}",
        "^(GET|PATCH)$",
        &[("path.id", "contacts")],
    ),
    (
        r"^/api/v1/crm/deals/\{id\}",
        "^(GET|PATCH)$",
        &[("path.id", "deals")],
    ),
    // Only records made to be deleted are deleted, always, so the run keeps the rest.
    (
        r"^/api/v1/crm/accounts/\{id\}$",
        "^DELETE$",
        &[("path.id", "doomed_account")],
    ),
    (
        r"^/api/v1/crm/contacts/\{id\}$",
        "^DELETE$",
        &[("path.id", "doomed_contact")],
    ),
    (
        r"^/api/v1/crm/deals/\{id\}$",
        "^DELETE$",
        &[("path.id", "doomed_deal")],
    ),
    (
        r"^/api/v1/recruiting/requisitions/\{id\}",
        ".*",
        &[("path.id", "requisitions")],
    ),
    (
        r"^/api/v1/recruiting/candidates/\{id\}",
        ".*",
        &[("path.id", "candidates")],
    ),
    (
        r"^/api/v1/product/requests/\{id\}",
        ".*",
        &[("path.id", "requests")],
    ),
    (r"^/api/v1/teams/\{id\}", ".*", &[("path.id", "teams")]),
    (
        r"^/api/v1/workflows/\{name\}",
        ".*",
        &[("path.name", "workflows")],
    ),
];

/// schemathesis' config: the seeded ids as dictionaries, bound to the operations.
fn config(seeded: &Seeded, dir: &Path) -> PathBuf {
    let mut toml = String::new();
    for (name, ids) in &seeded.0 {
        let values = serde_json::to_string(ids).unwrap();
        toml.push_str(&format!("[dictionaries.{name}]\nvalues = {values}\n\n"));
    }
    for (path, method, params) in BINDINGS {
        let bound: Vec<String> = params
            .iter()
            .map(|(param, dict)| {
                let doomed = dict.starts_with("doomed_");
                let probability = if doomed { 1.0 } else { SEEDED };
                format!("\"{param}\" = {{ dictionary = \"{dict}\", probability = {probability} }}")
            })
            .collect();
        toml.push_str(&format!(
            "[[operations]]\ninclude-path-regex = '{path}'\ninclude-method-regex = '{method}'\n\
             parameters = {{ {} }}\n\n",
            bound.join(", ")
        ));
    }
    let file = dir.join("schemathesis.toml");
    std::fs::write(&file, toml).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_answers_as_the_openapi_document_says() {
    let st = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(&dir.path().join("node"));
    let seeded = seed(&node).await;
    let config = config(&seeded, dir.path());
    let mut cmd = Command::new(st);
    cmd.current_dir(dir.path())
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(node.url("/api/v1/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
        .args(["--checks", CHECKS])
        .args([
            "--max-examples",
            &setting("EMPLA_SCHEMATHESIS_EXAMPLES", EXAMPLES_PER_OPERATION),
        ])
        .args(["--seed", &setting("EMPLA_SCHEMATHESIS_SEED", SEED)])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "60"])
        .args(["--workers", "2"])
        .arg("--continue-on-failure")
        .arg("--no-color");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    node.terminate();
    assert!(
        out.status.success(),
        "schemathesis found answers that break the API's OpenAPI document:\n{report}"
    );
    // Every operation of the document was run, none skipped for a reason of its own.
    let field = |name: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("schemathesis' summary has `{name}`:\n{report}"))
    };
    let selected = field("Selected:");
    let (run, of) = selected.split_once('/').expect("`Selected: N/M`");
    assert_eq!(run, of, "every operation selected:\n{report}");
    assert_eq!(field("Tested:"), of, "every operation tested:\n{report}");
    println!("{report}");
}
