//! A stand-in for HubSpot, since the real one cannot run in a test: it speaks the wire
//! format of HubSpot's CRM v3 API — `/crm/v3/objects/{type}` (create with inline
//! associations, read with `properties` and `associations`, `PATCH`, `DELETE`), its
//! `search` (filters `EQ`, `IN`, `NOT_IN`, `GTE`, `LTE`, `LT`, `HAS_PROPERTY`,
//! `NOT_HAS_PROPERTY`; newest first; paged with `after`), and association reads and
//! writes — with a private app's bearer token. Pages hold two records, so every list
//! pages. The first search of companies is answered `429` with `Retry-After: 1`. Every
//! request is recorded for the test to inspect.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub const TOKEN: &str = "pat-na1-test-token";
const PAGE: usize = 2;

/// One request as HubSpot received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub auth: String,
    pub body: Value,
}

#[derive(Default)]
struct Portal {
    /// type → id → object.
    objects: HashMap<String, BTreeMap<u64, Value>>,
    /// (type, id, type, id), both ways.
    links: Vec<(String, String, String, String)>,
    next_id: u64,
    seq: i64,
    requests: Vec<Request>,
    limited: bool,
}

pub struct FakeHubSpot {
    pub url: String,
    portal: Arc<Mutex<Portal>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeHubSpot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeHubSpot {
    pub async fn start() -> FakeHubSpot {
        let portal = Arc::new(Mutex::new(Portal {
            next_id: 1000,
            ..Default::default()
        }));
        let app = Router::new().fallback(handle).with_state(portal.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeHubSpot { url, portal, task }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.portal.lock().unwrap().requests.clone()
    }

    /// The stored object of `kind` with `id`.
    pub fn object(&self, kind: &str, id: &str) -> Option<Value> {
        let p = self.portal.lock().unwrap();
        p.objects.get(kind)?.get(&id.parse().ok()?).cloned()
    }
}

fn link_type(id: u64) -> &'static str {
    match id {
        202 => "contacts",
        214 => "deals",
        _ => "companies",
    }
}

fn matches(o: &Value, f: &Value) -> bool {
    let prop = o["properties"][f["propertyName"].as_str().unwrap_or("")]
        .as_str()
        .unwrap_or("");
    let value = f["value"].as_str().unwrap_or("");
    let values: Vec<String> = f["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_lowercase))
        .collect();
    let num = |s: &str| s.parse::<f64>().ok();
    match f["operator"].as_str().unwrap_or("") {
        "EQ" => prop.eq_ignore_ascii_case(value),
        "IN" => values.contains(&prop.to_lowercase()),
        "NOT_IN" => !values.contains(&prop.to_lowercase()),
        "GTE" => num(prop).zip(num(value)).is_some_and(|(a, b)| a >= b),
        "LTE" => num(prop).zip(num(value)).is_some_and(|(a, b)| a <= b),
        "LT" => num(prop).zip(num(value)).is_some_and(|(a, b)| a < b),
        "HAS_PROPERTY" => !prop.is_empty(),
        "NOT_HAS_PROPERTY" => prop.is_empty(),
        other => panic!("the double does not know operator {other}"),
    }
}

fn page<T: Clone>(items: &[T], after: Option<&str>, limit: usize) -> (Vec<T>, Option<String>) {
    let start: usize = after.and_then(|a| a.parse().ok()).unwrap_or(0);
    let take = limit.min(PAGE);
    let slice: Vec<T> = items.iter().skip(start).take(take).cloned().collect();
    let next = (start + take < items.len()).then(|| (start + take).to_string());
    (slice, next)
}

async fn handle(
    State(portal): State<Arc<Mutex<Portal>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut p = portal.lock().unwrap();
    p.requests.push(Request {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        auth: auth.clone(),
        body: body.clone(),
    });
    if auth != format!("Bearer {TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"status": "error", "category": "INVALID_AUTHENTICATION"})),
        )
            .into_response();
    }
    let parts: Vec<&str> = uri
        .path()
        .trim_start_matches("/crm/v3/objects/")
        .split('/')
        .collect();
    let now = |p: &mut Portal| {
        p.seq += 1;
        (chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap()
            + chrono::Duration::seconds(p.seq))
        .to_rfc3339()
    };
    match (method.as_str(), parts.as_slice()) {
        // v4: the associations of many records at once.
        ("POST", ["", "crm", "v4", "associations", from, to, "batch", "read"]) => {
            let results: Vec<Value> = body["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["id"].as_str())
                .map(|id| {
                    let linked: Vec<Value> = p
                        .links
                        .iter()
                        .filter(|(k, i, t, _)| k == from && i == id && t == to)
                        .map(|(_, _, _, t)| json!({"toObjectId": t.parse::<u64>().unwrap(), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 342, "label": null}]}))
                        .collect();
                    json!({"from": {"id": id}, "to": linked})
                })
                .collect();
            Json(json!({"status": "COMPLETE", "results": results})).into_response()
        }
        ("POST", [kind, "search"]) => {
            if *kind == "companies" && !p.limited {
                p.limited = true;
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "1")],
                    Json(json!({"status": "error", "category": "RATE_LIMITS"})),
                )
                    .into_response();
            }
            let filters: Vec<Value> = body["filterGroups"][0]["filters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut found: Vec<Value> = p
                .objects
                .get(*kind)
                .map(|m| {
                    m.values()
                        .filter(|o| filters.iter().all(|f| matches(o, f)))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            found.sort_by(|a, b| b["createdAt"].as_str().cmp(&a["createdAt"].as_str()));
            let (results, next) = page(
                &found,
                body["after"].as_str(),
                body["limit"].as_u64().unwrap_or(10) as usize,
            );
            let mut answer = json!({"total": found.len(), "results": results});
            if let Some(n) = next {
                answer["paging"] = json!({"next": {"after": n}});
            }
            Json(answer).into_response()
        }
        ("POST", [kind]) => {
            p.next_id += 1;
            let id = p.next_id;
            let at = now(&mut p);
            let o = json!({"id": id.to_string(), "properties": body["properties"], "createdAt": at, "updatedAt": at, "archived": false});
            for a in body["associations"].as_array().into_iter().flatten() {
                let to = a["to"]["id"].as_str().unwrap().to_string();
                let to_kind = link_type(a["types"][0]["associationTypeId"].as_u64().unwrap());
                p.links
                    .push((kind.to_string(), id.to_string(), to_kind.into(), to.clone()));
                p.links
                    .push((to_kind.into(), to, kind.to_string(), id.to_string()));
            }
            p.objects
                .entry(kind.to_string())
                .or_default()
                .insert(id, o.clone());
            (StatusCode::CREATED, Json(o)).into_response()
        }
        ("GET", [kind, id, "associations", to]) => {
            let ids: Vec<Value> = p
                .links
                .iter()
                .filter(|(k, i, t, _)| k == kind && i == id && t == to)
                .map(|(_, _, _, t)| json!({"id": t, "type": format!("{kind}_to_{to}")}))
                .collect();
            let (results, next) = page(&ids, query.get("after").map(String::as_str), 100);
            let mut answer = json!({"results": results});
            if let Some(n) = next {
                answer["paging"] = json!({"next": {"after": n}});
            }
            Json(answer).into_response()
        }
        ("PUT", [kind, id, "associations", to, to_id, _label]) => {
            p.links.push((
                kind.to_string(),
                id.to_string(),
                to.to_string(),
                to_id.to_string(),
            ));
            p.links.push((
                to.to_string(),
                to_id.to_string(),
                kind.to_string(),
                id.to_string(),
            ));
            Json(json!({"id": id})).into_response()
        }
        ("DELETE", [kind, id, "associations", to, to_id, _label]) => {
            p.links.retain(|l| {
                !(l.0 == *kind && l.1 == *id && l.2 == *to && l.3 == *to_id)
                    && !(l.0 == *to && l.1 == *to_id && l.2 == *kind && l.3 == *id)
            });
            StatusCode::NO_CONTENT.into_response()
        }
        (m, [kind, id]) => {
            let Ok(n) = id.parse::<u64>() else {
                return StatusCode::NOT_FOUND.into_response();
            };
            if m == "DELETE" {
                let gone = p
                    .objects
                    .get_mut(*kind)
                    .and_then(|m| m.remove(&n))
                    .is_some();
                return if gone {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::NOT_FOUND
                }
                .into_response();
            }
            let at = now(&mut p);
            let links = p.links.clone();
            let Some(o) = p.objects.get_mut(*kind).and_then(|m| m.get_mut(&n)) else {
                return (
                    StatusCode::NOT_FOUND,
                    Json(json!({"status": "error", "category": "OBJECT_NOT_FOUND"})),
                )
                    .into_response();
            };
            match m {
                "GET" => {
                    let mut answer = o.clone();
                    if let Some(assoc) = query.get("associations") {
                        let mut all = json!({});
                        for to in assoc.split(',') {
                            let results: Vec<Value> = links
                                .iter()
                                .filter(|(k, i, t, _)| k == kind && i == id && t == to)
                                .map(|(_, _, _, t)| json!({"id": t}))
                                .collect();
                            if !results.is_empty() {
                                all[to] = json!({"results": results});
                            }
                        }
                        answer["associations"] = all;
                    }
                    Json(answer).into_response()
                }
                "PATCH" => {
                    for (k, v) in body["properties"].as_object().cloned().unwrap_or_default() {
                        o["properties"][k] = v;
                    }
                    o["updatedAt"] = json!(at);
                    Json(o.clone()).into_response()
                }
                _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
