//! The Slack chat driver: each employee is its own Slack app, and speaks with its bot
//! token through slack-morphism's Web API client — `chat.postMessage` in the thread of
//! the message it answers, `users.setPresence` to follow whether it is at work,
//! `users.profile.set` (with the employee's user token, where given) for a status text
//! that follows its calendar — in a meeting, focusing, active — and `auth.test` at
//! start to check each token. Socket Mode connections (one per app with
//! an app-level token) hand events to the node, which acknowledges each envelope only
//! once its message is in the employee's durable inbox.
//!
//! Conversations on Slack are named `slack:<channel id>`; any other conversation is a
//! built-in one and is kept in the node as [`LocalChat`] does. A token never reaches a
//! log line or an error.

use super::{Activity, ChatTransport, LocalChat, Occupied};
use crate::capabilities::CapabilityError;
use crate::config::{ChatConfig, MailConfig, SlackApp, SlackApps};
use crate::model::TenantId;
use crate::store::{ChatMessage, Store};
use futures::future::BoxFuture;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Prefix of a Slack conversation's name; the channel id follows.
pub const CONVERSATION_PREFIX: &str = "slack:";

/// Called with (employee as the credentials file names it, event) for each Socket Mode
/// event; the envelope is acknowledged when it answers Ok.
pub type SocketSink = Arc<
    dyn Fn(String, SlackPushEventCallback) -> BoxFuture<'static, Result<(), String>> + Send + Sync,
>;

/// The Slack driver.
pub struct SlackChat {
    client: Arc<SlackHyperClient>,
    apps: SlackApps,
    file: PathBuf,
    local: LocalChat,
    store: Store,
    /// Per employee: the presence last asked for, and one call at a time.
    presence: BTreeMap<String, Arc<Presence>>,
    /// Slack user id → how the person is written (`Name <address>`), once looked up.
    people: dashmap::DashMap<String, String>,
    /// Slack user ids whose look-up failed, and when: not asked again for a while, so a
    /// missing scope does not hold up every event.
    unknown: dashmap::DashMap<String, std::time::Instant>,
}

/// How long a failed look-up is not repeated.
const UNKNOWN_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// Longest wait for `users.info` before a message is perceived without the name.
const WHO_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// An employee's presence and status: calls go out one at a time and each sends the
/// latest state asked for, so quick changes (auto, away, auto) end on the last one.
#[derive(Default)]
struct Presence {
    wanted: std::sync::Mutex<Shown>,
    /// What Slack was last told, held while telling it.
    sending: tokio::sync::Mutex<Option<Shown>>,
}

/// What an employee's chat shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Shown {
    /// Its actor runs.
    active: bool,
    /// What its calendar has it doing.
    occupied: Option<Occupied>,
}

impl Shown {
    /// `users.setPresence`: away only when passivated and not in a meeting or focusing.
    fn presence(self) -> &'static str {
        if self.active || self.occupied.is_some() {
            "auto"
        } else {
            "away"
        }
    }

    /// The status text and emoji.
    fn status(self) -> (&'static str, &'static str) {
        match (self.occupied, self.active) {
            (Some(Occupied::Meeting), _) => ("In a meeting", ":spiral_calendar_pad:"),
            (Some(Occupied::Focus), _) => ("Focusing", ":headphones:"),
            (None, true) => ("Active", ":large_green_circle:"),
            (None, false) => ("", ""),
        }
    }
}

impl SlackChat {
    /// From `[chat]`, with the credentials file taken from `data_dir` when relative.
    /// Fails naming the file, the app and the key when the credentials cannot be used.
    pub fn from_config(
        cfg: &ChatConfig,
        data_dir: &Path,
        store: Store,
    ) -> Result<SlackChat, String> {
        let file = MailConfig::resolve(data_dir, &cfg.credentials_file);
        let apps = SlackApps::load(&file)?;
        Self::new(&cfg.api_url, apps, file, store)
    }

    /// A driver for `apps` talking to the Web API at `api_url`.
    pub fn new(
        api_url: &str,
        apps: SlackApps,
        file: PathBuf,
        store: Store,
    ) -> Result<SlackChat, String> {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings for Slack: {e}"))?
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
        .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let connector = SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(api_url.trim().trim_end_matches('/'));
        Ok(SlackChat {
            client: Arc::new(SlackClient::new(connector)),
            presence: apps
                .iter()
                .map(|a| (a.employee.clone(), Arc::default()))
                .collect(),
            people: dashmap::DashMap::new(),
            unknown: dashmap::DashMap::new(),
            apps,
            file,
            local: LocalChat::new(store.clone()),
            store,
        })
    }

    /// The app of `employee` (its handle, address or id as the credentials file has it).
    pub fn app(&self, employee: &str) -> Option<&SlackApp> {
        self.apps.get(employee)
    }

    /// Every app.
    pub fn apps(&self) -> &SlackApps {
        &self.apps
    }

    fn app_of_sender(&self, handle: &str) -> Result<&SlackApp, CapabilityError> {
        self.apps.get(handle).ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "employee `{handle}` has no Slack app; add [apps.\"{handle}\"] with bot_token_env to {}",
                self.file.display()
            ))
        })
    }

    fn session<'a>(
        &'a self,
        token: &'a SlackApiToken,
    ) -> SlackClientSession<'a, SlackClientHyperHttpsConnector> {
        self.client.open_session(token)
    }

    /// Posts `text` (plain, escaped here) as `app` in `channel`, in `thread` when
    /// given; answers the posted message's ts.
    pub async fn post_message(
        &self,
        app: &SlackApp,
        channel: &str,
        text: &str,
        thread: Option<&str>,
    ) -> Result<String, CapabilityError> {
        let token = token(app.bot_token.expose());
        let mut req = SlackApiChatPostMessageRequest::new(
            SlackChannelId::new(channel.to_string()),
            SlackMessageContent::new().with_text(super::slack_events::escape(text)),
        );
        if let Some(t) = thread {
            req = req.with_thread_ts(SlackTs::new(t.to_string()));
        }
        let res = self
            .session(&token)
            .chat_post_message(&req)
            .await
            .map_err(|e| {
                CapabilityError::Service(format!(
                    "Slack chat.postMessage for `{}` in {channel} failed: {}",
                    app.employee,
                    describe(&e)
                ))
            })?;
        Ok(res.ts.0)
    }

    /// Whether a bot posted `text` in `channel` (in `thread`, when given) since `since`:
    /// what a retried action looks for before posting again.
    async fn posted_since(
        &self,
        app: &SlackApp,
        channel: &str,
        thread: Option<&str>,
        text: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, CapabilityError> {
        let token = token(app.bot_token.expose());
        let session = self.session(&token);
        let channel_id = SlackChannelId::new(channel.to_string());
        let oldest = SlackTs::new(format!("{}.000000", since.timestamp() - 1));
        let read = match thread {
            Some(t) => session
                .conversations_replies(
                    &SlackApiConversationsRepliesRequest::new(
                        channel_id,
                        SlackTs::new(t.to_string()),
                    )
                    .with_oldest(oldest)
                    .with_limit(200),
                )
                .await
                .map(|r| r.messages),
            None => session
                .conversations_history(
                    &SlackApiConversationsHistoryRequest::new()
                        .with_channel(channel_id)
                        .with_oldest(oldest)
                        .with_limit(200),
                )
                .await
                .map(|r| r.messages),
        };
        let messages = read.map_err(|e| {
            CapabilityError::Service(format!(
                "Slack conversations.{} for `{}` in {channel} failed, so it is not known whether the message went out before: {}",
                if thread.is_some() { "replies" } else { "history" },
                app.employee,
                describe(&e)
            ))
        })?;
        let escaped = super::slack_events::escape(text);
        Ok(messages.iter().any(|msg| {
            msg.sender.bot_id.is_some() && msg.content.text.as_deref() == Some(escaped.as_str())
        }))
    }

    /// Who Slack user `user` is, as `Name <address>` (or `Name` without the
    /// `users:read.email` scope), from `users.info` with `app`'s bot token, remembered
    /// once known. None when Slack does not answer within a second or refuses (the
    /// `users:read` scope missing): the message is then perceived from `<@U…>`, and the
    /// same person is not looked up again for ten minutes.
    pub async fn who(&self, app: &SlackApp, user: &str) -> Option<String> {
        if let Some(known) = self.people.get(user) {
            return Some(known.clone());
        }
        if self
            .unknown
            .get(user)
            .is_some_and(|at| at.elapsed() < UNKNOWN_FOR)
        {
            return None;
        }
        let token = token(app.bot_token.expose());
        let req = SlackApiUsersInfoRequest::new(SlackUserId::new(user.to_string()));
        let session = self.session(&token);
        let found = match tokio::time::timeout(WHO_WAIT, session.users_info(&req)).await {
            Ok(Ok(found)) => found.user,
            Ok(Err(e)) => {
                tracing::debug!(employee = %app.employee, error = %describe(&e), "Slack users.info failed");
                self.unknown
                    .insert(user.to_string(), std::time::Instant::now());
                return None;
            }
            Err(_) => {
                self.unknown
                    .insert(user.to_string(), std::time::Instant::now());
                return None;
            }
        };
        let profile = found.profile.as_ref();
        let name = [
            profile.and_then(|p| p.real_name.as_deref()),
            found.real_name.as_deref(),
            profile.and_then(|p| p.display_name.as_deref()),
            found.name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(|n| {
            n.replace(['<', '>', '\r', '\n', '"'], " ")
                .trim()
                .to_string()
        })
        .find(|n| !n.is_empty())?;
        let written = match profile.and_then(|p| p.email.as_ref()) {
            Some(email) => format!("{name} <{}>", email.0),
            None => name,
        };
        self.people.insert(user.to_string(), written.clone());
        Some(written)
    }

    /// Checks each app's bot token with `auth.test`, logging (never failing) what is
    /// wrong, so a revoked or mistyped token shows at start rather than at first reply.
    pub async fn check_tokens(&self) {
        for app in self.apps.iter() {
            let token = token(app.bot_token.expose());
            match self.session(&token).auth_test().await {
                Ok(who) => tracing::info!(
                    employee = %app.employee,
                    bot_user = %who.user_id.0,
                    team = %who.team_id.0,
                    "Slack app ready"
                ),
                Err(e) => tracing::warn!(
                    employee = %app.employee,
                    error = %describe(&e),
                    "Slack auth.test failed for this employee's bot token; check bot_token_env in {}",
                    self.file.display()
                ),
            }
        }
    }

    /// Opens a Socket Mode connection for each app with an app-level token; each event
    /// goes to `sink` and its envelope is acknowledged when `sink` answers Ok (an error
    /// leaves it unacknowledged, so Slack delivers it again).
    pub async fn start_socket_mode(&self, sink: SocketSink) -> SocketMode {
        let mut listeners = Vec::new();
        for app in self.apps.iter() {
            let Some(app_token) = &app.app_token else {
                continue;
            };
            let env = Arc::new(
                SlackClientEventsListenerEnvironment::new(self.client.clone())
                    .with_error_handler(unacknowledged),
            );
            let mut callbacks = SlackSocketModeListenerCallbacks::new();
            let employee = app.employee.clone();
            let sink = sink.clone();
            callbacks.push_events_callback = Box::new(
                move |ev: SlackPushEventCallback,
                      _client: Arc<SlackHyperClient>,
                      _state: SlackClientEventsUserState| {
                    let done = sink(employee.clone(), ev);
                    async move {
                        done.await
                            .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })
                    }
                },
            );
            let config = SlackClientSocketModeConfig::new()
                .with_max_connections_count(1)
                .with_reconnect_timeout_in_seconds(5);
            let listener = SlackClientSocketModeListener::new(&config, env, callbacks);
            match listener.listen_for(&token(app_token.expose())).await {
                Ok(()) => {
                    listener.start().await;
                    tracing::info!(employee = %app.employee, "Slack Socket Mode started");
                    listeners.push(listener);
                }
                Err(e) => tracing::warn!(
                    employee = %app.employee,
                    error = %describe(&e),
                    "Slack Socket Mode could not start for this employee; check app_token_env"
                ),
            }
        }
        SocketMode { listeners }
    }

    /// Shows what `change` leaves the employee doing: the bot user's presence and,
    /// with a user token, the status text — in the background, one call at a time.
    fn show(&self, app: &SlackApp, change: impl FnOnce(&mut Shown)) {
        let Some(presence) = self.presence.get(&app.employee).cloned() else {
            return;
        };
        if let Ok(mut wanted) = presence.wanted.lock() {
            change(&mut wanted);
        }
        let client = self.client.clone();
        let bot = token(app.bot_token.expose());
        let user = app.user_token.as_ref().map(|t| token(t.expose()));
        let employee = app.employee.clone();
        tokio::spawn(async move {
            let mut last = presence.sending.lock().await;
            let Some(now) = presence.wanted.lock().ok().map(|w| *w) else {
                return;
            };
            if last.is_some_and(|l| l.presence() == now.presence()) {
                // Unchanged presence: nothing to send for it.
            } else {
                let req = SlackApiUsersSetPresenceRequest::new(now.presence().to_string());
                if let Err(e) = client.open_session(&bot).users_set_presence(&req).await {
                    tracing::debug!(employee = %employee, error = %describe(&e), "Slack users.setPresence failed");
                }
            }
            if let Some(user) = user
                && last.is_none_or(|l| l.status() != now.status())
            {
                let (text, emoji) = now.status();
                let profile = SlackUserProfile::new()
                    .with_status_text(text.to_string())
                    .with_status_emoji(SlackEmoji::new(emoji.to_string()));
                let req = SlackApiUsersProfileSetRequest::new(profile);
                if let Err(e) = client.open_session(&user).users_profile_set(&req).await {
                    tracing::debug!(employee = %employee, error = %describe(&e), "Slack users.profile.set failed");
                }
            }
            *last = Some(now);
        });
    }
}

/// The running Socket Mode connections.
pub struct SocketMode {
    listeners: Vec<SlackClientSocketModeListener<SlackClientHyperHttpsConnector>>,
}

impl SocketMode {
    /// Closes every connection.
    pub async fn shutdown(&self) {
        for l in &self.listeners {
            l.shutdown().await;
        }
    }
}

/// A Socket Mode event whose message could not be stored stays unacknowledged.
fn unacknowledged(
    err: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackHyperClient>,
    _state: SlackClientEventsUserState,
) -> axum::http::StatusCode {
    tracing::warn!(error = %err, "a Slack Socket Mode event was not stored; Slack will deliver it again");
    axum::http::StatusCode::INTERNAL_SERVER_ERROR
}

fn token(value: &str) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(value.to_string()))
}

/// What went wrong in a call, without anything of the request (tokens stay out).
fn describe(e: &SlackClientError) -> String {
    match e {
        SlackClientError::ApiError(api) => format!("Slack answered `{}`", api.code),
        SlackClientError::HttpError(h) => format!("HTTP {}", h.status_code),
        SlackClientError::RateLimitError(_) => "rate limited by Slack".into(),
        other => {
            let s = other.to_string();
            s.chars().take(300).collect()
        }
    }
}

#[async_trait::async_trait]
impl ChatTransport for SlackChat {
    /// An employee's message in a Slack conversation is kept in the node before it is
    /// posted: if its action runs again (the node stopped before recording it done),
    /// the conversation is read first, and a message already there is not posted twice.
    async fn post(&self, tenant: &TenantId, m: &ChatMessage) -> Result<(), CapabilityError> {
        let Some(channel) = m.conversation.strip_prefix(CONVERSATION_PREFIX) else {
            return self.local.post(tenant, m).await;
        };
        let app = self.app_of_sender(&m.from)?;
        let tried = match &m.action {
            Some(key) => self.store.chat_by_action(tenant, key).await?,
            None => None,
        };
        let kept = match &tried {
            Some(first) => {
                if self
                    .posted_since(app, channel, m.thread.as_deref(), &m.text, first.at)
                    .await?
                {
                    return Ok(());
                }
                None
            }
            None => Some(self.store.put_chat(tenant, m).await?),
        };
        if let Err(e) = self
            .post_message(app, channel, &m.text, m.thread.as_deref())
            .await
        {
            // Not posted: the kept copy goes, so the conversation shows what Slack has.
            if let Some(seq) = kept {
                self.store.delete_chat(tenant, seq).await?;
            }
            return Err(e);
        }
        Ok(())
    }

    fn show_activity(&self, handle: &str, activity: Activity) {
        if let Some(app) = self.apps.get(handle) {
            self.show(app, |s| s.active = activity == Activity::Active);
        }
    }

    fn show_occupied(&self, handle: &str, occupied: Option<Occupied>) {
        if let Some(app) = self.apps.get(handle) {
            self.show(app, |s| s.occupied = occupied);
        }
    }

    fn with_status(&self) -> Vec<String> {
        self.apps.iter().map(|a| a.employee.clone()).collect()
    }
}
