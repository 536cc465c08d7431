//! The client commands: they call a running node's HTTP API with the API's own wire
//! types ([`crate::api::wire`] and the model types it answers with), serialising the
//! requests from them and reading the answers into them; only `--json` output and the
//! commands that print an answer whole keep the JSON as the node sent it.

use super::{Command, NodeArgs};
use crate::actors::EmployeeRuntime;
use crate::api::wire::{
    self, ApprovalsQuery, DecisionBody, EmployeeView, EmployeesQuery, EpisodesQuery, ErrorBody,
    EventAccepted, FeedbackBody, Items, PhaseBody,
};
use crate::config::Config;
use crate::lifecycle::HireRequest;
use crate::model::{Approval, Manager, NewEvent};
use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

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

    /// A `DELETE` of `/api/v1{path}`.
    pub(super) fn delete(&self, path: &str) -> Call {
        self.request(Method::DELETE, path)
    }

    fn request(&self, method: Method, path: &str) -> Call {
        let url = format!("{}/api/v1{path}", self.base);
        Call {
            request: self.http.request(method, url).bearer_auth(&self.token),
            base: self.base.clone(),
        }
    }
}

/// One API call being built: a query string and a body from wire types, then
/// [`Call::answer`].
pub(super) struct Call {
    request: reqwest::RequestBuilder,
    base: String,
}

impl Call {
    /// Sends `query` as the query string.
    pub(super) fn query(self, query: &impl Serialize) -> Self {
        Self {
            request: self.request.query(query),
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
        let base = self.base.clone();
        let body = self.bytes().await?;
        serde_json::from_slice(&body).with_context(|| {
            format!(
                "the node at {base} answered with a body this empla cannot read; are the node and the CLI the same version?"
            )
        })
    }

    /// Sends the call and answers the body of a successful answer as it came (a
    /// document's PDF); an error answer becomes an error with the node's message.
    pub(super) async fn bytes(self) -> anyhow::Result<Vec<u8>> {
        let resp = self.request.send().await.with_context(|| {
            format!(
                "cannot reach the node at {}; is `empla node` running?",
                self.base
            )
        })?;
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        if !status.is_success() {
            let msg = serde_json::from_slice::<ErrorBody>(&body)
                .map(|e| e.error.message)
                .unwrap_or_else(|_| "no details".into());
            bail!("{status}: {msg}")
        }
        Ok(body.to_vec())
    }
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
fn token(args: &NodeArgs) -> anyhow::Result<String> {
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
async fn manager(c: &Client, s: &str) -> anyhow::Result<Manager> {
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

pub(super) fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

async fn decide(
    node: &NodeArgs,
    id: &str,
    verb: &str,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let a: Approval = Client::new(node)?
        .post(&format!("/approvals/{id}/{verb}"))
        .json(&DecisionBody {
            reason,
            by: Some("cli".into()),
        })
        .answer()
        .await?;
    println!(
        "{} {} for employee {}",
        a.status.as_str(),
        a.action_kind(),
        a.employee_id
    );
    Ok(())
}

/// The status as a short report.
fn print_status(v: &EmployeeRuntime) {
    let num = |x: Option<f64>| x.map(|f| format!("{f}")).unwrap_or("-".into());
    println!(
        "{} · phase {} · {} pending approval(s) · agreement {}/{}",
        v.role,
        v.phase.as_str(),
        v.pending_approvals,
        v.agreement.agreed,
        v.agreement.scored
    );
    println!("intentions:");
    if v.intentions.is_empty() {
        println!("  none");
    }
    for i in &v.intentions {
        // The step is unpadded, as it always printed.
        println!("  {:<28} step {} {}", i.plan, i.step, i.state);
    }
    println!("goals:");
    for g in &v.goals {
        let mut flags = String::new();
        if g.blocked {
            flags.push_str(&format!(
                "  BLOCKED: {}",
                g.blocked_reason.as_deref().unwrap_or("")
            ));
        }
        if g.at_risk {
            flags.push_str("  AT RISK");
        }
        println!(
            "  {:<20} {:>5.0}%  current {} / target {}{flags}",
            g.id,
            g.progress * 100.0,
            num(g.current),
            num(Some(g.target)),
        );
    }
    let t = &v.today;
    println!(
        "today: {} events, {} actions executed, {} proposed, {} approvals asked, {} escalations",
        t.events, t.actions_executed, t.actions_proposed, t.approvals_requested, t.escalations
    );
}

pub(super) async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Hire {
            role,
            name,
            manager: m,
            team,
            node,
        } => {
            let c = Client::new(&node)?;
            let mut body = HireRequest::new(role, name);
            if let Some(m) = m {
                body.manager = Some(manager(&c, &m).await?);
            }
            body.team = team;
            let p: EmployeeView = c.post("/employees").json(&body).answer().await?;
            let p = p.profile;
            println!(
                "hired {} <{}> as {} (id {})",
                p.name, p.email, p.job_title, p.id
            );
        }
        Command::List { limit, node } => {
            let v: Items<EmployeeView> = Client::new(&node)?
                .get("/employees")
                .query(&EmployeesQuery {
                    limit: Some(limit.into()),
                    offset: None,
                })
                .answer()
                .await?;
            println!(
                "{:<38} {:<24} {:<34} {:<12} {:<10} RUNTIME",
                "ID", "NAME", "EMAIL", "ROLE", "STATUS"
            );
            for e in v.items {
                let p = &e.profile;
                println!(
                    "{:<38} {:<24} {:<34} {:<12} {:<10} {}",
                    p.id.to_string(),
                    p.name,
                    p.email,
                    p.role,
                    p.status.as_str(),
                    e.runtime.as_str()
                );
            }
        }
        Command::Show { id, node } => print(
            &Client::new(&node)?
                .get(&format!("/employees/{id}"))
                .answer()
                .await?,
        ),
        Command::Offboard { id, node } => {
            let p: EmployeeView = Client::new(&node)?
                .delete(&format!("/employees/{id}"))
                .answer()
                .await?;
            println!("offboarded {} ({})", p.profile.name, p.profile.id);
        }
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
            println!("accepted event {}{dup}", v.event_id);
        }
        Command::Episodes { id, limit, node } => print(
            &Client::new(&node)?
                .get(&format!("/employees/{id}/episodes"))
                .query(&EpisodesQuery {
                    limit: Some(limit.into()),
                    before: None,
                })
                .answer()
                .await?,
        ),
        Command::Status { id, json, node } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/employees/{id}/status"))
                .answer()
                .await?;
            if json {
                print(&v);
            } else {
                print_status(&read(v)?);
            }
        }
        Command::Restart { id, node } => {
            let r: wire::Restarted = Client::new(&node)?
                .post(&format!("/employees/{id}/restart"))
                .answer()
                .await?;
            println!(
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
                println!("handed {} to {id} again", r.event_id);
            } else if let Some(event) = drop {
                let r: wire::DeadLetterDone = client
                    .delete(&format!("/employees/{id}/dead-letters/{event}"))
                    .answer()
                    .await?;
                println!("dropped {}", r.event_id);
            } else {
                let list: wire::Items<wire::DeadLetterView> = client
                    .get(&format!("/employees/{id}/dead-letters"))
                    .answer()
                    .await?;
                if list.items.is_empty() {
                    println!("no events set aside for {id}");
                }
                for d in list.items {
                    println!(
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
        Command::Approvals {
            employee,
            status,
            node,
        } => {
            let v: Items<Approval> = Client::new(&node)?
                .get("/approvals")
                .query(&ApprovalsQuery {
                    employee,
                    status: Some(status.clone()),
                    limit: None,
                })
                .answer()
                .await?;
            if v.items.is_empty() {
                println!("no {status} approvals");
            }
            for a in v.items {
                println!(
                    "{}  {:<9} {:<20} employee {}\n    {}\n    {}",
                    a.id,
                    a.status.as_str(),
                    a.action_kind(),
                    a.employee_id,
                    a.reason,
                    a.action_params(),
                );
                match &a.recipients {
                    Some(r) if r.withheld.is_some() => println!(
                        "    would not be sent: {}",
                        r.withheld.as_deref().unwrap_or_default()
                    ),
                    Some(r) if r.cc.is_empty() => println!("    to: {}", r.to),
                    Some(r) => println!("    to: {}\n    cc: {}", r.to, r.cc),
                    None => {}
                }
            }
        }
        Command::Approve { id, reason, node } => decide(&node, &id, "approve", reason).await?,
        Command::Reject { id, reason, node } => decide(&node, &id, "reject", reason).await?,
        Command::Phase { id, phase, node } => {
            Client::new(&node)?
                .put(&format!("/employees/{id}/phase"))
                .json(&PhaseBody {
                    phase: phase.clone(),
                })
                .answer::<EventAccepted>()
                .await?;
            println!("phase of {id} set to {phase}");
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
            println!("feedback for {id} recorded");
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
        Command::Crm { action } => super::crm::run(action).await?,
        Command::Documents { action } => super::documents::run(action).await?,
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
}
