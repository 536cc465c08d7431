//! The CRM on HubSpot, through the real binary: the node's CRM API and its demo book of
//! business land in a HubSpot double that checks the token and speaks HubSpot's CRM v3
//! wire format; the requests it received are asserted.

use super::common::{TOKEN, start_binary_with};
use super::hubspot_fixture::{self, FakeHubSpot};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_on_hubspot_speaks_its_wire_format() {
    let hs = FakeHubSpot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(
        dir.path(),
        Some(TOKEN),
        &[
            ("EMPLA_CRM__DRIVER", "hubspot".into()),
            ("EMPLA_CRM__BASE_URL", hs.url.clone()),
            ("HUBSPOT_TOKEN", hubspot_fixture::TOKEN.into()),
        ],
    );
    let (c, t) = (node.client(), node.token.clone());

    // The demo book of business went to HubSpot and reads back through it, page by page
    // (the double's pages hold two records), after a 429 that was waited out.
    let accounts: Value = node.get_json("/api/v1/crm/accounts?limit=100").await;
    let items = accounts["items"].as_array().unwrap();
    assert_eq!(items.len(), 11, "{accounts}");
    let northwind = items
        .iter()
        .find(|a| a["name"] == "Northwind Analytics")
        .unwrap();
    let jordan: Value = node.get_json("/api/v1/employees/jordan.lee").await;
    assert_eq!(northwind["owner"], jordan["id"]);
    assert_eq!(northwind["employees"], 420);

    let requests = hs.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.auth == format!("Bearer {}", hubspot_fixture::TOKEN))
    );
    let created = |path: &str, key: &str, value: &str| {
        requests
            .iter()
            .find(|r| r.method == "POST" && r.path == path && r.body["properties"][key] == value)
            .unwrap_or_else(|| panic!("no POST {path} with {key} = {value}"))
            .body
            .clone()
    };
    let company = created("/crm/v3/objects/companies", "name", "Northwind Analytics");
    assert_eq!(company["properties"]["domain"], "northwind.example");
    assert_eq!(company["properties"]["numberofemployees"], "420");
    assert_eq!(
        company["properties"]["empla_signals"],
        "Hiring 12 sales reps;Opened a Chicago office"
    );
    let ana = created(
        "/crm/v3/objects/contacts",
        "email",
        "ana.torres@northwind.example",
    );
    assert_eq!(
        (
            ana["properties"]["firstname"].as_str(),
            ana["properties"]["lastname"].as_str()
        ),
        (Some("Ana"), Some("Torres"))
    );
    assert_eq!(ana["associations"][0]["to"]["id"], northwind["id"]);
    assert_eq!(ana["associations"][0]["types"][0]["associationTypeId"], 279);
    let quarry = created(
        "/crm/v3/objects/deals",
        "dealname",
        "Quarry Fintech — annual plan",
    );
    assert_eq!(
        quarry["properties"]["dealstage"], "decisionmakerboughtin",
        "proposal, by [crm.stage_ids]"
    );
    assert_eq!(quarry["properties"]["amount"], "48000");
    assert_eq!(
        quarry["associations"][0]["types"][0]["associationTypeId"],
        341
    );
    let searches: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/crm/v3/objects/companies/search")
        .collect();
    assert!(searches.len() >= 2, "the 429 was retried");
    assert!(
        searches.iter().any(|r| r.body["after"].is_string()),
        "lists page with `after`"
    );
    assert!(
        searches
            .iter()
            .all(|r| r.body["sorts"][0]["propertyName"] == "createdate"),
        "newest first"
    );

    // Through the API: a duplicate contact is refused, a deal moves, an activity is a note.
    let post = |path: &str, body: Value| c.post(node.url(path)).bearer_auth(&t).json(&body).send();
    let r = post(
        "/api/v1/crm/contacts",
        json!({"name": "Ana Again", "email": "ana.torres@northwind.example"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 409);
    let deals: Value = node.get_json("/api/v1/crm/deals?stage=proposal").await;
    let deal_id = deals["items"][0]["id"].as_str().unwrap().to_string();
    let r = c
        .patch(node.url(&format!("/api/v1/crm/deals/{deal_id}")))
        .bearer_auth(&t)
        .json(&json!({"stage": "closed_won"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let won: Value = r.json().await.unwrap();
    assert_eq!(won["stage"], "closed_won");
    let stored = hs.object("deals", &deal_id).unwrap();
    assert_eq!(stored["properties"]["dealstage"], "closedwon");
    assert!(
        stored["properties"]["empla_closed_at"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );

    let contacts: Value = node
        .get_json(&format!(
            "/api/v1/crm/contacts?account={}",
            northwind["id"].as_str().unwrap()
        ))
        .await;
    let ana_id = contacts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["email"] == "ana.torres@northwind.example")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post(
        "/api/v1/crm/activities",
        json!({"kind": "call", "subject": "Pricing call", "contact": ana_id}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let note = hs
        .requests()
        .into_iter()
        .find(|r| {
            r.method == "POST"
                && r.path == "/crm/v3/objects/notes"
                && r.body["properties"]["empla_subject"] == "Pricing call"
        })
        .unwrap()
        .body;
    assert_eq!(note["properties"]["empla_kind"], "call");
    let types: Vec<u64> = note["associations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["types"][0]["associationTypeId"].as_u64().unwrap())
        .collect();
    assert_eq!(
        types,
        [202, 190],
        "the note is the contact's and the company's"
    );
    assert!(
        hs.requests().iter().any(|r| r.method == "GET"
            && r.path == format!("/crm/v3/objects/contacts/{ana_id}")
            && r.query.contains("associations=companies")),
        "a contact is read with its company"
    );
    let acts: Value = node
        .get_json(&format!("/api/v1/crm/activities?contact={ana_id}"))
        .await;
    assert_eq!(acts["items"][0]["subject"], "Pricing call", "{acts}");

    // Prospecting on HubSpot: a new Sales AE's coverage is low; the accounts without an
    // open deal are found with one companies search, one open-deals search and one batch
    // read of their deals — not a request per company — and their people hear from it.
    let r = c
        .post(node.url("/api/v1/employees"))
        .bearer_auth(&t)
        .json(&json!({"role": "sales_ae", "name": "Riley Quinn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = c
        .put(node.url("/api/v1/employees/riley.quinn/phase"))
        .bearer_auth(&t)
        .json(&json!({"phase": "autonomous"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = c
        .post(node.url("/api/v1/employees/riley.quinn/events"))
        .bearer_auth(&t)
        .json(&json!({"kind": "signal.pipeline_low", "source": "test", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let batch =
        super::common::eventually(30, "the batch read of the candidates' deals", || async {
            hs.requests().into_iter().find(|r| {
                r.method == "POST" && r.path == "/crm/v4/associations/companies/deals/batch/read"
            })
        })
        .await;
    let asked = batch.body["inputs"].as_array().unwrap().len();
    assert!(asked >= 3, "the candidates in one batch: {}", batch.body);
    // Northwind was touched today (the pricing call above): Riley writes to the others.
    let outreach =
        super::common::eventually(30, "Riley's outreach to Cobalt's champion", || async {
            let inbox = node
                .get_json("/api/v1/mail/inbox?address=ivy.chen@cobalt.example")
                .await;
            inbox["items"].as_array().and_then(|i| i.first().cloned())
        })
        .await;
    assert!(
        outreach["from"].as_str().unwrap().contains("riley.quinn"),
        "{outreach}"
    );
    assert!(
        outreach["body"]
            .as_str()
            .unwrap()
            .contains("Cobalt Security"),
        "{outreach}"
    );
    let per_company = hs
        .requests()
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.path.starts_with("/crm/v3/objects/companies/")
                && r.path.ends_with("/associations/deals")
        })
        .count();
    assert!(
        per_company < asked,
        "{per_company} per-company deal reads for {asked} candidates"
    );
    node.terminate();
}
