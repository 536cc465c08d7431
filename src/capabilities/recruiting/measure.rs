//! `recruiting.measure`: the Recruiter's goal metric read off the pipeline. For each
//! open requisition it counts the qualified candidates — screened, in interview or at
//! offer — and tells the employee the thinnest role's count as the metric
//! `qualified_candidates_per_role`, the same `metric` event a posted figure is. Below
//! the role's threshold that starts sourcing (`signal.pipeline_thin`). With hires in
//! the last 90 days it also tells `time_to_hire_days`: their mean days from entering
//! the pipeline to being hired.

use super::Pipeline;
use crate::capabilities::CapabilityError;
use crate::capabilities::registry::Act;
use crate::store::{CandidateFilter, Page};
use serde_json::{Value as Json, json};

/// The metric the Recruiter's `pipeline_filled` goal measures.
const QUALIFIED: &str = "qualified_candidates_per_role";

/// The metric of the Recruiter's `time_to_hire` goal.
const TIME_TO_HIRE: &str = "time_to_hire_days";

/// How far back hires count towards the time to hire.
const HIRES_WINDOW_DAYS: i64 = 90;

/// The stages of a candidate who passed screening and is still in the running.
const QUALIFIED_STAGES: &[&str] = &["screened", "interview", "offer"];

/// `recruiting.measure`.
pub(super) async fn measure(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let pipeline = Pipeline::of(a.hands);
    let open = pipeline.requisitions(Some("open"), Page::ALL).await?;
    // One query per qualified stage, counted by requisition.
    let mut qualified: std::collections::HashMap<String, usize> = Default::default();
    for stage in QUALIFIED_STAGES {
        let f = CandidateFilter {
            stage: Some(stage.to_string()),
            ..Default::default()
        };
        for c in pipeline.candidates(&f, Page::ALL).await? {
            *qualified.entry(c.requisition).or_default() += 1;
        }
    }
    let roles: Vec<Json> = open
        .iter()
        .map(|r| {
            let n = qualified.get(&r.id).copied().unwrap_or(0);
            json!({"requisition": r.id, "title": r.title, "qualified": n})
        })
        .collect();
    let Some(thinnest) = roles
        .iter()
        .min_by_key(|r| r["qualified"].as_u64().unwrap_or(0))
        .cloned()
    else {
        return Ok(
            json!({"metric": QUALIFIED, "value": null, "roles": roles, "note": "no open requisition: nothing to measure"}),
        );
    };
    let value = thinnest["qualified"].as_u64().unwrap_or(0) as f64;
    tell(a, QUALIFIED, value).await?;
    let since = chrono::Utc::now() - chrono::Duration::days(HIRES_WINDOW_DAYS);
    let hired = pipeline
        .candidates(
            &CandidateFilter {
                stage: Some("hired".into()),
                ..Default::default()
            },
            Page::ALL,
        )
        .await?;
    let days: Vec<f64> = hired
        .iter()
        .filter(|c| c.updated_at >= since)
        .map(|c| (c.updated_at - c.created_at).num_hours() as f64 / 24.0)
        .collect();
    let time_to_hire = (!days.is_empty())
        .then(|| (days.iter().sum::<f64>() / days.len() as f64 * 10.0).round() / 10.0);
    if let Some(t) = time_to_hire {
        tell(a, TIME_TO_HIRE, t).await?;
    }
    Ok(
        json!({"metric": QUALIFIED, "value": value, "thinnest": thinnest, "roles": roles, TIME_TO_HIRE: time_to_hire}),
    )
}

/// Tells the acting employee a metric's value.
async fn tell(a: &Act<'_>, metric: &str, value: f64) -> Result<(), CapabilityError> {
    a.hands
        .tell_metric(a.me.id, "recruiting", metric, value)
        .await
        .map_err(|e| CapabilityError::Service(format!("the metric could not be told: {e}")))
}
