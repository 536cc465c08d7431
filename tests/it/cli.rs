//! The `empla` CLI as its users read it, through the real binary against a running
//! node: employees by handle, readable text by default and JSON with `--json`, a
//! missing employee pointed to `empla list`, a second hire of a name told its handle,
//! goals and agreement in words, output into a closed pipe, and `recall --since` in
//! words.

use super::common::{NodeProcess, TOKEN, eventually, start_binary, start_binary_with};
use serde_json::{Value, json};

/// Runs the CLI expecting a failure; answers what it printed on standard error.
fn refused(node: &NodeProcess, args: &[&str]) -> String {
    let out = node.run_cli(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A node without the demo book of business, whose deals would report metrics.
fn node_without_demo(dir: &std::path::Path) -> NodeProcess {
    start_binary_with(
        dir,
        Some(TOKEN),
        &[(
            "EMPLA_NODE__DEMO_DIR",
            dir.join("no-demo").display().to_string(),
        )],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_each_employees_handle_as_a_column() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let out = node.cli(&["list"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["HANDLE", "NAME", "ROLE", "STATUS", "RUNTIME", "EMAIL", "ID"],
        "{out}"
    );
    let handles: Vec<&str> = lines.filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(
        handles,
        ["avery.brooks", "casey.kim", "jordan.lee", "sam.rivera"],
        "{out}"
    );
    let listed: Value = serde_json::from_str(&node.cli(&["list", "--json"])).unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 4, "{listed}");
    node.terminate();
}

/// Approves the first of `who`'s pending approvals of `kind`.
async fn approve(node: &NodeProcess, who: &str, kind: &str) {
    let pending = eventually(30, &format!("{kind} awaiting approval"), || async {
        let q = node
            .get_json(&format!("/api/v1/approvals?employee={who}&status=pending"))
            .await;
        q["items"]
            .as_array()
            .and_then(|i| i.iter().find(|a| a["action"]["kind"] == kind).cloned())
    })
    .await;
    let id = pending["id"].as_str().unwrap();
    node.cli(&["approve", id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_name_the_employee_by_handle_and_show_no_internal_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    node.cli(&["phase", "jordan.lee", "assisted"]);
    node.cli(&[
        "mail",
        "send",
        "--from",
        "Sarah Chen <sarah@acme.com>",
        "--to",
        "jordan.lee@example.com",
        "--subject",
        "Pricing for 40 seats?",
        "--body",
        "Could you send me a quote for 40 seats?",
    ]);
    // The quote: the deal, then the proposal, each approved; the reply that attaches
    // the proposal waits.
    approve(&node, "jordan.lee", "crm.create_deal").await;
    approve(&node, "jordan.lee", "documents.proposal").await;
    // (Its recipients are worked out once the proposal is written.)
    let reply = eventually(30, "the reply awaiting approval", || async {
        let q = node
            .get_json("/api/v1/approvals?employee=jordan.lee&status=pending")
            .await;
        q["items"].as_array().and_then(|i| {
            i.iter()
                .find(|a| {
                    a["action"]["kind"] == "email.reply"
                        && a["recipients"]["withheld"].is_null()
                        && a["recipients"]["to"]
                            .as_str()
                            .is_some_and(|t| !t.is_empty())
                })
                .cloned()
        })
    })
    .await;
    // The action refers to the proposal by the employee's own number for it.
    let number = reply["action"]["params"]["attach_from"].as_str().unwrap();
    assert!(number.parse::<u64>().is_ok(), "{reply}");
    let jordan = node.get_json("/api/v1/employees/jordan.lee").await;
    let uuid = jordan["id"].as_str().unwrap();

    let out = node.cli(&["approvals", "--employee", "jordan.lee"]);
    let id = reply["id"].as_str().unwrap();
    let head = out
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("no {id} in\n{out}"));
    assert_eq!(
        head.split_whitespace().collect::<Vec<_>>(),
        [id, "pending", "email.reply", "jordan.lee"],
        "{out}"
    );
    assert!(!out.contains(uuid), "{out}");
    assert!(
        out.contains("attaches the document it wrote before in this plan"),
        "{out}"
    );
    assert!(!out.contains("attach_from"), "{out}");
    assert!(!out.contains(&format!("\"{number}\"")), "{out}");
    assert!(out.contains("to: Sarah Chen <sarah@acme.com>"), "{out}");
    // Everything as the node sent it with --json.
    let v: Value =
        serde_json::from_str(&node.cli(&["approvals", "--employee", "jordan.lee", "--json"]))
            .unwrap();
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == reply["id"])
    );
    let decided = node.cli(&["approve", reply["id"].as_str().unwrap()]);
    assert_eq!(decided.trim(), "approved email.reply for jordan.lee");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn episodes_show_and_status_print_text_and_json_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    node.cli(&[
        "send-event",
        "jordan.lee",
        "--kind",
        "webhook.received",
        "--payload",
        r#"{"text": "hello from the webhook"}"#,
    ]);
    let page: Value = eventually(20, "the event's episode", || async {
        let out = node.cli(&["episodes", "jordan.lee", "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["summary"] == "webhook.received")
            .then_some(v)
    })
    .await;
    assert!(page["items"][0]["at"].is_string(), "{page}");

    let out = node.cli(&["episodes", "jordan.lee"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["TIME", "(UTC)", "KIND", "SUMMARY"], "{out}");
    let rows: Vec<&str> = lines.collect();
    let event = rows
        .iter()
        .find(|l| l.contains("webhook.received"))
        .unwrap_or_else(|| panic!("no event line in\n{out}"));
    let cells: Vec<&str> = event.split_whitespace().collect();
    assert!(
        chrono::NaiveDateTime::parse_from_str(
            &format!("{} {}", cells[0], cells[1]),
            "%Y-%m-%d %H:%M:%S"
        )
        .is_ok(),
        "{event}"
    );
    assert_eq!(cells[2], "event", "{event}");
    assert!(
        event.ends_with("webhook.received — hello from the webhook"),
        "{event}"
    );
    let times: Vec<&str> = rows.iter().map(|l| &l[..19]).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first:\n{out}"
    );

    let shown = node.cli(&["show", "jordan.lee"]);
    assert!(shown.starts_with("Jordan Lee (jordan.lee) — "), "{shown}");
    assert!(shown.contains("\n  mail "), "{shown}");
    assert!(shown.contains("jordan.lee@example.com"), "{shown}");
    assert!(shown.contains("\ngoals:\n  quarterly_revenue"), "{shown}");
    assert!(!shown.contains('{'), "{shown}");
    let v: Value = serde_json::from_str(&node.cli(&["show", "jordan.lee", "--json"])).unwrap();
    assert_eq!(v["chat_handle"], "jordan.lee");

    let status = node.cli(&["status", "jordan.lee"]);
    assert!(
        status.starts_with("Jordan Lee (jordan.lee) · sales_ae · phase "),
        "{status}"
    );
    let v: Value = serde_json::from_str(&node.cli(&["status", "jordan.lee", "--json"])).unwrap();
    assert_eq!(v["role"], "sales_ae");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_employee_points_to_empla_list() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let said = "error: no employee `nobody`; `empla list` shows who is hired\n";
    for args in [
        &["show", "nobody"][..],
        &["status", "nobody"],
        &["episodes", "nobody"],
        &["approvals", "--employee", "nobody"],
        &[
            "hire",
            "--role",
            "sales_ae",
            "--name",
            "X Y",
            "--manager",
            "nobody",
        ],
    ] {
        let err = refused(&node, args);
        assert_eq!(err, said, "{args:?}");
    }
    // Something else missing is named, with the command that lists what there is.
    let err = refused(&node, &["task", "show", "jordan.lee", "no-such-task"]);
    assert_eq!(
        err,
        "error: jordan.lee has no task `no-such-task`; `empla task list jordan.lee` shows its tasks\n"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hiring_a_name_twice_says_which_handle_the_second_got() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let hire = ["hire", "--role", "sales_ae", "--name", "Riley Quinn"];
    let first = node.cli(&hire);
    assert!(first.contains("\n  handle  riley.quinn\n"), "{first}");
    let second = node.cli(&hire);
    assert!(
        second.contains(
            "\n  handle  riley.quinn2  (riley.quinn is taken by another employee: this Riley Quinn is riley.quinn2; other commands take riley.quinn2)\n"
        ),
        "{second}"
    );
    assert!(
        second.contains("\n  mail    riley.quinn2@example.com\n"),
        "{second}"
    );
    // And the handle it was told is the one other commands take.
    assert!(
        node.cli(&["show", "riley.quinn2"])
            .starts_with("Riley Quinn (riley.quinn2)")
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_which_goals_have_no_figure_and_what_the_agreement_counts() {
    let dir = tempfile::tempdir().unwrap();
    let node = node_without_demo(dir.path());
    node.cli(&["hire", "--role", "sales_ae", "--name", "Pat Doe"]);
    node.cli(&[
        "send-event",
        "pat.doe",
        "--kind",
        "metric",
        "--payload",
        &json!({"metric": "pipeline_coverage", "value": 2.1}).to_string(),
    ]);
    eventually(20, "the coverage in the status", || async {
        let v: Value = serde_json::from_str(&node.cli(&["status", "pat.doe", "--json"])).unwrap();
        v["goals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == "pipeline_coverage" && g["current"] == 2.1)
            .then_some(())
    })
    .await;
    let out = node.cli(&["status", "pat.doe"]);
    let goal = |id: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("no {id} in\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        goal("quarterly_revenue"),
        "quarterly_revenue no figure yet; 35% by its sub-goals (pipeline_coverage, win_rate) · target at least 500000 usd"
    );
    assert_eq!(
        goal("pipeline_coverage"),
        "pipeline_coverage 70% · current 2.1 · target at least 3 ratio"
    );
    assert_eq!(
        goal("response_time"),
        "response_time no figure yet · target below 4 hours"
    );
    assert!(
        out.contains(
            "\nagreement with mentor: no observations yet (how often its proposals match what the mentor did)\n"
        ),
        "{out}"
    );
    assert!(!out.contains("agreement 0/0"), "{out}");
    node.terminate();
}

/// Runs the CLI with its standard output closed before it writes: it must end
/// quietly, as `empla ... | head` expects.
fn into_a_closed_pipe(args: &[&str], node: Option<&NodeProcess>) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_empla"));
    cmd.args(args);
    if let Some(node) = node {
        cmd.args(["--node", &node.base])
            .env("EMPLA_API_TOKEN", &node.token);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "{args:?}: {err}");
    assert!(out.status.success(), "{args:?}: {}", out.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_into_a_closed_pipe_ends_quietly() {
    into_a_closed_pipe(&["completions", "bash"], None);
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    into_a_closed_pipe(&["list"], Some(&node));
    into_a_closed_pipe(&["show", "jordan.lee"], Some(&node));
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_since_words_finds_what_happened_since_then() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    node.cli(&[
        "mail",
        "send",
        "--from",
        "Sarah Chen <sarah@acme.com>",
        "--to",
        "jordan.lee@example.com",
        "--subject",
        "Renewal terms",
        "--body",
        "Can we talk about the renewal?",
    ]);
    let recall = |since: &str| {
        node.cli(&[
            "recall",
            "jordan.lee",
            "--with",
            "sarah@acme.com",
            "--since",
            since,
        ])
    };
    // The mail's episode, found with a duration.
    let mail = eventually(20, "Sarah's mail in memory", || async {
        let v: Value = serde_json::from_str(&node.cli(&[
            "recall",
            "jordan.lee",
            "--with",
            "sarah@acme.com",
            "--since",
            "7d",
            "--json",
        ]))
        .unwrap();
        v["items"].as_array().and_then(|i| {
            i.iter()
                .find(|m| m["kind"] == "event")
                .map(|m| m["id"].as_str().unwrap().to_string())
        })
    })
    .await;
    for since in [
        "today",
        "yesterday",
        "this week",
        "last week",
        "last month",
        "last 3 days",
        "2 weeks ago",
        "24h",
        &chrono::Utc::now().date_naive().to_string(),
    ] {
        let out = recall(since);
        assert!(out.contains(&mail), "--since {since:?}:\n{out}");
    }
    let err = refused(&node, &["recall", "jordan.lee", "--since", "the other day"]);
    assert!(
        err.contains("--since \"the other day\" is not a time")
            && err.contains("\"last week\"")
            && err.contains("7d"),
        "{err}"
    );
    node.terminate();
}
