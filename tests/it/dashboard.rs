//! The dashboard at `/ui/` against a real `empla` node process: signing in and out, the
//! session cookie's flags, CSRF on forms, the login limit, what a viewer may not do
//! (plain HTTP); and the whole flow in a real browser — Python Playwright driving
//! Debian's chromium (`tests/dashboard/browser.py`), with axe-core checking every page.
//! The browser and its venv come from `tests/dashboard/browser.sh install` (`.ci/run`
//! runs it); without them the browser test fails saying so, never skips.

use crate::common::{self, NodeProcess, eventually};
use empla::model::{Role, TokenInfo};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// `pairs` as a form body.
pub(crate) fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let esc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", esc(k.as_ref()), esc(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    empla::telemetry::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `Set-Cookie` header of `r` that sets `name`.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The value `Set-Cookie` gives.
fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

/// The value of the hidden field `csrf` in `html`.
fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A signed-in session: its cookie header and its CSRF token.
pub(crate) struct Session {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

/// Signs in with `token` through the login form, as a browser would.
pub(crate) async fn sign_in(node: &NodeProcess, token: &str) -> Session {
    let c = client();
    let form = c.get(node.url("/ui/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let login_cookie = set_cookie(&form, "empla_login_csrf").expect("the form's CSRF cookie");
    let html = form.text().await.unwrap();
    let r = c
        .post(node.url("/ui/login"))
        .header(
            COOKIE,
            format!("empla_login_csrf={}", cookie_value(&login_cookie)),
        )
        .header(CONTENT_TYPE, FORM)
        .body(encode(&[("token", token), ("csrf", &csrf_in(&html))]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    assert_eq!(r.headers()[LOCATION], "/ui/");
    let set = set_cookie(&r, "empla_session").expect("the session cookie is set");
    let cookie = format!("empla_session={}", cookie_value(&set));
    let page = c
        .get(node.url("/ui/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_in(&page.text().await.unwrap());
    Session { cookie, csrf }
}

/// Hires Pat Doe (Sales AE), assisted, and waits until three outreach mails wait for
/// approval; their ids.
async fn outreach_waiting(node: &NodeProcess) -> Vec<String> {
    node.cli(&["hire", "--role", "sales_ae", "--name", "Pat Doe"]);
    node.cli(&["phase", "pat.doe", "assisted"]);
    node.cli(&[
        "send-event",
        "pat.doe",
        "--kind",
        "metric",
        "--payload",
        r#"{"metric":"pipeline_coverage","value":2.1}"#,
    ]);
    eventually(60, "three outreach mails waiting for approval", || async {
        let q: Value = node
            .get_json("/api/v1/approvals?status=pending&employee=pat.doe")
            .await;
        let items = q["items"].as_array().unwrap();
        (items.len() == 3).then(|| {
            items
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect()
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_opened_by_a_token_and_guards_every_page_and_form() {
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(dir.path());
    let c = client();

    // No session: to the login form, which posts `token` and a hidden `csrf`.
    let r = c.get(node.url("/ui/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/ui/login");
    let r = c
        .get(node.url("/ui/employees/jordan.lee"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let form = c.get(node.url("/ui/login")).send().await.unwrap();
    let login_cookie = set_cookie(&form, "empla_login_csrf").unwrap();
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));
    let html = form.text().await.unwrap();
    assert!(
        html.contains("action=\"/ui/login\"") && html.contains("name=\"token\""),
        "{html}"
    );
    let csrf = csrf_in(&html);
    let login = |token: &str, csrf: &str, cookie: Option<String>| {
        let mut rb = c
            .post(node.url("/ui/login"))
            .header(CONTENT_TYPE, FORM)
            .body(encode(&[
                ("token", token.to_string()),
                ("csrf", csrf.to_string()),
            ]));
        if let Some(v) = cookie {
            rb = rb.header(COOKIE, format!("empla_login_csrf={v}"));
        }
        rb.send()
    };

    // The right token without the form's cookie (a form posted from elsewhere) opens
    // nothing; a wrong token neither.
    let r = login(&node.token, &csrf, None).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "empla_session").is_none());
    let r = login("not-a-token", &csrf, Some(cookie_value(&login_cookie)))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(set_cookie(&r, "empla_session").is_none());
    assert!(r.text().await.unwrap().contains("not valid"));

    // The right token: a session cookie, HttpOnly, SameSite=Strict, for /ui, that ends
    // (not Secure: this node's public URL is plain http).
    let r = login(&node.token, &csrf, Some(cookie_value(&login_cookie)))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/ui/");
    let set = set_cookie(&r, "empla_session").unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age="] {
        assert!(set.contains(flag), "{flag} missing from {set}");
    }
    let max_age: i64 = set
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(max_age > 0 && max_age <= 8 * 3600, "{set}");
    assert!(!set.contains("Secure"), "{set}");
    let cookie = format!("empla_session={}", cookie_value(&set));

    // The team, with the demo employees' names in the HTML itself.
    let r = c
        .get(node.url("/ui/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let team = r.text().await.unwrap();
    assert!(team.contains("Jordan Lee"), "{team}");
    assert!(team.contains("hx-ext=\"sse\" sse-connect="), "{team}");
    assert!(team.contains("node-admin (admin, default)"), "{team}");
    let session_csrf = csrf_in(&team);

    // A form without the session's CSRF token changes nothing.
    let post = |path: &str, csrf: &str| {
        c.post(node.url(path))
            .header(COOKIE, &cookie)
            .header(CONTENT_TYPE, FORM)
            .body(encode(&[
                ("csrf", csrf),
                ("kind", "praise"),
                ("text", "great work"),
            ]))
            .send()
    };
    let r = post("/ui/employees/jordan.lee/feedback", "forged")
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post("/ui/employees/jordan.lee/feedback", &session_csrf)
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // The UI's writes are in the audit trail, through the `ui` face, which the audit
    // page (an admin's) shows.
    let audit = c
        .get(node.url("/ui/audit"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        audit.contains("<td>ui</td><td>POST &#x2f;ui&#x2f;employees&#x2f;{id}&#x2f;feedback</td>"),
        "{audit}"
    );

    // Signing out ends the session: the cookie is cleared and no longer opens pages.
    let r = c
        .post(node.url("/ui/logout"))
        .header(COOKIE, &cookie)
        .header(CONTENT_TYPE, FORM)
        .body(encode(&[("csrf", &session_csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/ui/login");
    assert!(
        set_cookie(&r, "empla_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    let r = c
        .get(node.url("/ui/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/ui/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_from_one_address_are_held_back() {
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(dir.path());
    let c = client();
    let form = c.get(node.url("/ui/login")).send().await.unwrap();
    let cookie = format!(
        "empla_login_csrf={}",
        cookie_value(&set_cookie(&form, "empla_login_csrf").unwrap())
    );
    let csrf = csrf_in(&form.text().await.unwrap());
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = c
            .post(node.url("/ui/login"))
            .header(COOKIE, &cookie)
            .header(CONTENT_TYPE, FORM)
            .body(encode(&[
                ("token", format!("guess-{i}")),
                ("csrf", csrf.clone()),
            ]))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            let wait: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // Even the right token waits now.
    let r = c
        .post(node.url("/ui/login"))
        .header(COOKIE, &cookie)
        .header(CONTENT_TYPE, FORM)
        .body(encode(&[("token", node.token.as_str()), ("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

/// Creates a viewer token of the node's tenant in its store; the secret.
async fn viewer_token(data: &Path) -> String {
    let url = format!("sqlite://{}", data.join("empla.db").display());
    let store = empla::store::Store::connect(&url, &Default::default())
        .await
        .unwrap();
    let secret = empla::api::auth::secret("empla_");
    let info = TokenInfo {
        id: "tok-viewer-test".into(),
        tenant: "default".into(),
        name: "vera-viewer".into(),
        role: Role::Viewer,
        created_by: "test".into(),
        created_at: chrono::Utc::now(),
        last_used_at: None,
        revoked_at: None,
    };
    store
        .create_token(&info, &empla::api::auth::digest(&secret))
        .await
        .unwrap();
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_queue_without_buttons_and_cannot_decide() {
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(dir.path());
    let waiting = outreach_waiting(&node).await;
    let viewer = sign_in(&node, &viewer_token(dir.path()).await).await;
    let c = client();
    let page = c
        .get(node.url("/ui/employees/pat.doe"))
        .header(COOKIE, &viewer.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("id=\"approval-{}\"", waiting[0])),
        "{page}"
    );
    assert!(
        !page.contains("/approve\""),
        "a viewer is shown no Approve: {page}"
    );
    assert!(
        !page.contains("/reject\""),
        "a viewer is shown no Reject: {page}"
    );
    assert!(
        !page.contains("/feedback\""),
        "a viewer is shown no feedback box: {page}"
    );
    let r = c
        .post(node.url(&format!("/ui/approvals/{}/approve", waiting[0])))
        .header(COOKIE, &viewer.cookie)
        .header(CONTENT_TYPE, FORM)
        .body(encode(&[("csrf", viewer.csrf.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let q = node
        .get_json("/api/v1/approvals?status=pending&employee=pat.doe")
        .await;
    assert_eq!(q["items"].as_array().unwrap().len(), 3, "{q}");
    // Nor is the audit trail shown to a viewer.
    let r = c
        .get(node.url("/ui/audit"))
        .header(COOKIE, &viewer.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

fn browser_python() -> PathBuf {
    let out = Command::new("bash")
        .arg(common::repo().join("tests/dashboard/browser.sh"))
        .arg("python")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the dashboard's browser test needs chromium, Playwright and axe-core: run \
         `bash tests/dashboard/browser.sh install` (`.ci/run` does) — {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn axe_path() -> String {
    let out = Command::new("bash")
        .arg(common::repo().join("tests/dashboard/browser.sh"))
        .arg("axe")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Where the browser test's screenshots are kept:
/// `$CARGO_TARGET_DIR/test-artifacts/dashboard/` (or `target/` beside the repo).
fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join("target"));
    let dir = target.join("test-artifacts/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_steers_an_employee_in_a_real_browser() {
    let python = browser_python();
    let axe = axe_path();
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(dir.path());
    let waiting = outreach_waiting(&node).await;
    let shots = artifacts();
    let mut script = Command::new(&python)
        .arg(common::repo().join("tests/dashboard/browser.py"))
        .args([&node.base, &node.token, "pat.doe"])
        .arg(&shots)
        .arg(&axe)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    // The script says when it watches the page; the third mail is then approved
    // through the CLI, and the page must show it without a reload.
    let stdout = script.stdout.take().unwrap();
    let third = waiting[2].clone();
    let cli = {
        let base = node.base.clone();
        let token = node.token.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut seen = Vec::new();
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.trim() == "WATCHING" {
                    let out = Command::new(env!("CARGO_BIN_EXE_empla"))
                        .args(["approve", &third, "--reason", "fine", "--node", &base])
                        .env("EMPLA_API_TOKEN", &token)
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                seen.push(line);
            }
            seen
        })
    };
    let status = tokio::task::spawn_blocking(move || script.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let lines = cli.join().expect("the CLI step ran");
    let out = lines.join("\n");
    assert!(
        status.status.success(),
        "tests/dashboard/browser.py failed:\n{out}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(out.contains("ALL PASSED"), "{out}");
    for shot in ["team.png", "employee.png"] {
        let len = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(
            len > 1000,
            "screenshot {shot} missing from {}",
            shots.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_behind_an_https_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary_with(
        dir.path(),
        Some(common::TOKEN),
        &[("EMPLA_NODE__PUBLIC_URL", "https://empla.example.com".into())],
    );
    let c = client();
    let form = c.get(node.url("/ui/login")).send().await.unwrap();
    let login_cookie = set_cookie(&form, "empla_login_csrf").unwrap();
    assert!(login_cookie.contains("; Secure"), "{login_cookie}");
    let csrf = csrf_in(&form.text().await.unwrap());
    let r = c
        .post(node.url("/ui/login"))
        .header(
            COOKIE,
            format!("empla_login_csrf={}", cookie_value(&login_cookie)),
        )
        .header(CONTENT_TYPE, FORM)
        .body(encode(&[("token", node.token.as_str()), ("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let set = set_cookie(&r, "empla_session").unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Secure"] {
        assert!(set.contains(flag), "{flag} missing from {set}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_is_decided_from_the_employee_page() {
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(dir.path());
    node.set_phase("sam.rivera", "autonomous").await;
    // Retention at risk, reported twice: the CSM escalates it to its manager.
    for n in 0..2 {
        let (status, r) = node
            .post_json(
                "/api/v1/employees/sam.rivera/events",
                serde_json::json!({"kind": "signal.retention_at_risk", "source": "test",
                    "payload": {"projected": 0.81}, "idempotency_key": format!("risk-{n}")}),
            )
            .await;
        assert_eq!(status, 202, "{r}");
    }
    let case = eventually(30, "an open escalation", || async {
        let q = node.get_json("/api/v1/escalations?status=pending").await;
        q["items"][0]["id"].as_str().map(str::to_string)
    })
    .await;
    let me = sign_in(&node, &node.token).await;
    let c = client();
    let page = c
        .get(node.url("/ui/employees/sam.rivera"))
        .header(COOKIE, &me.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("id=\"case-{case}\"")), "{page}");
    let decide = |decision: &'static str| {
        c.post(node.url(&format!("/ui/escalations/{case}/decide")))
            .header(COOKIE, &me.cookie)
            .header(CONTENT_TYPE, FORM)
            .body(encode(&[
                ("csrf", me.csrf.as_str()),
                ("decision", decision),
                ("reason", "Book the renewal review"),
                ("back", "/ui/employees/sam.rivera"),
            ]))
            .send()
    };
    assert_eq!(decide("maybe").await.unwrap().status(), 400);
    let r = decide("approve").await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/ui/employees/sam.rivera");
    let decided = node.get_json("/api/v1/escalations?status=decided").await;
    let e = &decided["items"][0];
    assert_eq!(e["id"], case.as_str(), "{decided}");
    assert_eq!(e["decision"], "approve", "{decided}");
    assert_eq!(e["reason"], "Book the renewal review", "{decided}");
    assert_eq!(e["decided_by"], "node-admin", "{decided}");
    // Decided once: a second decision is refused.
    assert_eq!(decide("reject").await.unwrap().status(), 409);
}
