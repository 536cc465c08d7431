//! OAuth connections through a real node (the binary) against a local OAuth server
//! double speaking Slack's, HubSpot's and the RFC 6749 / 7009 token endpoint formats:
//! its authorize endpoint stands in for the person's consent and sends them back to the
//! node's callback with a code; its token endpoints check the client secret, the
//! redirect URI, the code and the PKCE verifier (S256) where a challenge was sent; it
//! records refreshes and revocations. The tests connect each kind, read the rows (no
//! token in clear), refuse wrong, replayed and expired states, see a short-lived token
//! refreshed and a refused refresh marked for connecting again, and see offboarding
//! revoke at the provider.

use crate::common::{self, Admin, NodeProcess, TOKEN, TestStore};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const SECRETS: [(&str, &str); 3] = [
    ("TEST_SLACK_SECRET", "slack-secret-1"),
    ("TEST_HUBSPOT_SECRET", "hubspot-secret-2"),
    ("TEST_IDP_SECRET", "idp-secret-3"),
];

/// A code the double gave out, and what its exchange must carry.
#[derive(Clone)]
struct Code {
    provider: String,
    redirect_uri: String,
    challenge: Option<String>,
}

#[derive(Default)]
struct Server {
    codes: HashMap<String, Code>,
    /// Live refresh tokens, by provider.
    refresh: HashMap<String, String>,
    /// Every token given out.
    issued: Vec<String>,
    /// (provider, refresh token) of each refresh asked for.
    refreshes: Vec<(String, String)>,
    /// (provider, token) of each revocation.
    revoked: Vec<(String, String)>,
    /// Providers whose refreshes are refused (`invalid_grant`).
    refuse: Vec<String>,
    /// Seconds the first access token of each provider lives.
    first_expiry: HashMap<String, i64>,
    n: usize,
}

#[derive(Clone)]
struct OAuthDouble {
    url: String,
    server: Arc<Mutex<Server>>,
}

fn secret_of(provider: &str) -> &'static str {
    match provider {
        "slack" => SECRETS[0].1,
        "hubspot" => SECRETS[1].1,
        _ => SECRETS[2].1,
    }
}

fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl OAuthDouble {
    async fn start() -> OAuthDouble {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let double = OAuthDouble {
            url,
            server: Default::default(),
        };
        let app = Router::new()
            .route("/{provider}/authorize", get(authorize))
            .route("/slack/oauth.v2.access", post(slack_token))
            .route("/slack/auth.revoke", post(slack_revoke))
            .route("/hubspot/oauth/v1/token", post(hubspot_token))
            .route("/hubspot/oauth/v1/access-tokens/{token}", get(hubspot_info))
            .route(
                "/hubspot/oauth/v1/refresh-tokens/{token}",
                delete(hubspot_revoke),
            )
            .route("/idp/token", post(rfc_token))
            .route("/idp/revoke", post(rfc_revoke))
            .with_state(double.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        double
    }

    /// `[oauth.providers]` naming the double's endpoints, as an inline TOML table.
    fn providers(&self) -> String {
        let u = &self.url;
        format!(
            "{{ slack = {{ kind = \"slack\", client_id = \"111.222\", client_secret_env = \"TEST_SLACK_SECRET\", \
             scopes = [\"chat:write\", \"channels:read\"], pkce = true, authorize_url = \"{u}/slack/authorize\", \
             token_url = \"{u}/slack/oauth.v2.access\", revoke_url = \"{u}/slack/auth.revoke\" }}, \
             hubspot = {{ kind = \"hubspot\", client_id = \"hs-client\", client_secret_env = \"TEST_HUBSPOT_SECRET\", \
             scopes = [\"crm.objects.contacts.read\"], authorize_url = \"{u}/hubspot/authorize\", \
             token_url = \"{u}/hubspot/oauth/v1/token\", revoke_url = \"{u}/hubspot/oauth/v1/refresh-tokens/{{token}}\" }}, \
             idp = {{ kind = \"generic\", client_id = \"idp client\", client_secret_env = \"TEST_IDP_SECRET\", \
             scopes = [\"openid\", \"offline_access\"], authorize_url = \"{u}/idp/authorize\", \
             token_url = \"{u}/idp/token\", revoke_url = \"{u}/idp/revoke\" }} }}"
        )
    }

    fn issue(&self, s: &mut Server, provider: &str, refresh: bool) -> (String, String, i64) {
        s.n += 1;
        let access = format!("{provider}-access-{}", s.n);
        let refresh_token = format!("{provider}-refresh-{}", s.n);
        s.issued.push(access.clone());
        s.issued.push(refresh_token.clone());
        s.refresh.insert(provider.into(), refresh_token.clone());
        let expires = if refresh {
            3600
        } else {
            s.first_expiry.get(provider).copied().unwrap_or(3600)
        };
        (access, refresh_token, expires)
    }

    /// Checks a code exchange: `Err(reason)` names what was wrong.
    fn check_code(&self, provider: &str, form: &HashMap<String, String>) -> Result<(), String> {
        let mut s = self.server.lock().unwrap();
        let code = form.get("code").cloned().unwrap_or_default();
        let c = s.codes.remove(&code).ok_or("unknown or used code")?;
        if c.provider != provider {
            return Err("code of another provider".into());
        }
        if form.get("redirect_uri") != Some(&c.redirect_uri) {
            return Err("redirect_uri differs from the authorization request's".into());
        }
        match (&c.challenge, form.get("code_verifier")) {
            (Some(ch), Some(v)) if &s256(v) == ch => Ok(()),
            (Some(_), _) => Err("code_verifier does not match the challenge".into()),
            (None, Some(_)) => Err("code_verifier without a challenge".into()),
            (None, None) => Ok(()),
        }
    }

    fn refreshes(&self) -> Vec<(String, String)> {
        self.server.lock().unwrap().refreshes.clone()
    }
}

async fn authorize(
    State(d): State<OAuthDouble>,
    Path(provider): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let redirect_uri = q["redirect_uri"].clone();
    let state = q["state"].clone();
    // The person declined (the test adds `deny=1` for their click on "Cancel").
    if q.contains_key("deny") {
        return Redirect::to(&format!("{redirect_uri}?error=access_denied&state={state}"))
            .into_response();
    }
    let challenge = q.get("code_challenge").cloned();
    if challenge.is_some() && q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return (StatusCode::BAD_REQUEST, "S256 only").into_response();
    }
    let mut s = d.server.lock().unwrap();
    s.n += 1;
    let code = format!("code-{}", s.n);
    s.codes.insert(
        code.clone(),
        Code {
            provider,
            redirect_uri: redirect_uri.clone(),
            challenge,
        },
    );
    Redirect::to(&format!("{redirect_uri}?code={code}&state={state}")).into_response()
}

/// Slack's `oauth.v2.access`: 200 always, `ok` says how it went.
async fn slack_token(
    State(d): State<OAuthDouble>,
    Form(f): Form<HashMap<String, String>>,
) -> Json<Value> {
    if f.get("client_id").map(String::as_str) != Some("111.222")
        || f.get("client_secret").map(String::as_str) != Some(secret_of("slack"))
    {
        return Json(json!({"ok": false, "error": "invalid_client_id"}));
    }
    if f.get("grant_type").map(String::as_str) == Some("refresh_token") {
        return Json(refresh_answer(&d, "slack", &f).map_or_else(
            |_| json!({"ok": false, "error": "invalid_refresh_token"}),
            |(a, r, e)| json!({"ok": true, "access_token": a, "refresh_token": r, "expires_in": e, "token_type": "bot"}),
        ));
    }
    if let Err(e) = d.check_code("slack", &f) {
        return Json(json!({"ok": false, "error": "invalid_code", "detail": e}));
    }
    let mut s = d.server.lock().unwrap();
    let (access, refresh, expires) = d.issue(&mut s, "slack", false);
    Json(json!({
        "ok": true, "access_token": access, "token_type": "bot", "scope": "chat:write,channels:read",
        "bot_user_id": "U0BOT", "app_id": "A0APP", "team": {"name": "Acme Workspace", "id": "T0ACME"},
        "enterprise": null, "authed_user": {"id": "U0PERSON"},
        "refresh_token": refresh, "expires_in": expires
    }))
}

/// A refresh: the provider's live refresh token, unless refused.
fn refresh_answer(
    d: &OAuthDouble,
    provider: &str,
    f: &HashMap<String, String>,
) -> Result<(String, String, i64), ()> {
    let mut s = d.server.lock().unwrap();
    let given = f.get("refresh_token").cloned().unwrap_or_default();
    s.refreshes.push((provider.into(), given.clone()));
    if s.refuse.iter().any(|p| p == provider) || s.refresh.get(provider) != Some(&given) {
        return Err(());
    }
    Ok(d.issue(&mut s, provider, true))
}

async fn slack_revoke(State(d): State<OAuthDouble>, headers: HeaderMap) -> Json<Value> {
    let token = bearer(&headers);
    d.server
        .lock()
        .unwrap()
        .revoked
        .push(("slack".into(), token));
    Json(json!({"ok": true, "revoked": true}))
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string()
}

fn rfc_tokens(access: String, refresh: String, expires: i64) -> Response {
    Json(json!({"token_type": "bearer", "access_token": access, "refresh_token": refresh, "expires_in": expires}))
        .into_response()
}

/// HubSpot's `/oauth/v1/token`: client credentials in the form; errors with `status`.
async fn hubspot_token(
    State(d): State<OAuthDouble>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let bad = |status: &str, message: String| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": status, "message": message})),
        )
            .into_response()
    };
    if f.get("client_id").map(String::as_str) != Some("hs-client")
        || f.get("client_secret").map(String::as_str) != Some(secret_of("hubspot"))
    {
        return bad("BAD_CLIENT_ID", "wrong client".into());
    }
    if f.get("grant_type").map(String::as_str) == Some("refresh_token") {
        return match refresh_answer(&d, "hubspot", &f) {
            Ok((a, r, e)) => rfc_tokens(a, r, e),
            Err(()) => bad(
                "BAD_REFRESH_TOKEN",
                "missing or unknown refresh token".into(),
            ),
        };
    }
    if let Err(e) = d.check_code("hubspot", &f) {
        return bad("BAD_AUTH_CODE", e);
    }
    let mut s = d.server.lock().unwrap();
    let (a, r, e) = d.issue(&mut s, "hubspot", false);
    rfc_tokens(a, r, e)
}

async fn hubspot_info(State(d): State<OAuthDouble>, Path(token): Path<String>) -> Response {
    if !d.server.lock().unwrap().issued.contains(&token) {
        return StatusCode::NOT_FOUND.into_response();
    }
    Json(
        json!({"token": token, "user": "person@acme.com", "hub_domain": "acme.hubspot.com",
        "scopes": ["crm.objects.contacts.read"], "hub_id": 4242, "app_id": 7, "expires_in": 1700}),
    )
    .into_response()
}

async fn hubspot_revoke(State(d): State<OAuthDouble>, Path(token): Path<String>) -> StatusCode {
    d.server
        .lock()
        .unwrap()
        .revoked
        .push(("hubspot".into(), token));
    StatusCode::NO_CONTENT
}

/// The client of a Basic `Authorization`, form-decoded as RFC 6749 2.3.1 says.
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (u, p) = raw.split_once(':')?;
    let dec = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(u)?, dec(p)?))
}

/// RFC 6749 token endpoint with `client_secret_basic`.
async fn rfc_token(
    State(d): State<OAuthDouble>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let err = |status: StatusCode, e: &str| (status, Json(json!({"error": e}))).into_response();
    if basic_client(&headers) != Some(("idp client".into(), secret_of("idp").into())) {
        return err(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match f.get("grant_type").map(String::as_str) {
        Some("refresh_token") => match refresh_answer(&d, "idp", &f) {
            Ok((a, r, e)) => rfc_tokens(a, r, e),
            Err(()) => err(StatusCode::BAD_REQUEST, "invalid_grant"),
        },
        Some("authorization_code") => {
            if d.check_code("idp", &f).is_err() {
                return err(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let mut s = d.server.lock().unwrap();
            let (a, r, e) = d.issue(&mut s, "idp", false);
            rfc_tokens(a, r, e)
        }
        _ => err(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

/// RFC 7009 revocation.
async fn rfc_revoke(
    State(d): State<OAuthDouble>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> StatusCode {
    if basic_client(&headers).is_none() {
        return StatusCode::UNAUTHORIZED;
    }
    let token = f.get("token").cloned().unwrap_or_default();
    d.server.lock().unwrap().revoked.push(("idp".into(), token));
    StatusCode::OK
}

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

fn node_with(
    dir: &std::path::Path,
    double: &OAuthDouble,
    store: Option<&TestStore>,
    key: bool,
) -> NodeProcess {
    let mut env: Vec<(&str, String)> = vec![
        ("EMPLA_OAUTH__PROVIDERS", double.providers()),
        ("EMPLA_OAUTH__STATE_TTL", "5s".into()),
        ("EMPLA_OAUTH__REFRESH_EVERY", "200ms".into()),
        ("EMPLA_OAUTH__REFRESH_MARGIN", "60s".into()),
    ];
    env.extend(SECRETS.iter().map(|(k, v)| (*k, v.to_string())));
    if key {
        env.push(("EMPLA_SECRETS_KEY", KEY.into()));
    }
    if let Some(s) = store {
        env.push(("EMPLA_STORE_URL", store_url(s)));
    }
    common::start_binary_from(
        &common::repo().join("config/empla.toml"),
        dir,
        Some(TOKEN),
        &env,
    )
}

fn no_redirects() -> reqwest::Client {
    empla::telemetry::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts a connection through the API; the authorize URL.
async fn start(node: &NodeProcess, provider: &str) -> String {
    let (status, body) = node
        .post_json(
            "/api/v1/employees/jordan.lee/connections",
            json!({"provider": provider}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["authorize_url"].as_str().unwrap().to_string()
}

/// The person consents at the double: where they are sent back to.
async fn consent(authorize_url: &str) -> String {
    let r = no_redirects().get(authorize_url).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Follows the provider's redirect to the node's callback, without any token.
async fn callback(url: &str) -> (u16, String) {
    let r = no_redirects().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn listed(node: &NodeProcess) -> Vec<Value> {
    node.get_json("/api/v1/employees/jordan.lee/connections")
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn until(what: &str, mut f: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 30s");
}

async fn each_kind_connects_refreshes_and_is_revoked(s: &TestStore) {
    let double = OAuthDouble::start().await;
    {
        let mut srv = double.server.lock().unwrap();
        srv.first_expiry.insert("idp".into(), 5);
        srv.first_expiry.insert("hubspot".into(), 5);
        srv.refuse.push("hubspot".into());
    }
    let dir = tempfile::tempdir().unwrap();
    let node = node_with(dir.path(), &double, Some(s), true);

    // Slack's app install, with PKCE: the bot token and the workspace.
    let authorize = start(&node, "slack").await;
    assert!(
        authorize.starts_with(&format!("{}/slack/authorize?client_id=111.222", double.url)),
        "{authorize}"
    );
    assert!(
        authorize.contains("scope=chat%3Awrite%2Cchannels%3Aread"),
        "{authorize}"
    );
    let back = consent(&authorize).await;
    assert!(
        back.starts_with(&format!("{}/oauth/callback?code=", node.base)),
        "{back}"
    );
    let (status, page) = callback(&back).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Jordan Lee is now connected to slack (Acme Workspace)"),
        "{page}"
    );
    // The same state again is refused: a state is used once.
    let (status, page) = callback(&back).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("used already"), "{page}");

    // HubSpot (no PKCE) and a generic RFC 6749 provider (PKCE by default).
    for provider in ["hubspot", "idp"] {
        let authorize = start(&node, provider).await;
        assert_eq!(
            authorize.contains("code_challenge="),
            provider == "idp",
            "{authorize}"
        );
        let (status, page) = callback(&consent(&authorize).await).await;
        assert_eq!(status, 200, "{provider}: {page}");
    }
    let items = listed(&node).await;
    let by = |p: &str| items.iter().find(|c| c["provider"] == p).unwrap().clone();
    assert_eq!(by("slack")["account_id"], "T0ACME");
    assert_eq!(
        by("slack")["scopes"],
        json!(["chat:write", "channels:read"])
    );
    assert_eq!(by("hubspot")["account_name"], "acme.hubspot.com");
    assert_eq!(by("hubspot")["account_id"], "4242");
    assert_eq!(by("idp")["kind"], "generic");
    assert!(
        !items.iter().any(|c| c.to_string().contains("-access-")),
        "{items:?}"
    );

    // The rows hold no token in clear.
    let employee = node.get_json("/api/v1/employees/jordan.lee").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rows = s.store.connections("default", &employee).await.unwrap();
    assert_eq!(rows.len(), 3);
    let issued = double.server.lock().unwrap().issued.clone();
    for row in &rows {
        for sealed in [&row.access_token, &row.refresh_token] {
            assert!(sealed.starts_with("v1:"), "{sealed}");
            assert!(
                !issued.iter().any(|t| sealed.contains(t.as_str())),
                "{sealed}"
            );
        }
    }

    // The generic provider's 5-second token is refreshed before it expires; HubSpot's
    // refresh is refused: marked for connecting again, and not tried again.
    until("the idp token's refresh", async || {
        listed(&node)
            .await
            .iter()
            .any(|c| c["provider"] == "idp" && !c["refreshed_at"].is_null())
    })
    .await;
    until("hubspot's refused refresh", async || {
        listed(&node)
            .await
            .iter()
            .any(|c| c["provider"] == "hubspot" && c["status"] == "reconnect")
    })
    .await;
    let idp = listed(&node)
        .await
        .into_iter()
        .find(|c| c["provider"] == "idp")
        .unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(idp["expires_at"].clone()).unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::minutes(30),
        "{idp}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let hubspot_tries = double
        .refreshes()
        .iter()
        .filter(|(p, _)| p == "hubspot")
        .count();
    assert_eq!(hubspot_tries, 1, "a refused refresh is not retried");
    let hubspot = listed(&node)
        .await
        .into_iter()
        .find(|c| c["provider"] == "hubspot")
        .unwrap();
    assert!(
        hubspot["problem"]
            .as_str()
            .unwrap()
            .contains("connect again"),
        "{hubspot}"
    );

    // Disconnecting one revokes it at the provider (RFC 7009: the refresh token).
    let r = common::http()
        .delete(node.url("/api/v1/employees/jordan.lee/connections/idp"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let live_idp = double.server.lock().unwrap().refresh["idp"].clone();
    assert!(
        double
            .server
            .lock()
            .unwrap()
            .revoked
            .contains(&("idp".into(), live_idp))
    );
    assert_eq!(listed(&node).await.len(), 2);

    // Offboarding revokes the rest: Slack's bot token, HubSpot's refresh token.
    let r = common::http()
        .delete(node.url("/api/v1/employees/jordan.lee"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let revoked = double.server.lock().unwrap().revoked.clone();
    assert!(
        revoked
            .iter()
            .any(|(p, t)| p == "slack" && t.starts_with("slack-access-")),
        "{revoked:?}"
    );
    assert!(
        revoked
            .iter()
            .any(|(p, t)| p == "hubspot" && t.starts_with("hubspot-refresh-")),
        "{revoked:?}"
    );
    // The handle no longer names the employee; its id still does.
    let after = node
        .get_json(&format!("/api/v1/employees/{employee}/connections"))
        .await;
    assert_eq!(after["items"], json!([]), "{after}");
    assert!(
        s.store
            .connections("default", &employee)
            .await
            .unwrap()
            .is_empty()
    );
}

crate::on_every_test_store!(each_kind_connects_refreshes_and_is_revoked);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_declined_and_expired_states_are_refused() {
    let double = OAuthDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = node_with(dir.path(), &double, None, true);
    let (status, page) = callback(&node.url("/oauth/callback?code=x&state=made-up")).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("not one this node started"), "{page}");
    let (status, _) = callback(&node.url("/oauth/callback?code=x")).await;
    assert_eq!(status, 400);

    // A state taken with a wrong code: the provider refuses, nothing is connected.
    let back = consent(&start(&node, "idp").await).await;
    let forged = back.replace("code=code-", "code=forged-");
    let (status, page) = callback(&forged).await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("invalid_grant"), "{page}");

    // Declined at the provider: nothing connected, and the state is spent.
    let back = consent(&format!("{}&deny=1", start(&node, "hubspot").await)).await;
    assert!(back.contains("error=access_denied"), "{back}");
    let (status, page) = callback(&back).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("access was declined"), "{page}");
    assert_eq!(callback(&back).await.0, 400);

    // A provider the node does not know.
    let (status, body) = node
        .post_json(
            "/api/v1/employees/jordan.lee/connections",
            json!({"provider": "nowhere"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("configured: hubspot, idp, slack"),
        "{body}"
    );

    // Expired: the person came back after `oauth.state_ttl`.
    let back = consent(&start(&node, "slack").await).await;
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let (status, page) = callback(&back).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("expired"), "{page}");
    assert!(listed(&node).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_connects_lists_and_disconnects() {
    let double = OAuthDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = node_with(dir.path(), &double, None, true);
    let said = node.cli(&["connect", "jordan.lee", "hubspot"]);
    let link = said
        .lines()
        .find(|l| l.starts_with(&double.url))
        .unwrap_or_else(|| panic!("no link in {said}"))
        .trim()
        .to_string();
    let (status, page) = callback(&consent(&link).await).await;
    assert_eq!(status, 200, "{page}");
    let list = node.cli(&["connections", "jordan.lee"]);
    assert!(
        list.contains("hubspot")
            && list.contains("connected")
            && list.contains("acme.hubspot.com (4242)"),
        "{list}"
    );
    assert!(!list.contains("hubspot-access-"), "{list}");
    node.cli(&["disconnect", "jordan.lee", "hubspot"]);
    let revoked = double.server.lock().unwrap().revoked.clone();
    assert!(revoked.iter().any(|(p, _)| p == "hubspot"), "{revoked:?}");
    let list = node.cli(&["connections", "jordan.lee"]);
    assert!(list.contains("has no connections"), "{list}");
    let out = node.run_cli(&["disconnect", "jordan.lee", "hubspot"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not connected to `hubspot`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secrets_key_connecting_is_refused_saying_how_to_make_one() {
    let double = OAuthDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = node_with(dir.path(), &double, None, false);
    let (status, body) = node
        .post_json(
            "/api/v1/employees/jordan.lee/connections",
            json!({"provider": "slack"}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("EMPLA_SECRETS_KEY is not set") && text.contains("openssl rand -hex 32"),
        "{text}"
    );
}
