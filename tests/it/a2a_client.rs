//! The A2A client (`empla::a2a::client::Agents`) against a real second `empla` node
//! process: discovery of an employee's card, a send and its task followed to the end
//! over JSON-RPC (the card's first choice, streaming) and over HTTP+JSON (a local card
//! offering only that binding, without streaming, so the task is polled); the errors a
//! caller must be able to act on; and the once-per-key rule across a restart, counted
//! in the receiving node's own tables on SQLite and PostgreSQL.

use crate::common::{self, Admin, NodeProcess, TOKEN, TestStore};
use a2a::TaskState;
use empla::a2a::client::{Agents, ClientError, answer_text, context_id};
use empla::a2a::{A2aConfig, AgentConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const FOLLOW: Duration = Duration::from_secs(60);

/// The store URL a node process is given for `s`.
fn store_url(s: &TestStore) -> String {
    match &s.admin {
        Admin::Sqlite(url) => url.clone(),
        Admin::Postgres(url, schema) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-c%20search_path%3D{schema}")
        }
    }
}

/// The second node: the shipped config with the A2A test plans (`[hold]` keeps a task
/// working, `[approve]` waits for a human's approval in the assisted phase), on `store`
/// when given.
fn peer(dir: &std::path::Path, store: Option<&TestStore>) -> NodeProcess {
    let config = crate::a2a::config_with_test_plans(dir);
    let env: Vec<(&str, String)> = store
        .map(|s| vec![("EMPLA_STORE_URL", store_url(s))])
        .unwrap_or_default();
    common::start_binary_from(&config, &dir.join("peer"), Some(TOKEN), &env)
}

fn card_of(node: &NodeProcess, handle: &str) -> String {
    node.url(&format!("/a2a/{handle}/.well-known/agent-card.json"))
}

/// Agents `(name, card URL, token variable)`; the variable `PEER_TOKEN` holds `token`.
fn agents(list: &[(&str, &str, Option<&str>)], token: &str, allow_private: bool) -> Agents {
    let mut cfg = A2aConfig {
        allow_private_agents: allow_private,
        ..A2aConfig::default()
    };
    for (name, card, var) in list {
        cfg.agents.insert(
            name.to_string(),
            AgentConfig {
                card: card.to_string(),
                token_env: var.map(str::to_string),
                timeout: Duration::from_secs(20),
            },
        );
    }
    Agents::new(&cfg, &|var| {
        (var == "PEER_TOKEN").then(|| token.to_string())
    })
    .unwrap()
}

/// Serves `card` at `/card.json` on a free loopback port; its URL and how often it was
/// read.
async fn serve_card(card: Value) -> (String, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let app = axum::Router::new().route(
        "/card.json",
        axum::routing::get(move || {
            let card = card.clone();
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                axum::Json(card)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/card.json"), reads)
}

/// `node`'s card of `handle`, keeping only the interfaces of `binding`, not streaming.
async fn card_with_only(node: &NodeProcess, handle: &str, binding: &str) -> Value {
    let mut card: Value = common::http()
        .get(card_of(node, handle))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kept: Vec<Value> = card["supportedInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["protocolBinding"] == binding)
        .cloned()
        .collect();
    card["supportedInterfaces"] = Value::Array(kept);
    card["capabilities"]["streaming"] = Value::Bool(false);
    card
}

/// The first row's first column of `sql` (a count) on `s`'s database.
async fn count(s: &TestStore, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match &s.admin {
        Admin::Sqlite(url) => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n
        }
        Admin::Postgres(url, schema) => {
            use std::str::FromStr;
            let opts = sqlx::postgres::PgConnectOptions::from_str(url)
                .unwrap()
                .options([("search_path", schema.as_str())]);
            let pool = sqlx::PgPool::connect_with(opts).await.unwrap();
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n
        }
    }
}

fn data_of(task: &a2a::Task) -> Vec<Value> {
    task.history
        .iter()
        .flatten()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match &p.content {
            a2a::PartContent::Data(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employee_on_another_node_answers_over_json_rpc_and_http_json() {
    let dir = tempfile::tempdir().unwrap();
    let node = peer(dir.path(), None);
    let (rest_card, reads) =
        serve_card(card_with_only(&node, "jordan.lee", "HTTP+JSON").await).await;
    let a = agents(
        &[
            ("jordan", &card_of(&node, "jordan.lee"), Some("PEER_TOKEN")),
            ("jordan_rest", &rest_card, Some("PEER_TOKEN")),
        ],
        TOKEN,
        false,
    );
    assert!(a.reaches("jordan") && a.reaches("jordan_rest"));

    // JSON-RPC, the card's first choice; the task is followed over SSE.
    let data = json!({"quote": "Q-1001"});
    let sent = a
        .send(
            "jordan",
            "Hi Jordan, hope you are well!",
            Some(&data),
            "it-json",
        )
        .await
        .unwrap();
    assert_eq!(sent.context_id, context_id("it-json"));
    let done = a.follow("jordan", &sent.id, FOLLOW).await.unwrap();
    assert_eq!(done.id, sent.id);
    assert_eq!(done.status.state, TaskState::Completed, "{done:?}");
    assert!(
        !answer_text(&done).is_empty(),
        "an answer artifact: {done:?}"
    );
    assert_eq!(data_of(&done), [data], "the data part arrived");

    // HTTP+JSON, the only interface the other card offers; no streaming: polled.
    let sent = a
        .send("jordan_rest", "Good morning Jordan", None, "it-rest")
        .await
        .unwrap();
    let done = a.follow("jordan_rest", &sent.id, FOLLOW).await.unwrap();
    assert_eq!(done.status.state, TaskState::Completed, "{done:?}");
    assert!(!answer_text(&done).is_empty(), "{done:?}");
    assert_eq!(
        reads.load(Ordering::SeqCst),
        1,
        "the card is read once, then cached"
    );

    // A task that stays working is answered as it is when the wait is over.
    let held = a
        .send("jordan", "Please hold this [hold]", None, "it-hold")
        .await
        .unwrap();
    let still = a
        .follow("jordan", &held.id, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(still.id, held.id);
    assert!(
        matches!(
            still.status.state,
            TaskState::Submitted | TaskState::Working
        ),
        "{still:?}"
    );

    // A task that needs input ends the following (here: an approval in assisted mode).
    node.set_phase("jordan.lee", "assisted").await;
    for (agent, key) in [("jordan", "it-approve"), ("jordan_rest", "it-approve-rest")] {
        let asked = a
            .send(agent, "Send Dana the quote [approve]", None, key)
            .await
            .unwrap();
        let waiting = a.follow(agent, &asked.id, FOLLOW).await.unwrap();
        assert_eq!(
            waiting.status.state,
            TaskState::InputRequired,
            "{waiting:?}"
        );
    }
    node.terminate();
}

/// `[a2a.agents]` is checked when the config is, and a token variable that is not set
/// stops the node at start, naming the agent and the variable.
#[test]
fn bad_agent_settings_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::a2a::config_with_test_plans(dir.path());
    let shipped = std::fs::read_to_string(&config).unwrap();
    let with = |agents: &str| std::fs::write(&config, format!("{shipped}\n{agents}")).unwrap();
    let empla = || std::process::Command::new(env!("CARGO_BIN_EXE_empla"));

    with("[a2a.agents.partner]\ncard = \"partner.example.com/card.json\"\n");
    let out = empla()
        .args(["config", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("`a2a.agents.partner.card`") && err.contains("is not a URL"),
        "{err}"
    );

    with(
        "[a2a.agents.partner]\ncard = \"https://partner.example.com/card.json\"\ntoken_env = \"EMPLA_TEST_UNSET_PARTNER_TOKEN\"\n",
    );
    let out = empla()
        .args(["node", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("EMPLA_TEST_UNSET_PARTNER_TOKEN")
        .env("EMPLA_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the node does not start: {err}");
    assert!(
        err.contains("a2a.agents.partner.token_env")
            && err.contains("EMPLA_TEST_UNSET_PARTNER_TOKEN"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_cannot_succeed_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let node = peer(dir.path(), None);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (grpc_only, _) = serve_card(card_with_only(&node, "jordan.lee", "GRPC").await).await;
    let a = agents(
        &[
            ("jordan", &card_of(&node, "jordan.lee"), Some("PEER_TOKEN")),
            ("nobody", &card_of(&node, "no.such.person"), None),
            (
                "down",
                &format!("http://127.0.0.1:{closed}/.well-known/agent-card.json"),
                None,
            ),
            ("grpc", &grpc_only, None),
        ],
        "not-the-token",
        false,
    );

    let e = a.send("stranger", "hi", None, "e1").await.unwrap_err();
    assert!(matches!(e, ClientError::UnknownAgent { .. }), "{e}");
    assert!(
        e.to_string().contains("`jordan`, `nobody`"),
        "lists the configured: {e}"
    );

    let e = a.send("down", "hi", None, "e2").await.unwrap_err();
    assert!(
        matches!(e, ClientError::CardUnreachable { .. }) && e.retryable(),
        "{e}"
    );

    let e = a.send("nobody", "hi", None, "e3").await.unwrap_err();
    assert!(e.to_string().contains("HTTP 404"), "{e}");

    let e = a.send("grpc", "hi", None, "e4").await.unwrap_err();
    assert!(matches!(e, ClientError::NoInterface { .. }), "{e}");
    assert!(e.to_string().contains("its card offers: none"), "{e}");

    // The agent's own auth error, and what to do about it.
    let e = a.send("jordan", "hi", None, "e5").await.unwrap_err();
    assert!(matches!(e, ClientError::Unauthorized { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("authentication required") && text.contains("a2a.agents.jordan.token_env"),
        "{text}"
    );

    // A card URL a plan gives, on loopback: refused unless private agents are allowed;
    // allowed, it is reached (and the agent wants a token it was not given).
    let url = card_of(&node, "jordan.lee").replace("127.0.0.1", "localhost");
    let e = a.send(&url, "hi", None, "e6").await.unwrap_err();
    assert!(matches!(e, ClientError::Refused { .. }), "{e}");
    assert!(e.to_string().contains("a2a.allow_private_agents"), "{e}");
    let open = agents(&[], TOKEN, true);
    let e = open.send(&url, "hi", None, "e7").await.unwrap_err();
    assert!(matches!(e, ClientError::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("add it to `[a2a.agents]`"), "{e}");

    // The agent's protocol errors come with their code.
    let card = card_of(&node, "jordan.lee");
    let good = agents(
        &[
            ("jordan", &card, Some("PEER_TOKEN")),
            ("jordan_tokenless", &card, None),
        ],
        TOKEN,
        false,
    );
    let e = good
        .follow("jordan", "00000000-0000-7000-8000-000000000000", FOLLOW)
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::Agent { code: -32001, .. }),
        "TaskNotFoundError: {e}"
    );
    // Two names on one card keep their own tokens.
    let e = good
        .follow(
            "jordan_tokenless",
            "00000000-0000-7000-8000-000000000000",
            FOLLOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Unauthorized { .. }), "{e}");
    node.terminate();
}

/// A send retried with the same key — by a new `Agents`, as after a crash and restart —
/// reaches the agent once: one task, one inbox event on the receiving node.
async fn a_retried_send_reaches_the_agent_once(s: &TestStore) {
    let dir = tempfile::tempdir().unwrap();
    let node = peer(dir.path(), Some(s));
    let card = card_of(&node, "jordan.lee");
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let text = format!("Hi Jordan, hope you are well! ({marker})");
    let key = format!("outbox-{marker}");

    let first = agents(&[("jordan", &card, Some("PEER_TOKEN"))], TOKEN, false);
    let sent = first.send("jordan", &text, None, &key).await.unwrap();
    drop(first);

    let again = agents(&[("jordan", &card, Some("PEER_TOKEN"))], TOKEN, false);
    let resent = again.send("jordan", &text, None, &key).await.unwrap();
    assert_eq!(resent.id, sent.id, "the retry answers the first task");
    let done = again.follow("jordan", &sent.id, FOLLOW).await.unwrap();
    assert_eq!(done.status.state, TaskState::Completed, "{done:?}");
    // And once more after it ended: still that task, nothing sent.
    let late = again.send("jordan", &text, None, &key).await.unwrap();
    assert_eq!(late.id, sent.id);

    let events = count(
        s,
        &format!(
            "SELECT COUNT(*) FROM inbox WHERE kind = 'a2a.message' AND payload LIKE '%{marker}%'"
        ),
    )
    .await;
    assert_eq!(events, 1, "one inbox event for the message");
    let tasks = count(
        s,
        &format!(
            "SELECT COUNT(*) FROM a2a_tasks WHERE context_id = '{}'",
            context_id(&key)
        ),
    )
    .await;
    assert_eq!(tasks, 1, "one task in the key's context");
    node.terminate();
}

crate::on_every_test_store!(
    a_retried_send_reaches_the_agent_once,
    an_employee_calls_an_employee_of_another_node_process,
);

/// A plan of the PM that asks the outside agent `partner` and mails the answer on.
const ASK_PARTNER: &str = r#"
roles = ["pm"]

[[plans]]
name = "ask_the_partner_for_the_a2a_client_test"
description = "A test request: ask the partner agent, then mail its answer on"
trigger = { event = "task.ask_partner" }
steps = [
  { action = "a2a.send", params = { to = "partner", text = "{{ event.payload.question }}" } },
  { wait = "a2a.reply", timeout = "2m" },
  { action = "email.send", params = { to = "Alex Morgan <alex.morgan@example.com>", subject = "Answer from {{ awaited.payload.agent }} ({{ awaited.payload.state }})", body = "{{ awaited.payload.text }}" } },
]
"#;

/// The issue's end-to-end call: node 1's employee runs a plan whose `a2a.send` step
/// names an agent of node 1's `[a2a.agents]` — an employee of a second node process;
/// that employee gets the message and answers; node 1's employee hears the answer as
/// `a2a.reply` and its plan goes on.
async fn an_employee_calls_an_employee_of_another_node_process(s: &TestStore) {
    let dir = tempfile::tempdir().unwrap();
    let far = dir.path().join("far");
    let near = dir.path().join("near");
    std::fs::create_dir_all(&far).unwrap();
    std::fs::create_dir_all(&near).unwrap();
    let node2 = peer(&far, None);
    let config = crate::a2a::config_with_test_plans(&near);
    let plans = config.parent().unwrap().join("plans/ask_partner.toml");
    std::fs::write(plans, ASK_PARTNER).unwrap();
    let shipped = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{shipped}\n[a2a.agents.partner]\ncard = \"{}\"\ntoken_env = \"EMPLA_TEST_PARTNER_TOKEN\"\n",
            card_of(&node2, "jordan.lee")
        ),
    )
    .unwrap();
    let env = vec![
        ("EMPLA_STORE_URL", store_url(s)),
        ("EMPLA_TEST_PARTNER_TOKEN", TOKEN.to_string()),
    ];
    let node1 = common::start_binary_from(&config, &near.join("data"), Some(TOKEN), &env);
    node1.set_phase("casey.kim", "autonomous").await;

    let marker = uuid::Uuid::new_v4().simple().to_string();
    let (status, _) = node1
        .post_json(
            "/api/v1/employees/casey.kim/events",
            json!({"kind": "task.ask_partner", "source": "api", "payload": {
                "question": format!("Hi Jordan, hope you are well! ({marker})"),
            }}),
        )
        .await;
    assert_eq!(status, 202);

    let mails = node1
        .actions_when("casey.kim", "email.send", "done", 1, 90)
        .await;
    let mail = mails[0].to_string();
    assert!(mail.contains("(completed)"), "the reply's state: {mail}");
    assert!(
        mail.contains("Answer from partner"),
        "the agent as addressed: {mail}"
    );
    assert!(
        mail.contains("I'm Jordan Lee"),
        "node 2's employee answered: {mail}"
    );

    // Node 2's employee got the message once, as an A2A task it completed.
    let sent = node1
        .actions_when("casey.kim", "a2a.send", "done", 1, 10)
        .await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let tasks: Value = common::http()
        .post(node2.url("/a2a/desk"))
        .bearer_auth(TOKEN)
        .header("A2A-Version", "1.0")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {"pageSize": 100}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: Vec<&Value> = tasks["result"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["history"][0]["parts"][0]["text"]
                .as_str()
                .is_some_and(|x| x.contains(&marker))
        })
        .collect();
    assert_eq!(mine.len(), 1, "{tasks:?}");
    assert_eq!(mine[0]["status"]["state"], "TASK_STATE_COMPLETED");
    node1.terminate();
    node2.terminate();
}
