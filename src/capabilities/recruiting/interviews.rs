//! After the interview: the meeting a candidate picked is recorded on them
//! (`recruiting.record_interview`, after `calendar.schedule` books it), which tells the
//! employee `recruiting.interview_booked` so it asks the panel for feedback once the
//! interview has ended. Each panel member's answer is recorded as feedback on the
//! candidate (`recruiting.record_feedback`: the request's subject carries the
//! candidate's reference, the answer's words its recommendation). The first positive
//! recommendation moves the candidate to `offer` and tells the employee
//! `recruiting.offer_due`; its plan drafts the offer letter (`recruiting.offer_letter`,
//! the `offer.md.j2` template rendered by the documents capability) and mails it, which
//! waits for the hiring manager's approval (the role's policy on `offer`).

use super::{Feedback, Interview, Pipeline, StageChange};
use crate::capabilities::documents::Draft;
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, param};
use crate::model::{NewEvent, OutboxEntry, bare_address, clean_message_id};
use crate::store::{CandidateFilter, Page};
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

/// How a feedback request names its candidate in its subject: `[ref <id>]`.
const REF: &str = "[ref ";

async fn tell(a: &Act<'_>, kind: &str, payload: Json, key: String) {
    let new = NewEvent {
        kind: kind.into(),
        source: "recruiting".into(),
        payload,
        idempotency_key: Some(key),
    };
    if let Err(e) = a.hands.employees.perceive(a.me.id, new).await {
        tracing::warn!(error = %e, employee = %a.me.id, kind, "recruiting could not tell the employee");
    }
}

/// `recruiting.record_interview`: the meeting action `booked` booked for the
/// candidate `candidate` (an address) is recorded on them.
pub(super) async fn record_interview(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let email = bare_address(param(p, "candidate").unwrap_or_default()).to_string();
    let booked = param(p, "booked")
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            CapabilityError::Invalid(
                "`booked` names the booking action by its number, e.g. \"{{ intention.last_action }}\"".into(),
            )
        })?;
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let record = hands
        .store
        .action(tenant, &OutboxEntry::key_for(a.me.id, booked))
        .await?;
    let event = record
        .and_then(|r| r.result)
        .map(|r| r["event"].clone())
        .filter(|e| e.is_object())
        .ok_or_else(|| CapabilityError::Invalid(format!("action {booked} booked no meeting")))?;
    let f = CandidateFilter {
        email: Some(email.clone()),
        stage: Some("interview".into()),
        ..Default::default()
    };
    let Some(c) = hands
        .store
        .candidates(tenant, &f, Page::FIRST)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(
            json!({"recorded": false, "why": format!("{email} is no candidate waiting for an interview")}),
        );
    };
    let time = |k: &str| {
        event[k]
            .as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
    };
    let interview = Interview {
        id: format!("{}:{}", c.id, event["uid"].as_str().unwrap_or_default()),
        candidate: c.id.clone(),
        starts_at: time("start"),
        calendar_event: event["uid"].as_str().map(str::to_string),
        proposal: None,
        created_at: Utc::now(),
    };
    hands.store.insert_interview(tenant, &interview).await?;
    let title = hands
        .store
        .requisition(tenant, &c.requisition)
        .await?
        .map(|r| r.title)
        .unwrap_or_default();
    tell(
        a,
        "recruiting.interview_booked",
        json!({
            "candidate": c.id, "name": c.name, "email": c.email, "title": title,
            "start": interview.starts_at, "end": time("end"),
        }),
        format!("interview_booked:{}", interview.id),
    )
    .await;
    Ok(json!({"recorded": true, "interview": interview.id, "candidate": c.id}))
}

/// The recommendation in a panel member's words: `strong_yes`, `yes`, `no`,
/// `strong_no`; none when they give none.
fn recommendation(words: &str) -> Option<&'static str> {
    let w = words.to_lowercase();
    let first = |needles: &[&str]| needles.iter().filter_map(|n| w.find(n)).min();
    [
        (
            "strong_no",
            first(&["strong no", "strongly against", "definitely not"]),
        ),
        (
            "strong_yes",
            first(&["strong yes", "strongly recommend", "definitely hire"]),
        ),
        (
            "no",
            first(&[
                "no hire",
                "not hire",
                "do not recommend",
                "don't recommend",
                "recommend against",
                "no,",
                "no.",
            ]),
        ),
        ("yes", first(&["yes", "hire", "recommend"])),
    ]
    .into_iter()
    .filter_map(|(r, at)| at.map(|at| (at, r)))
    // The earliest wins; at the same place the stronger (listed first) does.
    .min_by_key(|(at, _)| *at)
    .map(|(_, r)| r)
}

/// `recruiting.record_feedback`: a panel member's answer (`message_id`) to a feedback
/// request, recorded on the candidate the request names.
pub(super) async fn record_feedback(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let id = clean_message_id(param(&a.entry.params, "message_id").unwrap_or_default());
    let m = hands
        .store
        .mail(tenant, id)
        .await?
        .ok_or_else(|| CapabilityError::Invalid(format!("no mail with Message-ID {id:?}")))?;
    let mut subject = m.subject.clone();
    if !subject.contains(REF)
        && let Some(asked) = m.in_reply_to.as_deref()
        && let Some(request) = hands.store.mail(tenant, clean_message_id(asked)).await?
    {
        subject = request.subject;
    }
    let reference = subject
        .split_once(REF)
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(r, _)| r.trim().to_string())
        .ok_or_else(|| {
            CapabilityError::Invalid(
                "the mail answers no feedback request (its subject names no `[ref ...]`)".into(),
            )
        })?;
    let pipeline = Pipeline::of(hands);
    let mut c = pipeline.candidate(&reference).await?;
    // Their own words: the body without the quoted request.
    let words: String = m
        .body
        .lines()
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect::<Vec<_>>()
        .join("\n");
    let Some(rec) = recommendation(&words) else {
        return Ok(
            json!({"recorded": false, "why": "the answer gives no recommendation (yes, no, strong yes, strong no)"}),
        );
    };
    let f = Feedback {
        id: uuid::Uuid::now_v7().to_string(),
        candidate: c.id.clone(),
        author: m.from.clone(),
        text: words.trim().to_string(),
        recommendation: rec.into(),
        at: m.at,
    };
    let recorded = hands
        .store
        .insert_feedback(tenant, &f, Some(&format!("mail:{}", m.message_id)))
        .await?;
    let positive = rec == "yes" || rec == "strong_yes";
    if recorded && positive && c.stage == "interview" {
        let change = StageChange {
            from: Some(c.stage.clone()),
            to: "offer".into(),
            reason: format!("{} recommends hiring", m.from),
            by: a.me.id.to_string(),
            at: Utc::now(),
        };
        c.stage = "offer".into();
        c.updated_at = change.at;
        hands
            .store
            .update_candidate(tenant, &c, &[change], None)
            .await?;
        let r = pipeline.requisition(&c.requisition).await?;
        tell(
            a,
            "recruiting.offer_due",
            json!({
                "candidate": c.id, "name": c.name, "first_name": c.name.split_whitespace().next(),
                "email": c.email, "thread": c.thread, "title": r.title,
                "hiring_manager": r.hiring_manager,
            }),
            format!("offer_due:{}", c.id),
        )
        .await;
    }
    Ok(json!({"recorded": recorded, "candidate": c.id, "recommendation": rec, "stage": c.stage}))
}

/// `recruiting.offer_letter`: the offer letter of `candidate`, from `offer.md.j2`.
pub(super) async fn offer_letter(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let id = param(&a.entry.params, "candidate").unwrap_or_default();
    let pipeline = Pipeline::of(hands);
    let c = pipeline.candidate(id).await?;
    let r = pipeline.requisition(&c.requisition).await?;
    let profile = hands.store.employee(tenant, a.me.id).await?;
    let now = Utc::now();
    let title = format!("Offer of employment: {} ({})", c.name, r.title);
    let doc = hands
        .documents
        .write(
            &hands.store,
            tenant,
            a.me.id,
            Some(&a.entry.key),
            "offer.md.j2",
            Draft {
                kind: "offer",
                title: title.clone(),
                series: format!("offer:{}", c.id),
                account: None,
                deal: None,
                contact: None,
                context: json!({
                    "title": title,
                    "candidate": {"name": c.name, "email": c.email},
                    "position": r.title,
                    "hiring_manager": r.hiring_manager,
                    "start_date": param(&a.entry.params, "start_date"),
                    "salary": param(&a.entry.params, "salary"),
                    "me": {"name": a.me.name, "email": a.me.email,
                           "job_title": profile.map(|p| p.job_title).unwrap_or_default()},
                    "date": now.format("%-d %B %Y").to_string(),
                }),
                facts: json!({"candidate": c.id, "requisition": r.id}),
            },
        )
        .await?;
    Ok(json!({"document": doc.id, "title": doc.title, "version": doc.version}))
}

#[cfg(test)]
mod tests {
    use super::recommendation;

    #[test]
    fn recommendations_are_read_from_the_panel_words() {
        assert_eq!(
            recommendation("Strong yes: great Rust depth."),
            Some("strong_yes")
        );
        assert_eq!(recommendation("Yes, hire her."), Some("yes"));
        assert_eq!(recommendation("No, not senior enough."), Some("no"));
        assert_eq!(recommendation("Strong no."), Some("strong_no"));
        assert_eq!(recommendation("I do not recommend hiring."), Some("no"));
        assert_eq!(recommendation("Interesting conversation."), None);
    }
}
