//! The API's wire types: the request bodies, query strings and answer envelopes of
//! `/api/v1` (and the few answers outside it) that are not model types already.
//!
//! Both sides use them: the handlers deserialise requests and serialise answers with
//! them, and the `empla` CLI serialises its requests and deserialises the answers with
//! them, so neither writes a JSON shape by hand. Model types that already are an
//! answer's shape (an [`EmployeeProfile`](crate::model::EmployeeProfile), a
//! [`Task`](crate::model::Task), an [`Approval`](crate::model::Approval), …) are used as
//! they are. Every shape here is part of the HTTP contract: changing a field name,
//! its type or whether it is skipped when empty changes the API.
//!
//! This module is plain serde data. It never reaches the node, a store or axum, so a
//! client needs nothing else to speak to a node. A query type is serialised by a client
//! as usual, and read by the API with errors naming the parameter (`api::params`).

mod access;
mod calendar;
mod crm;
mod decisions;
mod employees;
mod interaction;
mod llm;
mod memory;
mod product;
mod recruiting;
mod reviews;
mod slack;
mod supervision;
mod triage;
mod workflows;

pub use access::{
    AuditPage, AuditQuery, NewTenantBody, NewTokenBody, TenantCreated, TenantPatch, TokenCreated,
};
pub use calendar::{CalendarQuery, EmployeeCalendarQuery};
pub use crm::{
    AccountsQuery, ActivitiesQuery, ContactsQuery, ContentQuery, DealsQuery, DocumentsQuery,
    ImportQuery, Imported,
};
pub use decisions::{ApprovalsQuery, DecisionBody, EscalationsQuery, VerdictBody};
pub use employees::{
    ActionView, ActionsQuery, EmployeeView, EmployeesQuery, EpisodePage, EpisodesQuery,
    FeedbackBody, ObservationBody, PhaseBody,
};
pub use interaction::{
    ChatAnswer, ChatBody, ChatHistoryQuery, ChatPending, ChatReply, InboxItem, InboxQuery,
    MailSent, TaskAssigned, TasksQuery,
};
pub use llm::UsageQuery;
pub use memory::{
    ConsolidateBody, FactsQuery, ForgetBody, ProceduresQuery, PublishBody, RecallQuery,
};
pub use product::{FiledRequest, RequestsQuery};
pub use recruiting::{CandidatesQuery, RequisitionsQuery};
pub use reviews::{NoteBody, ReviewBody, ReviewsQuery};
pub use slack::{SlackChallenge, SlackIgnored};
pub use supervision::{DeadLetterDone, DeadLetterView, DeadLettersQuery, Restarted};
pub use triage::TriageQuery;
pub use workflows::{RunsQuery, StandupBody, StartRunBody};

use crate::model::EventId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A list answer: `{"items": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Items<T> {
    /// The items, in the order the endpoint documents.
    pub items: Vec<T>,
}

/// Every error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an `ErrorBody`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `bad_request`, `unauthorized`, `not_found`,
    /// `conflict`, `too_large`, `unavailable`, `timeout` (and `offboarded` on Slack's
    /// route).
    pub code: String,
    /// What was wrong and what to do.
    pub message: String,
}

impl ErrorBody {
    /// An error answer with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// Answer to an accepted event (and to a phase change, feedback or an observation,
/// which the employee receives as events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventAccepted {
    /// The stored event's id.
    pub event_id: EventId,
    /// True when the idempotency key was seen before: nothing new was stored.
    pub duplicate: bool,
}

/// Answer of `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` while the node serves.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn shape(v: impl Serialize) -> Value {
        serde_json::to_value(v).expect("wire types serialise")
    }

    #[test]
    fn the_envelopes_keep_their_json_shapes() {
        let id: EventId = "0190c6d2-7a3b-7cde-8f01-23456789abcd".parse().unwrap();
        assert_eq!(
            shape(EventAccepted {
                event_id: id,
                duplicate: true
            }),
            json!({"event_id": "0190c6d2-7a3b-7cde-8f01-23456789abcd", "duplicate": true})
        );
        assert_eq!(
            shape(ErrorBody::new("not_found", "no such employee")),
            json!({"error": {"code": "not_found", "message": "no such employee"}})
        );
        assert_eq!(shape(Items { items: vec![1, 2] }), json!({"items": [1, 2]}));
        assert_eq!(
            shape(EpisodePage {
                items: vec![],
                next_before: None
            }),
            json!({"items": []})
        );
        assert_eq!(
            shape(ChatAnswer::Reply(ChatReply { reply: "hi".into() })),
            json!({"reply": "hi"})
        );
        assert_eq!(
            shape(ChatAnswer::Pending(ChatPending {
                event_id: "e".into(),
                message: "later".into()
            })),
            json!({"event_id": "e", "message": "later"})
        );
        assert_eq!(
            shape(DecisionBody::default()),
            json!({"reason": null, "by": null})
        );
    }

    #[test]
    fn a_chat_answer_is_read_as_the_variant_it_was_written_as() {
        for answer in [
            ChatAnswer::Reply(ChatReply { reply: "hi".into() }),
            ChatAnswer::Pending(ChatPending {
                event_id: "e".into(),
                message: "later".into(),
            }),
        ] {
            let back: ChatAnswer = serde_json::from_value(shape(&answer)).unwrap();
            assert_eq!(back, answer);
        }
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        let e = serde_json::from_value::<PhaseBody>(json!({"phase": "assisted", "fase": 1}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `fase`"), "{e}");
    }
}
