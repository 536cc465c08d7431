//! Stand-ups and shared team goals through the real binary: each employee member's
//! update (done, next, blocked) is drawn from the work it did, posted to the team's
//! channel once per tick and remembered; a team goal adds up its members' parts.

use super::common::{self, NodeProcess, eventually, start_binary_from};
use super::workflows::config as base_config;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The sales team with a shared goal; stand-ups held by hand (a schedule is added
/// where a test wants one: a scheduled stand-up missed in the last day is held at start).
const TEAM: &str = r##"
name = "Mid-Market Sales"
members = ["jordan.lee", "riley.quinn", "Alex Morgan <alex.morgan@example.com>"]
lead = "Alex Morgan <alex.morgan@example.com>"
channel = "#sales"

[[goals]]
id = "q4_revenue"
metric = "closed_revenue_usd"
target = 100000
description = "Close $100k this quarter"
"##;

const PLANS: &str = r##"
roles = ["sales_ae"]

[[plans]]
name = "review_the_pipeline"
description = "Review the pipeline and share the notes"
trigger = { event = "task.assigned", when = "event.payload.description.contains('pipeline')" }
steps = [
  { action = "chat.send", params = { conversation = "#sales-notes", text = "Pipeline reviewed." } },
]

[[plans]]
name = "await_the_order_form"
description = "Wait for the signed order form"
trigger = { event = "task.assigned", when = "event.payload.description.contains('order form')" }
steps = [
  { wait = "order.signed", timeout = "2d" },
]
"##;

fn config(dir: &Path) -> PathBuf {
    config_with(dir, TEAM)
}

fn config_with(dir: &Path, team: &str) -> PathBuf {
    let file = base_config(dir);
    let config = file.parent().unwrap();
    std::fs::write(config.join("teams/sales.toml"), team).unwrap();
    std::fs::write(config.join("plans/standup_test.toml"), PLANS).unwrap();
    file
}

async fn event(node: &NodeProcess, who: &str, body: Value) {
    let (status, answer) = node
        .post_json(&format!("/api/v1/employees/{who}/events"), body)
        .await;
    assert_eq!(status, 202, "{answer}");
}

async fn task(node: &NodeProcess, who: &str, description: &str) -> String {
    let (status, answer) = node
        .post_json(
            &format!("/api/v1/employees/{who}/tasks"),
            json!({"description": description}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    answer["task"]["id"]
        .as_str()
        .or(answer["id"].as_str())
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string()
}

async fn sales_posts(node: &NodeProcess, who: &str) -> Vec<Value> {
    node.get_json(&format!(
        "/api/v1/employees/{who}/chat?conversation=%23sales"
    ))
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standup_posts_each_members_real_update_once_and_goals_roll_up() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_from(
        &config(dir.path()),
        &dir.path().join("data"),
        Some(common::TOKEN),
        &[],
    );
    let (status, hired) = node
        .post_json(
            "/api/v1/employees",
            json!({"role": "sales_ae", "name": "Riley Quinn"}),
        )
        .await;
    assert_eq!(status, 201, "{hired}");
    node.set_phase("jordan.lee", "autonomous").await;

    // Jordan's work: one task done, one waiting on the customer.
    let reviewed = task(&node, "jordan.lee", "Review the pipeline for Q4").await;
    let waiting = task(&node, "jordan.lee", "Chase the signed order form from Acme").await;
    eventually(30, "the pipeline task is done", || async {
        let t = node
            .get_json(&format!("/api/v1/employees/jordan.lee/tasks/{reviewed}"))
            .await;
        (t["status"] == "done").then_some(())
    })
    .await;
    eventually(30, "the order form task is taken up", || async {
        let t = node
            .get_json(&format!("/api/v1/employees/jordan.lee/tasks/{waiting}"))
            .await;
        (t["status"] == "in_progress").then_some(())
    })
    .await;

    // The team goal adds up the members' current values of its metric.
    for (who, v) in [("jordan.lee", 30000), ("riley.quinn", 12000)] {
        event(
            &node,
            who,
            json!({"kind": "metric", "source": "test", "payload": {"metric": "closed_revenue_usd", "value": v}}),
        )
        .await;
    }
    let team = eventually(30, "the team goal adds up", || async {
        let t = node.get_json("/api/v1/teams/sales").await;
        (t["goals"][0]["current"] == 42000.0).then_some(t)
    })
    .await;
    let goal = &team["goals"][0];
    assert_eq!(goal["target"], 100000.0, "{team}");
    assert!(
        (goal["progress"].as_f64().unwrap() - 0.42).abs() < 1e-9,
        "{team}"
    );
    assert_eq!(goal["contributions"].as_array().unwrap().len(), 2, "{team}");
    let out = node.cli(&["team", "show", "sales"]);
    assert!(out.contains("q4_revenue") && out.contains("42000"), "{out}");

    // The stand-up: one update per employee member, from its own work.
    // A tick within a day of the work (the work before it counts).
    let tick = chrono::Utc::now() + chrono::Duration::hours(1);
    let at = tick.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, first) = node
        .post_json("/api/v1/teams/sales/standup", json!({"at": at}))
        .await;
    assert_eq!(status, 200, "{first}");
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{first}");
    assert!(items.iter().all(|u| u["posted"] == true), "{first}");
    let jordan = items
        .iter()
        .find(|u| u["employee"] == "jordan.lee")
        .unwrap();
    let text = |k: &str| jordan[k].to_string();
    assert!(
        text("done").contains("Review the pipeline for Q4"),
        "{jordan}"
    );
    assert!(
        text("done").contains("completed review the pipeline"),
        "{jordan}"
    );
    assert!(
        text("next").contains("Chase the signed order form from Acme"),
        "{jordan}"
    );
    assert!(
        text("blocked").contains("waiting for order.signed"),
        "{jordan}"
    );
    let riley = items
        .iter()
        .find(|u| u["employee"] == "riley.quinn")
        .unwrap();
    assert_eq!(riley["done"], json!([]), "{riley}");

    // Posted to the team's channel, one message each, with the team goal.
    let posted = sales_posts(&node, "jordan.lee").await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    let message = posted[0]["text"].as_str().unwrap();
    assert!(
        message.contains("Done: ") && message.contains("Review the pipeline for Q4"),
        "{message}"
    );
    assert!(
        message.contains("Blocked: ") && message.contains("order.signed"),
        "{message}"
    );
    assert!(
        message.contains("Team goal q4_revenue: my part 30000 of the team's 42000"),
        "{message}"
    );
    assert_eq!(sales_posts(&node, "riley.quinn").await.len(), 1);

    // Remembered: the update is in the employee's episodic memory.
    eventually(30, "the update is remembered", || async {
        let eps = node
            .get_json("/api/v1/employees/jordan.lee/episodes?limit=50")
            .await;
        eps["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["summary"] == "team.standup"
                    && e["payload"]["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("Pipeline") || t.contains("pipeline"))
            })
            .cloned()
    })
    .await;

    // And recalled by the memory API's search.
    eventually(30, "the update is recalled", || async {
        let found = node
            .get_json("/api/v1/employees/jordan.lee/memory/search?q=stand-up%20blocked%20order&mode=text&limit=20")
            .await;
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["text"].as_str().is_some_and(|t| t.contains("waiting for order.signed")))
            .then_some(())
    })
    .await;

    // The same tick again posts nothing new.
    let (status, again) = node
        .post_json("/api/v1/teams/sales/standup", json!({"at": at}))
        .await;
    assert_eq!(status, 200, "{again}");
    assert!(
        again["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["posted"] == false),
        "{again}"
    );
    assert_eq!(sales_posts(&node, "jordan.lee").await.len(), 1);
    assert_eq!(sales_posts(&node, "riley.quinn").await.len(), 1);

    // The next day's stand-up counts only what was done since.
    let (_, next_day) = node
        .post_json("/api/v1/teams/sales/standup", json!({"at": (tick + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}))
        .await;
    let jordan = next_day["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["employee"] == "jordan.lee")
        .unwrap()
        .clone();
    assert!(
        !jordan["done"].to_string().contains("Review the pipeline"),
        "{jordan}"
    );
    assert_eq!(sales_posts(&node, "jordan.lee").await.len(), 2);

    // By hand from the CLI: a stand-up now.
    let out = node.cli(&["team", "standup", "sales"]);
    assert!(
        out.contains("Stand-up Jordan Lee") && out.contains("Stand-up Riley Quinn"),
        "{out}"
    );
    assert_eq!(sales_posts(&node, "jordan.lee").await.len(), 3);

    let (status, missing) = node
        .post_json("/api/v1/teams/nowhere/standup", json!({}))
        .await;
    assert_eq!(status, 404, "{missing}");
    node.terminate();
}

/// The ticks of the stand-ups in `posts` (each post names its time).
fn ticks(posts: &[Value]) -> std::collections::BTreeSet<String> {
    posts
        .iter()
        .map(|p| {
            p["text"]
                .as_str()
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_standup_is_held_at_start_and_only_once_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    // Every hour on the hour: the last one is always within the day the node catches up.
    let config = config_with(
        dir.path(),
        &TEAM.replace(
            "channel = \"#sales\"",
            "channel = \"#sales\"\nstandup = \"0 * * * *\"",
        ),
    );
    let data = dir.path().join("data");
    let node = start_binary_from(&config, &data, Some(common::TOKEN), &[]);
    let first = eventually(30, "the missed stand-up is held", || async {
        let p = sales_posts(&node, "jordan.lee").await;
        (!p.is_empty()).then_some(p)
    })
    .await;
    assert!(
        first[0]["text"].as_str().unwrap().contains(":00 UTC"),
        "{first:?}"
    );
    node.terminate();

    let node = start_binary_from(&config, &data, Some(common::TOKEN), &[]);
    // The employee remembers the update it gave.
    eventually(30, "the update is remembered", || async {
        let eps = node
            .get_json("/api/v1/employees/jordan.lee/episodes?limit=50")
            .await;
        eps["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["summary"] == "team.standup")
            .then_some(())
    })
    .await;
    // Each tick is held once: as many posts as ticks (one, unless an hour turned meanwhile).
    let posts = sales_posts(&node, "jordan.lee").await;
    assert_eq!(posts.len(), ticks(&posts).len(), "{posts:?}");
    node.terminate();
}
