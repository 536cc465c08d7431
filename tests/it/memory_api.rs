//! Memory through the real binary: search, facts, why, knowledge, consolidation and
//! forget over HTTP and the CLI, with every bad input's error.

use super::common::{eventually, http, start_binary};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_over_http_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    // (succeeded, stdout, stderr), for the calls that are meant to fail.
    let cli = |args: &[&str]| {
        let out = node.run_cli(args);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let ok = |args: &[&str]| node.cli(args);
    ok(&["hire", "--role", "sales_ae", "--name", "Jordan Lee"]);
    let send = |from: &str, subject: &str, body: &str| {
        ok(&[
            "send-event",
            "jordan.lee",
            "--kind",
            "email.received",
            "--source",
            "email",
            "--payload",
            &json!({"from": from, "subject": subject, "body": body}).to_string(),
        ])
    };
    send(
        "Sarah Chen <sarah@northwind.com>",
        "Volume pricing",
        "Can we get volume pricing for 200 seats?",
    );
    send(
        "Raj Patel <raj@contoso.com>",
        "Invoice",
        "The invoice shows the wrong address.",
    );
    send(
        "Sarah Chen <sarah@northwind.com>",
        "Renewal",
        "Our renewal is next month.",
    );
    let get = |path: String| {
        let node = &node;
        async move {
            let r = http()
                .get(node.url(&path))
                .bearer_auth(&node.token)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let base = "/api/v1/employees/jordan.lee/memory";
    let found = eventually(10, "the mail is searchable", || async {
        let (status, v) = get(format!("{base}/search?q=volume%20pricing&mode=text")).await;
        (status == 200 && !v["items"].as_array().unwrap().is_empty()).then_some(v)
    })
    .await;
    // The answer's shape, exactly.
    let first = &found["items"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["at", "id", "kind", "score", "sources", "text"]);
    assert_eq!(first["kind"], "event");
    assert_eq!(first["sources"], json!(["text"]));
    assert!(first["text"].as_str().unwrap().contains("200 seats"));
    // Participant, time range and hybrid.
    // Both of Sarah's mails, once the last one sent is recorded too.
    let with = eventually(10, "both of Sarah's mails", || async {
        let (_, v) = get(format!("{base}/search?with=sarah&mode=text&limit=50")).await;
        let texts: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect();
        (texts.len() >= 2).then_some(texts)
    })
    .await;
    assert_eq!(with.len(), 2, "{with:?}");
    assert!(with.iter().all(|t| t.contains("Sarah Chen")));
    let (_, future) = get(format!("{base}/search?q=pricing&from=2999-01-01")).await;
    assert!(future["items"].as_array().unwrap().is_empty());
    let (status, hybrid) = get(format!(
        "{base}/search?q=what%20did%20Sarah%20say%20about%20renewal"
    ))
    .await;
    assert_eq!(status, 200);
    assert!(
        hybrid["items"][0]["text"]
            .as_str()
            .unwrap()
            .contains("renewal"),
        "{hybrid}"
    );
    // Bad input names the parameter.
    for (query, param) in [
        ("q=x&mode=fuzzy", "`mode`"),
        ("q=x&from=last%20tuesday", "`from`"),
        ("q=x&to=2026-13-40", "`to`"),
        ("mode=vector", "`q`"),
        ("q=x&limit=0", "`limit`"),
        ("q=x&colour=red", "`colour`"),
    ] {
        let (status, v) = get(format!("{base}/search?{query}")).await;
        assert_eq!(status, 400, "{query}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(param),
            "{query}: {v}"
        );
    }
    let (status, v) = get(format!("{base}/search?q=x&from=2026-12-02&to=2026-12-01")).await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = get("/api/v1/employees/nobody/memory/search?q=x".into()).await;
    assert_eq!(status, 404);
    // Why: the reply's cause is the mail (any decision episode leads back to an event).
    let (_, eps) = get("/api/v1/employees/jordan.lee/episodes?limit=100".into()).await;
    if let Some(decision) = eps["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] != "event")
    {
        let (status, chain) = get(format!("{base}/why/{}", decision["id"].as_str().unwrap())).await;
        assert_eq!(status, 200);
        let chain = chain["items"].as_array().unwrap();
        assert_eq!(chain.last().unwrap()["kind"], "event", "{chain:?}");
    }
    let (status, _) = get(format!("{base}/why/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(status, 404);
    // Knowledge: published from a directory by the CLI, facts extracted.
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(docs.path().join("accounts.md"), "# Accounts\n\nNorthwind Traders uses Insight Cloud.\n\nSarah Chen works at Northwind Traders.\n").unwrap();
    std::fs::create_dir(docs.path().join("policies")).unwrap();
    std::fs::write(
        docs.path().join("policies/discounts.txt"),
        "Discounts above 20 percent need finance approval.",
    )
    .unwrap();
    std::fs::write(docs.path().join("logo.png"), [0u8, 1, 2]).unwrap();
    let ingested = ok(&["knowledge", "ingest", docs.path().to_str().unwrap()]);
    assert!(
        ingested.contains("ingested 2 documents: 2 chunks, 2 facts"),
        "{ingested}"
    );
    // Again: replaced, not doubled.
    ok(&["knowledge", "ingest", docs.path().to_str().unwrap()]);
    let (_, k) = get(format!("{base}/search?q=discounts%20finance&mode=text")).await;
    assert_eq!(
        k["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "knowledge")
            .count(),
        1,
        "{k}"
    );
    let facts = ok(&["facts", "jordan.lee", "Northwind Traders", "--depth", "2"]);
    assert!(
        facts.contains("Insight Cloud") && facts.contains("Sarah Chen"),
        "{facts}"
    );
    let (status, v) = get(format!("{base}/facts?subject=northwind%20traders&depth=9")).await;
    assert_eq!(status, 400, "{v}");
    let post = |path: &str, body: Value| {
        let node = &node;
        let path = path.to_string();
        async move {
            let r = http()
                .post(node.url(&path))
                .bearer_auth(&node.token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, v) = post(
        "/api/v1/knowledge",
        json!({"title": "t", "text": "x", "visibility": "team"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`employee`"),
        "{v}"
    );
    let (status, v) = post(
        "/api/v1/knowledge",
        json!({"title": "t", "text": "x", "visibility": "everyone"}),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    let (status, v) = post("/api/v1/knowledge", json!({"title": "Team note", "text": "Pilots close faster.", "visibility": "team", "employee": "jordan.lee"})).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["chunks"], 1);
    // Consolidation of today, twice: the same answer.
    let today = chrono::Utc::now().date_naive().to_string();
    let (status, c1) = post(&format!("{base}/consolidate"), json!({"day": today})).await;
    assert_eq!(status, 200, "{c1}");
    assert!(
        c1["episodes"].as_u64().unwrap() >= 3 && c1["summary"].is_string(),
        "{c1}"
    );
    let (_, c2) = post(&format!("{base}/consolidate"), json!({"day": today})).await;
    assert_eq!(c1, c2);
    let (status, _) = post(
        &format!("{base}/consolidate"),
        json!({"day": "yesterday-ish"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(ok(&["consolidate", "jordan.lee", "--day", &today]).contains("consolidated"));
    // The CLI's recall.
    let recalled = ok(&["recall", "jordan.lee", "invoice address", "--mode", "text"]);
    assert!(recalled.contains("wrong address"), "{recalled}");
    let (success, _, err) = cli(&["recall", "jordan.lee", "x", "--since", "a while ago"]);
    assert!(!success && err.contains("--since"), "{err}");
    // Forget Sarah: asked to confirm first, then gone from every memory.
    let (success, _, err) = cli(&["forget", "Sarah Chen <sarah@northwind.com>"]);
    assert!(!success && err.contains("--yes"), "{err}");
    let forgot = ok(&["forget", "Sarah Chen <sarah@northwind.com>", "--yes"]);
    assert!(
        forgot.contains("2 events") && forgot.contains("1 facts") && forgot.contains("1 knowledge"),
        "{forgot}"
    );
    for mode in ["text", "vector", "hybrid"] {
        let (_, v) = get(format!(
            "{base}/search?q=Sarah%20Chen%20volume%20pricing&mode={mode}&limit=100"
        ))
        .await;
        let all = v["items"].to_string().to_lowercase();
        assert!(!all.contains("sarah"), "{mode}: {all}");
    }
    let (_, eps) = get("/api/v1/employees/jordan.lee/episodes?limit=1000".into()).await;
    assert!(!eps.to_string().contains("sarah@northwind.com"));
    let (status, v) = post("/api/v1/memory/forget", json!({"person": "  "})).await;
    assert_eq!(status, 400, "{v}");
    node.terminate();
}
