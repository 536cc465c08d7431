//! What `POST /slack/events/{employee}` answers Slack besides an accepted event
//! ([`EventAccepted`](super::EventAccepted)) and an error ([`ErrorBody`](super::ErrorBody)).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Answer to Slack's `url_verification`: its challenge, echoed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlackChallenge {
    /// The challenge Slack sent.
    pub challenge: String,
}

/// Answer to an event the employee has no use for (a bot's own message, an edit, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlackIgnored {
    /// Why it was ignored.
    pub ignored: String,
}
