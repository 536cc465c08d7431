//! The API against its own OpenAPI document, checked by schemathesis (PyPI, pinned in
//! `tests/api/schemathesis.sh`): a throwaway `empla` node process on SQLite with the
//! shipped config (so its demo employees exist), and schemathesis generating requests for
//! every documented operation within a bounded budget. It fails, with schemathesis'
//! report, on any 5xx answer, any status code the document does not list for the
//! operation, any content type it does not list, and any body that does not match the
//! documented schema. The venv comes from `tests/api/schemathesis.sh install` (`.ci/run`
//! runs it); without it the test fails saying so, never skips.

use crate::common::{self, TOKEN};
use std::path::PathBuf;
use std::process::Command;

/// Test cases schemathesis generates per operation and phase: enough to reach past the
/// happy path of each operation, few enough for the whole run to take a few minutes on
/// two cores.
const EXAMPLES_PER_OPERATION: &str = "25";
/// The run's upper bound, in seconds, whatever the number of operations.
const MAX_SECONDS: &str = "240";
/// The seed of the generated data, so a failure found in CI is found again locally.
const SEED: &str = "23";
/// What is checked on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

/// Operations left out, each for a reason the document cannot express.
const EXCLUDED: &[(&str, &str)] = &[];

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

#[test]
fn every_documented_operation_answers_as_the_openapi_document_says() {
    let st = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(&dir.path().join("node"));
    let mut cmd = Command::new(st);
    cmd.current_dir(dir.path())
        .arg("run")
        .arg(node.url("/api/v1/openapi.json"))
        .args(["--url", &node.base])
        .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", EXAMPLES_PER_OPERATION])
        .args(["--max-time", MAX_SECONDS])
        .args(["--seed", SEED])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "60"])
        .args(["--workers", "2"])
        .arg("--no-color");
    for (operation, _why) in EXCLUDED {
        cmd.args(["--exclude-operation-id", operation]);
    }
    let out = cmd.output().expect("schemathesis runs");
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
}
