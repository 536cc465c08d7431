//! A cluster of three real `empla node` processes on loopback sharing one PostgreSQL
//! schema: hires spread over the nodes; an event accepted by any node is processed once,
//! by the owner; a node killed or paused past its lease loses its employees to the
//! others, and a paused one that wakes up commits and does nothing for them; a node
//! restarted takes a share back; calls between nodes need the cluster's secret, and a
//! call about an employee is answered by its owner whichever node is asked; a cron tick
//! fires once cluster-wide, also when the node doing the once-only work dies.

use super::cluster_harness::{SECRET, TestCluster};
use super::common::{TOKEN, eventually, http};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Leases short enough to keep a failover quick: a node silent for 3 s is dead.
pub(super) fn quick_leases() -> Vec<(&'static str, String)> {
    vec![
        ("EMPLA_CLUSTER__LEASE_TTL", "3s".into()),
        ("EMPLA_CLUSTER__HEARTBEAT_EVERY", "500ms".into()),
    ]
}

/// The tests' own plan: a `test.ping` is answered on the chat, one message per ping
/// (one intention per ping, however many come at once).
const PLANS: &str = r##"
roles = ["sales_ae"]

[[plans]]
name = "answer_the_ping"
description = "A ping from the cluster tests: answer it on the chat"
trigger = { event = "test.ping" }
per = "payload.n"
steps = [
  { action = "chat.send", params = { conversation = "#cluster", text = "pong {{ event.payload.n }}" } },
]
"##;

/// A schedule of the tests' own, every 2 s.
const EVERY_TWO_SECONDS: &str = r##"

[[schedules]]
name = "every_two_seconds"
cron = "*/2 * * * * *"
"##;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The shipped config with the tests' plan (and, with `ticking`, a sales AE schedule
/// every 2 s); its node file.
fn config(dir: &Path, ticking: bool) -> PathBuf {
    let config = dir.join("config");
    copy_dir(&super::common::repo().join("config"), &config);
    std::fs::write(config.join("plans/cluster_test.toml"), PLANS).unwrap();
    if ticking {
        let role = config.join("roles/sales_ae.toml");
        let mut text = std::fs::read_to_string(&role).unwrap();
        text.push_str(EVERY_TWO_SECONDS);
        std::fs::write(role, text).unwrap();
    }
    config.join("empla.toml")
}

pub(super) fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|k| format!("{prefix} Worker{k}")).collect()
}

/// Waits until no event waits in the inbox.
pub(super) async fn inbox_drained(c: &TestCluster, secs: u64) {
    eventually(secs, "the inbox drained", || async {
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM inbox WHERE processed_at IS NULL")
                .fetch_one(&c.db)
                .await
                .unwrap();
        (waiting == 0).then_some(())
    })
    .await;
}

/// Sets every employee in `ids` autonomous, round-robin through the running nodes
/// (each call answered by the employee's owner; asked again while the employee moves
/// between nodes), and waits until it is applied.
pub(super) async fn autonomous(c: &TestCluster, ids: &[String]) {
    let running = c.running();
    for (k, id) in ids.iter().enumerate() {
        let node = c.node(running[k % running.len()]);
        eventually(30, &format!("{id} set autonomous"), || async {
            let r = http()
                .put(node.url(&format!("/api/v1/employees/{id}/phase")))
                .bearer_auth(TOKEN)
                .json(&json!({"phase": "autonomous"}))
                .send()
                .await
                .unwrap();
            match r.status().as_u16() {
                202 => Some(()),
                503 => None,
                other => panic!("setting {id}'s phase: {other} {}", r.text().await.unwrap()),
            }
        })
        .await;
    }
    inbox_drained(c, 60).await;
}

/// Each running node's answer to `GET path`: its status and JSON body.
async fn answers_of(c: &TestCluster, path: &str) -> Vec<(u16, Value)> {
    let mut all = Vec::new();
    for i in c.running() {
        let r = http()
            .get(c.node(i).url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        all.push((r.status().as_u16(), r.json().await.unwrap_or_default()));
    }
    all
}

/// The ping `n` for `employee`.
fn ping(n: usize) -> Value {
    json!({"kind": "test.ping", "source": "test", "payload": {"n": n}})
}

/// Waits until the chat holds `n` distinct pongs, then checks each was sent once. If
/// they do not all come, says which actions were not done and what the nodes logged of
/// their employees.
async fn pongs_once(c: &TestCluster, n: usize, secs: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let distinct: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT text) FROM chat_messages WHERE conversation = '#cluster'",
        )
        .fetch_one(&c.db)
        .await
        .unwrap();
        if distinct as usize >= n {
            break;
        }
        if std::time::Instant::now() >= deadline {
            let undone: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT employee_id, status, params, result FROM outbox \
                 WHERE kind = 'chat.send' AND status <> 'done'",
            )
            .fetch_all(&c.db)
            .await
            .unwrap();
            let mut said = Vec::new();
            for i in c.running() {
                for l in c.log(i) {
                    if undone.iter().any(|(e, ..)| l.contains(e.as_str())) {
                        said.push(format!("n{i}: {l}"));
                    }
                }
            }
            panic!(
                "{distinct} of {n} pongs on the chat; actions not done: {undone:#?}; the nodes said: {said:#?}"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let twice: Vec<(String, i64)> = sqlx::query_as(
        "SELECT text, count(*) FROM chat_messages WHERE conversation = '#cluster' \
         GROUP BY text HAVING count(*) > 1",
    )
    .fetch_all(&c.db)
    .await
    .unwrap();
    assert!(twice.is_empty(), "pongs sent more than once: {twice:?}");
}

/// The employees `node` owns now, with their lease's epoch.
async fn leases_of(c: &TestCluster, node: &str) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT employee_id, epoch FROM leases WHERE owner = $1")
            .bind(node)
            .fetch_all(&c.db)
            .await
            .unwrap();
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hires_through_any_node_spread_over_three_and_each_event_is_processed_once() {
    // The default lease and heartbeat.
    let Some(c) = TestCluster::start(3, &TestCluster::shipped(), &[]).await else {
        return;
    };
    let ids = c.hire("sales_ae", &names("Spread", 300)).await;

    let status = eventually(60, "each node owns a fair part of the 300", || async {
        let s = c.status(0).await;
        let owned: Vec<i64> = s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["alive"] == true)
            .map(|n| n["employees"].as_i64().unwrap())
            .collect();
        (owned.len() == 3
            && owned.iter().sum::<i64>() == 300
            && owned.iter().all(|n| (98..=102).contains(n)))
        .then_some(s)
    })
    .await;
    assert_eq!(status["leases"]["total"], 300, "{status}");
    assert_eq!(status["leases"]["orphaned"], 0, "{status}");
    for i in 0..3 {
        let s = c.status(i).await;
        assert_eq!(s["enabled"], true);
        assert_eq!(s["node"], format!("n{i}"));
        let me: Vec<&Value> = s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["this_node"] == true)
            .collect();
        assert_eq!(me.len(), 1, "{s}");
        assert_eq!(me[0]["id"], format!("n{i}"));
        assert!(
            me[0]["address"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
    }

    // What the hires themselves made the nodes process.
    inbox_drained(&c, 60).await;
    let mut before = 0.0;
    for i in 0..3 {
        before += c.metric(i, "empla_events_processed_total").await;
    }
    let outbox_before: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&c.db)
        .await
        .unwrap();
    let inbox_before: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(&c.db)
        .await
        .unwrap();

    // 600 notes, sent round-robin to the three nodes: a note starts no plan.
    let sent: Vec<String> = futures::stream::iter(0..600usize)
        .map(|k| {
            let c = &c;
            let id = &ids[k % 300];
            async move {
                let body = json!({"kind": "test.note", "source": "test", "payload": {"k": k}});
                c.post_event((k + k / 300) % 3, id, &body)
                    .await
                    .unwrap_or_else(|e| panic!("note {k} for {id} not accepted: {e}"))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    c.processed_once(&sent, 120).await;
    let processed = eventually(60, "600 more events processed over the nodes", || async {
        let mut sum = 0.0;
        for i in 0..3 {
            sum += c.metric(i, "empla_events_processed_total").await;
        }
        (sum - before >= 600.0).then_some(sum - before)
    })
    .await;
    assert_eq!(
        processed, 600.0,
        "the nodes processed each event once, and nothing else"
    );
    let inbox_after: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(&c.db)
        .await
        .unwrap();
    assert_eq!(
        inbox_after - inbox_before,
        600,
        "the notes and nothing else"
    );
    let outbox_after: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&c.db)
        .await
        .unwrap();
    assert_eq!(outbox_after, outbox_before, "a note starts no action");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused_and_any_node_answers_for_the_owner() {
    let Some(c) = TestCluster::start(3, &TestCluster::shipped(), &quick_leases()).await else {
        return;
    };
    let ids = c.hire("sales_ae", &names("Routed", 6)).await;
    c.settled(0, 3, 60).await;
    for (k, id) in ids.iter().enumerate() {
        let accepted = c
            .post_event(k % 3, id, &json!({"kind": "test.note", "source": "test"}))
            .await;
        assert!(accepted.is_ok(), "the note for {id} accepted: {accepted:?}");
    }
    inbox_drained(&c, 60).await;

    // The status of the running mind, asked of each node: the owner's answer.
    let owners: BTreeSet<String> = futures::future::join_all(ids.iter().map(|id| c.owner_of(id)))
        .await
        .into_iter()
        .map(|o| o.expect("every employee has an owner"))
        .collect();
    assert!(owners.len() > 1, "the employees are spread: {owners:?}");
    // (Asked again while an employee moves between nodes: that call is answered 503.)
    for id in &ids {
        let status = format!("/api/v1/employees/{id}/status");
        let profile = format!("/api/v1/employees/{id}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let (answers, shown) = loop {
            let answers = answers_of(&c, &status).await;
            let shown = answers_of(&c, &profile).await;
            let ok = answers.iter().chain(&shown).all(|(code, _)| *code == 200);
            let same = answers.iter().all(|a| a.1 == answers[0].1)
                && shown
                    .iter()
                    .all(|p| p.1["runtime"] == shown[0].1["runtime"]);
            if ok && same {
                let values = |a: Vec<(u16, Value)>| a.into_iter().map(|(_, v)| v).collect();
                break (values(answers), values(shown));
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the nodes' answers for {id} differ: {answers:#?} {shown:#?}; owner {:?}",
                c.owner_of(id).await
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let answers: Vec<Value> = answers;
        let shown: Vec<Value> = shown;
        assert_eq!(answers[0]["state"], "active", "{}", answers[0]);
        assert!(
            answers[0]["events_handled"].as_u64() >= Some(1),
            "the note was handled: {}",
            answers[0]
        );
        assert!(
            shown
                .iter()
                .all(|p| p["id"] == *id && p["runtime"] == "active"),
            "every node shows the owner's runtime of {id}: {shown:?}"
        );
    }
    // A call carrying the right secret is another node's (no token needed); a wrong
    // secret is refused, whatever else the call carries, and logged.
    let owner: usize = c.owner_of(&ids[0]).await.unwrap()[1..].parse().unwrap();
    let other = (owner + 1) % 3;
    let status_of = |i: usize| {
        c.node(i)
            .url(&format!("/api/v1/employees/{}/status", ids[0]))
    };
    let peer = |i: usize| {
        http()
            .get(status_of(i))
            .header("x-empla-cluster-secret", SECRET)
            .header("x-empla-forwarded-by", format!("n{}", (i + 2) % 3))
            .send()
    };
    assert_eq!(peer(owner).await.unwrap().status(), 200);
    // A call forwarded once is not forwarded again: a node that does not own the
    // employee (any more) answers that it is moving.
    assert_eq!(peer(other).await.unwrap().status(), 503);
    let path = status_of(0);
    let refused = http()
        .get(&path)
        .bearer_auth(TOKEN)
        .header("x-empla-cluster-secret", "not-the-cluster-secret-at-all")
        .header("x-empla-forwarded-by", "intruder")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");
    assert_eq!(c.metric(0, "empla_cluster_refused_calls_total").await, 1.0);
    eventually(10, "the refusal logged", || async {
        c.log(0)
            .iter()
            .any(|l| {
                l.contains("refused a call between nodes: wrong cluster secret")
                    && l.contains("intruder")
            })
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_paused_past_its_lease_commits_nothing_for_the_employees_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let Some(c) = TestCluster::start(3, &config(dir.path(), false), &quick_leases()).await else {
        return;
    };
    let ids = c.hire("sales_ae", &names("Paused", 30)).await;
    c.settled(0, 3, 60).await;
    // Setting the phase runs each employee on its owner: n2's are live there now.
    autonomous(&c, &ids).await;
    let paused = leases_of(&c, "n2").await;
    assert!(paused.len() >= 2, "n2 owns some of the 30: {paused:?}");

    c.signal(2, libc::SIGSTOP);
    let mut n = 0;
    // Pings sent to n2 itself while it sleeps, for half of its employees: it takes them
    // when it wakes up, still believing it owns their employees, and its commits for
    // them are refused; it learns of the other half at its first renewal.
    let mut to_n2 = Vec::new();
    for id in paused.keys().take(paused.len() / 2) {
        let (url, body) = (
            c.node(2).url(&format!("/api/v1/employees/{id}/events")),
            ping(n),
        );
        n += 1;
        // A connection of its own, made while n2 sleeps (a kept-alive one would have
        // timed out by the time n2 reads it).
        let fresh = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        to_n2.push(tokio::spawn(async move {
            let r = fresh
                .post(url)
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202, "a ping taken by n2 when it woke up");
            let v: Value = r.json().await.unwrap();
            v["event_id"].as_str().unwrap().to_string()
        }));
    }
    // Pings for n2's employees through the two nodes that answer: sent at once (n2 is
    // woken for them, and sleeps on) and once the others took them over.
    let mut sent = Vec::new();
    for id in paused.keys() {
        sent.push(
            c.post_event(n % 2, id, &ping(n))
                .await
                .expect("ping accepted"),
        );
        n += 1;
    }
    eventually(60, "n2's employees held by n0 and n1", || async {
        let owners = c.owners().await;
        let s = c.status(0).await;
        let n2_dead = s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "n2" && m["alive"] == false);
        (n2_dead && !owners.contains_key("n2") && owners.values().sum::<i64>() == 30).then_some(())
    })
    .await;
    let taken = leases_of(&c, "n0")
        .await
        .into_iter()
        .chain(leases_of(&c, "n1").await);
    let taken: BTreeMap<String, i64> = taken.collect();
    for (id, epoch) in &paused {
        assert!(taken[id] > *epoch, "{id} claimed under a new epoch");
    }
    for (k, id) in ids.iter().enumerate() {
        sent.push(
            c.post_event(k % 2, id, &ping(n))
                .await
                .expect("ping accepted"),
        );
        n += 1;
    }

    // n2 wakes up with its heartbeat held back (the row locked), so it has not yet
    // renewed, and learnt nothing, when it takes the pings sent to it.
    let mut held_back = c.db.begin().await.unwrap();
    sqlx::query("SELECT id FROM cluster_nodes WHERE id = 'n2' FOR UPDATE")
        .fetch_one(&mut *held_back)
        .await
        .unwrap();
    c.signal(2, libc::SIGCONT);
    for task in to_n2 {
        sent.push(task.await.unwrap());
    }
    eventually(60, "n2's commits for them refused by the fence", || async {
        (c.metric(2, "empla_cluster_fenced_commits_total").await >= 1.0).then_some(())
    })
    .await;
    eventually(10, "n2 stopped the employees it lost", || async {
        c.log(2)
            .iter()
            .any(|l| l.contains("lease moved to another node: stopping here"))
            .then_some(())
    })
    .await;
    assert!(
        c.metric(2, "empla_cluster_employees_stopped_total{why=\"moved\"}")
            .await
            >= 1.0
    );
    held_back.rollback().await.unwrap();

    // Its fenced commits, or its next renewal, tell it which leases it lost.
    eventually(60, "n2 knows it lost its leases", || async {
        (c.metric(2, "empla_cluster_leases_lost_total").await >= 1.0).then_some(())
    })
    .await;
    eventually(10, "n2 says it lost leases", || async {
        c.log(2)
            .iter()
            .any(|l| l.contains("lost to another node"))
            .then_some(())
    })
    .await;
    // Whatever n2 holds again (a share, handed back by the others), none of them under
    // the epoch it had.
    let now = leases_of(&c, "n2").await;
    for (id, epoch) in &paused {
        assert_ne!(
            now.get(id),
            Some(epoch),
            "{id} still n2's under its old epoch"
        );
    }

    // Every ping processed once and answered once, by the nodes that own them now.
    c.processed_once(&sent, 120).await;
    pongs_once(&c, n, 120).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_restarted_owns_nothing_it_should_not_and_gets_a_share_back() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut c) = TestCluster::start(3, &config(dir.path(), false), &quick_leases()).await
    else {
        return;
    };
    let ids = c.hire("sales_ae", &names("Restarted", 60)).await;
    c.settled(0, 3, 60).await;
    autonomous(&c, &ids).await;
    let before = leases_of(&c, "n1").await;
    assert!(!before.is_empty());

    c.kill(1);
    eventually(60, "n1's employees taken over", || async {
        let owners = c.owners().await;
        (!owners.contains_key("n1") && owners.values().sum::<i64>() == 60).then_some(())
    })
    .await;
    c.start_node(1);
    // At once and ever after: one owner per employee, none orphaned for long, and n1
    // holds in memory exactly what the store says it holds.
    let share = eventually(60, "n1 holds a share again", || async {
        let owners = c.owners().await;
        let n1 = owners.get("n1").copied().unwrap_or(0);
        let held = c.metric(1, "empla_cluster_leases_held").await;
        (owners.values().sum::<i64>() == 60 && n1 >= 15 && held == n1 as f64).then_some(n1)
    })
    .await;
    assert!(share <= 21, "no more than its share: {share}");
    let status = c.settled(1, 3, 60).await;
    let per_node: i64 = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["employees"].as_i64().unwrap())
        .sum();
    assert_eq!(per_node, 60, "{status}");
    for (id, epoch) in &leases_of(&c, "n1").await {
        if let Some(old) = before.get(id) {
            assert!(epoch > old, "{id} came back to n1 under a new epoch");
        }
    }

    // Every employee works, wherever it is now: pings through all three, each once.
    let mut sent = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        sent.push(
            c.post_event(n % 3, id, &ping(n))
                .await
                .expect("ping accepted"),
        );
    }
    c.processed_once(&sent, 120).await;
    pongs_once(&c, ids.len(), 120).await;
}

/// Each employee's `every_two_seconds` ticks, by tick time (seconds), with how many
/// events each time has.
async fn ticks(c: &TestCluster) -> BTreeMap<String, BTreeMap<i64, i64>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT employee_id, payload FROM inbox WHERE kind = 'cron.tick'")
            .fetch_all(&c.db)
            .await
            .unwrap();
    let mut by: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for (employee, payload) in rows {
        let p: Value = serde_json::from_str(&payload).unwrap();
        if p["schedule"] != "every_two_seconds" {
            continue;
        }
        let at = chrono::DateTime::parse_from_rfc3339(p["at"].as_str().unwrap())
            .unwrap()
            .timestamp();
        *by.entry(employee).or_default().entry(at).or_default() += 1;
    }
    by
}

/// Whether `times` are every 2 s from the first to the last.
fn no_gap(times: &BTreeMap<i64, i64>) -> bool {
    let t: Vec<i64> = times.keys().copied().collect();
    t.windows(2).all(|w| w[1] - w[0] == 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_tick_fires_once_cluster_wide_also_across_a_failover() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut c) = TestCluster::start(3, &config(dir.path(), true), &quick_leases()).await
    else {
        return;
    };
    let ids = c.hire("sales_ae", &names("Ticking", 6)).await;
    c.settled(0, 3, 60).await;
    let chores = eventually(30, "one node does the once-only work", || async {
        let mut running = Vec::new();
        for i in 0..3 {
            let s = c.status(i).await;
            let me = s["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["this_node"] == true)
                .cloned()
                .unwrap();
            if me["runs_chores"] == true {
                running.push(i);
            }
        }
        (running.len() == 1).then(|| running[0])
    })
    .await;
    eventually(30, "three ticks for every employee", || async {
        let t = ticks(&c).await;
        (ids.iter().all(|id| t.get(id).is_some_and(|t| t.len() >= 3))).then_some(())
    })
    .await;

    c.kill(chores);
    let killed_at = chrono::Utc::now().timestamp();
    let others: Vec<usize> = c.running();
    eventually(60, "another node does the once-only work", || async {
        for i in &others {
            let s = c.status(*i).await;
            let me = s["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["this_node"] == true)
                .cloned()
                .unwrap();
            if me["runs_chores"] == true {
                return Some(());
            }
        }
        None
    })
    .await;
    // Ticks go on past the lease time of the dead node, and those it would have fired
    // while nobody did the once-only work are fired late: none is missing.
    let t = eventually(60, "ticks without a gap past the failover", || async {
        let t = ticks(&c).await;
        ids.iter()
            .all(|id| {
                t.get(id).is_some_and(|times| {
                    no_gap(times) && times.keys().last().is_some_and(|l| *l >= killed_at + 8)
                })
            })
            .then_some(t)
    })
    .await;
    for (id, times) in &t {
        assert!(
            times.values().all(|n| *n == 1),
            "{id}: one tick event per tick time: {times:?}"
        );
    }
    // Each tick processed once.
    let all: Vec<String> = sqlx::query_scalar("SELECT id FROM inbox WHERE kind = 'cron.tick'")
        .fetch_all(&c.db)
        .await
        .unwrap();
    c.processed_once(&all, 60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_joining_while_others_hire_knows_every_employee() {
    let Some(mut c) = TestCluster::start(2, &TestCluster::shipped(), &quick_leases()).await else {
        return;
    };
    // Hires through n0 before, while and after n2 starts: those announced before it
    // listens are learnt all the same.
    let n0 = (c.node(0).base.clone(), names("Joining", 40));
    let hiring = tokio::spawn(async move {
        let mut ids = Vec::new();
        for name in &n0.1 {
            let r = http()
                .post(format!("{}/api/v1/employees", n0.0))
                .bearer_auth(TOKEN)
                .json(&json!({"role": "sales_ae", "name": name}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{name} hired");
            let p: Value = r.json().await.unwrap();
            ids.push(p["id"].as_str().unwrap().to_string());
        }
        ids
    });
    let n2 = tokio::task::block_in_place(|| c.add_node());
    let ids = hiring.await.unwrap();
    for id in &ids {
        let note = json!({"kind": "test.note", "source": "test"});
        if let Err(e) = c.post_event(n2, id, &note).await {
            panic!("n{n2} takes an event for {id}, hired through n0: {e}");
        }
    }
    inbox_drained(&c, 60).await;
}
