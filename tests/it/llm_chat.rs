//! Chat answered by a model: the prompt carries the employee's name, role, persona and
//! real figures, with the human's words marked untrusted; the model's answer is what
//! the human reads; usage is counted per employee and day; and a spent budget falls
//! back to the offline answer, saying so in the status.

use super::common::sqlite;
use super::llm_fixture::{FakeModel, MODEL_ANTHROPIC, Reply};
use empla::lifecycle::HireRequest;
use empla::model::EmployeeId;
use empla::node::{Node, NodeOptions};
use serde_json::json;
use std::time::Duration;

const KEY: &str = "sk-ant-test";

fn with_model(fake: &FakeModel) -> NodeOptions {
    super::llm_fixture::options(fake)
}

async fn jordan(node: &Node) -> EmployeeId {
    let mut req = HireRequest::new("sales_ae", "Jordan Lee");
    req.manager = Some(empla::model::Manager::Human {
        name: "Dana Boss".into(),
        email: "dana@example.com".into(),
    });
    let id = node.hire(req).await.unwrap().id;
    super::llm_fixture::coverage(node, id, 2.1).await;
    id
}

const SEED_ANSWER: &str = "Hey! Pipeline is at 2.1x right now — below our 3x target. I'm prospecting for new accounts that fit our profile.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_answer_is_written_by_the_model_from_the_employees_real_state() {
    let fake = FakeModel::start(|_| Reply::Text(SEED_ANSWER.into())).await;
    let db = sqlite().await;
    let node = Node::start_with_store(db.store.clone(), with_model(&fake))
        .await
        .unwrap();
    let id = jordan(&node).await;
    let asked = node
        .chat(
            id,
            "Dana Boss <dana@example.com>",
            "Hey Jordan, how's the pipeline looking?",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    let reply = asked.reply.expect("answered within the wait");
    assert_eq!(reply.text, SEED_ANSWER);

    let seen = fake.seen();
    let chat = seen
        .iter()
        .find(|s| s.text().contains("how's the pipeline"))
        .expect("the model was asked");
    assert_eq!(chat.header("x-api-key"), KEY);
    let system = chat.body["system"].as_str().unwrap();
    assert!(
        system.starts_with("You are Jordan Lee, Sales Account Executive in the sales team"),
        "{system}"
    );
    assert!(system.contains("reporting to dana@example.com"), "{system}");
    assert!(
        system.contains("Maintain 3x pipeline coverage") || system.contains("pipeline coverage"),
        "{system}"
    );
    assert!(
        system.contains("2.1x, target ≥ 3x"),
        "the real figure and target: {system}"
    );
    assert!(system.contains("Phase: shadow"), "{system}");
    let user = chat.body["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        user.contains(
            "<untrusted source=\"chat\">\nHey Jordan, how's the pipeline looking?\n</untrusted>"
        ),
        "the human's words are marked untrusted: {user}"
    );
    assert!(user.contains("Offline answer:"), "{user}");

    // Counted for the employee today, and shown in its status.
    let today = empla::llm::day_of(chrono::Utc::now());
    let usage = node.llm_usage(Some(id), today).await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].provider.as_str(), usage[0].calls),
        ("anthropic", seen.len() as u64)
    );
    let status = node.employee_runtime(id).await.unwrap();
    let lang = status.language.expect("a model is configured");
    assert_eq!(lang.model, format!("anthropic/{MODEL_ANTHROPIC}"));
    assert_eq!(lang.tokens_today, usage[0].total_tokens);
    assert!(lang.offline.is_none());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_or_a_failing_model_leaves_the_offline_answer_and_says_why() {
    let fake = FakeModel::start(|_| Reply::Text(SEED_ANSWER.into())).await;
    let db = sqlite().await;
    let mut opts = with_model(&fake);
    opts.llm.daily_token_budget = Some(1);
    let node = Node::start_with_store(db.store.clone(), opts)
        .await
        .unwrap();
    let id = jordan(&node).await;
    let first = node
        .chat(
            id,
            "Dana Boss",
            "How's the pipeline looking?",
            Duration::from_secs(20),
        )
        .await
        .unwrap()
        .reply
        .unwrap();
    assert_eq!(first.text, SEED_ANSWER, "within budget at first");
    let second = node
        .chat(
            id,
            "Dana Boss",
            "How are your goals going?",
            Duration::from_secs(20),
        )
        .await
        .unwrap()
        .reply
        .unwrap();
    assert_ne!(second.text, SEED_ANSWER);
    assert!(
        second.text.contains("2.1x"),
        "the offline answer still gives the figures: {}",
        second.text
    );
    let calls = fake.seen().len();
    let status = node.employee_runtime(id).await.unwrap();
    let why = status.language.unwrap().offline.expect("working offline");
    assert!(why.contains("token budget is spent"), "{why}");
    node.shutdown().await;

    // A vendor answering 500 every time: the human still gets the offline answer.
    let down = FakeModel::start(|_| Reply::Status {
        code: 500,
        message: "down".into(),
        retry_after: None,
    })
    .await;
    let db = sqlite().await;
    let node = Node::start_with_store(db.store.clone(), with_model(&down))
        .await
        .unwrap();
    let id = jordan(&node).await;
    let r = node
        .chat(
            id,
            "Dana Boss",
            "What are you working on?",
            Duration::from_secs(20),
        )
        .await
        .unwrap()
        .reply
        .unwrap();
    assert!(r.text.contains("shadow phase"), "{}", r.text);
    assert_eq!(down.seen().len(), 3, "tried three times");
    assert_eq!(fake.seen().len(), calls);
    node.shutdown().await;
}

/// The node binary with its model set by `EMPLA_LLM__*` alone: an OpenAI-compatible
/// server by base URL; chat answered by it, usage listed by the API; `config check`
/// refuses what cannot work, naming the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_takes_its_model_from_the_environment_and_lists_usage() {
    use super::common::{TOKEN, repo, start_binary_with};
    use super::llm_fixture::{MODEL_OPENAI, Vendor};
    let fake =
        FakeModel::start(|_| Reply::Text("Pipeline is at 2.1x, below the 3x target.".into())).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("EMPLA_LLM__PROVIDER", "openai".to_string()),
        ("EMPLA_LLM__BASE_URL", format!("{}/v1", fake.url)),
        ("EMPLA_LLM__MODEL", MODEL_OPENAI.to_string()),
        ("EMPLA_LLM__API_KEY_ENV", "LOCAL_LLM_KEY".to_string()),
        ("LOCAL_LLM_KEY", "local-secret".to_string()),
    ];
    let node = start_binary_with(dir.path(), Some(TOKEN), &env);
    let r: serde_json::Value = node
        .client()
        .post(node.url("/api/v1/employees/jordan.lee/chat"))
        .bearer_auth(&node.token)
        .json(&json!({"from": "Dana Boss", "text": "How's the pipeline looking?"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["reply"], "Pipeline is at 2.1x, below the 3x target.",
        "{r}"
    );
    let seen = fake.seen();
    assert!(seen.iter().all(|s| s.vendor == Vendor::OpenAi));
    assert_eq!(seen[0].header("authorization"), "Bearer local-secret");
    let usage = node.get_json("/api/v1/llm/usage?employee=jordan.lee").await;
    let item = &usage["items"][0];
    for field in [
        "employee",
        "day",
        "provider",
        "model",
        "calls",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost_usd",
    ] {
        assert!(item.get(field).is_some(), "{field} in {usage}");
    }
    assert_eq!(item["provider"], "openai");
    assert_eq!(item["model"], MODEL_OPENAI);
    assert_eq!(item["calls"], seen.len());
    assert_eq!(item["day"], chrono::Utc::now().date_naive().to_string());
    let other = node.get_json("/api/v1/llm/usage?day=2020-01-01").await;
    assert_eq!(other["items"], json!([]));
    let bad = node
        .client()
        .get(node.url("/api/v1/llm/usage?day=yesterday"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("`day` must be a date"));
    node.terminate();

    // What cannot work is refused by name before a node runs.
    let check = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_empla"));
        cmd.args(["config", "check", "--config"])
            .arg(repo().join("config/empla.toml"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = check(&[("EMPLA_LLM__PROVIDER", "anthropic")]);
    assert!(
        !ok && err.contains("llm.model") && err.contains("is empty"),
        "{err}"
    );
    let (ok, err) = check(&[("EMPLA_LLM__PROVIDER", "gemini")]);
    assert!(!ok && err.contains("EMPLA_LLM__PROVIDER"), "{err}");
    let (ok, err) = check(&[
        ("EMPLA_LLM__PROVIDER", "openai"),
        ("EMPLA_LLM__MODEL", "gpt-4o-mini"),
        ("EMPLA_LLM__BASE_URL", "localhost:11434"),
    ]);
    assert!(!ok && err.contains("llm.base_url"), "{err}");
}

/// With a model, the Sales AE's first mail to a lead is written by it from the brief
/// (the company's news quoted as untrusted), and waits for approval like any mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outreach_mail_is_written_by_the_model_and_still_waits_for_approval() {
    use empla::bdi::Phase;
    use empla::model::ApprovalStatus;
    const MAIL: &str = "Hi Ana,\n\nCongratulations on hiring 12 reps. Worth 20 minutes this week?\n\nBest,\nJordan Lee";
    let fake = FakeModel::start(|s| {
        if s.text().contains("cold email") {
            Reply::Text(MAIL.into())
        } else {
            Reply::Text("Noted.".into())
        }
    })
    .await;
    let (_db, node, id) = super::llm_fixture::node_with_jordan(&fake, Phase::Assisted).await;
    super::common::northwind(&node).await;
    super::llm_fixture::coverage(&node, id, 2.1).await;
    let queued = super::common::eventually(30, "the outreach waits for approval", || async {
        let a = node
            .approvals(Some(id), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap();
        a.into_iter().find(|a| a.action["kind"] == "email.send")
    })
    .await;
    assert_eq!(queued.action["params"]["body"], MAIL, "{}", queued.action);
    assert_eq!(
        queued.action["params"]["to"],
        "Ana Torres <ana.torres@northwind.example>"
    );
    let asked = fake
        .seen()
        .into_iter()
        .find(|s| s.text().contains("cold email"))
        .unwrap();
    let brief = asked.body["messages"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(brief.contains("to Ana at Northwind Analytics"), "{brief}");
    assert!(
        brief.contains("<untrusted source=\"outside\">\nHiring 12 sales reps\n</untrusted>"),
        "the company's news is quoted as untrusted: {brief}"
    );
    node.shutdown().await;
}
