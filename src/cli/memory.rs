//! Memory commands: `empla recall`, `facts`, `why`, `knowledge ingest|publish` and
//! `forget`, through the node's API.

use super::client::{Client, choice, print, read, when};
use super::{Command, KnowledgeAction, NodeArgs};
use crate::api::wire::{
    ConsolidateBody, FactsQuery, ForgetBody, Items, ProceduresQuery, PublishBody, RecallQuery,
};
use crate::memory::{Consolidated, Fact, Forgotten, Item, Procedure, Published, Visibility};
use crate::model::Episode;
use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::Value;
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
            let from = since
                .as_deref()
                .map(|s| since_start(s, Utc::now()))
                .transpose()?;
            let q = RecallQuery {
                q: Some(query),
                from: from.map(|f| f.to_rfc3339()),
                // `--until` goes as given: the node reads a date as the whole day.
                to: until,
                with,
                mode: Some(mode),
                limit: Some(limit.into()),
                offset: None,
            };
            let v: Value = Client::new(&node)?
                .get(&format!("/employees/{id}/memory/search"))
                .query(&q)
                .answer()
                .await?;
            if json {
                print(&v)?;
            } else {
                print_items(&read::<Items<Item>>(v)?.items)?;
            }
        }
        Command::Facts {
            id,
            subject,
            depth,
            node,
        } => {
            let facts: Items<Fact> = Client::new(&node)?
                .get(&format!("/employees/{id}/memory/facts"))
                .query(&FactsQuery {
                    subject,
                    depth: Some(depth.into()),
                    ..FactsQuery::default()
                })
                .answer()
                .await?;
            if facts.items.is_empty() {
                outln!("no facts");
            }
            for f in facts.items {
                outln!(
                    "{}{} —{}→ {}   ({:.2}, {}, {})",
                    "  ".repeat(usize::try_from(f.depth - 1).unwrap_or(0)),
                    f.subject,
                    f.predicate,
                    f.object,
                    f.confidence,
                    f.source,
                    f.visibility,
                );
            }
        }
        Command::Why { id, episode, node } => {
            let chain: Items<Episode> = Client::new(&node)?
                .get(&format!("/employees/{id}/memory/why/{episode}"))
                .answer()
                .await?;
            for (i, e) in chain.items.iter().enumerate() {
                outln!(
                    "{}{} {} {}  {}",
                    if i == 0 { "" } else { "  ← because of " },
                    when(&e.at),
                    e.kind.as_str(),
                    e.summary,
                    e.id,
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
            let body = PublishBody {
                title,
                text,
                source: None,
                visibility: Some(visibility_arg(&visibility)?),
                employee,
            };
            let p: Published = Client::new(&node)?
                .post("/knowledge")
                .json(&body)
                .answer()
                .await?;
            outln!(
                "published {} ({} chunks, {} facts)",
                p.id,
                p.chunks,
                p.facts
            );
        }
        Command::Forget { person, yes, node } => {
            if !yes {
                bail!(
                    "this deletes everything the node holds about {person:?} (what employees remember, mail, \
                     chat, tasks, actions, CRM contacts) and cannot be undone; run again with --yes to do it"
                );
            }
            let f: Forgotten = Client::new(&node)?
                .post("/memory/forget")
                .json(&ForgetBody {
                    person: person.clone(),
                })
                .answer()
                .await?;
            outln!("forgot {person}: {}", forgotten_summary(&f));
        }
        Command::Consolidate { id, day, node } => {
            let day = day
                .map(|d| {
                    NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                        anyhow::anyhow!("--day must be a date such as 2026-11-30, got {d:?}")
                    })
                })
                .transpose()?;
            let mut call = Client::new(&node)?.post(&format!("/employees/{id}/memory/consolidate"));
            if day.is_some() {
                call = call.json(&ConsolidateBody { day });
            }
            let c: Consolidated = call.answer().await?;
            outln!(
                "consolidated {}: {} episodes, {} facts promoted, {} workflows{}",
                c.day.map(|d| d.to_string()).unwrap_or_default(),
                c.episodes,
                c.facts,
                c.procedures,
                c.summary
                    .map(|s| format!("; summary {s}"))
                    .unwrap_or_default()
            );
        }
        Command::Procedures { id, task, node } => {
            let procedures: Items<Procedure> = Client::new(&node)?
                .get(&format!("/employees/{id}/memory/procedures"))
                .query(&ProceduresQuery { task })
                .answer()
                .await?;
            if procedures.items.is_empty() {
                outln!("no outcomes consolidated yet");
            }
            for p in procedures.items {
                // The counts are unpadded, as they always printed.
                outln!(
                    "{:<24} {:<28} {} ok {} failed  ({:.0}%)  {}",
                    p.task,
                    p.workflow,
                    p.successes,
                    p.failures,
                    p.success_rate * 100.0,
                    p.failure_patterns
                        .first()
                        .map(|(why, n)| format!("most often: {why} ({n})"))
                        .unwrap_or_default()
                );
            }
        }
        _ => unreachable!("not a memory command"),
    }
    Ok(())
}

fn print_items(items: &[Item]) -> anyhow::Result<()> {
    if items.is_empty() {
        outln!("nothing found");
    }
    for i in items {
        let short: String = i.text.chars().take(160).collect();
        let sources: Vec<&str> = i.sources.iter().map(|s| s.as_str()).collect();
        let at = when(&i.at);
        outln!(
            "{:.4}  {}  {:<9} [{}]  {}\n        {}{}",
            i.score,
            at.get(..16).unwrap_or(""),
            i.kind,
            sources.join(","),
            i.id,
            short,
            if i.text.chars().count() > 160 {
                "…"
            } else {
                ""
            },
        );
    }
    Ok(())
}

/// `--visibility` as the API's type.
fn visibility_arg(v: &str) -> anyhow::Result<Visibility> {
    choice("--visibility", v, "private, team or company")
}

/// Publishes every `.md`, `.markdown` and `.txt` file under `dir`, each as one
/// document whose source is its path relative to `dir` (so ingesting again replaces).
async fn ingest(
    dir: &Path,
    visibility: &str,
    employee: Option<String>,
    node: &NodeArgs,
) -> anyhow::Result<()> {
    let visibility = visibility_arg(visibility)?;
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
            outln!("skipped {} (empty)", f.display());
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
        let body = PublishBody {
            title,
            text,
            source: Some(rel.clone()),
            visibility: Some(visibility),
            employee: employee.clone(),
        };
        let p: Published = client
            .post("/knowledge")
            .json(&body)
            .answer()
            .await
            .with_context(|| format!("publishing {}", f.display()))?;
        chunks += p.chunks;
        facts += p.facts;
        outln!("{rel}: {} chunks, {} facts", p.chunks, p.facts);
    }
    outln!(
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

/// The start of `--since`: memories from it on, until now. Words name the start of a
/// day, week (from Monday) or month, UTC: `today`, `yesterday`, `this week`, `last
/// week`, `this month`, `last month`; `last 3 days` and `3 days ago` (also hours, weeks)
/// count back from now, as do durations (`7d`, `24h`); or a date or an RFC 3339 time.
fn since_start(s: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let today = now.date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let first = today.with_day(1).expect("day 1 exists");
    let prev_first = (first - Duration::days(1))
        .with_day(1)
        .expect("day 1 exists");
    let words = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    Ok(match words.as_str() {
        "today" => day(today),
        "yesterday" => day(today - Duration::days(1)),
        "this week" => day(monday),
        "last week" => day(monday - Duration::days(7)),
        "this month" => day(first),
        "last month" => day(prev_first),
        other => {
            if let Some(back) = counted_back(other) {
                now - back
            } else if let Ok(d) = humantime::parse_duration(other) {
                now - Duration::from_std(d)?
            } else if let Ok(t) = DateTime::parse_from_rfc3339(other) {
                t.with_timezone(&Utc)
            } else if let Ok(d) = NaiveDate::parse_from_str(other, "%Y-%m-%d") {
                day(d)
            } else {
                bail!(
                    "--since {s:?} is not a time; use today, yesterday, \"this week\", \"last week\", \"this month\", \"last month\", \
                     \"last 3 days\", \"2 weeks ago\", a duration such as 7d or 24h, or a date such as 2026-11-01"
                )
            }
        }
    })
}

/// `last 3 days`, `last 2 weeks`, `3 days ago`, `1 hour ago` as a duration.
fn counted_back(words: &str) -> Option<Duration> {
    let parts: Vec<&str> = words.split(' ').collect();
    let (n, unit) = match parts[..] {
        ["last", n, unit] => (n, unit),
        [n, unit, "ago"] => (n, unit),
        _ => return None,
    };
    let n: i64 = n.parse().ok().filter(|n| *n > 0 && *n <= 100_000)?;
    Some(match unit.trim_end_matches('s') {
        "hour" => Duration::hours(n),
        "day" => Duration::days(n),
        "week" => Duration::weeks(n),
        _ => return None,
    })
}

/// What `empla forget` prints: every kind with its count, the kinds the node keeps first.
fn forgotten_summary(f: &Forgotten) -> String {
    let mut line = [
        (f.episodes, "episodes"),
        (f.events, "events"),
        (f.facts, "facts"),
        (f.knowledge, "knowledge chunks"),
        (f.mail, "mail messages"),
        (f.attachments, "attachment files"),
        (f.chat, "chat messages"),
        (f.tasks, "tasks"),
        (f.outbox, "outbox actions"),
        (f.approvals, "approvals"),
        (f.escalations, "escalations"),
        (f.calendar, "calendar entries"),
        (f.state, "employee state entries"),
        (f.crm_contacts, "CRM contacts"),
        (f.crm_activities, "CRM activities"),
        (f.documents, "documents"),
        (f.candidates, "candidates"),
        (f.backlog, "product backlog requests and votes"),
    ]
    .iter()
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>()
    .join(", ");
    if f.redacted > 0 {
        line.push_str(&format!(
            "; {} records of others kept with the mentions redacted",
            f.redacted
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_words_start_a_day_week_or_month_and_run_until_now() {
        let now: DateTime<Utc> = "2026-12-02T15:00:00Z".parse().unwrap(); // a Wednesday
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        for (words, start) in [
            ("today", "2026-12-02T00:00:00Z"),
            ("yesterday", "2026-12-01T00:00:00Z"),
            ("this week", "2026-11-30T00:00:00Z"),
            ("last week", "2026-11-23T00:00:00Z"),
            ("Last  Week", "2026-11-23T00:00:00Z"),
            ("this month", "2026-12-01T00:00:00Z"),
            ("last month", "2026-11-01T00:00:00Z"),
            ("last 3 days", "2026-11-29T15:00:00Z"),
            ("last 1 day", "2026-12-01T15:00:00Z"),
            ("2 weeks ago", "2026-11-18T15:00:00Z"),
            ("5 hours ago", "2026-12-02T10:00:00Z"),
            ("7d", "2026-11-25T15:00:00Z"),
            ("24h", "2026-12-01T15:00:00Z"),
            ("2026-10-05", "2026-10-05T00:00:00Z"),
            ("2026-10-05T08:30:00+02:00", "2026-10-05T06:30:00Z"),
        ] {
            assert_eq!(since_start(words, now).unwrap(), t(start), "{words}");
        }
    }

    #[test]
    fn since_that_is_no_time_names_the_forms_it_takes() {
        let now = Utc::now();
        for bad in [
            "a while ago",
            "last fortnight",
            "last 0 days",
            "tomorrow",
            "",
        ] {
            let e = since_start(bad, now).unwrap_err().to_string();
            assert!(
                e.contains("--since") && e.contains("last week") && e.contains("7d"),
                "{bad}: {e}"
            );
        }
    }
}
