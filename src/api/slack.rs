//! Slack's Events API: `POST /slack/events/{employee}`, the Request URL of each
//! employee's Slack app. Outside the bearer-token API, since Slack signs its requests
//! instead: a request whose signature or timestamp does not check out is answered 401
//! and nothing is stored. A message is in the employee's inbox before the 200 goes
//! back; a failure to store answers 503, so Slack retries.

use super::ApiState;
use super::wire::{ErrorBody, EventAccepted, SlackChallenge, SlackIgnored};
use crate::capabilities::PerceiveError;
use crate::node::{SlackAnswer, SlackError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/slack/events/{employee}", post(events))
}

async fn events(
    State(s): State<ApiState>,
    Path(employee): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let answer = s
        .node
        .slack_event(
            &employee,
            header("x-slack-signature"),
            header("x-slack-request-timestamp"),
            &body,
        )
        .await;
    match answer {
        Ok(SlackAnswer::Challenge(challenge)) => {
            axum::Json(SlackChallenge { challenge }).into_response()
        }
        Ok(SlackAnswer::Accepted {
            event_id,
            duplicate,
        }) => axum::Json(EventAccepted {
            event_id,
            duplicate,
        })
        .into_response(),
        Ok(SlackAnswer::Ignored(why)) => axum::Json(SlackIgnored {
            ignored: why.into(),
        })
        .into_response(),
        Err(e) => refused(e),
    }
}

fn refused(e: SlackError) -> Response {
    let (status, code) = match &e {
        // Nothing about the node's apps is told before a signature is checked: the
        // reason is logged for the operator, the caller only hears 401.
        SlackError::Signature(_)
        | SlackError::NotSlack
        | SlackError::NoApp(_)
        | SlackError::NoSigningSecret(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        SlackError::Perceive(PerceiveError::NotFound) => (StatusCode::NOT_FOUND, "not_found"),
        SlackError::Perceive(PerceiveError::Offboarded) => (StatusCode::GONE, "offboarded"),
        SlackError::Decode(_) | SlackError::WrongApp { .. } => {
            (StatusCode::BAD_REQUEST, "bad_request")
        }
        SlackError::Perceive(PerceiveError::Write(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    let message = match &e {
        SlackError::Perceive(PerceiveError::Write(w)) => {
            tracing::error!(error = %w, "Slack event not stored");
            "the event could not be stored and was not accepted; Slack will retry".to_string()
        }
        SlackError::Signature(_) => {
            tracing::warn!(error = %e, "Slack event refused");
            e.to_string()
        }
        SlackError::NotSlack | SlackError::NoApp(_) | SlackError::NoSigningSecret(_) => {
            tracing::warn!(error = %e, "Slack event refused");
            "the request is not signed by a Slack app of this node that can be checked; see the node's log for why".to_string()
        }
        _ => e.to_string(),
    };
    (status, axum::Json(ErrorBody::new(code, message))).into_response()
}
