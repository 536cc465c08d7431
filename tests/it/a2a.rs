//! The A2A 1.0 face against the official Python client (PyPI `a2a-sdk` 1.x, driven by
//! `tests/a2a/client.py`): a real `empla` node process, on the embedded SQLite store and
//! on PostgreSQL, with two test plans added to the Sales AE (`[hold]` keeps a task
//! working; `[approve]` sends a mail that waits for a human's approval). The venv comes
//! from `tests/a2a/sdk.sh install` (`.ci/run` runs it); without it these tests fail
//! saying so, never skip.

use crate::common::{self, NodeProcess, TOKEN};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Two plans for the tests, added to the Sales AE.
const TEST_PLANS: &str = r#"
roles = ["sales_ae"]

[[plans]]
name = "hold_for_the_a2a_test"
description = "A test request that waits: held until canceled"
trigger = { event = "a2a.message", when = "event.payload.text.contains('[hold]')" }
steps = [ { wait = "never.comes", timeout = "1h" } ]

[[plans]]
name = "approve_for_the_a2a_test"
description = "A test request whose mail needs a human's approval"
trigger = { event = "a2a.message", when = "event.payload.text.contains('[approve]')" }
steps = [ { action = "email.send", params = { to = "dana@customer.test", subject = "Your quote", body = "Here is the quote." } } ]

[[plans]]
name = "report_for_the_a2a_test"
description = "A test request for a document: the status report, as a file"
trigger = { event = "a2a.message", when = "event.payload.text.contains('[report]')" }
steps = [ { action = "documents.status_report", params = { days = 7 } } ]
"#;

fn python() -> PathBuf {
    let out = Command::new("bash")
        .arg(common::repo().join("tests/a2a/sdk.sh"))
        .arg("python")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the official A2A client is not installed: run `bash tests/a2a/sdk.sh install` \
         (`.ci/run` does) — {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

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

/// The shipped config with the test plans, in `dir`; its node file.
pub(crate) fn config_with_test_plans(dir: &Path) -> PathBuf {
    let config = dir.join("config");
    copy_dir(&common::repo().join("config"), &config);
    std::fs::write(config.join("plans/a2a_test.toml"), TEST_PLANS).unwrap();
    config.join("empla.toml")
}

fn start(config: &Path, data: &Path, store_url: Option<&str>) -> NodeProcess {
    let mut env = vec![
        ("EMPLA_A2A__PUSH_ALLOW_PRIVATE", "true".to_string()),
        ("EMPLA_A2A__PUSH_BACKOFF", "200ms".to_string()),
    ];
    if let Some(url) = store_url {
        env.push(("EMPLA_STORE_URL", url.to_string()));
    }
    common::start_binary_from(config, data, Some(TOKEN), &env)
}

/// Runs `tests/a2a/client.py STEP` against `node`; panics with its output on failure.
fn drive(node: &NodeProcess, step: &str, state: &Path) -> String {
    let out = Command::new(python())
        .arg(common::repo().join("tests/a2a/client.py"))
        .args([&node.base, &node.token, step])
        .arg(state)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tests/a2a/client.py {step} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    stdout
}

async fn every_operation(store_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_test_plans(dir.path());
    let data = dir.path().join("data");
    let state = dir.path().join("state.json");
    let node = start(&config, &data, store_url);
    // Assisted: the mail of the `[approve]` plan waits for a human.
    node.set_phase("jordan.lee", "assisted").await;
    let out = drive(&node, "main", &state);
    assert!(
        out.contains("ok [HTTP+JSON] CancelTask cancels a working task"),
        "{out}"
    );
    drive(&node, "approve", &state);
    // Tasks and their updates survive a restart; a subscriber picks up where it was.
    node.terminate();
    let node = start(&config, &data, store_url);
    drive(&node, "after", &state);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_python_client_drives_every_operation_on_sqlite() {
    every_operation(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_official_python_client_drives_every_operation_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let common::Admin::Postgres(url, schema) = &db.admin else {
        unreachable!("a PostgreSQL test store")
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    every_operation(Some(&url)).await;
}
