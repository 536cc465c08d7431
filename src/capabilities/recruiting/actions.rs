//! The recruiting actions. `recruiting.screen_application` takes an application mail
//! in: it finds the requisition the mail names (or the only open one), reads the CV
//! attached (PDF or DOCX), records the candidate with it, screens it against the
//! requisition and moves the candidate to `interview` or `declined` — then tells the
//! employee `recruiting.screened` with the decision and its explanation, so exactly one
//! of the Recruiter's plans answers: times offered with the panel, or a kind decline.
//! A mail that cannot be screened (no CV, a CV that cannot be read, no open
//! requisition) tells the employee `recruiting.application_incomplete` saying what is
//! missing, and records nothing. Taken in twice (a retry after a crash), an
//! application is recorded and answered once: the candidate is one row per
//! requisition and address, and the events carry the mail's Message-ID as their key.
//!
//! `research.search_profiles` sources candidates from web profiles (see [`super::sourcing`]).
//! `recruiting.move` moves a candidate to another stage (the candidate is told, as for
//! a move made through the API).

use super::cv::{self, CvFormat};
use super::screen::screen;
use super::{Candidate, Pipeline, Requisition, StageChange, StageMove};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, Hands, param};
use crate::model::{MailMessage, NewEvent, bare_address, clean_message_id, display_name};
use crate::store::Page;
use chrono::Utc;
use serde_json::{Value as Json, json};
use std::path::Path;

/// The recruiting action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::Text;
    vec![
        ActionKind::new(
            "recruiting.screen_application",
            "Records the candidate of an application mail with its CV, screens it against the requisition, and tells the employee `recruiting.screened` (or `recruiting.application_incomplete`).",
            false,
            |a| Box::pin(screen_application(a)),
        )
        .params(vec![Param::required("message_id", Text)]),
        ActionKind::new(
            "research.search_profiles",
            "Sources candidates for an open requisition (`requisition`, id or title; else every open one) from web profiles with a mail address; each tells the employee `recruiting.sourced`, a requisition with none `recruiting.sourcing_empty`.",
            false,
            |a| Box::pin(super::sourcing::search_profiles(a)),
        )
        .params(vec![
            Param::optional("requisition", Text),
            Param::optional("count", ParamType::Integer),
        ]),
        ActionKind::new(
            "recruiting.record_interview",
            "Records on the candidate (`candidate`, an address) the interview the action `booked` booked, and tells the employee `recruiting.interview_booked`.",
            false,
            |a| Box::pin(super::interviews::record_interview(a)),
        )
        .params(vec![
            Param::required("candidate", Text),
            Param::required("booked", Text),
        ]),
        ActionKind::new(
            "recruiting.record_feedback",
            "Records a panel member's answer (`message_id`) to a feedback request on the candidate it names; the first positive one moves them to `offer` and tells the employee `recruiting.offer_due`.",
            false,
            |a| Box::pin(super::interviews::record_feedback(a)),
        )
        .params(vec![Param::required("message_id", Text)]),
        ActionKind::new(
            "recruiting.offer_letter",
            "Drafts the offer letter of `candidate` from the `offer.md.j2` template (PDF and DOCX).",
            false,
            |a| Box::pin(super::interviews::offer_letter(a)),
        )
        .params(vec![
            Param::required("candidate", Text),
            Param::optional("start_date", Text),
            Param::optional("salary", Text),
        ]),
        ActionKind::new(
            "recruiting.move",
            "Moves a candidate to another stage of the pipeline; the candidate is told.",
            false,
            |a| Box::pin(move_candidate(a)),
        )
        .params(vec![
            Param::required("candidate", Text),
            Param::required("stage", Text),
            Param::optional("reason", Text),
        ]),
        ActionKind::new(
            "recruiting.measure",
            "Counts the qualified candidates (screened, in interview, at offer) of each open requisition and tells the employee the thinnest role's count as `qualified_candidates_per_role`.",
            false,
            |a| Box::pin(super::measure::measure(a)),
        ),
    ]
}

/// Why an application cannot be screened, as the candidate is told.
struct Incomplete {
    problem: &'static str,
    explanation: String,
}

/// The requisition an application is for: the open one whose title the mail names,
/// else the only open one.
fn requisition_named<'r>(open: &'r [Requisition], m: &MailMessage) -> Option<&'r Requisition> {
    let text = format!("{}\n{}", m.subject, m.body).to_lowercase();
    open.iter()
        .filter(|r| text.contains(&r.title.to_lowercase()))
        .max_by_key(|r| r.title.len())
        .or(match open {
            [only] => Some(only),
            _ => None,
        })
}

fn titles(open: &[Requisition]) -> String {
    open.iter()
        .map(|r| r.title.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `recruiting.screen_application`.
async fn screen_application(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let hands = a.hands;
    let message_id = param(&a.entry.params, "message_id")
        .map(clean_message_id)
        .unwrap_or_default()
        .to_string();
    let m = hands
        .store
        .mail(&hands.tenant, &message_id)
        .await?
        .ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "no mail with Message-ID {message_id:?} was received; name the application's `event.payload.message_id`"
            ))
        })?;
    let pipeline = Pipeline::of(hands);
    let open = pipeline.requisitions(Some("open"), Page::ALL).await?;
    let (candidate, requisition) = match take_in(a, &pipeline, &open, &m).await? {
        Ok(found) => found,
        Err(incomplete) => {
            let payload = json!({
                "message_id": m.message_id,
                "email": bare_address(&m.from),
                "first_name": first_name(&m),
                "problem": incomplete.problem,
                "explanation": incomplete.explanation,
                "open_roles": titles(&open),
            });
            tell(
                hands,
                a,
                "recruiting.application_incomplete",
                payload.clone(),
            )
            .await;
            return Ok(payload);
        }
    };
    let payload = json!({
        "candidate": candidate.id,
        "name": candidate.name,
        "first_name": candidate.name.split_whitespace().next(),
        "email": candidate.email,
        "message_id": m.message_id,
        "requisition": requisition.id,
        "title": requisition.title,
        "hiring_manager": requisition.hiring_manager,
        "panel": requisition.panel.as_ref().map(|p| format!("{}{p}", crate::config::teams::PREFIX)),
        "stage": candidate.stage,
        "decision": candidate.screening.as_ref().map(|s| s.decision.clone()),
        "score": candidate.score,
        "percent": candidate.score.map(|s| (s * 100.0).round() as i64),
        "summary": candidate.screening.as_ref().map(|s| s.summary.clone()),
        "found": candidate.screening.as_ref().map(|s| s.found.iter().map(|e| e.requirement.clone()).collect::<Vec<_>>()),
        "missing": candidate.screening.as_ref().map(|s| s.missing.clone()),
    });
    tell(hands, a, "recruiting.screened", payload.clone()).await;
    Ok(payload)
}

fn first_name(m: &MailMessage) -> Option<String> {
    display_name(&m.from).and_then(|n| n.split_whitespace().next().map(str::to_string))
}

/// The candidate of an application, recorded and screened; or why it cannot be.
async fn take_in(
    a: &Act<'_>,
    pipeline: &Pipeline<'_>,
    open: &[Requisition],
    m: &MailMessage,
) -> Result<Result<(Candidate, Requisition), Incomplete>, CapabilityError> {
    let Some(requisition) = requisition_named(open, m) else {
        let explanation = if open.is_empty() {
            "we have no open positions at the moment, so there is no role I can consider your application for".to_string()
        } else {
            format!(
                "I could not tell which of our open positions you are applying for ({}); reply with the title of the role",
                titles(open)
            )
        };
        return Ok(Err(Incomplete {
            problem: "no_requisition",
            explanation,
        }));
    };
    let cv_file = m
        .attachments
        .iter()
        .find_map(|at| CvFormat::of(&at.content_type, &at.name).map(|f| (at, f)));
    let Some((attachment, format)) = cv_file else {
        let other = if m.attachments.is_empty() {
            "no CV was attached".to_string()
        } else {
            format!(
                "the file attached ({}) is not a PDF or Word (DOCX) document",
                m.attachments
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Ok(Err(Incomplete {
            problem: "no_cv",
            explanation: format!(
                "{other}; reply to this mail with your CV attached as a PDF or DOCX file"
            ),
        }));
    };
    let Some(path) = attachment.path.as_deref() else {
        return Ok(Err(Incomplete {
            problem: "unreadable",
            explanation: format!(
                "your CV ({}) was too large for us to keep; reply with a smaller PDF or DOCX file",
                attachment.name
            ),
        }));
    };
    let text = match cv::read(Path::new(path), format).await {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(Incomplete {
                problem: "unreadable",
                explanation: format!(
                    "I could not read your CV ({}): {e}; reply with it as a text-based PDF or DOCX file",
                    attachment.name
                ),
            }));
        }
    };
    let now = Utc::now();
    let email = bare_address(&m.from).to_string();
    let name = display_name(&m.from)
        .map(str::to_string)
        .unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
    let fresh = Candidate {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        email,
        requisition: requisition.id.clone(),
        source: "application".into(),
        stage: "applied".into(),
        score: None,
        screening: None,
        cv_path: Some(path.to_string()),
        cv_text: Some(text),
        recruiter: Some(a.me.id.to_string()),
        thread: Some(m.message_id.clone()),
        created_at: now,
        updated_at: now,
    };
    let by = a.me.id.to_string();
    let mut c = match pipeline
        .enter(fresh, &by, &format!("applied by mail: {}", m.subject))
        .await?
    {
        Ok(c) => c,
        // Taken in before (a retry, or a second application): screened once.
        Err(existing) if existing.screening.is_some() => {
            return Ok(Ok((existing, requisition.clone())));
        }
        Err(existing) => existing,
    };
    let s = screen(c.cv_text.as_deref().unwrap_or(""), requisition);
    let screened = StageChange {
        from: Some(c.stage.clone()),
        to: "screened".into(),
        reason: s.summary.clone(),
        by: by.clone(),
        at: Utc::now(),
    };
    let decided = StageChange {
        from: Some("screened".into()),
        to: if s.decision == "interview" {
            "interview"
        } else {
            "declined"
        }
        .into(),
        reason: if s.decision == "interview" {
            "the screening passed: interview times offered with the panel".into()
        } else {
            "the screening did not pass: declined".into()
        },
        by,
        at: screened.at,
    };
    c.score = Some(s.score);
    c.screening = Some(s);
    c.stage = decided.to.clone();
    c.updated_at = screened.at;
    let store = &a.hands.store;
    store
        .update_candidate(&a.hands.tenant, &c, &[screened, decided], None)
        .await?;
    Ok(Ok((c, requisition.clone())))
}

/// Hands the acting employee an event about the application it took in; keyed by the
/// action, so a retry hands it over once.
async fn tell(hands: &Hands, a: &Act<'_>, kind: &str, payload: Json) {
    let new = NewEvent {
        kind: kind.into(),
        source: "recruiting".into(),
        payload,
        idempotency_key: Some(format!("{kind}:{}", a.entry.key)),
    };
    if let Err(e) = hands.employees.perceive(a.me.id, new).await {
        tracing::warn!(error = %e, employee = %a.me.id, kind, "recruiting could not tell the employee");
    }
}

/// `recruiting.move`.
async fn move_candidate(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let id = param(p, "candidate").unwrap_or_default();
    let m = StageMove {
        stage: param(p, "stage").unwrap_or_default().to_string(),
        reason: param(p, "reason").map(str::to_string),
    };
    let c = Pipeline::of(a.hands)
        .move_stage(id, m, &a.me.id.to_string())
        .await?;
    Ok(json!({"candidate": c.id, "stage": c.stage}))
}
