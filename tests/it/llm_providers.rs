//! The model vendors' clients against a fake speaking their wire formats: the exact
//! requests sent (headers, tool schemas, tool results), tool-use and streamed answers
//! read back, errors that name the key to fix, retries honouring `retry-after`, a
//! failing provider skipped for its fallback, and daily budgets.

use super::common;
use super::llm_fixture::{FakeModel, MODEL_ANTHROPIC, MODEL_OPENAI, Reply, Vendor};
use empla::llm::{
    Anthropic, Block, Delta, Llm, LlmConfig, LlmError, Message, OpenAi, Provider, ProviderKind,
    ProviderSettings, Request, Role, Source, Stop, Tool,
};
use empla::model::{EmployeeId, TenantId};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "sk-test-key";

fn env(name: &str) -> Option<String> {
    (name == "FAKE_KEY").then(|| KEY.to_string())
}

fn settings(kind: ProviderKind, base: &str) -> ProviderSettings {
    ProviderSettings {
        provider: kind,
        model: match kind {
            ProviderKind::Anthropic => MODEL_ANTHROPIC.into(),
            _ => MODEL_OPENAI.into(),
        },
        base_url: base.into(),
        api_key_env: "FAKE_KEY".into(),
        timeout: Duration::from_secs(5),
        max_tokens: 300,
        fallback: None,
    }
}

fn anthropic(fake: &FakeModel) -> Anthropic {
    Anthropic::new("llm", &settings(ProviderKind::Anthropic, &fake.url), &env).unwrap()
}

fn openai(fake: &FakeModel) -> OpenAi {
    OpenAi::new(
        "llm.fallback",
        &settings(ProviderKind::Openai, &format!("{}/v1", fake.url)),
        &env,
    )
    .unwrap()
}

fn lookup_tool() -> Tool {
    Tool {
        name: "crm__lookup".into(),
        description: "Look up an account in the CRM".into(),
        schema: json!({"type": "object", "properties": {"account": {"type": "string"}}, "required": ["account"]}),
    }
}

fn tool_request() -> Request {
    Request {
        system: "You are Jordan Lee, Account Executive.".into(),
        messages: vec![Message::user("How big is Acme?")],
        tools: vec![lookup_tool()],
        max_tokens: None,
    }
}

#[tokio::test]
async fn anthropic_gets_its_headers_tools_and_tool_results_and_its_tool_use_is_read() {
    let fake = FakeModel::start(|_| Reply::Text("Acme has 1,200 people.".into())).await;
    fake.script([Reply::Tool {
        name: "crm__lookup".into(),
        input: json!({"account": "Acme"}),
    }]);
    let p = anthropic(&fake);
    let first = p.complete(&tool_request()).await.unwrap();
    assert_eq!(first.stop, Stop::ToolUse);
    let calls: Vec<_> = first.tool_calls().collect();
    assert_eq!(
        calls,
        vec![("toolu_01", "crm__lookup", &json!({"account": "Acme"}))]
    );
    assert_eq!(first.model, MODEL_ANTHROPIC);
    assert!(first.usage.input_tokens > 0 && first.usage.output_tokens == 12);

    // The tool's result goes back as a tool_result block quoting the call.
    let mut next = tool_request();
    next.messages.push(Message {
        role: Role::Assistant,
        content: first.content.clone(),
    });
    next.messages.push(Message {
        role: Role::User,
        content: vec![Block::ToolResult {
            id: "toolu_01".into(),
            content: "{\"employees\":1200}".into(),
            is_error: false,
        }],
    });
    let second = p.complete(&next).await.unwrap();
    assert_eq!(second.text(), "Acme has 1,200 people.");
    assert_eq!(second.stop, Stop::EndTurn);

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let r = &seen[0];
    assert_eq!(r.vendor, Vendor::Anthropic);
    assert_eq!(r.header("x-api-key"), KEY);
    assert_eq!(r.header("anthropic-version"), "2023-06-01");
    assert!(r.header("content-type").starts_with("application/json"));
    assert_eq!(r.body["model"], MODEL_ANTHROPIC);
    assert_eq!(r.body["max_tokens"], 300);
    assert_eq!(r.body["system"], "You are Jordan Lee, Account Executive.");
    assert_eq!(r.body["tools"][0]["name"], "crm__lookup");
    assert_eq!(r.body["tools"][0]["input_schema"]["required"][0], "account");
    assert_eq!(
        r.body["messages"][0]["content"][0],
        json!({"type": "text", "text": "How big is Acme?"})
    );
    assert!(r.body.get("stream").is_none());
    let turns = seen[1].body["messages"].as_array().unwrap();
    assert_eq!(turns[1]["role"], "assistant");
    assert_eq!(turns[1]["content"][1]["type"], "tool_use");
    assert_eq!(
        turns[2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_01", "content": "{\"employees\":1200}", "is_error": false})
    );
}

#[tokio::test]
async fn openai_compatible_servers_get_bearer_auth_functions_and_tool_messages() {
    let fake = FakeModel::start(|_| Reply::Text("Acme has 1,200 people.".into())).await;
    fake.script([Reply::Tool {
        name: "crm__lookup".into(),
        input: json!({"account": "Acme"}),
    }]);
    let p = openai(&fake);
    let first = p.complete(&tool_request()).await.unwrap();
    assert_eq!(first.stop, Stop::ToolUse);
    assert_eq!(
        first.tool_calls().collect::<Vec<_>>(),
        vec![("call_01", "crm__lookup", &json!({"account": "Acme"}))]
    );
    let mut next = tool_request();
    next.messages.push(Message {
        role: Role::Assistant,
        content: first.content.clone(),
    });
    next.messages.push(Message {
        role: Role::User,
        content: vec![Block::ToolResult {
            id: "call_01".into(),
            content: "1200".into(),
            is_error: false,
        }],
    });
    let second = p.complete(&next).await.unwrap();
    assert_eq!(second.text(), "Acme has 1,200 people.");
    assert_eq!(second.usage.output_tokens, 4);

    let seen = fake.seen();
    let r = &seen[0];
    assert_eq!(
        r.vendor,
        Vendor::OpenAi,
        "requests go to {{base_url}}/chat/completions"
    );
    assert_eq!(r.header("authorization"), format!("Bearer {KEY}"));
    assert_eq!(
        r.body["messages"][0],
        json!({"role": "system", "content": "You are Jordan Lee, Account Executive."})
    );
    assert_eq!(
        r.body["messages"][1],
        json!({"role": "user", "content": "How big is Acme?"})
    );
    assert_eq!(r.body["tools"][0]["type"], "function");
    assert_eq!(
        r.body["tools"][0]["function"]["parameters"]["required"][0],
        "account"
    );
    let turns = seen[1].body["messages"].as_array().unwrap();
    assert_eq!(
        turns[2]["tool_calls"][0]["function"]["arguments"],
        "{\"account\":\"Acme\"}"
    );
    assert_eq!(
        turns[3],
        json!({"role": "tool", "tool_call_id": "call_01", "content": "1200"})
    );
}

#[tokio::test]
async fn streamed_answers_arrive_in_pieces_and_add_up_to_the_whole() {
    let text = "Pipeline is at 2.1x — below our 3x target.";
    let fake = FakeModel::start(move |_| Reply::Text(text.into())).await;
    let providers: Vec<Box<dyn Provider>> =
        vec![Box::new(anthropic(&fake)), Box::new(openai(&fake))];
    for p in &providers {
        let mut pieces = Vec::new();
        let r = p
            .stream(&Request::new("sys", "How's the pipeline?"), &mut |d| {
                if let Delta::Text(t) = d {
                    pieces.push(t)
                }
            })
            .await
            .unwrap();
        assert!(pieces.len() > 3, "{}: streamed in pieces", p.name());
        assert_eq!(pieces.concat(), text);
        assert_eq!(r.text(), text);
        assert_eq!(r.stop, Stop::EndTurn);
        assert!(
            r.usage.output_tokens > 0,
            "{}: usage read from the stream",
            p.name()
        );
    }
    // Tool calls stream as pieces of JSON.
    fake.script([
        Reply::Tool {
            name: "calendar__book".into(),
            input: json!({"with": "ana@acme.example", "minutes": 30}),
        },
        Reply::Tool {
            name: "calendar__book".into(),
            input: json!({"with": "ana@acme.example", "minutes": 30}),
        },
    ]);
    for p in &providers {
        let mut json_pieces = 0;
        let r = p
            .stream(&tool_request(), &mut |d| {
                if matches!(d, Delta::ToolInput { .. }) {
                    json_pieces += 1
                }
            })
            .await
            .unwrap();
        assert_eq!(r.stop, Stop::ToolUse);
        assert_eq!(json_pieces, 2);
        let (_, name, input) = r.tool_calls().next().unwrap();
        assert_eq!(
            (name, input),
            (
                "calendar__book",
                &json!({"with": "ana@acme.example", "minutes": 30})
            )
        );
    }
    assert!(fake.seen().iter().all(|s| s.body["stream"] == true));
    assert_eq!(fake.seen()[1].body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn refusals_name_the_key_to_fix_and_bad_answers_are_errors() {
    let fake = FakeModel::start(|_| Reply::Text("unused".into())).await;
    fake.script([
        Reply::Status {
            code: 401,
            message: "invalid x-api-key".into(),
            retry_after: None,
        },
        Reply::Status {
            code: 400,
            message: "max_tokens: 99999 > 8192".into(),
            retry_after: None,
        },
        Reply::Raw("<html>gateway</html>".into()),
        Reply::Raw(json!({"id": "x", "content": [{"type": "tool_use", "name": "x"}]}).to_string()),
    ]);
    let p = anthropic(&fake);
    let r = Request::new("", "hi");
    let auth = p.complete(&r).await.unwrap_err();
    assert!(matches!(auth, LlmError::Auth { status: 401, .. }));
    let said = auth.to_string();
    assert!(
        said.contains("invalid x-api-key")
            && said.contains("llm.api_key_env")
            && said.contains("$FAKE_KEY"),
        "{said}"
    );
    let bad = p.complete(&r).await.unwrap_err().to_string();
    assert!(
        bad.contains("max_tokens: 99999 > 8192") && bad.contains("llm.max_tokens"),
        "{bad}"
    );
    assert!(matches!(
        p.complete(&r).await.unwrap_err(),
        LlmError::Malformed { .. }
    ));
    let no_id = p.complete(&r).await.unwrap_err().to_string();
    assert!(no_id.contains("without an id"), "{no_id}");
    // A missing key is refused before anything is sent.
    let mut s = settings(ProviderKind::Anthropic, &fake.url);
    s.api_key_env = "EMPLA_TEST_KEY_NEVER_SET".into();
    let missing = Anthropic::new("llm", &s, &env).err().unwrap().to_string();
    assert!(
        missing.contains("EMPLA_TEST_KEY_NEVER_SET") && missing.contains("llm.api_key_env"),
        "{missing}"
    );
    assert_eq!(fake.seen().len(), 4);
}

fn chain(fake: &FakeModel, cfg: LlmConfig) -> Llm {
    let providers: Vec<(String, Arc<dyn Provider>)> = vec![
        ("llm".into(), Arc::new(anthropic(fake))),
        ("llm.fallback".into(), Arc::new(openai(fake))),
    ];
    Llm::with_providers(&cfg, providers, None)
}

fn quick() -> LlmConfig {
    LlmConfig {
        backoff: Duration::from_millis(20),
        ..LlmConfig::default()
    }
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_as_retry_after_asks_and_server_errors_are_retried() {
    let fake = FakeModel::start(|_| Reply::Text("Done.".into())).await;
    fake.script([
        Reply::Status {
            code: 429,
            message: "rate limited".into(),
            retry_after: Some(1),
        },
        Reply::Status {
            code: 529,
            message: "overloaded".into(),
            retry_after: None,
        },
    ]);
    let llm = chain(&fake, quick());
    let started = Instant::now();
    let a = llm.ask(EmployeeId::new(), &Request::new("", "hi")).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after was honoured"
    );
    assert_eq!(a.text().as_deref(), Some("Done."));
    assert_eq!(
        a.source,
        Source::Model {
            provider: "anthropic".into(),
            model: MODEL_ANTHROPIC.into()
        }
    );
    assert_eq!(fake.seen().len(), 3);
    assert!(fake.seen().iter().all(|s| s.vendor == Vendor::Anthropic));
}

#[tokio::test]
async fn a_provider_that_keeps_failing_is_skipped_for_the_fallback() {
    let fake = FakeModel::start(|s| match s.vendor {
        Vendor::Anthropic => Reply::Status {
            code: 500,
            message: "internal".into(),
            retry_after: None,
        },
        Vendor::OpenAi => Reply::Text("From the fallback.".into()),
    })
    .await;
    let cfg = LlmConfig {
        attempts: 2,
        trip_after: 2,
        ..quick()
    };
    let llm = chain(&fake, cfg);
    let who = EmployeeId::new();
    for _ in 0..2 {
        let a = llm.ask(who, &Request::new("", "hi")).await;
        assert_eq!(a.text().as_deref(), Some("From the fallback."));
        assert!(matches!(a.source, Source::Model { ref provider, .. } if provider == "openai"));
    }
    let anthropic_calls = |f: &FakeModel| {
        f.seen()
            .iter()
            .filter(|s| s.vendor == Vendor::Anthropic)
            .count()
    };
    assert_eq!(anthropic_calls(&fake), 4, "two calls, each tried twice");
    // Tripped: the next calls go straight to the fallback.
    llm.ask(who, &Request::new("", "hi")).await;
    assert_eq!(anthropic_calls(&fake), 4);

    // A slow answer past the timeout is a failure like any other, and with every
    // provider failing the caller is told why and keeps its offline text.
    let slow = FakeModel::start(|_| {
        Reply::Slow(Duration::from_secs(3), Box::new(Reply::Text("late".into())))
    })
    .await;
    let mut s = settings(ProviderKind::Openai, &format!("{}/v1", slow.url));
    s.timeout = Duration::from_millis(300);
    let p: Arc<dyn Provider> = Arc::new(OpenAi::new("llm", &s, &env).unwrap());
    let llm = Llm::with_providers(
        &LlmConfig {
            attempts: 1,
            ..quick()
        },
        vec![("llm".into(), p)],
        None,
    );
    let a = llm.ask(who, &Request::new("", "hi")).await;
    assert!(a.response.is_none());
    let Source::Offline(why) = a.source else {
        panic!("offline expected")
    };
    assert!(why.contains("llm.timeout"), "{why}");
}

#[tokio::test]
async fn a_spent_budget_falls_back_to_offline_and_usage_is_counted_per_employee_and_day() {
    let db = common::sqlite().await;
    let fake = FakeModel::start(|_| Reply::Text("one two three four five".into())).await;
    let mut cfg = quick();
    cfg.daily_token_budget = Some(20);
    cfg.prices.insert(
        MODEL_ANTHROPIC.into(),
        empla::llm::Price {
            input: 3.0,
            output: 15.0,
        },
    );
    let p: Arc<dyn Provider> = Arc::new(anthropic(&fake));
    let tenant = TenantId::new("t");
    let llm = Llm::with_providers(
        &cfg,
        vec![("llm".into(), p)],
        Some((db.store.clone(), tenant.clone())),
    );
    let (jordan, sam) = (EmployeeId::new(), EmployeeId::new());
    let long = "word ".repeat(30);
    let a = llm.ask(jordan, &Request::new("", long.clone())).await;
    assert!(a.text().is_some(), "the first call is within budget");
    let b = llm.ask(jordan, &Request::new("", "again")).await;
    let Source::Offline(why) = b.source else {
        panic!("budget spent: offline")
    };
    assert!(why.contains("llm.daily_token_budget"), "{why}");
    assert!(llm.spent(jordan).await.is_some());
    // Another employee's budget is its own.
    assert!(llm.ask(sam, &Request::new("", "hi")).await.text().is_some());
    assert_eq!(fake.seen().len(), 2);

    let today = empla::llm::day_of(chrono::Utc::now());
    let rows = db
        .store
        .llm_usage(&tenant, Some(jordan), today)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (r.provider.as_str(), r.model.as_str(), r.calls),
        ("anthropic", MODEL_ANTHROPIC, 1)
    );
    assert_eq!(r.completion_tokens, 5);
    assert_eq!(r.total_tokens, r.prompt_tokens + 5);
    let expected = (r.prompt_tokens as f64 * 3.0 + 5.0 * 15.0) / 1e6;
    assert!((r.cost_usd - expected).abs() < 1e-12);
    assert_eq!(
        db.store
            .llm_usage(&tenant, None, today)
            .await
            .unwrap()
            .len(),
        2
    );
}
