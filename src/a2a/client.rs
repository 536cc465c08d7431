//! The A2A client: employees call outside agents — another empla node's employees, or
//! any A2A 1.0 agent — named in `[a2a.agents.NAME]` or by an agent card URL a plan
//! gives. The wire is the A2A project's own client crate (`a2a-client-lf`); what is
//! empla's is here: the configured agents and their tokens, the card cache, the
//! once-per-key rule of [`Agents::send`] and the following of a task to its end.
//!
//! **Once per key.** A send is an outside side effect, run from the outbox; after a
//! crash the outbox runs it again with the same key. The message's `contextId` and
//! `messageId` are derived from the key, and before sending, the agent is asked for a
//! task in that context (`ListTasks`): if there is one, it is the answer to the earlier
//! try, and nothing is sent again. An agent that answers a send with a message rather
//! than a task keeps nothing a retry could find; such agents may see a message twice.
//!
//! Never here: anything about employees or their plans (the `a2a.send` action uses
//! this), and no calls into the node's own network for a URL a plan gave (see
//! [`super::discovery`]).

pub use super::client_error::ClientError;
use super::client_error::agent_error;
use super::config::{A2aConfig, AGENT_TIMEOUT};
use super::discovery::{self, Http, Reached, Target};
use a2a::{
    A2AError, Artifact, GetTaskRequest, ListTasksRequest, Message, Part, PartContent, Role,
    SendMessageConfiguration, SendMessageRequest, SendMessageResponse, StreamResponse,
    SubscribeToTaskRequest, Task, TaskState, TaskStatus, error_code,
};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// Cards kept for agents a plan named by URL, at most (the cache is cleared past it).
const MAX_CACHED: usize = 256;
/// First pause between two looks at a task that does not stream; doubles up to
/// [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(5);

/// The node's outside agents, from `[a2a.agents]`, and any agent a plan names by its
/// card URL. Cheap to share.
pub struct Agents {
    configured: BTreeMap<String, Target>,
    allow_private: bool,
    http: OnceLock<Result<Http, String>>,
    /// The agents whose cards were read, by name (a configured name, or the card URL):
    /// two names on one card may differ in their tokens.
    reached: Mutex<HashMap<String, Arc<Reached>>>,
}

impl Default for Agents {
    fn default() -> Self {
        Agents {
            configured: BTreeMap::new(),
            allow_private: false,
            http: OnceLock::new(),
            reached: Mutex::new(HashMap::new()),
        }
    }
}

impl std::fmt::Debug for Agents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.configured.keys()).finish()
    }
}

impl Agents {
    /// The agents of `cfg`, their tokens read from the environment by `env`; or which
    /// agent's token variable is not set.
    pub fn new(cfg: &A2aConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Agents, String> {
        let mut configured = BTreeMap::new();
        for (name, a) in &cfg.agents {
            let token = match &a.token_env {
                Some(var) => Some(env(var).filter(|v| !v.is_empty()).ok_or_else(|| {
                    format!(
                        "a2a.agents.{name}.token_env names the environment variable {var}, which is not set; set it to the agent's bearer token (or drop `token_env` if the agent needs none)"
                    )
                })?),
                None => None,
            };
            let target = Target {
                name: name.clone(),
                card: a.card.clone(),
                token,
                timeout: a.timeout,
                configured: true,
            };
            configured.insert(name.clone(), target);
        }
        Ok(Agents {
            configured,
            allow_private: cfg.allow_private_agents,
            ..Agents::default()
        })
    }

    /// The names in `[a2a.agents]`.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.configured.keys().map(String::as_str)
    }

    /// Whether `to` is something this client can reach: a name in `[a2a.agents]` or an
    /// http(s) agent-card URL.
    pub fn reaches(&self, to: &str) -> bool {
        self.configured.contains_key(to) || is_card_url(to)
    }

    /// Sends a message (text, plus an optional data part) to agent `to` once per `key`:
    /// a retry with the same key (after a crash, with a new `Agents`) answers the task
    /// the first try opened and sends nothing. `key` must be unique to the one message
    /// (the outbox's idempotency key is). Answers the task the agent answered with —
    /// usually still submitted or working: [`Agents::follow`] follows it — or, when the
    /// agent answered with a message, a completed task holding that answer.
    pub async fn send(
        &self,
        to: &str,
        text: &str,
        data: Option<&serde_json::Value>,
        key: &str,
    ) -> Result<Task, ClientError> {
        let t = self.target(to)?;
        let agent = self.reach(&t).await?;
        let context = context_id(key);
        let earlier = ListTasksRequest {
            context_id: Some(context.clone()),
            status: None,
            page_size: Some(10),
            page_token: None,
            history_length: None,
            status_timestamp_after: None,
            include_artifacts: Some(true),
            tenant: None,
        };
        match self.call(&t, agent.client.list_tasks(&earlier)).await {
            Ok(list) => {
                // Only a task in the key's context counts: an agent that ignored the
                // filter must not make this message look sent.
                if let Some(task) = list.tasks.into_iter().find(|t| t.context_id == context) {
                    tracing::info!(agent = %t.name, task = %task.id, "A2A: this message was sent before; answering its task");
                    return Ok(task);
                }
            }
            Err(ClientError::Agent { code, .. })
                if code == error_code::METHOD_NOT_FOUND
                    || code == error_code::UNSUPPORTED_OPERATION =>
            {
                tracing::warn!(agent = %t.name, "A2A: the agent cannot list tasks, so a retry after a crash may send this message twice");
            }
            Err(e) => return Err(e),
        }
        let mut parts = vec![Part::text(text)];
        if let Some(d) = data {
            parts.push(Part::data(d.clone()));
        }
        let mut message = Message::new(Role::User, parts);
        message.message_id = message_id(key);
        message.context_id = Some(context);
        let req = SendMessageRequest {
            message: message.clone(),
            configuration: Some(SendMessageConfiguration {
                accepted_output_modes: Some(vec!["text/plain".into(), "application/json".into()]),
                task_push_notification_config: None,
                history_length: None,
                return_immediately: Some(true),
            }),
            metadata: None,
            tenant: None,
        };
        metrics::counter!("empla_a2a_client_sends_total").increment(1);
        match self.call(&t, agent.client.send_message(&req)).await? {
            SendMessageResponse::Task(task) => Ok(task),
            SendMessageResponse::Message(answer) => Ok(task_of_answer(message, answer)),
        }
    }

    /// Follows task `task_id` at agent `to` until it ends (completed, failed, canceled,
    /// rejected) or needs input (input-required, auth-required), or until `within`
    /// passes: answers the task as it last was. Subscribes (SSE) when the agent's card
    /// says it streams, else looks at the task again and again, less and less often.
    pub async fn follow(
        &self,
        to: &str,
        task_id: &str,
        within: Duration,
    ) -> Result<Task, ClientError> {
        let deadline = Instant::now() + within;
        let t = self.target(to)?;
        let agent = self.reach(&t).await?;
        let get = GetTaskRequest {
            id: task_id.to_string(),
            history_length: None,
            tenant: None,
        };
        let mut task = self.call(&t, agent.client.get_task(&get)).await?;
        if settled(&task.status.state) {
            return Ok(task);
        }
        if agent.streams() && Instant::now() < deadline {
            watch(&t, &agent, task_id, deadline).await;
            task = self.call(&t, agent.client.get_task(&get)).await?;
            if settled(&task.status.state) {
                return Ok(task);
            }
        }
        let mut pause = FIRST_POLL;
        while Instant::now() < deadline {
            tokio::time::sleep(pause.min(deadline - Instant::now())).await;
            match self.call(&t, agent.client.get_task(&get)).await {
                Ok(now) => task = now,
                Err(e) if e.retryable() => {
                    tracing::warn!(agent = %t.name, task = task_id, error = %e, "A2A: looking at a task failed; trying again");
                }
                Err(e) => return Err(e),
            }
            if settled(&task.status.state) {
                break;
            }
            pause = (pause * 2).min(MAX_POLL);
        }
        Ok(task)
    }

    fn target(&self, to: &str) -> Result<Target, ClientError> {
        if let Some(t) = self.configured.get(to) {
            return Ok(t.clone());
        }
        if !is_card_url(to) {
            let known = if self.configured.is_empty() {
                "none".to_string()
            } else {
                self.configured
                    .keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(ClientError::UnknownAgent {
                name: to.to_string(),
                known,
            });
        }
        // A configured agent's card URL is that agent (with its token).
        if let Some(t) = self.configured.values().find(|t| t.card == to) {
            return Ok(t.clone());
        }
        Ok(Target {
            name: to.to_string(),
            card: to.to_string(),
            token: None,
            timeout: AGENT_TIMEOUT,
            configured: false,
        })
    }

    fn http(&self) -> Result<&Http, ClientError> {
        self.http
            .get_or_init(|| Http::new(self.allow_private))
            .as_ref()
            .map_err(|e| ClientError::Client(e.clone()))
    }

    /// The agent, from the cache or discovered now.
    async fn reach(&self, t: &Target) -> Result<Arc<Reached>, ClientError> {
        if let Some(r) = self.cache().get(&t.name) {
            return Ok(r.clone());
        }
        let reached = Arc::new(discovery::discover(self.http()?, t, self.allow_private).await?);
        tracing::debug!(agent = %t.name, binding = %reached.interface.protocol_binding, url = %reached.interface.url, "A2A: agent card read");
        let mut cache = self.cache();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(t.name.clone(), reached.clone());
        Ok(reached)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Reached>>> {
        // A panic while the lock was held leaves only a cache behind.
        self.reached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one call within the agent's timeout, its error in words; a card is read
    /// afresh after the agent could not be reached.
    async fn call<T>(
        &self,
        t: &Target,
        call: impl Future<Output = Result<T, A2AError>>,
    ) -> Result<T, ClientError> {
        let e = match tokio::time::timeout(t.timeout, call).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => agent_error(t, e),
            Err(_) => ClientError::Timeout {
                agent: t.name.clone(),
                after: humantime::format_duration(t.timeout).to_string(),
            },
        };
        if e.retryable() {
            self.cache().remove(&t.name);
        }
        Err(e)
    }
}

/// Reads the task's updates until it settles or `deadline`; answers whether it settled.
async fn watch(t: &Target, agent: &Reached, task_id: &str, deadline: Instant) -> bool {
    let req = SubscribeToTaskRequest {
        id: task_id.to_string(),
        tenant: None,
    };
    let mut stream = match tokio::time::timeout(t.timeout, agent.client.subscribe_to_task(&req))
        .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            // An ended task takes no subscriber: the next look at it tells.
            tracing::debug!(agent = %t.name, task = task_id, error = %e, "A2A: no subscription; looking at the task instead");
            return false;
        }
        Err(_) => return false,
    };
    loop {
        let event = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(event))) => event,
            Ok(Some(Err(e))) => {
                tracing::debug!(agent = %t.name, task = task_id, error = %e, "A2A: the subscription broke; looking at the task instead");
                return false;
            }
            Ok(None) | Err(_) => return false,
        };
        let state = match &event {
            StreamResponse::Task(task) => Some(&task.status.state),
            StreamResponse::StatusUpdate(u) => Some(&u.status.state),
            StreamResponse::Message(_) | StreamResponse::ArtifactUpdate(_) => None,
        };
        if state.is_some_and(settled) {
            return true;
        }
    }
}

/// Whether a task in `state` waits for nothing more from the agent alone: it ended, or
/// it needs input or authorization from the caller.
pub fn settled(state: &TaskState) -> bool {
    state.is_terminal() || matches!(state, TaskState::InputRequired | TaskState::AuthRequired)
}

/// The text of a task's answer: its artifacts' text and data parts, else the words of
/// its status message.
pub fn answer_text(task: &Task) -> String {
    let from_artifacts: Vec<String> = task
        .artifacts
        .iter()
        .flatten()
        .map(|a| parts_text(&a.parts))
        .filter(|t| !t.is_empty())
        .collect();
    if !from_artifacts.is_empty() {
        return from_artifacts.join("\n");
    }
    task.status
        .message
        .as_ref()
        .map(|m| parts_text(&m.parts))
        .unwrap_or_default()
}

fn parts_text(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match &p.content {
            PartContent::Text(t) => Some(t.clone()),
            PartContent::Data(v) => Some(v.to_string()),
            PartContent::Url(u) => Some(format!("(file at {u})")),
            PartContent::Raw(_) => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_card_url(to: &str) -> bool {
    reqwest::Url::parse(to).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

fn digest(what: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(what.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The `contextId` of the message sent once for `key`.
pub fn context_id(key: &str) -> String {
    format!("empla-{}", digest("a2a context", key))
}

/// The `messageId` of the message sent once for `key`.
pub fn message_id(key: &str) -> String {
    format!("empla-{}", digest("a2a message", key))
}

/// The task a direct message answer stands for: completed, the answer its status
/// message and its one artifact.
fn task_of_answer(sent: Message, answer: Message) -> Task {
    let context_id = answer
        .context_id
        .clone()
        .or_else(|| sent.context_id.clone())
        .unwrap_or_default();
    Task {
        id: answer
            .task_id
            .clone()
            .unwrap_or_else(|| format!("message-{}", answer.message_id)),
        context_id,
        status: TaskStatus {
            state: TaskState::Completed,
            message: Some(answer.clone()),
            timestamp: Some(chrono::Utc::now()),
        },
        artifacts: Some(vec![Artifact {
            artifact_id: "answer".into(),
            name: Some("answer".into()),
            description: None,
            parts: answer.parts.clone(),
            metadata: None,
            extensions: None,
        }]),
        history: Some(vec![sent, answer]),
        metadata: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::a2a::config::AgentConfig;

    fn cfg() -> A2aConfig {
        let mut c = A2aConfig::default();
        c.agents.insert(
            "partner".into(),
            AgentConfig {
                card: "https://partner.example.com/a2a/jordan.lee/.well-known/agent-card.json"
                    .into(),
                token_env: Some("PARTNER_TOKEN".into()),
                timeout: Duration::from_secs(5),
            },
        );
        c
    }

    #[test]
    fn a_missing_token_variable_names_the_agent_and_the_variable() {
        let e = Agents::new(&cfg(), &|_| None).unwrap_err();
        assert!(
            e.contains("a2a.agents.partner.token_env") && e.contains("PARTNER_TOKEN"),
            "{e}"
        );
        let empty = Agents::new(&cfg(), &|_| Some(String::new()));
        assert!(empty.is_err(), "an empty token is no token");
        let a = Agents::new(&cfg(), &|_| Some("t".into())).unwrap();
        assert_eq!(a.names().collect::<Vec<_>>(), ["partner"]);
    }

    #[test]
    fn names_and_card_urls_are_reached_and_nothing_else() {
        let a = Agents::new(&cfg(), &|_| Some("t".into())).unwrap();
        assert!(a.reaches("partner"));
        assert!(a.reaches("https://other.example.com/.well-known/agent-card.json"));
        assert!(!a.reaches("stranger"));
        assert!(!a.reaches("ftp://x/card"));
        let e = a.target("stranger").unwrap_err().to_string();
        assert!(e.contains("`stranger`") && e.contains("`partner`"), "{e}");
        // A configured card's URL is that agent, token and all.
        let t = a
            .target("https://partner.example.com/a2a/jordan.lee/.well-known/agent-card.json")
            .unwrap();
        assert!(t.configured && t.token.as_deref() == Some("t"));
    }

    #[test]
    fn ids_come_from_the_key_alone() {
        assert_eq!(context_id("k1"), context_id("k1"));
        assert_ne!(context_id("k1"), context_id("k2"));
        assert_ne!(context_id("k1"), message_id("k1"));
        assert!(context_id("k1").starts_with("empla-") && context_id("k1").len() == 38);
    }

    #[test]
    fn settled_states_and_answer_text() {
        assert!(settled(&TaskState::Completed) && settled(&TaskState::InputRequired));
        assert!(!settled(&TaskState::Working) && !settled(&TaskState::Submitted));
        let mut sent = Message::new(Role::User, vec![Part::text("hi")]);
        sent.context_id = Some("c".into());
        let answer = Message::new(Role::Agent, vec![Part::text("hello")]);
        let task = task_of_answer(sent, answer);
        assert_eq!(task.status.state, TaskState::Completed);
        assert_eq!(task.context_id, "c");
        assert_eq!(answer_text(&task), "hello");
    }
}
