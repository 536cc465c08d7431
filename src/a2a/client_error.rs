//! Why a call to an outside agent failed, in words that say what was wrong and what to
//! do: the A2A client's errors, and how an agent's protocol error becomes one.

use super::discovery::Target;
use a2a::{A2AError, error_code};

/// Why a call to an outside agent failed: what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// `to` is neither a configured agent nor an agent card URL.
    #[error(
        "no outside agent is named `{name}`: the agents in `[a2a.agents]` are {known}; add it there, or give its agent card's http(s) URL"
    )]
    UnknownAgent {
        /// The name given.
        name: String,
        /// The configured names.
        known: String,
    },
    /// The node does not call this URL (a private address, not http(s), ...).
    #[error("cannot call `{to}`: {why}")]
    Refused {
        /// The agent as given.
        to: String,
        /// Why.
        why: String,
    },
    /// The agent card could not be fetched.
    #[error(
        "the agent card of `{agent}` at {url} could not be read: {why}; check the URL and that the agent is up"
    )]
    CardUnreachable {
        /// The agent.
        agent: String,
        /// The card's URL.
        url: String,
        /// What happened.
        why: String,
    },
    /// The card is not an A2A 1.0 agent card.
    #[error("the agent card of `{agent}` at {url} is not an A2A 1.0 agent card: {why}")]
    BadCard {
        /// The agent.
        agent: String,
        /// The card's URL.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The card offers no interface this node speaks.
    #[error(
        "agent `{agent}` offers no interface this node speaks (A2A 1.0 over JSONRPC or HTTP+JSON); its card offers: {offered}"
    )]
    NoInterface {
        /// The agent.
        agent: String,
        /// The interfaces its card offers.
        offered: String,
    },
    /// The agent's interface could not be reached.
    #[error("agent `{agent}` could not be reached: {why}; the call can be tried again")]
    Unreachable {
        /// The agent.
        agent: String,
        /// What happened.
        why: String,
    },
    /// The agent did not answer in time.
    #[error(
        "agent `{agent}` did not answer within {after} (`a2a.agents.NAME.timeout`); the call can be tried again"
    )]
    Timeout {
        /// The agent.
        agent: String,
        /// The wait, e.g. "30s".
        after: String,
    },
    /// The agent refused this node's credentials.
    #[error("agent `{agent}` refused this node's credentials: {message}; {fix}")]
    Unauthorized {
        /// The agent.
        agent: String,
        /// The agent's words.
        message: String,
        /// What to do.
        fix: String,
    },
    /// The agent answered with an A2A error.
    #[error("agent `{agent}` answered error {code} ({name}): {message}")]
    Agent {
        /// The agent.
        agent: String,
        /// The JSON-RPC error code (-32001 … -32009, -326xx).
        code: i32,
        /// The error's name in the protocol, e.g. `TaskNotFoundError`.
        name: &'static str,
        /// The agent's words.
        message: String,
    },
    /// No HTTP client could be built.
    #[error("the HTTP client for outside agents could not be built: {0}")]
    Client(String),
}

impl ClientError {
    /// Whether trying the same call later may succeed (the agent was down or slow, or
    /// failed inside).
    pub fn retryable(&self) -> bool {
        match self {
            ClientError::CardUnreachable { .. }
            | ClientError::Unreachable { .. }
            | ClientError::Timeout { .. } => true,
            ClientError::Agent { code, .. } => *code == error_code::INTERNAL_ERROR,
            _ => false,
        }
    }
}

/// The protocol's name of an error code.
fn code_name(code: i32) -> &'static str {
    match code {
        error_code::TASK_NOT_FOUND => "TaskNotFoundError",
        error_code::TASK_NOT_CANCELABLE => "TaskNotCancelableError",
        error_code::PUSH_NOTIFICATION_NOT_SUPPORTED => "PushNotificationNotSupportedError",
        error_code::UNSUPPORTED_OPERATION => "UnsupportedOperationError",
        error_code::CONTENT_TYPE_NOT_SUPPORTED => "ContentTypeNotSupportedError",
        error_code::INVALID_AGENT_RESPONSE => "InvalidAgentResponseError",
        error_code::EXTENDED_CARD_NOT_CONFIGURED => "ExtendedAgentCardNotConfiguredError",
        error_code::EXTENSION_SUPPORT_REQUIRED => "ExtensionSupportRequiredError",
        error_code::VERSION_NOT_SUPPORTED => "VersionNotSupportedError",
        error_code::PARSE_ERROR => "JSONParseError",
        error_code::INVALID_REQUEST => "InvalidRequestError",
        error_code::METHOD_NOT_FOUND => "MethodNotFoundError",
        error_code::INVALID_PARAMS => "InvalidParamsError",
        error_code::INTERNAL_ERROR => "InternalError",
        _ => "an error",
    }
}

/// Whether an A2A error says the credentials were missing or refused.
fn is_auth(e: &A2AError) -> bool {
    let reason = e.details.iter().flatten().any(|d| {
        d.value
            .get("reason")
            .and_then(|r| r.as_str())
            .is_some_and(|r| matches!(r, "UNAUTHENTICATED" | "PERMISSION_DENIED"))
    });
    let m = e.message.to_ascii_lowercase();
    reason || m.contains("http 401") || m.contains("http 403")
}

pub(crate) fn agent_error(t: &Target, e: A2AError) -> ClientError {
    let agent = t.name.clone();
    if is_auth(&e) {
        let fix = if t.configured {
            format!(
                "check the token in the environment variable `a2a.agents.{agent}.token_env` names (the node reads it when it starts)"
            )
        } else {
            "the agent needs a token: add it to `[a2a.agents]` with `token_env`, and send to that name".to_string()
        };
        return ClientError::Unauthorized {
            agent,
            message: e.message,
            fix,
        };
    }
    if e.code == error_code::INTERNAL_ERROR && e.message.starts_with("HTTP request failed") {
        return ClientError::Unreachable {
            agent,
            why: e.message,
        };
    }
    ClientError::Agent {
        agent,
        code: e.code,
        name: code_name(e.code),
        message: e.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn auth_errors_are_told_apart() {
        let t = Target {
            name: "partner".into(),
            card: "https://x/c".into(),
            token: None,
            timeout: Duration::from_secs(1),
            configured: true,
        };
        let info =
            a2a::errordetails::TypedDetail::error_info("UNAUTHENTICATED", "a2a-protocol.org", None);
        let mut e = A2AError::invalid_request("authentication required");
        e.details = Some(vec![info]);
        let got = agent_error(&t, e).to_string();
        assert!(got.contains("refused this node's credentials"), "{got}");
        assert!(got.contains("a2a.agents.partner.token_env"), "{got}");
        let got = agent_error(&t, A2AError::task_not_found("x"));
        assert!(
            matches!(got, ClientError::Agent { code: -32001, .. }),
            "{got}"
        );
        assert!(got.to_string().contains("TaskNotFoundError"), "{got}");
        let got = agent_error(&t, A2AError::internal("HTTP request failed: refused"));
        assert!(got.retryable(), "{got}");
    }
}
