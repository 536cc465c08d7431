//! Memory commands: `empla recall`, `facts`, `why`, `knowledge ingest|publish` and
//! `forget`, through the node's API.

use super::client::{Client, print};
use super::{Command, KnowledgeAction, NodeArgs};
use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::Path;

pub(super) async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Recall {
            id,
            query,
            mode,
            since,
            until,
            with,
            limit,
            json,
            node,
        } => {
            let mut params = vec![("q", query), ("mode", mode), ("limit", limit.to_string())];
            let (from, to) = match since.as_deref() {
                Some(s) => range(s, Utc::now())?,
                None => (None, None),
            };
            if let Some(f) = from {
                params.push(("from", f.to_rfc3339()));
            }
            match (until, to) {
                (Some(u), _) => params.push(("to", u)),
                (None, Some(t)) => params.push(("to", t.to_rfc3339())),
                (None, None) => {}
            }
            if let Some(w) = with {
                params.push(("with", w));
            }
            let v = Client::new(&node)?
                .call_with(
                    Method::GET,
                    &format!("/employees/{id}/memory/search"),
                    &params,
                    None,
                )
                .await?;
            if json {
                print(&v);
            } else {
                print_items(&v);
            }
        }
        Command::Facts {
            id,
            subject,
            depth,
            node,
        } => {
            let mut params = vec![("depth", depth.to_string())];
            if let Some(s) = subject {
                params.push(("subject", s));
            }
            let v = Client::new(&node)?
                .call_with(
                    Method::GET,
                    &format!("/employees/{id}/memory/facts"),
                    &params,
                    None,
                )
                .await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no facts");
            }
            for f in items {
                println!(
                    "{}{} —{}→ {}   ({:.2}, {}, {})",
                    "  ".repeat(f["depth"].as_u64().unwrap_or(1).saturating_sub(1) as usize),
                    f["subject"].as_str().unwrap_or(""),
                    f["predicate"].as_str().unwrap_or(""),
                    f["object"].as_str().unwrap_or(""),
                    f["confidence"].as_f64().unwrap_or(0.0),
                    f["source"].as_str().unwrap_or(""),
                    f["visibility"].as_str().unwrap_or(""),
                );
            }
        }
        Command::Why { id, episode, node } => {
            let v = Client::new(&node)?
                .call(
                    Method::GET,
                    &format!("/employees/{id}/memory/why/{episode}"),
                    None,
                )
                .await?;
            for (i, e) in v["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                println!(
                    "{}{} {} {}  {}",
                    if i == 0 { "" } else { "  ← because of " },
                    e["at"].as_str().unwrap_or(""),
                    e["kind"].as_str().unwrap_or(""),
                    e["summary"].as_str().unwrap_or(""),
                    e["id"].as_str().unwrap_or(""),
                );
            }
        }
        Command::Knowledge {
            action:
                KnowledgeAction::Ingest {
                    dir,
                    visibility,
                    employee,
                    node,
                },
        } => ingest(&dir, &visibility, employee, &node).await?,
        Command::Knowledge {
            action:
                KnowledgeAction::Publish {
                    title,
                    text,
                    visibility,
                    employee,
                    node,
                },
        } => {
            let text = if text == "-" {
                std::io::read_to_string(std::io::stdin())
                    .context("reading the text from standard input")?
            } else {
                text
            };
            let v = Client::new(&node)?
                .call(
                    Method::POST,
                    "/knowledge",
                    Some(json!({"title": title, "text": text, "visibility": visibility, "employee": employee})),
                )
                .await?;
            println!(
                "published {} ({} chunks, {} facts)",
                v["id"].as_str().unwrap_or(""),
                v["chunks"],
                v["facts"]
            );
        }
        Command::Forget { person, yes, node } => {
            if !yes {
                bail!(
                    "this deletes everything every employee remembers about {person:?} and cannot be undone; \
                     run again with --yes to do it"
                );
            }
            let v = Client::new(&node)?
                .call(
                    Method::POST,
                    "/memory/forget",
                    Some(json!({"person": person})),
                )
                .await?;
            println!(
                "forgot {person}: {} episodes, {} events, {} facts, {} knowledge chunks",
                v["episodes"], v["events"], v["facts"], v["knowledge"]
            );
        }
        Command::Consolidate { id, day, node } => {
            let body = day.map(|d| json!({"day": d}));
            let v = Client::new(&node)?
                .call(
                    Method::POST,
                    &format!("/employees/{id}/memory/consolidate"),
                    body,
                )
                .await?;
            println!(
                "consolidated {}: {} episodes, {} facts promoted, {} workflows{}",
                v["day"].as_str().unwrap_or(""),
                v["episodes"],
                v["facts"],
                v["procedures"],
                v["summary"]
                    .as_str()
                    .map(|s| format!("; summary {s}"))
                    .unwrap_or_default()
            );
        }
        Command::Procedures { id, task, node } => {
            let params: Vec<(&str, String)> = task.map(|t| vec![("task", t)]).unwrap_or_default();
            let v = Client::new(&node)?
                .call_with(
                    Method::GET,
                    &format!("/employees/{id}/memory/procedures"),
                    &params,
                    None,
                )
                .await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no outcomes consolidated yet");
            }
            for p in items {
                println!(
                    "{:<24} {:<28} {:>4} ok {:>4} failed  ({:.0}%)  {}",
                    p["task"].as_str().unwrap_or(""),
                    p["workflow"].as_str().unwrap_or(""),
                    p["successes"],
                    p["failures"],
                    p["success_rate"].as_f64().unwrap_or(0.0) * 100.0,
                    p["failure_patterns"]
                        .as_array()
                        .and_then(|a| a.first())
                        .map(|f| format!("most often: {} ({})", f[0].as_str().unwrap_or(""), f[1]))
                        .unwrap_or_default()
                );
            }
        }
        _ => unreachable!("not a memory command"),
    }
    Ok(())
}

fn print_items(v: &Value) {
    let items = v["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!("nothing found");
    }
    for i in items {
        let text = i["text"].as_str().unwrap_or("");
        let short: String = text.chars().take(160).collect();
        let sources: Vec<&str> = i["sources"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        println!(
            "{:.4}  {}  {:<9} [{}]  {}\n        {}{}",
            i["score"].as_f64().unwrap_or(0.0),
            i["at"].as_str().unwrap_or("").get(..16).unwrap_or(""),
            i["kind"].as_str().unwrap_or(""),
            sources.join(","),
            i["id"].as_str().unwrap_or(""),
            short,
            if text.chars().count() > 160 {
                "…"
            } else {
                ""
            },
        );
    }
}

/// Publishes every `.md`, `.markdown` and `.txt` file under `dir`, each as one
/// document whose source is its path relative to `dir` (so ingesting again replaces).
async fn ingest(
    dir: &Path,
    visibility: &str,
    employee: Option<String>,
    node: &NodeArgs,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    collect(dir, &mut files).with_context(|| format!("reading {}", dir.display()))?;
    files.sort();
    if files.is_empty() {
        bail!("{} holds no .md, .markdown or .txt files", dir.display());
    }
    let client = Client::new(node)?;
    let (mut chunks, mut facts) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading {} (documents must be UTF-8 text)", f.display()))?;
        if text.trim().is_empty() {
            println!("skipped {} (empty)", f.display());
            continue;
        }
        let rel = f.strip_prefix(dir).unwrap_or(f).display().to_string();
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_string()))
            .unwrap_or_else(|| {
                f.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let v = client
            .call(
                Method::POST,
                "/knowledge",
                Some(json!({"title": title, "text": text, "source": rel, "visibility": visibility, "employee": employee})),
            )
            .await
            .with_context(|| format!("publishing {}", f.display()))?;
        chunks += v["chunks"].as_u64().unwrap_or(0);
        facts += v["facts"].as_u64().unwrap_or(0);
        println!("{rel}: {} chunks, {} facts", v["chunks"], v["facts"]);
    }
    println!(
        "ingested {} documents: {chunks} chunks, {facts} facts",
        files.len()
    );
    Ok(())
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "md" | "markdown" | "txt"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// A time range: from (inclusive) and to (exclusive), either open.
type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A time range from words: `today`, `yesterday`, `this week`, `last week`, `this
/// month`, `last month` (calendar weeks from Monday and months, UTC), a duration back
/// from now (`7d`, `24h`), or a time or date to start from.
fn range(s: &str, now: DateTime<Utc>) -> anyhow::Result<Range> {
    let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let today = now.date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let first = today.with_day(1).expect("day 1 exists");
    let prev_first = (first - Duration::days(1))
        .with_day(1)
        .expect("day 1 exists");
    Ok(match s.trim().to_lowercase().as_str() {
        "today" => (Some(day(today)), None),
        "yesterday" => (Some(day(today - Duration::days(1))), Some(day(today))),
        "this week" => (Some(day(monday)), None),
        "last week" => (Some(day(monday - Duration::days(7))), Some(day(monday))),
        "this month" => (Some(day(first)), None),
        "last month" => (Some(day(prev_first)), Some(day(first))),
        other => {
            if let Ok(d) = humantime::parse_duration(other) {
                (Some(now - Duration::from_std(d)?), None)
            } else if let Ok(t) = DateTime::parse_from_rfc3339(other) {
                (Some(t.with_timezone(&Utc)), None)
            } else if let Ok(d) = NaiveDate::parse_from_str(other, "%Y-%m-%d") {
                (Some(day(d)), None)
            } else {
                bail!(
                    "--since {s:?} is not a time; use today, yesterday, this week, last week, this month, last month, \
                     a duration such as 7d, or a date such as 2026-11-01"
                )
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_give_calendar_ranges() {
        let now: DateTime<Utc> = "2026-12-02T15:00:00Z".parse().unwrap(); // a Wednesday
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            range("last month", now).unwrap(),
            (
                Some(t("2026-11-01T00:00:00Z")),
                Some(t("2026-12-01T00:00:00Z"))
            )
        );
        assert_eq!(
            range("last week", now).unwrap(),
            (
                Some(t("2026-11-23T00:00:00Z")),
                Some(t("2026-11-30T00:00:00Z"))
            )
        );
        assert_eq!(
            range("yesterday", now).unwrap(),
            (
                Some(t("2026-12-01T00:00:00Z")),
                Some(t("2026-12-02T00:00:00Z"))
            )
        );
        assert_eq!(
            range("7d", now).unwrap(),
            (Some(t("2026-11-25T15:00:00Z")), None)
        );
        assert_eq!(
            range("2026-10-05", now).unwrap(),
            (Some(t("2026-10-05T00:00:00Z")), None)
        );
        let e = range("a while ago", now).unwrap_err().to_string();
        assert!(e.contains("--since") && e.contains("last month"), "{e}");
    }
}
