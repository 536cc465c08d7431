//! Chat through Slack: the real `empla` binary with `chat.driver = "slack"`, Sam Rivera
//! as its own Slack app, and a stand-in for Slack ([`FakeSlack`]) that speaks Slack's
//! wire format to the real client (slack-morphism) and signs Events API requests as
//! Slack does. A signed mention or DM is answered with `chat.postMessage` in its
//! channel and thread; an unsigned, wrongly signed or replayed request is refused and
//! nothing is stored; a retried event is perceived once; Socket Mode events are
//! answered and acknowledged; a bad Slack configuration stops the node at start
//! naming the key and the fix.

use super::common::{NodeProcess, TOKEN, eventually, http, repo, start_binary_with};
use super::slack_fixture::{FakeSlack, app_mention, direct_message, event_callback, signature};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

pub(super) const BOT_TOKEN: &str = "xoxb-sam-bot-token";
const APP_TOKEN: &str = "xapp-sam-app-token";
pub(super) const SIGNING_SECRET: &str = "sam-signing-secret-8f742231b10e8888";
pub(super) const SAM_BOT_USER: &str = "USAMBOT";
const APP_ID: &str = "A0SAM";

pub(super) fn credentials(data: &Path, socket_mode: bool) {
    let app_token = if socket_mode {
        "app_token_env = \"SAM_SLACK_APP_TOKEN\"\n"
    } else {
        ""
    };
    std::fs::write(
        data.join("slack-credentials.toml"),
        format!(
            "[apps.\"sam.rivera\"]\nbot_token_env = \"SAM_SLACK_BOT_TOKEN\"\nsigning_secret_env = \"SAM_SLACK_SIGNING_SECRET\"\n{app_token}app_id = \"{APP_ID}\"\n"
        ),
    )
    .unwrap();
}

pub(super) fn node_env(slack: &FakeSlack) -> Vec<(&'static str, String)> {
    vec![
        ("EMPLA_CHAT__DRIVER", "slack".into()),
        ("EMPLA_CHAT__API_URL", slack.api_url.clone()),
        ("SAM_SLACK_BOT_TOKEN", BOT_TOKEN.into()),
        ("SAM_SLACK_APP_TOKEN", APP_TOKEN.into()),
        ("SAM_SLACK_SIGNING_SECRET", SIGNING_SECRET.into()),
    ]
}

pub(super) async fn start(socket_mode: bool) -> (FakeSlack, tempfile::TempDir, NodeProcess) {
    start_with(
        socket_mode,
        &[(BOT_TOKEN, SAM_BOT_USER), (APP_TOKEN, SAM_BOT_USER)],
        &[],
    )
    .await
}

/// A Slack double knowing `tokens`, and the node with `env` added.
async fn start_with(
    socket_mode: bool,
    tokens: &[(&str, &str)],
    env: &[(&'static str, &str)],
) -> (FakeSlack, tempfile::TempDir, NodeProcess) {
    let slack = FakeSlack::start(tokens).await;
    let data = tempfile::tempdir().unwrap();
    credentials(data.path(), socket_mode);
    let mut all = node_env(&slack);
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    let node = start_binary_with(data.path(), Some(TOKEN), &all);
    (slack, data, node)
}

/// Posts `body` to the node's Events API route as Slack would, signed at `at`.
async fn deliver(node: &NodeProcess, body: &str, at: i64, secret: &str) -> (u16, Value) {
    let r = http()
        .post(node.url("/slack/events/sam.rivera"))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", at.to_string())
        .header("x-slack-signature", signature(secret, at, body))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// chat.postMessage calls made in `channel`.
pub(super) fn posts_in(slack: &FakeSlack, channel: &str) -> Vec<Value> {
    slack
        .calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.body["channel"] == channel)
        .inspect(|c| assert_eq!(c.token, BOT_TOKEN, "posted with the employee's bot token"))
        .map(|c| c.body)
        .collect()
}

/// Sam's perceived Slack events of message `ts`.
pub(super) async fn perceived(node: &NodeProcess, ts: &str) -> usize {
    let episodes = node
        .get_json("/api/v1/employees/sam.rivera/episodes?limit=200")
        .await;
    episodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "event" && e["payload"]["slack"]["ts"] == ts)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_mention_and_a_dm_are_answered_in_their_threads_and_a_retry_is_perceived_once() {
    let (slack, _data, node) = start(false).await;

    // Slack checks the Request URL first.
    let challenge = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
    let (status, r) = deliver(&node, &challenge.to_string(), now(), SIGNING_SECRET).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["challenge"], challenge["challenge"]);

    // The node checked the bot token at start.
    eventually(20, "auth.test with Sam's bot token", || async {
        slack
            .calls("auth.test")
            .iter()
            .any(|c| c.token == BOT_TOKEN)
            .then_some(())
    })
    .await;

    // A mention in a channel: answered in its thread.
    let ts = "1700000000.000100";
    let body = event_callback(
        APP_ID,
        "Ev0MENTION",
        app_mention(
            SAM_BOT_USER,
            "U0PRIYA",
            "C0SUPPORT",
            ts,
            "what are you working on?",
        ),
    )
    .to_string();
    let (status, r) = deliver(&node, &body, now(), SIGNING_SECRET).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["duplicate"], false, "{r}");
    // Stored before the 200: the event is in the inbox already.
    let event_id = r["event_id"].as_str().unwrap().to_string();
    let reply = eventually(20, "Sam's reply in #support", || async {
        posts_in(&slack, "C0SUPPORT").into_iter().next()
    })
    .await;
    assert_eq!(reply["thread_ts"], ts, "{reply}");
    let text = reply["text"].as_str().unwrap();
    assert!(text.contains("shadow phase"), "{reply}");
    // Slack said who wrote (users.info): the employee greets Priya by name.
    assert!(text.starts_with("Hello Priya"), "{reply}");

    // Slack retries the same event (a slow answer, say): perceived once, answered once.
    let (status, r) = deliver(&node, &body, now(), SIGNING_SECRET).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["duplicate"], true, "{r}");
    assert_eq!(r["event_id"], event_id.as_str());

    // A DM: answered in the DM, in the thread of the message.
    let dm_ts = "1700000050.000200";
    let body = event_callback(
        APP_ID,
        "Ev0DM",
        direct_message("U0PRIYA", "D0PRIYA", dm_ts, "hello there"),
    )
    .to_string();
    let (status, r) = deliver(&node, &body, now(), SIGNING_SECRET).await;
    assert_eq!(status, 200, "{r}");
    let reply = eventually(20, "Sam's reply in the DM", || async {
        posts_in(&slack, "D0PRIYA").into_iter().next()
    })
    .await;
    assert_eq!(reply["thread_ts"], dm_ts, "{reply}");
    assert!(
        reply["text"].as_str().unwrap().contains("I'm Sam Rivera"),
        "{reply}"
    );

    // The employee's own message in the DM (Slack echoes it) is not perceived.
    let mut own = direct_message(SAM_BOT_USER, "D0PRIYA", "1700000060.000300", "Hello!");
    own["bot_id"] = json!("BUSAMBOT");
    let body = event_callback(APP_ID, "Ev0OWN", own).to_string();
    let (status, r) = deliver(&node, &body, now(), SIGNING_SECRET).await;
    assert_eq!(status, 200, "{r}");
    assert!(r["ignored"].is_string(), "{r}");

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(perceived(&node, ts).await, 1);
    assert_eq!(posts_in(&slack, "C0SUPPORT").len(), 1, "answered once");
    assert_eq!(
        posts_in(&slack, "D0PRIYA").len(),
        1,
        "its own message not answered"
    );
    assert_eq!(perceived(&node, "1700000060.000300").await, 0);
    let episodes = node
        .get_json("/api/v1/employees/sam.rivera/episodes?limit=200")
        .await;
    let event = episodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "event" && e["payload"]["slack"]["ts"] == ts)
        .unwrap()
        .clone();
    assert_eq!(
        event["payload"]["from"],
        "Priya Shah <priya.shah@example.com>"
    );
    assert_eq!(event["payload"]["slack"]["user"], "U0PRIYA");
    assert_eq!(event["payload"]["conversation"], "slack:C0SUPPORT");

    // The conversation is kept in the node too, under the Slack channel.
    let history = node
        .get_json("/api/v1/employees/sam.rivera/chat?conversation=slack:C0SUPPORT")
        .await;
    assert_eq!(history["items"].as_array().unwrap().len(), 1, "{history}");

    // Presence follows the employee: it is at work.
    eventually(20, "users.setPresence auto", || async {
        slack
            .calls("users.setPresence")
            .iter()
            .any(|c| c.body["presence"] == "auto" && c.token == BOT_TOKEN)
            .then_some(())
    })
    .await;
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_wrongly_signed_and_replayed_requests_are_refused_and_nothing_is_stored() {
    let (slack, _data, node) = start(false).await;
    let ts = "1700000100.000100";
    let body = event_callback(
        APP_ID,
        "Ev0FORGED",
        app_mention(
            SAM_BOT_USER,
            "U0MALLORY",
            "C0SUPPORT",
            ts,
            "send me the customer list",
        ),
    )
    .to_string();

    // Signed with another secret.
    let (status, r) = deliver(&node, &body, now(), "not-the-signing-secret").await;
    assert_eq!(status, 401, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Slack-Signature does not match"),
        "{r}"
    );
    // No signature at all.
    let r = http()
        .post(node.url("/slack/events/sam.rivera"))
        .header("x-slack-request-timestamp", now().to_string())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The body changed after signing.
    let at = now();
    let r = http()
        .post(node.url("/slack/events/sam.rivera"))
        .header("x-slack-request-timestamp", at.to_string())
        .header("x-slack-signature", signature(SIGNING_SECRET, at, &body))
        .body(body.replace("customer list", "customer list now"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A captured request replayed ten minutes later: correctly signed, but stale.
    let (status, r) = deliver(&node, &body, now() - 600, SIGNING_SECRET).await;
    assert_eq!(status, 401, "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("replayed"),
        "{r}"
    );
    // The bearer token of the API is not what Slack's route wants, nor does it help.
    let r = http()
        .post(node.url("/slack/events/sam.rivera"))
        .bearer_auth(TOKEN)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // An employee without a Slack app.
    let (status, _) = {
        let at = now();
        let r = http()
            .post(node.url("/slack/events/jordan.lee"))
            .header("x-slack-request-timestamp", at.to_string())
            .header("x-slack-signature", signature(SIGNING_SECRET, at, &body))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), ())
    };
    // An employee without a Slack app: refused like any unsigned request, telling the
    // caller nothing about which employees have apps.
    assert_eq!(status, 401);
    // Correctly signed, but an event of another Slack app than Sam's.
    let other = event_callback(
        "A0OTHER",
        "Ev0OTHER",
        app_mention(SAM_BOT_USER, "U0PRIYA", "C0SUPPORT", ts, "hello"),
    )
    .to_string();
    let (status, r) = deliver(&node, &other, now(), SIGNING_SECRET).await;
    assert_eq!(status, 400, "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("A0OTHER"),
        "{r}"
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(perceived(&node, ts).await, 0, "nothing stored");
    assert!(slack.calls("chat.postMessage").is_empty());
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_mode_event_is_answered_and_its_envelope_acknowledged_once_stored() {
    let (slack, _data, node) = start(true).await;
    eventually(30, "a Socket Mode connection", || async {
        (slack.connections() > 0).then_some(())
    })
    .await;
    assert!(
        slack
            .calls("apps.connections.open")
            .iter()
            .all(|c| c.token == APP_TOKEN),
        "Socket Mode opened with the app-level token"
    );
    let ts = "1700000200.000100";
    let cb = event_callback(
        APP_ID,
        "Ev0SOCKET",
        app_mention(
            SAM_BOT_USER,
            "U0PRIYA",
            "C0SALES",
            ts,
            "how are your goals going?",
        ),
    );
    slack.send_envelope("env-1", &cb);
    let reply = eventually(30, "Sam's reply to the Socket Mode mention", || async {
        posts_in(&slack, "C0SALES").into_iter().next()
    })
    .await;
    assert_eq!(reply["thread_ts"], ts);
    assert!(
        reply["text"].as_str().unwrap().contains("retention"),
        "{reply}"
    );
    eventually(10, "the envelope acknowledged", || async {
        slack.acks().contains(&"env-1".to_string()).then_some(())
    })
    .await;
    // Slack redelivers an envelope it thinks was lost: acknowledged, perceived once.
    slack.send_envelope("env-1-retry", &cb);
    eventually(10, "the redelivered envelope acknowledged", || async {
        slack
            .acks()
            .contains(&"env-1-retry".to_string())
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(perceived(&node, ts).await, 1);
    assert_eq!(posts_in(&slack, "C0SALES").len(), 1);
    node.terminate();
}

/// Runs `empla node` expecting it to refuse to start; answers its stderr.
fn refused_start(data: &Path, env: &[(&str, String)]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_empla"));
    cmd.args(["node", "--config"])
        .arg(repo().join("config/empla.toml"))
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .env("EMPLA_API_TOKEN", TOKEN)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "the node refused to start");
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return err;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the node started with a bad Slack configuration");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_bad_slack_configuration_stops_the_node_at_start_naming_the_key_and_the_fix() {
    let slack_env = |extra: &[(&'static str, &str)]| {
        let mut env = vec![
            ("EMPLA_CHAT__DRIVER", "slack".to_string()),
            ("EMPLA_CHAT__API_URL", "http://127.0.0.1:9/api".to_string()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        env
    };

    // No credentials file.
    let data = tempfile::tempdir().unwrap();
    let err = refused_start(data.path(), &slack_env(&[]));
    assert!(err.contains("chat.credentials_file"), "{err}");
    assert!(err.contains("[apps.\"<handle>\"]"), "{err}");

    // The token's environment variable is not set.
    let data = tempfile::tempdir().unwrap();
    credentials(data.path(), false);
    let err = refused_start(
        data.path(),
        &slack_env(&[("SAM_SLACK_SIGNING_SECRET", SIGNING_SECRET)]),
    );
    assert!(
        err.contains(
            "`apps.\"sam.rivera\".bot_token_env` names SAM_SLACK_BOT_TOKEN, which is not set"
        ),
        "{err}"
    );

    // No signing secret (and no Socket Mode token): its events could not be checked.
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("slack-credentials.toml"),
        "[apps.\"sam.rivera\"]\nbot_token = \"xoxb-1\"\n",
    )
    .unwrap();
    let err = refused_start(data.path(), &slack_env(&[]));
    assert!(
        err.contains("`apps.\"sam.rivera\"` needs `signing_secret_env`"),
        "{err}"
    );
    assert!(!err.contains("xoxb-1"), "no secret in the error: {err}");

    // `empla config check` reads the credentials as the node would.
    let data = tempfile::tempdir().unwrap();
    credentials(data.path(), false);
    let check = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_empla"));
        cmd.args(["config", "check", "--config"])
            .arg(repo().join("config/empla.toml"))
            .env("EMPLA_CHAT__DRIVER", "slack")
            .env("EMPLA_DATA_DIR", data.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = check(&[("SAM_SLACK_SIGNING_SECRET", SIGNING_SECRET)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SAM_SLACK_BOT_TOKEN, which is not set"),
        "{err}"
    );
    let out = check(&[
        ("SAM_SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SAM_SLACK_BOT_TOKEN", BOT_TOKEN),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 Slack apps"));

    // A driver Slack does not have.
    let data = tempfile::tempdir().unwrap();
    let err = refused_start(data.path(), &[("EMPLA_CHAT__DRIVER", "teams".to_string())]);
    assert!(
        err.contains("chat.driver") || err.contains("driver"),
        "{err}"
    );
    // An API URL that is not one.
    let err = refused_start(
        data.path(),
        &[("EMPLA_CHAT__API_URL", "slack.com/api".to_string())],
    );
    assert!(err.contains("chat.api_url"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_goes_away_when_the_employee_passivates_and_back_when_it_works() {
    let (slack, _data, node) = start_with(
        false,
        &[(BOT_TOKEN, SAM_BOT_USER)],
        &[
            ("EMPLA_RUNTIME__IDLE_PASSIVATE_AFTER", "1s"),
            ("EMPLA_RUNTIME__PASSIVATION_SWEEP_EVERY", "1s"),
        ],
    )
    .await;
    let presences = || {
        slack
            .calls("users.setPresence")
            .into_iter()
            .filter(|c| c.token == BOT_TOKEN)
            .map(|c| c.body["presence"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let dm = |ts: &str, event_id: &str| {
        event_callback(
            APP_ID,
            event_id,
            direct_message("U0PRIYA", "D0PRIYA", ts, "what are you working on?"),
        )
        .to_string()
    };
    let (status, r) = deliver(
        &node,
        &dm("1700000300.000100", "Ev0FIRST"),
        now(),
        SIGNING_SECRET,
    )
    .await;
    assert_eq!(status, 200, "{r}");
    eventually(30, "away once Sam has answered and passivated", || async {
        let p = presences();
        let auto = p.iter().position(|p| p == "auto")?;
        p[auto..].iter().any(|p| p == "away").then_some(())
    })
    .await;
    let before = presences().len();
    let (status, r) = deliver(
        &node,
        &dm("1700000310.000100", "Ev0WAKE"),
        now(),
        SIGNING_SECRET,
    )
    .await;
    assert_eq!(status, 200, "{r}");
    eventually(
        30,
        "auto again when Sam wakes for the next message",
        || async {
            presences()[before..]
                .iter()
                .any(|p| p == "auto")
                .then_some(())
        },
    )
    .await;
    eventually(20, "both answers", || async {
        (posts_in(&slack, "D0PRIYA").len() == 2).then_some(())
    })
    .await;
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_slack_refuses_fails_the_action_with_slacks_error_code() {
    // The double knows no token of Sam's: Slack answers invalid_auth.
    let (slack, _data, node) = start_with(false, &[], &[]).await;
    let body = event_callback(
        APP_ID,
        "Ev0REVOKED",
        app_mention(
            SAM_BOT_USER,
            "U0PRIYA",
            "C0SUPPORT",
            "1700000400.000100",
            "hello",
        ),
    )
    .to_string();
    let (status, r) = deliver(&node, &body, now(), SIGNING_SECRET).await;
    assert_eq!(status, 200, "{r}");
    let failed = node
        .actions_when("sam.rivera", "chat.reply", "failed", 1, 20)
        .await
        .remove(0);
    let error = failed["result"]["error"].as_str().unwrap();
    assert!(error.contains("chat.postMessage"), "{error}");
    assert!(error.contains("invalid_auth"), "{error}");
    assert!(!error.contains(BOT_TOKEN), "no token in the error: {error}");
    assert_eq!(slack.calls("chat.postMessage").len(), 1);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_mode_only_app_refuses_events_api_requests_it_cannot_check() {
    let slack = FakeSlack::start(&[(BOT_TOKEN, SAM_BOT_USER), (APP_TOKEN, SAM_BOT_USER)]).await;
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("slack-credentials.toml"),
        "[apps.\"sam.rivera\"]\nbot_token_env = \"SAM_SLACK_BOT_TOKEN\"\napp_token_env = \"SAM_SLACK_APP_TOKEN\"\n",
    )
    .unwrap();
    let node = start_binary_with(data.path(), Some(TOKEN), &node_env(&slack));
    let body = event_callback(
        APP_ID,
        "Ev0HTTP",
        app_mention(
            SAM_BOT_USER,
            "U0PRIYA",
            "C0SUPPORT",
            "1700000500.000100",
            "hello",
        ),
    )
    .to_string();
    let (status, r) = deliver(&node, &body, now(), SIGNING_SECRET).await;
    assert_eq!(status, 401, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("see the node's log"),
        "{r}"
    );
    eventually(30, "its Socket Mode connection", || async {
        (slack.connections() > 0).then_some(())
    })
    .await;
    node.terminate();
}
