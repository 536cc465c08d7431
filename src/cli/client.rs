//! The client commands: they call a running node's HTTP API with the API's own wire
//! types ([`crate::api::wire`] and the model types it answers with), serialising the
//! requests from them and reading the answers into them; only `--json` output and the
//! commands that print an answer whole keep the JSON as the node sent it.

use super::{Command, NodeArgs};
use crate::api::wire::{self, EmployeeView, ErrorBody, EventAccepted, FeedbackBody, PhaseBody};
use crate::config::Config;
use crate::model::{Manager, NewEvent};
use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Clone)]
pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    pub(super) fn new(args: &NodeArgs) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::new(),
            base: args.node.trim_end_matches('/').to_string(),
            token: token(args)?,
        })
    }

    /// A `GET` of `/api/v1{path}`.
    pub(super) fn get(&self, path: &str) -> Call {
        self.request(Method::GET, path)
    }

    /// A `POST` to `/api/v1{path}`.
    pub(super) fn post(&self, path: &str) -> Call {
        self.request(Method::POST, path)
    }

    /// A `PUT` to `/api/v1{path}`.
    pub(super) fn put(&self, path: &str) -> Call {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` to `/api/v1{path}`.
    pub(super) fn patch(&self, path: &str) -> Call {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE` of `/api/v1{path}`.
    pub(super) fn delete(&self, path: &str) -> Call {
        self.request(Method::DELETE, path)
    }

    fn request(&self, method: Method, path: &str) -> Call {
        let url = format!("{}/api/v1{path}", self.base);
        let employee = match path.trim_start_matches('/').split('/').collect::<Vec<_>>()[..] {
            ["employees", key, ..] if !key.is_empty() => Some(key.to_string()),
            _ => None,
        };
        Call {
            request: self
                .http
                .request(method, url)
                .bearer_auth(&self.token)
                .header(crate::api::FACE_HEADER, "cli"),
            client: self.clone(),
            path: path.to_string(),
            employee,
        }
    }

    /// Whether the node knows employee `key`; when it cannot tell, it is taken as known.
    async fn knows(&self, key: &str) -> bool {
        let url = format!("{}/api/v1/employees/{key}", self.base);
        match self.http.get(url).bearer_auth(&self.token).send().await {
            Ok(r) => r.status() != StatusCode::NOT_FOUND,
            Err(_) => true,
        }
    }
}

/// One API call being built: a query string and a body from wire types, then
/// [`Call::answer`].
pub(super) struct Call {
    request: reqwest::RequestBuilder,
    client: Client,
    /// The path under `/api/v1`, to say what was not found.
    path: String,
    /// The employee (id or handle) the call is about, to say when it is not hired.
    employee: Option<String>,
}

impl Call {
    /// Sends `query` as the query string.
    pub(super) fn query(self, query: &impl Serialize) -> Self {
        Self {
            request: self.request.query(query),
            ..self
        }
    }

    /// Marks the call as being about employee `key` (given in the query string), so a
    /// "not found" says when there is no such employee.
    pub(super) fn about(self, key: Option<&str>) -> Self {
        Self {
            employee: key.map(str::to_string).or(self.employee),
            ..self
        }
    }

    /// Sends `text` as a CSV file.
    pub(super) fn csv(self, text: String) -> Self {
        Self {
            request: self
                .request
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .body(text),
            ..self
        }
    }

    /// Sends `body` as JSON.
    pub(super) fn json(self, body: &impl Serialize) -> Self {
        Self {
            request: self.request.json(body),
            ..self
        }
    }

    /// Sends the call and reads a successful answer as `R` (`serde_json::Value` keeps
    /// it as sent); an error answer becomes an error with the node's message.
    pub(super) async fn answer<R: DeserializeOwned>(self) -> anyhow::Result<R> {
        let base = self.client.base.clone();
        let body = self.bytes().await?;
        serde_json::from_slice(&body).with_context(|| {
            format!(
                "the node at {base} answered with a body this empla cannot read; are the node and the CLI the same version?"
            )
        })
    }

    /// Sends the call and answers the body of a successful answer as it came (a
    /// document's PDF); an error answer becomes an error with the node's message, and
    /// "not found" one that says what is missing and which command lists what there is.
    pub(super) async fn bytes(self) -> anyhow::Result<Vec<u8>> {
        let base = &self.client.base;
        let resp = self.request.send().await.with_context(|| {
            format!("cannot reach the node at {base}; is `empla node` running?")
        })?;
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        if !status.is_success() {
            let msg = serde_json::from_slice::<ErrorBody>(&body)
                .map(|e| e.error.message)
                .unwrap_or_else(|_| "no details".into());
            if status == StatusCode::NOT_FOUND {
                let employee_missing = match &self.employee {
                    Some(key) if self.path == format!("/employees/{key}") => true,
                    Some(key) => !self.client.knows(key).await,
                    None => false,
                };
                if let Some(missing) = missing(
                    &self.path,
                    self.employee.as_deref().filter(|_| employee_missing),
                    &msg,
                    base,
                ) {
                    bail!("{missing}")
                }
            }
            bail!("{status}: {msg}")
        }
        Ok(body.to_vec())
    }
}

/// What a "not found" on `path` means at the command line: which employee, approval,
/// escalation, task or episode there is not, and the command that lists them; `None`
/// when the node's own message says it best. `employee` is the employee the call is
/// about when the node does not know it.
fn missing(path: &str, employee: Option<&str>, node_says: &str, base: &str) -> Option<String> {
    if let Some(key) = employee {
        return Some(format!(
            "no employee `{key}`; `empla list` shows who is hired"
        ));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    Some(match segments[..] {
        ["employees", key, "tasks", task, ..] => {
            format!("{key} has no task `{task}`; `empla task list {key}` shows its tasks")
        }
        ["employees", key, "memory", "why", episode] => {
            format!("{key} has no episode `{episode}`; `empla episodes {key}` shows its episodes")
        }
        ["employees", key, "dead-letters", event, ..] => {
            format!("{key} has no event `{event}` set aside; `empla dead-letters {key}` lists them")
        }
        ["approvals", id, ..] => {
            format!("no approval `{id}`; `empla approvals --status all` lists the queue")
        }
        ["escalations", id, ..] => {
            format!("no escalation `{id}`; `empla escalation list --status all` lists them")
        }
        _ if node_says.starts_with("no such route") => format!(
            "the node at {base} does not know this request; are the node and the CLI the same version?"
        ),
        _ => return None,
    })
}

/// Reads an answer kept as JSON (for `--json`) as its wire type.
pub(super) fn read<R: DeserializeOwned>(v: Value) -> anyhow::Result<R> {
    serde_json::from_value(v).context(
        "the node answered with a body this empla cannot read; are the node and the CLI the same version?",
    )
}

/// A time as the API writes it (RFC 3339, as many fractional digits as needed).
pub(super) fn when(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A flag's value as the API's type for it (an enum such as a priority or a visibility),
/// or an error naming the flag and the values it takes.
pub(super) fn choice<T: DeserializeOwned>(
    flag: &str,
    value: &str,
    takes: &str,
) -> anyhow::Result<T> {
    serde_json::from_value(Value::String(value.to_string()))
        .map_err(|_| anyhow::anyhow!("{flag} must be {takes}, got {value:?}"))
}

/// `EMPLA_API_TOKEN`, else the token file in the node's data dir.
pub(super) fn token(args: &NodeArgs) -> anyhow::Result<String> {
    if let Ok(t) = std::env::var("EMPLA_API_TOKEN")
        && !t.is_empty()
    {
        return Ok(t);
    }
    let data_dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            Config::load_default(args.config.as_deref())
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .node
                .node
                .data_dir
        }
    };
    let path = data_dir.join(super::node::TOKEN_FILE);
    let t = std::fs::read_to_string(&path).with_context(|| {
        format!("no API token: set EMPLA_API_TOKEN or run from where the node keeps {} (or pass --data-dir)", path.display())
    })?;
    Ok(t.trim().to_string())
}

/// `--manager`: "Name <address>" or an address is a human; anything else names an
/// employee (id or handle), looked up for its id.
pub(super) async fn manager(c: &Client, s: &str) -> anyhow::Result<Manager> {
    if let (Some(open), Some(close)) = (s.find('<'), s.rfind('>')) {
        Ok(Manager::Human {
            name: s[..open].trim().to_string(),
            email: s[open + 1..close].trim().to_string(),
        })
    } else if s.contains('@') {
        Ok(Manager::Human {
            name: s.to_string(),
            email: s.to_string(),
        })
    } else {
        let found: EmployeeView = c.get(&format!("/employees/{s}")).answer().await?;
        Ok(Manager::Employee {
            id: found.profile.id,
        })
    }
}

/// Prints an answer kept as JSON, indented.
pub(super) fn print(v: &Value) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    Ok(())
}

pub(super) async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Mcp { node } => super::mcp::serve(&node).await?,
        Command::SendEvent {
            id,
            kind,
            payload,
            source,
            idempotency_key,
            node,
        } => {
            let payload: Value =
                serde_json::from_str(&payload).context("--payload is not valid JSON")?;
            let event = NewEvent {
                kind,
                source,
                payload,
                idempotency_key,
            };
            let v: EventAccepted = Client::new(&node)?
                .post(&format!("/employees/{id}/events"))
                .json(&event)
                .answer()
                .await?;
            let dup = if v.duplicate {
                " (duplicate: already accepted)"
            } else {
                ""
            };
            outln!("accepted event {}{dup}", v.event_id);
        }
        Command::Restart { id, node } => {
            let r: wire::Restarted = Client::new(&node)?
                .post(&format!("/employees/{id}/restart"))
                .answer()
                .await?;
            outln!(
                "restarting {id}: {}",
                serde_json::to_value(r.state)?.as_str().unwrap_or("")
            );
        }
        Command::DeadLetters {
            id,
            retry,
            drop,
            node,
        } => {
            let client = Client::new(&node)?;
            if let Some(event) = retry {
                let r: wire::DeadLetterDone = client
                    .post(&format!("/employees/{id}/dead-letters/{event}/retry"))
                    .answer()
                    .await?;
                outln!("handed {} to {id} again", r.event_id);
            } else if let Some(event) = drop {
                let r: wire::DeadLetterDone = client
                    .delete(&format!("/employees/{id}/dead-letters/{event}"))
                    .answer()
                    .await?;
                outln!("dropped {}", r.event_id);
            } else {
                let list: wire::Items<wire::DeadLetterView> = client
                    .get(&format!("/employees/{id}/dead-letters"))
                    .answer()
                    .await?;
                if list.items.is_empty() {
                    outln!("no events set aside for {id}");
                }
                for d in list.items {
                    outln!(
                        "{}  {}  {}  {} attempts  set aside {}\n    {}",
                        d.event_id,
                        d.kind,
                        d.source,
                        d.attempts,
                        when(&d.set_aside_at),
                        d.reason
                    );
                }
            }
        }
        Command::Phase { id, phase, node } => {
            Client::new(&node)?
                .put(&format!("/employees/{id}/phase"))
                .json(&PhaseBody {
                    phase: phase.clone(),
                })
                .answer::<EventAccepted>()
                .await?;
            outln!("phase of {id} set to {phase}");
        }
        Command::Feedback {
            id,
            rating,
            correction,
            text,
            node,
        } => {
            Client::new(&node)?
                .post(&format!("/employees/{id}/feedback"))
                .json(&FeedbackBody {
                    rating,
                    correction,
                    text,
                })
                .answer::<EventAccepted>()
                .await?;
            outln!("feedback for {id} recorded");
        }
        other @ (Command::Hire { .. }
        | Command::List { .. }
        | Command::Show { .. }
        | Command::Offboard { .. }
        | Command::Episodes { .. }
        | Command::Status { .. }) => super::employees::run(other).await?,
        other @ (Command::Approvals { .. } | Command::Approve { .. } | Command::Reject { .. }) => {
            super::approvals::run(other).await?
        }
        other @ (Command::Recall { .. }
        | Command::Facts { .. }
        | Command::Why { .. }
        | Command::Knowledge { .. }
        | Command::Forget { .. }
        | Command::Consolidate { .. }
        | Command::Procedures { .. }) => super::memory::run(other).await?,
        other @ (Command::Mail { .. }
        | Command::Chat { .. }
        | Command::Task { .. }
        | Command::Escalation { .. }) => super::interaction::run(other).await?,
        Command::Calendar { action } => super::calendar::run(action).await?,
        Command::Meetings { action } => super::meetings::run(action).await?,
        Command::Crm { action } => super::crm::run(action).await?,
        Command::Recruiting { action } => super::recruiting::run(action).await?,
        Command::Product { action } => super::product::run(action).await?,
        Command::Documents { action } => super::documents::run(action).await?,
        Command::Review { action } => super::reviews::run(action).await?,
        Command::Workflow { action } => super::workflows::run(action).await?,
        Command::Team { action } => super::workflows::team(action).await?,
        Command::Cluster { action } => super::cluster::run(action).await?,
        Command::Triage { action } => super::triage::run(action).await?,
        Command::Tenant { action } => super::access::tenant(action).await?,
        Command::Token { action } => super::access::token(action).await?,
        Command::Audit {
            since,
            actor,
            limit,
            json,
            node,
        } => super::access::audit(since, actor, limit, json, node).await?,
        Command::Connect { id, provider, node } => {
            super::connections::connect(id, provider, node).await?
        }
        Command::Connections { id, json, node } => super::connections::list(id, json, node).await?,
        Command::Disconnect { id, provider, node } => {
            super::connections::disconnect(id, provider, node).await?
        }
        Command::Node { .. } | Command::Config { .. } | Command::Completions { .. } => {
            unreachable!("handled in cli::run")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_the_api_writes_them() {
        for t in [
            "2026-12-04T17:00:00Z",
            "2026-12-04T17:00:00.5Z",
            "2026-12-04T17:00:00.123456Z",
            "2026-12-04T17:00:00.123456789Z",
        ] {
            let t: DateTime<Utc> = t.parse().unwrap();
            assert_eq!(serde_json::to_value(t).unwrap(), Value::String(when(&t)));
        }
    }

    #[test]
    fn a_flag_outside_its_choices_is_named_with_them() {
        let p: crate::model::Priority =
            choice("--priority", "high", "low, medium or high").unwrap();
        assert_eq!(p, crate::model::Priority::High);
        let e = choice::<crate::model::Priority>("--priority", "urgent", "low, medium or high")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "--priority must be low, medium or high, got \"urgent\"");
    }

    #[test]
    fn not_found_says_what_is_missing_and_which_command_lists_it() {
        let m = |path: &str, employee: Option<&str>, says: &str| {
            missing(path, employee, says, "http://127.0.0.1:7700")
        };
        assert_eq!(
            m(
                "/employees/nobody",
                Some("nobody"),
                "no employee with id or handle"
            )
            .unwrap(),
            "no employee `nobody`; `empla list` shows who is hired"
        );
        assert_eq!(
            m(
                "/approvals",
                Some("nobody"),
                "no employee with id or handle"
            )
            .unwrap(),
            "no employee `nobody`; `empla list` shows who is hired"
        );
        assert_eq!(
            m("/employees/pat.doe/tasks/t1", None, "no task with that id").unwrap(),
            "pat.doe has no task `t1`; `empla task list pat.doe` shows its tasks"
        );
        assert_eq!(
            m("/approvals/x/approve", None, "no approval").unwrap(),
            "no approval `x`; `empla approvals --status all` lists the queue"
        );
        assert!(
            m("/nothing", None, "no such route; see /api/v1/openapi.json")
                .unwrap()
                .contains("same version")
        );
        assert_eq!(m("/documents/d1", None, "no document with id \"d1\""), None);
    }
}
