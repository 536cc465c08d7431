//! OAuth connections through a real node (the binary; the library's `Connections` for
//! the token handed to an employee's tools) against a local OAuth server
//! double speaking Slack's, HubSpot's and the RFC 6749 / 7009 token endpoint formats:
//! its authorize endpoint stands in for the person's consent and sends them back to the
//! node's callback with a code; its token endpoints check the client secret, the
//! redirect URI, the code and the PKCE verifier (S256) where a challenge was sent; it
//! records refreshes and revocations. The tests connect each kind, read the rows (no
//! token in clear), refuse wrong, replayed and expired states, see a short-lived token
//! refreshed and a refused refresh marked for connecting again, and see offboarding
//! revoke at the provider.

use crate::common::{self, Admin, NodeProcess, TOKEN, TestStore};
use crate::oauth_fixture::{OAuthDouble, SECRETS};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

const KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

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
    let key = empla::connections::SecretKey::parse(KEY).unwrap();
    for row in &rows {
        let ctx = format!("default/{employee}/{}/access", row.provider);
        let sealed = &row.access_token;
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(
            !issued.iter().any(|t| sealed.contains(t.as_str())),
            "{sealed}"
        );
        // What is kept is the issued token, sealed: it opens with the key, and only
        // for its own row.
        let opened = key.open(sealed, &ctx).unwrap();
        assert!(issued.contains(&opened), "{opened} was not issued");
        assert!(
            key.open(sealed, &format!("default/{employee}/other/access"))
                .is_err()
        );
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

crate::on_every_test_store!(
    each_kind_connects_refreshes_and_is_revoked,
    an_expiring_token_is_refreshed_before_it_is_handed_out
);

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

/// The code and state of the provider's redirect back.
fn code_and_state(back: &str) -> (String, String) {
    let query = back.split_once('?').unwrap().1;
    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (q["code"].clone(), q["state"].clone())
}

/// An employee's tools ask for the access token: one about to expire is refreshed
/// first, once however many ask at the same time.
async fn an_expiring_token_is_refreshed_before_it_is_handed_out(s: &TestStore) {
    let double = OAuthDouble::start().await;
    double
        .server
        .lock()
        .unwrap()
        .first_expiry
        .insert("idp".into(), 30);
    let cfg = empla::config::NodeConfig::parse(
        "t.toml",
        "",
        &[("EMPLA_OAUTH__PROVIDERS".to_string(), double.providers())],
    )
    .unwrap();
    let env = |k: &str| match k {
        "EMPLA_SECRETS_KEY" => Some(KEY.to_string()),
        _ => SECRETS
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string()),
    };
    let conns = std::sync::Arc::new(
        empla::connections::Connections::new(&cfg.oauth, s.store.clone(), &env).unwrap(),
    );
    let started = conns
        .start("t1", "e1", "idp", "http://127.0.0.1:9")
        .await
        .unwrap();
    let back = consent(&started.authorize_url).await;
    assert!(
        back.starts_with("http://127.0.0.1:9/oauth/callback?"),
        "{back}"
    );
    let (code, state) = code_and_state(&back);
    let flow = conns.take(&state).await.unwrap();
    assert_eq!(
        (flow.tenant.as_str(), flow.employee_id.as_str()),
        ("t1", "e1")
    );
    conns.finish(&flow, &code).await.unwrap();
    let first = double.server.lock().unwrap().refresh["idp"].clone();

    // 30 s left, inside the 5-minute margin: refreshed first, by one of the two callers.
    let (a, b) = tokio::join!(
        conns.access_token("t1", "e1", "idp"),
        conns.access_token("t1", "e1", "idp")
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert!(a.starts_with("idp-access-"), "{a}");
    let refreshes = double.refreshes();
    assert_eq!(refreshes, [("idp".to_string(), first)], "one refresh");
    let issued = double.server.lock().unwrap().issued.clone();
    assert_eq!(
        a,
        issued[issued.len() - 2],
        "the refreshed token is handed out"
    );
    // Now good for an hour: handed out as it is.
    assert_eq!(conns.access_token("t1", "e1", "idp").await.unwrap(), a);
    assert_eq!(double.refreshes().len(), 1);
    // Another tenant's employee of the same id has no connection.
    assert!(matches!(
        conns.access_token("t2", "e1", "idp").await,
        Err(empla::connections::ConnectionError::NotConnected(_))
    ));
}

/// From the dashboard: the employee page offers the configured providers; connecting
/// sends the browser to the provider, and after consent the page lists the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_is_connected_from_the_dashboard() {
    use crate::dashboard::{FORM, encode, sign_in};
    let double = OAuthDouble::start().await;
    let dir = tempfile::tempdir().unwrap();
    let node = node_with(dir.path(), &double, None, true);
    let me = sign_in(&node, TOKEN).await;
    let page = |c: &str| {
        no_redirects()
            .get(node.url("/ui/employees/jordan.lee"))
            .header("cookie", c.to_string())
            .send()
    };
    let html = page(&me.cookie).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("<option value=\"hubspot\">hubspot</option>"),
        "{html}"
    );
    let r = no_redirects()
        .post(node.url("/ui/employees/jordan.lee/connect"))
        .header("cookie", &me.cookie)
        .header("content-type", FORM)
        .body(encode(&[
            ("csrf", me.csrf.as_str()),
            ("provider", "hubspot"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let authorize = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        authorize.starts_with(&format!("{}/hubspot/authorize?", double.url)),
        "{authorize}"
    );
    let (status, done) = callback(&consent(&authorize).await).await;
    assert_eq!(status, 200, "{done}");
    let html = page(&me.cookie).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("hubspot: ") && html.contains("connected"),
        "{html}"
    );
    // Without the session's csrf, nothing is started.
    let forged = no_redirects()
        .post(node.url("/ui/employees/jordan.lee/connect"))
        .header("cookie", &me.cookie)
        .header("content-type", FORM)
        .body(encode(&[("csrf", "forged"), ("provider", "hubspot")]))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    node.terminate();
}
