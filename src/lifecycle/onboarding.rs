//! Onboarding (seed 0.3): a new hire shadows (proposes, never acts), then works
//! assisted (its actions wait for approval), then autonomously. What the humans guiding
//! it say — the phase they set, feedback on its work, what the mentor actually did for
//! an event — reaches the employee as one of the node's own `empla.*` events, through
//! its inbox, so it is durable and applied in order with everything else.

use crate::bdi::Phase;
use crate::bdi::feedback::{self, FeedbackKind, ReadFeedback};
use crate::model::{EventId, FieldError, NewEvent, kinds};
use serde_json::{Value as Json, json};

fn event(kind: &str, payload: Json) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        source: "api".into(),
        payload,
        idempotency_key: None,
    }
}

/// The event that sets the employee's onboarding phase.
pub fn phase(phase: Phase) -> NewEvent {
    event(kinds::PHASE, json!({"phase": phase}))
}

/// The event that carries feedback on the employee's latest action: a rating 0..=1, a
/// correction ("too formal"), and/or praise, a correction or a suggestion in words
/// (`text`, read as [`crate::bdi::feedback`] reads a chat message; words it does not
/// recognise are kept as a suggestion). Every problem names its field.
pub fn feedback(
    rating: Option<f64>,
    correction: Option<String>,
    text: Option<String>,
) -> Result<NewEvent, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Some(r) = rating {
        crate::model::check_unit(&mut errors, "rating", r);
    }
    let text = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if rating.is_none()
        && correction.as_deref().is_none_or(|c| c.trim().is_empty())
        && text.is_none()
    {
        errors.push(FieldError::new(
            "rating",
            "give a `rating` from 0 to 1, a `correction` such as \"too formal\", a `text` such as \"great job\", or several",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let read = text.as_deref().map(|t| {
        feedback::read(t).unwrap_or(ReadFeedback {
            kind: FeedbackKind::Improvement,
            rating: None,
            correction: Some(t.to_string()),
        })
    });
    let rating = rating.or(read.as_ref().and_then(|r| r.rating));
    let correction = correction.or(read.as_ref().and_then(|r| r.correction.clone()));
    let kind = match (&read, rating) {
        (Some(r), _) => r.kind,
        (None, Some(r)) if r >= 0.5 => FeedbackKind::Praise,
        _ => FeedbackKind::Correction,
    };
    Ok(event(
        kinds::FEEDBACK,
        json!({"rating": rating, "correction": correction, "kind": kind, "text": text}),
    ))
}

/// In shadow: the event that says what the mentor actually did for an event, scored
/// against what the employee proposed.
pub fn observation(event_id: EventId, action: &str) -> Result<NewEvent, Vec<FieldError>> {
    if action.trim().is_empty() {
        return Err(vec![FieldError::new(
            "action",
            "must name the action the mentor took, e.g. `email.send`",
        )]);
    }
    Ok(event(
        kinds::OBSERVATION,
        json!({"event_id": event_id, "action": action}),
    ))
}
