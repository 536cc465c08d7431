//! Slack into the node: an employee's Slack app sends it events over the Events API
//! (`POST /slack/events/<handle>`, checked against the app's signing secret) or Socket
//! Mode; a mention or a direct message becomes a `chat.message` event committed to the
//! employee's durable inbox before Slack is answered (HTTP 200, or the envelope's
//! acknowledgement), keyed by channel and message ts so a retry is perceived once.
//! The employee's answer goes back as a `chat.reply` action in the same thread.
//! Nothing here posts to Slack: the capability does, when the action runs.

use super::SlackApp;
use super::slack::{CONVERSATION_PREFIX, SocketMode, SocketSink};
use super::slack_events::{self, Inbound, Reach, SignatureError, SlackMessage};
use crate::capabilities::{Hands, PerceiveError};
use crate::model::kinds;
use crate::store::Accepted;
use serde_json::json;
use slack_morphism::prelude::SlackPushEventCallback;
use std::sync::Arc;

/// What an Events API request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackAnswer {
    /// `url_verification`: send the challenge back.
    Challenge(String),
    /// A message stored in the employee's inbox (`duplicate`: it already was).
    Accepted {
        /// The event's id.
        event_id: crate::model::EventId,
        /// Slack delivered it before.
        duplicate: bool,
    },
    /// Nothing to perceive, and why.
    Ignored(&'static str),
}

/// Why an Events API request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// The node's chat is not on Slack.
    #[error(
        "this node's chat driver is not Slack; set [chat] driver = \"slack\" in the node config to take Slack events"
    )]
    NotSlack,
    /// No app in the credentials file for that employee.
    #[error(
        "no Slack app for `{0}`; the Request URL must end in the employee's handle as the Slack credentials file names it ([apps.\"<handle>\"])"
    )]
    NoApp(String),
    /// The app has no signing secret (Socket Mode only).
    #[error(
        "the Slack app of `{0}` has no signing_secret, so its Events API requests cannot be checked; add signing_secret_env to its [apps] table"
    )]
    NoSigningSecret(String),
    /// The request is not signed by the app.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The body is not a Slack event.
    #[error(transparent)]
    Decode(#[from] slack_events::DecodeError),
    /// The event was sent by another Slack app than the one configured.
    #[error(
        "the event is for Slack app {given}, but `{employee}`'s app is {expected}; point that app's Request URL at its own employee"
    )]
    WrongApp {
        /// The employee.
        employee: String,
        /// The app id configured.
        expected: String,
        /// The app id in the event.
        given: String,
    },
    /// The employee is not hired (or was offboarded), or the event could not be stored.
    #[error(transparent)]
    Perceive(#[from] PerceiveError),
}

/// Checks the apps' tokens and opens their Socket Mode connections, in a task the node
/// aborts at shutdown (which closes the connections). None without Slack.
pub(crate) fn start(hands: &Arc<Hands>) -> Option<tokio::task::JoinHandle<()>> {
    let slack = hands.chat.slack.clone()?;
    let sink: SocketSink = {
        let hands = hands.clone();
        Arc::new(move |employee: String, ev: SlackPushEventCallback| {
            let hands = hands.clone();
            Box::pin(async move { perceive_socket_event(&hands, &employee, &ev).await })
        })
    };
    Some(tokio::spawn(async move {
        let (_, socket_mode) = tokio::join!(slack.check_tokens(), slack.start_socket_mode(sink));
        let _open = CloseOnDrop(Some(socket_mode));
        std::future::pending::<()>().await;
    }))
}

/// Closes the Socket Mode connections when the task holding them ends.
struct CloseOnDrop(Option<SocketMode>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(sm) = self.0.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(async move { sm.shutdown().await });
        }
    }
}

/// A Socket Mode event: Ok (acknowledge) once stored or when there is nothing to
/// perceive; Err leaves it unacknowledged for Slack to deliver again.
async fn perceive_socket_event(
    hands: &Arc<Hands>,
    employee: &str,
    ev: &SlackPushEventCallback,
) -> Result<(), String> {
    let Some(slack) = &hands.chat.slack else {
        return Ok(());
    };
    let Some(app) = slack.app(employee) else {
        return Ok(());
    };
    match slack_events::from_callback(ev) {
        Inbound::Message(m) => match perceive(hands, app, &m).await {
            Ok(a) => {
                count(
                    "socket_mode",
                    if a.duplicate { "duplicate" } else { "accepted" },
                );
                Ok(())
            }
            // Redelivery cannot help an employee that is not hired or a foreign app.
            Err(
                e @ (SlackError::WrongApp { .. }
                | SlackError::Perceive(PerceiveError::NotFound | PerceiveError::Offboarded)),
            ) => {
                tracing::warn!(employee, error = %e, "Slack event not perceived");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        Inbound::Challenge(_) | Inbound::Ignored(_) => {
            count("socket_mode", "ignored");
            Ok(())
        }
    }
}

/// `empla_slack_events_total{via, outcome}`.
fn count(via: &'static str, outcome: &'static str) {
    metrics::counter!("empla_slack_events_total", "via" => via, "outcome" => outcome).increment(1);
}

fn outcome(answer: &Result<SlackAnswer, SlackError>) -> &'static str {
    match answer {
        Ok(SlackAnswer::Challenge(_)) => "challenge",
        Ok(SlackAnswer::Accepted {
            duplicate: false, ..
        }) => "accepted",
        Ok(SlackAnswer::Accepted {
            duplicate: true, ..
        }) => "duplicate",
        Ok(SlackAnswer::Ignored(_)) => "ignored",
        Err(SlackError::Signature(_)) => "unsigned",
        Err(_) => "refused",
    }
}

/// Commits `m` to the inbox of `app`'s employee as a `chat.message` event.
async fn perceive(hands: &Hands, app: &SlackApp, m: &SlackMessage) -> Result<Accepted, SlackError> {
    if let Some(expected) = &app.app_id
        && *expected != m.app_id
    {
        return Err(SlackError::WrongApp {
            employee: app.employee.clone(),
            expected: expected.clone(),
            given: m.app_id.clone(),
        });
    }
    let id = hands
        .employees
        .resolve(&app.employee)
        .ok_or(PerceiveError::NotFound)?;
    // The person's name and address, so the employee knows who wrote (its manager, a
    // customer); a Slack that does not say within a second leaves the mention.
    let who = match &hands.chat.slack {
        Some(slack) => slack.who(app, &m.user).await,
        None => None,
    };
    let new = crate::model::NewEvent {
        kind: kinds::CHAT.into(),
        source: "slack".into(),
        payload: json!({
            "from": who.unwrap_or_else(|| format!("<@{}>", m.user)),
            "text": m.text,
            "conversation": format!("{CONVERSATION_PREFIX}{}", m.channel),
            "channel": "slack",
            "thread": m.thread_ts,
            "slack": {
                "user": m.user,
                "team": m.team_id,
                "channel": m.channel,
                "ts": m.ts,
                "event_id": m.event_id,
                "app_id": m.app_id,
                "via": match m.reach {
                    Reach::Mention => "mention",
                    Reach::Direct => "direct_message",
                },
            },
        }),
        idempotency_key: Some(m.idempotency_key()),
    };
    Ok(hands.employees.perceive(id, new).await?)
}

/// An Events API request for `employee`'s Slack app: the signature is checked (at the
/// node's clock), then the event is answered (a challenge), perceived (stored in the
/// inbox before this returns) or ignored, saying why.
pub(crate) async fn events_api(
    hands: &Hands,
    employee: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
) -> Result<SlackAnswer, SlackError> {
    let answer = events_api_checked(hands, employee, signature, timestamp, body).await;
    count("events_api", outcome(&answer));
    answer
}

async fn events_api_checked(
    hands: &Hands,
    employee: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
) -> Result<SlackAnswer, SlackError> {
    let slack = hands.chat.slack.as_ref().ok_or(SlackError::NotSlack)?;
    let app = slack
        .app(employee)
        .ok_or_else(|| SlackError::NoApp(employee.to_string()))?;
    let secret = app
        .signing_secret
        .as_ref()
        .ok_or_else(|| SlackError::NoSigningSecret(app.employee.clone()))?;
    slack_events::verify(
        secret.expose().as_bytes(),
        signature,
        timestamp,
        body,
        chrono::Utc::now().timestamp(),
    )?;
    match slack_events::decode(body)? {
        Inbound::Challenge(c) => Ok(SlackAnswer::Challenge(c)),
        Inbound::Ignored(why) => Ok(SlackAnswer::Ignored(why)),
        Inbound::Message(m) => {
            let a = perceive(hands, app, &m).await?;
            Ok(SlackAnswer::Accepted {
                event_id: a.event_id,
                duplicate: a.duplicate,
            })
        }
    }
}
