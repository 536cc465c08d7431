//! Consolidation (seed 1.4), run daily for each employee: the day's episodes are
//! summarised (extractively: the sentences that carry the day's most frequent terms),
//! facts stated plainly in more than one of them are promoted into semantic memory,
//! and the day's outcomes become the procedural statistics of each workflow. Everything
//! it writes is keyed by the employee and the day, so running it again changes nothing.

use super::facts::{NewFact, Visibility};
use super::{extract, text};
use crate::model::{EmployeeId, Episode, EpisodeId, EpisodeKind, TenantId};
use crate::store::to_micros;
use crate::store::{Store, StoreError, with_pool};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Successes, failures and failure reasons of one (task, workflow).
type Tally<R> = (i64, i64, R);

/// Sentences in a day's summary.
const HIGHLIGHTS: usize = 3;

/// What consolidating one day did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Consolidated {
    /// The day.
    #[schema(value_type = String)]
    pub day: Option<NaiveDate>,
    /// Episodes read.
    pub episodes: usize,
    /// The summary episode's id (none for a day without episodes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<EpisodeId>,
    /// Facts stated in more than one episode, promoted.
    pub facts: usize,
    /// Workflows whose statistics for the day were written.
    pub procedures: usize,
}

/// One workflow's record for one kind of task.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Procedure {
    /// The kind of task (the event that starts it).
    pub task: String,
    /// The workflow (plan).
    pub workflow: String,
    /// Times it succeeded.
    pub successes: i64,
    /// Times it failed or missed.
    pub failures: i64,
    /// Expected success rate, (successes + 1) / (runs + 2).
    pub success_rate: f64,
    /// Why it failed, most frequent first, with counts.
    pub failure_patterns: Vec<(String, i64)>,
}

#[derive(sqlx::FromRow)]
struct DayRow {
    kind: String,
    payload: String,
    text: String,
}

const DAY: &str = "SELECT kind, payload, text FROM episodes \
    WHERE tenant = $1 AND employee_id = $2 AND at >= $3 AND at < $4 AND kind <> 'summary' ORDER BY at, seq";
const SQLITE_PUT_PROCEDURE: &str = "INSERT INTO procedures (tenant, employee_id, task, workflow, day, successes, failures, failure_reasons, updated_at) \
    SELECT $1, $2, value->>'t', value->>'w', $3, value->>'s', value->>'f', value->>'r', $4 FROM jsonb_each($5) WHERE true \
    ON CONFLICT (tenant, employee_id, task, workflow, day) DO UPDATE SET successes = excluded.successes, \
    failures = excluded.failures, failure_reasons = excluded.failure_reasons";
const PG_PUT_PROCEDURE: &str = "INSERT INTO procedures (tenant, employee_id, task, workflow, day, successes, failures, failure_reasons, updated_at) \
    SELECT $1, $2, x->>'t', x->>'w', $3, (x->>'s')::bigint, (x->>'f')::bigint, x->>'r', $4 FROM jsonb_array_elements($5::jsonb) AS a(x) \
    ON CONFLICT (tenant, employee_id, task, workflow, day) DO UPDATE SET successes = excluded.successes, \
    failures = excluded.failures, failure_reasons = excluded.failure_reasons";
const PROCEDURES: &str = "SELECT task, workflow, successes, failures, failure_reasons FROM procedures \
    WHERE tenant = $1 AND employee_id = $2 AND (CAST($3 AS TEXT) IS NULL OR task = $3)";

impl Store {
    /// Consolidates one employee's `day` (UTC).
    pub async fn consolidate(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        day: NaiveDate,
    ) -> Result<Consolidated, StoreError> {
        let start = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        let end = start + chrono::Duration::days(1);
        let rows: Vec<DayRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(DAY)
                .bind(tenant.as_str())
                .bind(employee.to_string())
                .bind(to_micros(start))
                .bind(to_micros(end))
                .fetch_all(pool)
                .await?
        });
        let mut out = Consolidated {
            day: Some(day),
            episodes: rows.len(),
            ..Consolidated::default()
        };
        if rows.is_empty() {
            return Ok(out);
        }
        // Stamped at the day's last microsecond, so re-running writes the same rows.
        let at = end - chrono::Duration::microseconds(1);
        let summary = summarise(tenant, employee, day, at, &rows);
        out.summary = Some(summary.id);
        self.record_episodes(vec![summary]).await?;
        let facts = repeated_facts(&rows, employee, day, at);
        out.facts = facts.len();
        self.put_facts(tenant, &facts).await?;
        let procedures = outcomes(&rows);
        out.procedures = procedures.len();
        if !procedures.is_empty() {
            let body = serde_json::to_string(&procedures).expect("procedures serialise");
            let sql = match self.kind() {
                crate::store::StoreKind::Sqlite => SQLITE_PUT_PROCEDURE,
                crate::store::StoreKind::Postgres => PG_PUT_PROCEDURE,
            };
            with_pool!(self, write, |pool| {
                sqlx::query(sql)
                    .bind(tenant.as_str())
                    .bind(employee.to_string())
                    .bind(day.to_string())
                    .bind(to_micros(Utc::now()))
                    .bind(&body)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(out)
    }

    /// Procedural memory: how each workflow has fared for each kind of task (or for
    /// `task`), best known first.
    pub async fn procedures(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        task: Option<&str>,
    ) -> Result<Vec<Procedure>, StoreError> {
        let rows: Vec<(String, String, i64, i64, String)> = with_pool!(self, read, |pool| {
            sqlx::query_as(PROCEDURES)
                .bind(tenant.as_str())
                .bind(employee.to_string())
                .bind(task)
                .fetch_all(pool)
                .await?
        });
        let mut by: BTreeMap<(String, String), Tally<HashMap<String, i64>>> = BTreeMap::new();
        for (task, workflow, s, f, reasons) in rows {
            let e = by.entry((task, workflow)).or_default();
            e.0 += s;
            e.1 += f;
            let reasons: HashMap<String, i64> = serde_json::from_str(&reasons).unwrap_or_default();
            for (r, n) in reasons {
                *e.2.entry(r).or_default() += n;
            }
        }
        let mut out: Vec<Procedure> = by
            .into_iter()
            .map(|((task, workflow), (s, f, reasons))| {
                let mut failure_patterns: Vec<(String, i64)> = reasons.into_iter().collect();
                failure_patterns.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                Procedure {
                    task,
                    workflow,
                    successes: s,
                    failures: f,
                    success_rate: (s as f64 + 1.0) / ((s + f) as f64 + 2.0),
                    failure_patterns,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            a.task
                .cmp(&b.task)
                .then(b.success_rate.total_cmp(&a.success_rate))
                .then(a.workflow.cmp(&b.workflow))
        });
        Ok(out)
    }
}

/// The day's summary episode: counts by kind, and the sentences that carry the day's
/// most frequent terms (Luhn's extractive method), in the order they happened.
fn summarise(
    tenant: &TenantId,
    employee: EmployeeId,
    day: NaiveDate,
    at: DateTime<Utc>,
    rows: &[DayRow],
) -> Episode {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        *counts.entry(r.kind.as_str()).or_default() += 1;
    }
    // Sentences of what was perceived and done (decisions are bookkeeping).
    let mut sentences: Vec<(usize, String)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if r.kind != "event" && r.kind != "action" {
            continue;
        }
        // Prose only: not the summary line, not addresses.
        for part in r.text.split(" · ").skip(1).filter(|p| !p.contains('@')) {
            for s in part.split_inclusive(['.', '!', '?']) {
                let s = s.trim();
                if text::terms(s).count() >= 4 && !sentences.iter().any(|(_, x)| x == s) {
                    sentences.push((i, s.to_string()));
                }
            }
        }
    }
    let mut freq: HashMap<String, usize> = HashMap::new();
    for (_, s) in &sentences {
        for t in text::terms(s).filter(|t| !text::is_stopword(t)) {
            *freq.entry(t).or_default() += 1;
        }
    }
    let mut scored: Vec<(f64, usize, &str)> = sentences
        .iter()
        .map(|(i, s)| {
            let terms: Vec<String> = text::terms(s).filter(|t| !text::is_stopword(t)).collect();
            let score = terms.iter().map(|t| freq[t] as f64).sum::<f64>()
                / (terms.len().max(1) as f64).sqrt();
            (score, *i, s.as_str())
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    // Best first, skipping any sentence that mostly repeats one already taken.
    let mut highlights: Vec<(usize, &str)> = Vec::new();
    let mut taken: Vec<std::collections::HashSet<String>> = Vec::new();
    for (_, i, s) in &scored {
        if highlights.len() == HIGHLIGHTS {
            break;
        }
        let terms: std::collections::HashSet<String> =
            text::terms(s).filter(|t| !text::is_stopword(t)).collect();
        let repeats = taken
            .iter()
            .any(|t| t.intersection(&terms).count() * 2 > terms.len().min(t.len()));
        if !repeats {
            highlights.push((*i, *s));
            taken.push(terms);
        }
    }
    highlights.sort();
    let tally: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    Episode {
        id: EpisodeId(uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("summary\u{1f}{tenant}\u{1f}{employee}\u{1f}{day}").as_bytes(),
        )),
        tenant: tenant.clone(),
        employee_id: employee,
        kind: EpisodeKind::Summary,
        event_id: None,
        cause_id: None,
        channel: None,
        summary: format!("summary of {day}"),
        payload: json!({
            "day": day.to_string(),
            "counts": counts,
            "overview": format!("{day}: {}", tally.join(", ")),
            "highlights": highlights.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        }),
        at,
    }
}

/// Facts stated plainly in at least two of the day's episodes, held privately by the
/// employee; the more often stated, the surer.
fn repeated_facts(
    rows: &[DayRow],
    employee: EmployeeId,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> Vec<NewFact> {
    let mut seen: BTreeMap<extract::Triple, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind == "event") {
        let mut own = extract::facts(&r.text.replace(" · ", ".\n"));
        own.dedup();
        for t in own {
            *seen.entry(t).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|((subject, predicate, object), n)| NewFact {
            subject,
            predicate,
            object,
            confidence: (0.5 + 0.1 * n as f64).min(0.9),
            source: format!("consolidation of {day}"),
            visibility: Visibility::Private,
            owner: Some(employee),
            team: None,
            at,
        })
        .collect()
}

#[derive(Serialize)]
struct ProcedureRow {
    t: String,
    w: String,
    s: i64,
    f: i64,
    r: String,
}

/// The day's outcomes per (task, workflow): completions, failures and their reasons.
/// Only intentions that carried their actions out have outcomes: one that only
/// proposed them (shadow) ends with a `proposed` decision, which is no outcome of its
/// workflow and is not counted.
fn outcomes(rows: &[DayRow]) -> Vec<ProcedureRow> {
    let mut by: BTreeMap<(String, String), Tally<BTreeMap<String, i64>>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind == "outcome") {
        let Ok(p) = serde_json::from_str::<Value>(&r.payload) else {
            continue;
        };
        let plan = p["plan"].as_str().unwrap_or_default().to_string();
        let task = p["task"].as_str().unwrap_or("unknown").to_string();
        let e = by.entry((task, plan)).or_default();
        match p["decision"].as_str() {
            Some("complete") if p["success"] == true => e.0 += 1,
            Some("complete") => {
                e.1 += 1;
                *e.2.entry("missed its success criterion".into())
                    .or_default() += 1;
            }
            Some("fail") => {
                e.1 += 1;
                let reason = p["reason"].as_str().unwrap_or("unknown").to_string();
                *e.2.entry(reason).or_default() += 1;
            }
            _ => {}
        }
    }
    by.into_iter()
        .filter(|(_, (s, f, _))| s + f > 0)
        .map(|((t, w), (s, f, r))| ProcedureRow {
            t,
            w,
            s,
            f,
            r: serde_json::to_string(&r).expect("reasons serialise"),
        })
        .collect()
}
