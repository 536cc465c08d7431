//! Research against local servers: a site with a robots.txt, an article, a PDF, a page
//! too large, a redirect loop and a slow page; and a SearXNG double speaking its JSON
//! API. What a page says about an account becomes facts with the page as their source.

use super::common::{self, eventually};
use axum::Router;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use empla::bdi::{Phase, PlanSpec};
use empla::lifecycle::HireRequest;
use empla::model::{ActionStatus, EmployeeId, NewEvent};
use empla::node::{Node, NodeOptions};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ARTICLE: &str = r#"<!doctype html><html><head><title>Acme Robotics raises $40M Series B</title></head>
<body><nav>Home | News | About</nav><article><h1>Acme Robotics raises $40M Series B</h1>
<p>Acme Robotics raised $40M in a Series B round led by Northstar Ventures, the company said on Tuesday. The funding will take its warehouse robots to Europe.</p>
<p>The company is hiring 30 engineers in Austin and Berlin over the next year, according to its careers page, and has appointed a new VP of Sales.</p>
<p>It also opened an office in Berlin this month to serve its first European customers, who have been asking for local support for some time.</p>
<p>Founded in 2019, Acme builds autonomous picking robots for mid-sized warehouses and counts several logistics companies among its customers.</p>
</article><footer>Copyright Example News</footer></body></html>"#;

/// A small site: its pages, and what the search double was asked.
async fn site() -> (String, Arc<Mutex<Vec<HashMap<String, String>>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let article = format!("{base}/news/acme");
    let app = Router::new()
        .route(
            "/robots.txt",
            get(|| async { "User-agent: *\nDisallow: /private\n" }),
        )
        .route(
            "/news/acme",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], ARTICLE) }),
        )
        .route("/moved", get(|| async { Redirect::permanent("/news/acme") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/sneaky", get(|| async { Redirect::temporary("/private/plans") }))
        .route("/private/plans", get(|| async { "secret" }))
        .route(
            "/report.pdf",
            get(|| async { ([(header::CONTENT_TYPE, "application/pdf")], "%PDF-1.4") }),
        )
        .route(
            "/big",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "x".repeat(300_000)) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/search",
            get(move |Query(q): Query<HashMap<String, String>>| {
                let seen = seen.clone();
                let article = article.clone();
                async move {
                    seen.lock().unwrap().push(q.clone());
                    if q.get("format").map(String::as_str) != Some("json") {
                        return (StatusCode::FORBIDDEN, "json only").into_response();
                    }
                    axum::Json(json!({
                        "query": q.get("q"),
                        "number_of_results": 2,
                        "results": [
                            {"url": article, "title": "Acme Robotics raises $40M", "content": "The Series B will fund European expansion.", "engine": "duckduckgo", "score": 1.0},
                            {"url": "https://acme.example/careers", "title": "Careers at Acme", "content": "30 open roles in engineering.", "engine": "bing", "score": 0.5}
                        ],
                        "answers": [], "suggestions": []
                    }))
                    .into_response()
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, asked)
}

fn options(tenant: &str, search_url: &str) -> NodeOptions {
    let mut opts = common::options(tenant);
    opts.research.allow_private = true;
    opts.research.max_bytes = 200_000;
    opts.research.timeout = Duration::from_secs(2);
    opts.research.max_redirects = 3;
    opts.research.search_url = search_url.into();
    let plans: Vec<PlanSpec> = toml::from_str::<toml::Table>(
        r#"
[[plans]]
name = "read_page"
trigger = { event = "manual.read" }
steps = [{ action = "research.fetch", params = { url = "{{ event.payload.url }}", account = "{{ event.payload.account | default('') }}" } }]

[[plans]]
name = "about_company"
trigger = { event = "manual.company" }
steps = [{ action = "research.company", params = { name = "{{ event.payload.name }}" } }]

[[plans]]
name = "look_up"
trigger = { event = "manual.search" }
steps = [{ action = "research.search", params = { query = "{{ event.payload.query }}", count = 5 } }]
"#,
    )
    .unwrap()["plans"]
        .clone()
        .try_into()
        .unwrap();
    opts.roles.get_mut("sales_ae").unwrap().plans.extend(plans);
    opts
}

/// Runs one `manual.<kind>` event and answers the action's status and result.
async fn run(node: &Node, id: EmployeeId, kind: &str, payload: Value) -> (ActionStatus, Value) {
    let before = node.actions(id, 1000).await.unwrap().len();
    node.submit_event(
        id,
        NewEvent {
            kind: format!("manual.{kind}"),
            source: "test".into(),
            payload,
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    eventually(20, "the action's outcome", || async {
        // Newest first: the one this event asked for.
        let all = node.actions(id, 1000).await.unwrap();
        (all.len() > before)
            .then(|| all.into_iter().next())
            .flatten()
            .filter(|a| a.status != ActionStatus::Pending)
            .map(|a| (a.status, a.result.unwrap_or_default()))
    })
    .await
}

async fn ae(node: &Node) -> EmployeeId {
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    jordan.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_read_politely_and_what_it_says_about_an_account_is_kept() {
    let (base, _) = site().await;
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), options("research", ""))
        .await
        .unwrap();
    let jordan = ae(&node).await;
    let acme = node
        .crm()
        .create_account(empla::capabilities::crm::NewAccount {
            name: "Acme Robotics".into(),
            domain: Some("acme-robotics.example".into()),
            ..Default::default()
        })
        .await
        .unwrap();

    // The article, reached through a redirect: its text without the site's chrome, and
    // facts about Acme's funding, hiring and news, each sourced to the page.
    let (status, r) = run(
        &node,
        jordan,
        "read",
        json!({"url": format!("{base}/moved"), "account": acme.id}),
    )
    .await;
    assert_eq!(status, ActionStatus::Done, "{r}");
    assert_eq!(r["url"], format!("{base}/news/acme"));
    assert_eq!(r["title"], "Acme Robotics raises $40M Series B");
    let text = r["text"].as_str().unwrap();
    assert!(text.contains("Northstar Ventures"), "{text}");
    assert!(
        !text.contains("Copyright Example News"),
        "the chrome is dropped: {text}"
    );
    let topics: Vec<&str> = r["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["predicate"].as_str().unwrap())
        .collect();
    for t in ["funding", "hiring", "news"] {
        assert!(topics.contains(&t), "{t} in {topics:?}");
    }
    let facts = node
        .facts(jordan, Some("Acme Robotics"), 1, 50, 0)
        .await
        .unwrap();
    let funding = facts
        .iter()
        .find(|f| f.predicate == "funding")
        .expect("the funding is remembered");
    assert!(funding.object.contains("$40M"), "{funding:?}");
    assert_eq!(funding.source, format!("{base}/news/acme"));
    // And the account's buying signals, which lead scoring and outreach read.
    let signals = node
        .crm()
        .driver()
        .account(&acme.id)
        .await
        .unwrap()
        .unwrap()
        .signals;
    assert!(
        signals.iter().any(|s| s == "Acme Robotics raised $40M in a Series B round led by Northstar Ventures"),
        "{signals:?}"
    );
    assert!(
        signals.iter().all(|s| s.chars().count() <= 91),
        "{signals:?}"
    );
    // What is known about Acme, gathered: the CRM record and the facts with sources.
    let (status, known) = run(&node, jordan, "company", json!({"name": "acme robotics"})).await;
    assert_eq!(status, ActionStatus::Done, "{known}");
    assert_eq!(known["name"], "Acme Robotics");
    assert_eq!(known["account"]["id"], acme.id.as_str());
    assert!(
        known["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["predicate"] == "funding" && f["source"] == format!("{base}/news/acme")),
        "{known}"
    );
    assert!(
        known["web"]["note"]
            .as_str()
            .unwrap()
            .contains("no web search is configured")
    );
    let (_, unknown) = run(&node, jordan, "company", json!({"name": "Globex"})).await;
    assert_eq!(unknown["known"], false, "{unknown}");

    // What a polite reader does not read, each with its reason.
    let refused = |path: &'static str| {
        let node = &node;
        let base = base.clone();
        async move {
            let (status, r) = run(
                node,
                jordan,
                "read",
                json!({"url": format!("{base}{path}")}),
            )
            .await;
            assert_eq!(status, ActionStatus::Failed, "{path}: {r}");
            r["error"].as_str().unwrap_or(&r.to_string()).to_string()
        }
    };
    let why = refused("/private/plans").await;
    assert!(
        why.contains("robots.txt does not let empla-research read /private/plans"),
        "{why}"
    );
    // A redirect is checked before it is followed: into a disallowed path, it is not.
    let why = refused("/sneaky").await;
    assert!(
        why.contains("robots.txt does not let empla-research read /private/plans"),
        "{why}"
    );
    let why = refused("/report.pdf").await;
    assert!(
        why.contains("is application/pdf; research reads HTML and plain-text pages"),
        "{why}"
    );
    let why = refused("/big").await;
    assert!(why.contains("larger than 200000 bytes"), "{why}");
    let why = refused("/loop").await;
    assert!(why.contains("redirects more than 3 times"), "{why}");
    let why = refused("/slow").await;
    assert!(
        why.contains("took longer than 2 s") || why.contains("could not be read"),
        "{why}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_and_other_schemes_are_refused_by_default() {
    let (base, _) = site().await;
    let s = common::sqlite().await;
    let mut opts = options("research-private", "");
    opts.research.allow_private = false;
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let jordan = ae(&node).await;
    let (status, r) = run(
        &node,
        jordan,
        "read",
        json!({"url": format!("{base}/news/acme")}),
    )
    .await;
    assert_eq!(status, ActionStatus::Failed);
    assert!(
        r.to_string()
            .contains("a private address; research reads public pages only"),
        "{r}"
    );
    let (status, r) = run(&node, jordan, "read", json!({"url": "file:///etc/passwd"})).await;
    assert_eq!(status, ActionStatus::Failed);
    assert!(
        r.to_string()
            .contains("research reads http and https pages only"),
        "{r}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_asks_searxng_or_says_it_searched_only_the_crm_and_memory() {
    let (base, asked) = site().await;
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), options("research-search", &base))
        .await
        .unwrap();
    let jordan = ae(&node).await;
    let (status, r) = run(
        &node,
        jordan,
        "search",
        json!({"query": "Acme Robotics funding"}),
    )
    .await;
    assert_eq!(status, ActionStatus::Done, "{r}");
    assert_eq!(r["provider"], "searxng");
    assert_eq!(r["results"][0]["url"], format!("{base}/news/acme"));
    assert_eq!(
        r["results"][0]["snippet"],
        "The Series B will fund European expansion."
    );
    let q = asked.lock().unwrap()[0].clone();
    assert_eq!(q["q"], "Acme Robotics funding");
    assert_eq!(q["format"], "json");
    node.shutdown().await;

    // With no provider: the CRM and memory, and it says so.
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), options("research-local", ""))
        .await
        .unwrap();
    let jordan = ae(&node).await;
    node.crm()
        .create_account(empla::capabilities::crm::NewAccount {
            name: "Acme Robotics".into(),
            industry: Some("manufacturing".into()),
            signals: vec!["Raised a Series B".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let (status, r) = run(&node, jordan, "search", json!({"query": "acme"})).await;
    assert_eq!(status, ActionStatus::Done, "{r}");
    assert_eq!(r["provider"], "none");
    assert!(
        r["note"]
            .as_str()
            .unwrap()
            .contains("no web search is configured"),
        "{r}"
    );
    assert_eq!(r["results"][0]["title"], "Acme Robotics");
    assert!(
        r["results"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with("crm:account/")
    );
    assert!(
        r["results"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("Raised a Series B")
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outreach_names_what_research_found_about_the_company() {
    let (base, _) = site().await;
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), options("research-outreach", &base))
        .await
        .unwrap();
    let jordan = ae(&node).await;
    let crm = node.crm();
    let acme = crm
        .create_account(empla::capabilities::crm::NewAccount {
            name: "Acme Robotics".into(),
            domain: Some("acme-robotics.example".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let sarah = crm
        .create_contact(empla::capabilities::crm::NewContact {
            name: "Sarah Chen".into(),
            email: "sarah.chen@acme-robotics.example".into(),
            account: Some(acme.id.clone()),
            role: Some("champion".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    // A lead with no signal in the CRM: the research finds one before Jordan writes.
    node.submit_event(
        jordan,
        NewEvent {
            kind: "crm.lead".into(),
            source: "crm".into(),
            payload: json!({
                "lead": "Sarah Chen <sarah.chen@acme-robotics.example>", "name": "Sarah Chen",
                "first_name": "Sarah", "email": "sarah.chen@acme-robotics.example",
                "contact": sarah.id, "company": "Acme Robotics", "account": acme.id,
                "signal": null, "score": 0.8,
            }),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let outreach = eventually(20, "the outreach", || async {
        node.mail_inbox("sarah.chen@acme-robotics.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert!(
        outreach.body.contains(
            "I noticed the news at Acme Robotics (Acme Robotics raised $40M in a Series B round led by Northstar Ventures)"
        ),
        "{}",
        outreach.body
    );
    let signals = crm
        .driver()
        .account(&acme.id)
        .await
        .unwrap()
        .unwrap()
        .signals;
    assert!(
        !signals.is_empty(),
        "the research joined the account's signals"
    );
    node.shutdown().await;
}
