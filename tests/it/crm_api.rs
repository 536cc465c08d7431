//! The CRM's faces through the real binary: `/api/v1/crm/...` and `empla crm`, on the
//! shipped config with its demo book of business.

use super::common::start_binary;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_over_http_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let (c, t) = (node.client(), node.token.clone());
    let post = |path: &str, body: Value| c.post(node.url(path)).bearer_auth(&t).json(&body).send();
    let patch =
        |path: &str, body: Value| c.patch(node.url(path)).bearer_auth(&t).json(&body).send();
    let message = |v: &Value| {
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    // The demo book of business was imported with the demo hires.
    let accounts: Value = node.get_json("/api/v1/crm/accounts?limit=100").await;
    assert_eq!(
        accounts["items"].as_array().unwrap().len(),
        11,
        "{accounts}"
    );
    let jordans: Value = node.get_json("/api/v1/crm/deals?owner=jordan.lee").await;
    assert_eq!(jordans["items"].as_array().unwrap().len(), 5, "{jordans}");
    let proposals: Value = node.get_json("/api/v1/crm/deals?stage=proposal").await;
    assert_eq!(proposals["items"][0]["amount"], 48000.0);

    // A created record answers 201 with itself.
    let r = post(
        "/api/v1/crm/accounts",
        json!({"name": "Acme Robotics", "domain": "acme.example", "industry": "manufacturing", "employees": 120, "region": "emea", "owner": "jordan.lee"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let acme: Value = r.json().await.unwrap();
    let acme_id = acme["id"].as_str().unwrap().to_string();
    assert_eq!(acme["name"], "Acme Robotics");
    let jordan: Value = node.get_json("/api/v1/employees/jordan.lee").await;
    assert_eq!(acme["owner"], jordan["id"], "{jordan}");
    let newest: Value = node.get_json("/api/v1/crm/accounts?limit=1").await;
    assert_eq!(newest["items"][0]["id"], acme["id"], "newest first");

    let r = post(
        "/api/v1/crm/contacts",
        json!({"name": "Rita Vogel", "email": "rita@acme.example", "title": "COO", "account": acme_id}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let rita: Value = r.json().await.unwrap();
    // Unique per email: the 409 names the contact that has it.
    let r = post(
        "/api/v1/crm/contacts",
        json!({"name": "R. Vogel", "email": "RITA@acme.example"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 409);
    let m = message(&r.json().await.unwrap());
    assert!(
        m.contains(rita["id"].as_str().unwrap()) && m.contains("Rita Vogel"),
        "{m}"
    );

    // Bad input, each naming what is wrong.
    let r = post(
        "/api/v1/crm/deals",
        json!({"name": "", "amount": -1, "stage": "won"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let m = message(&r.json().await.unwrap());
    assert!(
        m.contains("name") && m.contains("amount") && m.contains("closed_won"),
        "{m}"
    );
    let r = post("/api/v1/crm/accounts", json!({"name": "X", "size": 3}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(message(&r.json().await.unwrap()).contains("size"));
    let r = c
        .get(node.url("/api/v1/crm/deals?stage=won"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .get(node.url("/api/v1/crm/activities"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A deal moves through the pipeline; a patch with null clears a field.
    let r = post(
        "/api/v1/crm/deals",
        json!({"name": "Acme — 40 seats", "account": acme_id, "amount": 48000, "close_date": "2027-01-31", "owner": "jordan.lee"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let deal: Value = r.json().await.unwrap();
    assert_eq!(deal["stage"], "prospecting");
    let path = format!("/api/v1/crm/deals/{}", deal["id"].as_str().unwrap());
    let r = patch(&path, json!({"stage": "closed_won", "close_date": null}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let won: Value = r.json().await.unwrap();
    assert_eq!(
        (won["stage"].as_str(), won["close_date"].is_null()),
        (Some("closed_won"), true)
    );
    assert!(won["closed_at"].is_string());
    let r = patch("/api/v1/crm/deals/nope", json!({"stage": "demo"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Activities: logged against the contact, listed by account.
    let r = post(
        "/api/v1/crm/activities",
        json!({"kind": "call", "subject": "Pricing call", "contact": rita["id"]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let acts: Value = node
        .get_json(&format!("/api/v1/crm/activities?account={acme_id}"))
        .await;
    assert_eq!(acts["items"][0]["subject"], "Pricing call");
    let out = node.cli(&["crm", "activities", "--account", &acme_id]);
    assert!(out.contains("call  Pricing call"), "{out}");

    // The CLI lists and imports; a file with a bad row imports nothing and says where.
    let out = node.cli(&["crm", "deals", "--owner", "jordan.lee"]);
    assert!(
        out.contains("Quarry Fintech — annual plan") && out.contains("proposal"),
        "{out}"
    );
    let good = dir.path().join("contacts.csv");
    std::fs::write(
        &good,
        "name,email,title,account\nSven Holm,sven@acme.example,CTO,acme.example\n",
    )
    .unwrap();
    let out = node.cli(&[
        "crm",
        "import",
        good.to_str().unwrap(),
        "--kind",
        "contacts",
    ]);
    assert!(out.starts_with("imported 1 contacts"), "{out}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "name,email\nUna,una@acme.example\nVic,not-an-address\n",
    )
    .unwrap();
    let out = node.run_cli(&["crm", "import", bad.to_str().unwrap(), "--kind", "contacts"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3, column `email`") && err.contains("nothing was imported"),
        "{err}"
    );
    let una: Value = node
        .get_json(&format!("/api/v1/crm/contacts?account={acme_id}"))
        .await;
    assert!(
        !una["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Una"),
        "nothing of a refused file is stored: {una}"
    );
    let r = c
        .post(node.url("/api/v1/crm/import?kind=contacts"))
        .bearer_auth(&t)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(message(&r.json().await.unwrap()).contains("text/csv"));

    // Account metrics feed the health score; sending them again changes nothing.
    let meridian = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Meridian Travel")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let metrics_path = format!("/api/v1/crm/accounts/{meridian}/metrics");
    let body = json!({"items": [
        {"metric": "usage", "value": 0.9, "at": "2026-12-01T00:00:00Z"},
        {"metric": "nps", "value": 60, "at": "2026-12-01T00:00:00Z"},
        {"metric": "feature_adoption", "value": 0.7, "at": "2026-12-01T00:00:00Z", "feature": "reports"},
    ]});
    for _ in 0..2 {
        let r = post(&metrics_path, body.clone()).await.unwrap();
        assert_eq!(r.status(), 200);
        let h: Value = r.json().await.unwrap();
        assert_eq!(
            (h["stored"].as_u64(), h["churn_risk"].as_str()),
            (Some(3), Some("low")),
            "{h}"
        );
        assert!(h["health"].as_f64().unwrap() > 80.0, "{h}");
    }
    let shown: Value = node
        .get_json(&format!("/api/v1/crm/accounts/{meridian}"))
        .await;
    assert!(shown["health"].as_f64().unwrap() > 80.0, "{shown}");
    let r = post(
        &metrics_path,
        json!({"items": [{"metric": "nps", "value": 150, "at": "2026-12-01T00:00:00Z"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert!(message(&r.json().await.unwrap()).contains("items[0].value"));
    let r = post("/api/v1/crm/accounts/nope/metrics", body)
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Deleting answers 204, then 404.
    let acme_path = format!("/api/v1/crm/accounts/{acme_id}");
    let r = c
        .delete(node.url(&acme_path))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c
        .get(node.url(&acme_path))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    node.terminate();
}
