//! A stand-in for the OAuth 2.0 servers of Slack, HubSpot and a generic RFC 6749 / 7009
//! provider, since the real ones cannot run in a test. Its authorize endpoint stands in
//! for the person's consent (or their "Cancel", with `deny=1`) and sends them back to
//! the `redirect_uri` with a code. Its token endpoints speak each provider's documented
//! format — Slack's `oauth.v2.access` (HTTP 200 with `ok`, the bot token, `team`),
//! HubSpot's `/oauth/v1/token` (client credentials in the form, errors with `status`) and
//! its access-token info, RFC 6749 with `client_secret_basic` — and check the client
//! secret, the redirect URI, the code (once) and the PKCE verifier (S256) where a
//! challenge was sent. Refreshes and revocations are recorded for the test to inspect.

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

/// Each provider's client secret variable and value.
pub const SECRETS: [(&str, &str); 3] = [
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
pub struct Server {
    codes: HashMap<String, Code>,
    /// Live refresh tokens, by provider.
    pub refresh: HashMap<String, String>,
    /// Every token given out.
    pub issued: Vec<String>,
    /// (provider, refresh token) of each refresh asked for.
    pub refreshes: Vec<(String, String)>,
    /// (provider, token) of each revocation.
    pub revoked: Vec<(String, String)>,
    /// Providers whose refreshes are refused (`invalid_grant`).
    pub refuse: Vec<String>,
    /// Seconds the first access token of each provider lives.
    pub first_expiry: HashMap<String, i64>,
    pub n: usize,
}

#[derive(Clone)]
pub struct OAuthDouble {
    pub url: String,
    pub server: Arc<Mutex<Server>>,
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
    pub async fn start() -> OAuthDouble {
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
    pub fn providers(&self) -> String {
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

    pub fn refreshes(&self) -> Vec<(String, String)> {
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
    if basic_client(&headers) != Some(("idp client".into(), secret_of("idp").into())) {
        return StatusCode::UNAUTHORIZED;
    }
    let token = f.get("token").cloned().unwrap_or_default();
    d.server.lock().unwrap().revoked.push(("idp".into(), token));
    StatusCode::OK
}
