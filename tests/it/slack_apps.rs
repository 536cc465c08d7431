//! Slack, one app per employee: each employee answers with its own bot token, a user
//! token lets the status text follow the calendar, and a reply retried after a crash
//! is posted once. The stand-in for Slack and the node setup are in `slack.rs`.

use super::common::{TOKEN, eventually, http, start_binary_with};
use super::slack::{
    BOT_TOKEN, SAM_BOT_USER, SIGNING_SECRET, credentials, node_env, now, perceived, posts_in, start,
};
use super::slack_fixture::{FakeSlack, app_mention, event_callback, signature};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_employee_is_its_own_app_answering_with_its_own_bot_token() {
    const CASEY_BOT: &str = "xoxb-casey-bot-token";
    const CASEY_SECRET: &str = "casey-signing-secret-0123456789";
    let slack = FakeSlack::start(&[(BOT_TOKEN, SAM_BOT_USER), (CASEY_BOT, "UCASEYBOT")]).await;
    let data = tempfile::tempdir().unwrap();
    credentials(data.path(), false);
    let mut file = std::fs::read_to_string(data.path().join("slack-credentials.toml")).unwrap();
    file.push_str(
        "[apps.\"casey.kim\"]\nbot_token_env = \"CASEY_SLACK_BOT_TOKEN\"\nsigning_secret_env = \"CASEY_SLACK_SIGNING_SECRET\"\n",
    );
    std::fs::write(data.path().join("slack-credentials.toml"), file).unwrap();
    let mut env = node_env(&slack);
    env.push(("CASEY_SLACK_BOT_TOKEN", CASEY_BOT.into()));
    env.push(("CASEY_SLACK_SIGNING_SECRET", CASEY_SECRET.into()));
    let node = start_binary_with(data.path(), Some(TOKEN), &env);

    let body = event_callback(
        "A0CASEY",
        "Ev0CASEY",
        app_mention("UCASEYBOT", "U0DANA", "C0OPS", "1700000600.000100", "hello"),
    )
    .to_string();
    // Sam's secret does not open Casey's door, nor Casey's Sam's.
    let signed_by = |secret: &str, who: &str| {
        let at = now();
        http()
            .post(node.url(&format!("/slack/events/{who}")))
            .header("x-slack-request-timestamp", at.to_string())
            .header("x-slack-signature", signature(secret, at, &body))
            .body(body.clone())
            .send()
    };
    assert_eq!(
        signed_by(SIGNING_SECRET, "casey.kim")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        signed_by(CASEY_SECRET, "sam.rivera")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        signed_by(CASEY_SECRET, "casey.kim").await.unwrap().status(),
        200
    );

    let reply = eventually(20, "Casey's reply", || async {
        slack
            .calls("chat.postMessage")
            .into_iter()
            .find(|c| c.body["channel"] == "C0OPS")
    })
    .await;
    assert_eq!(reply.token, CASEY_BOT, "Casey answers as Casey's bot");
    assert!(
        reply.body["text"].as_str().unwrap().contains("Casey Kim"),
        "{}",
        reply.body
    );
    let casey_events = node
        .get_json("/api/v1/employees/casey.kim/episodes?limit=100")
        .await;
    assert!(
        casey_events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["payload"]["slack"]["ts"] == "1700000600.000100"),
        "the mention reached Casey"
    );
    assert_eq!(perceived(&node, "1700000600.000100").await, 0, "not Sam");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_user_token_the_status_text_follows_the_calendar() {
    const USER_TOKEN: &str = "xoxp-sam-user-token";
    let slack = FakeSlack::start(&[(BOT_TOKEN, SAM_BOT_USER), (USER_TOKEN, "USAM")]).await;
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("slack-credentials.toml"),
        "[apps.\"sam.rivera\"]\nbot_token_env = \"SAM_SLACK_BOT_TOKEN\"\nsigning_secret_env = \"SAM_SLACK_SIGNING_SECRET\"\nuser_token_env = \"SAM_SLACK_USER_TOKEN\"\n",
    )
    .unwrap();
    let mut env = node_env(&slack);
    env.push(("SAM_SLACK_USER_TOKEN", USER_TOKEN.into()));
    env.push(("EMPLA_CALENDAR__SYNC_EVERY", "1s".into()));
    let node = start_binary_with(data.path(), Some(TOKEN), &env);
    let statuses = || {
        slack
            .calls("users.profile.set")
            .into_iter()
            .map(|c| {
                assert_eq!(c.token, USER_TOKEN, "the status is set with the user token");
                c.body["profile"]["status_text"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    // A meeting from now on: Sam is shown in it.
    let r = http()
        .post(node.url("/api/v1/employees/sam.rivera/calendar"))
        .bearer_auth(TOKEN)
        .json(&json!({"title": "Pipeline review", "start": chrono::Utc::now(), "duration_minutes": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    eventually(20, "the status in a meeting", || async {
        statuses().iter().any(|s| s == "In a meeting").then_some(())
    })
    .await;
    // The bot's own token never sets a profile, and presence stays on.
    assert!(
        slack
            .calls("users.setPresence")
            .iter()
            .all(|c| c.token == BOT_TOKEN)
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_retried_after_a_crash_is_posted_to_slack_once() {
    let (slack, data, node) = start(false).await;
    let sam: empla::model::EmployeeId = node.get_json("/api/v1/employees/sam.rivera").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    node.terminate();
    // As if the node died twice while posting replies in a thread: each action had
    // kept its message (it had begun to post) but was not recorded done. The first
    // reply reached Slack; the second did not.
    let store = empla::store::Store::connect(
        &format!("sqlite://{}", data.path().join("empla.db").display()),
        &empla::config::StoreConfig::default(),
    )
    .await
    .unwrap();
    let tenant = empla::model::TenantId::new("default");
    let thread = "1700000000.000100";
    let (writer, _task) = empla::store::StoreWriter::start(store.clone(), &Default::default());
    let mut actions = Vec::new();
    for (id, text) in [(5u64, "On it."), (6, "Done: the invoice is fixed.")] {
        let key = empla::model::OutboxEntry::key_for(sam, id);
        store
            .put_chat(
                &tenant,
                &empla::store::ChatMessage {
                    seq: 0,
                    employee_id: sam,
                    conversation: "slack:C0SUPPORT".into(),
                    from: "sam.rivera".into(),
                    text: text.into(),
                    in_reply_to: None,
                    thread: None,
                    action: Some(key.clone()),
                    at: chrono::Utc::now(),
                },
            )
            .await
            .unwrap();
        actions.push(empla::model::OutboxEntry {
            key,
            employee_id: sam,
            action_id: id,
            kind: "chat.reply".into(),
            params: json!({"conversation": "slack:C0SUPPORT", "thread": thread, "text": text}),
        });
    }
    writer
        .complete(
            empla::store::Completion {
                fence: None,
                tenant: tenant.clone(),
                employee: sam,
                event_id: None,
                episodes: Vec::new(),
                snapshot: Some(
                    rmp_serde::to_vec_named(&empla::actors::Snapshot {
                        outbox: [5, 6].into(),
                        ..Default::default()
                    })
                    .unwrap(),
                ),
                wake_at: None,
                approvals: Vec::new(),
                actions,
            },
            None,
        )
        .await
        .unwrap();
    writer.flush().await;
    store.close().await;
    slack.seed_message("C0SUPPORT", Some(thread), "On it.", SAM_BOT_USER);

    let mut env = node_env(&slack);
    env.push(("EMPLA_RUNTIME__IDLE_PASSIVATE_AFTER", "1h".into()));
    let node = start_binary_with(data.path(), Some(TOKEN), &env);
    // Activity wakes Sam, who runs what its outbox holds.
    let r = http()
        .post(node.url("/api/v1/employees/sam.rivera/events"))
        .bearer_auth(TOKEN)
        .json(&json!({"kind": "webhook.received", "source": "test", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    node.actions_when("sam.rivera", "chat.reply", "done", 2, 20)
        .await;
    let posts = posts_in(&slack, "C0SUPPORT");
    assert_eq!(
        posts.len(),
        1,
        "only the reply Slack did not have: {posts:?}"
    );
    assert_eq!(posts[0]["text"], "Done: the invoice is fixed.");
    assert_eq!(posts[0]["thread_ts"], thread);
    assert!(!slack.calls("conversations.replies").is_empty());
    node.terminate();
}
