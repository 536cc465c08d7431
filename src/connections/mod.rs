//! Employees' connections to outside accounts through OAuth 2.0 authorization code
//! (with PKCE where the provider takes it): started from the API or the CLI, finished
//! at the node's public `/oauth/callback`, tokens sealed at rest (see [`secrets`]),
//! refreshed before they expire, revoked when the employee leaves.
//!
//! [`Connections`] is the one place tokens are in clear, briefly, in memory; they are
//! never logged, listed or put in an error. The `state` sent to the provider is kept
//! only as a hash, and is taken once.

pub mod config;
mod provider;
pub mod secrets;

pub use config::{OAuthConfig, ProviderConfig, ProviderKind};
pub use secrets::{KeyError, OpenError, SecretKey};

use crate::store::{FlowTaken, Store, StoreError, StoredConnection, StoredFlow};
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use provider::{Granted, Provider, ProviderError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a connection could not be started, finished, used or ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The secrets key is missing or malformed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Stored tokens cannot be opened with this key.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// No such provider in `[oauth.providers]`.
    #[error("no provider `{0}` in [oauth.providers]; configured: {1}")]
    UnknownProvider(String, String),
    /// The provider's client secret variable is not set.
    #[error(
        "the client secret of provider `{provider}` is not set: put it in the environment variable {var} (oauth.providers.{provider}.client_secret_env) and restart the node"
    )]
    NoClientSecret {
        /// The provider.
        provider: String,
        /// The variable.
        var: String,
    },
    /// The callback's state is not one this node gave out.
    #[error(
        "this sign-in link is not one this node started (unknown state); start the connection again"
    )]
    UnknownState,
    /// The callback's state was used already.
    #[error("this sign-in link was used already; start the connection again")]
    UsedState,
    /// The callback came too late.
    #[error("this sign-in link expired (after oauth.state_ttl); start the connection again")]
    ExpiredState,
    /// The person declined.
    #[error("access was declined at the provider; nothing was connected")]
    Denied,
    /// The provider refused or failed.
    #[error("the provider `{provider}` did not connect: {reason}")]
    Provider {
        /// The provider.
        provider: String,
        /// What it said.
        reason: String,
    },
    /// The employee has no connection to the provider.
    #[error("not connected to `{0}`")]
    NotConnected(String),
    /// The provider refused a refresh: the person must connect again.
    #[error("the connection to `{0}` must be made again: {1}")]
    Reconnect(String, String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `POST /api/v1/employees/{id}/connections`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    /// The provider's name in `[oauth.providers]`, e.g. `hubspot`.
    pub provider: String,
}

/// An employee's connections.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionList {
    /// By provider.
    pub items: Vec<ConnectionView>,
}

/// A connection started: where to send the person.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Started {
    /// Open this URL in a browser to consent at the provider.
    pub authorize_url: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// A connection as listed (never its tokens).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConnectionView {
    /// The provider's name in `[oauth.providers]`.
    pub provider: String,
    /// `slack`, `hubspot` or `generic`; empty when the provider is no longer configured.
    pub kind: String,
    /// The account at the provider: Slack's team id, HubSpot's hub id.
    pub account_id: String,
    /// The account's name: Slack's workspace, HubSpot's portal domain.
    pub account_name: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// `connected`, or `reconnect` when it must be connected again.
    pub status: String,
    /// Why it must be connected again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// When the access token expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was connected.
    pub connected_at: DateTime<Utc>,
    /// When its tokens were last refreshed.
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// What the callback connected.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The tenant of the employee.
    pub tenant: String,
    /// The employee.
    pub employee_id: String,
    /// The connection.
    pub view: ConnectionView,
}

/// The node's OAuth connections: config, key, client secrets, a client for providers.
pub struct Connections {
    config: OAuthConfig,
    key: Result<SecretKey, KeyError>,
    secrets: BTreeMap<String, Option<String>>,
    http: reqwest::Client,
    store: Store,
    /// One refresh at a time per connection.
    locks: DashMap<(String, String, String), Arc<tokio::sync::Mutex<()>>>,
}

fn hash_state(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn context(tenant: &str, employee: &str, provider: &str, what: &str) -> String {
    format!("{tenant}/{employee}/{provider}/{what}")
}

impl Connections {
    /// Reads the key and the client secrets through `env` (the process environment in
    /// a node). A missing or malformed key refuses connections, not the node's start.
    pub fn new(
        config: &OAuthConfig,
        store: Store,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Connections, String> {
        crate::telemetry::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(provider::TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("oauth: the HTTP client cannot be built: {e}"))?;
        let key = SecretKey::from_var(env(secrets::KEY_VAR).as_deref());
        if let (Err(e), false) = (&key, config.providers.is_empty()) {
            tracing::warn!(error = %e, "OAuth connections cannot be made until the key is set");
        }
        let secrets = config
            .providers
            .iter()
            .map(|(name, p)| {
                let v = env(&p.client_secret_env).filter(|v| !v.is_empty());
                (name.clone(), v)
            })
            .collect();
        Ok(Connections {
            config: config.clone(),
            key,
            secrets,
            http,
            store,
            locks: DashMap::new(),
        })
    }

    /// `[oauth]`.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    fn key(&self) -> Result<&SecretKey, ConnectionError> {
        self.key.as_ref().map_err(|e| e.clone().into())
    }

    fn provider(&self, name: &str) -> Result<(&ProviderConfig, &str), ConnectionError> {
        let p = self.config.providers.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.config.providers.keys().map(String::as_str).collect();
            ConnectionError::UnknownProvider(
                name.to_string(),
                if known.is_empty() {
                    "none (add [oauth.providers.NAME] to the node config)".into()
                } else {
                    known.join(", ")
                },
            )
        })?;
        let secret = self
            .secrets
            .get(name)
            .and_then(|s| s.as_deref())
            .ok_or_else(|| ConnectionError::NoClientSecret {
                provider: name.to_string(),
                var: p.client_secret_env.clone(),
            })?;
        Ok((p, secret))
    }

    /// Starts connecting `employee` to `provider`: a flow is stored, the URL to consent
    /// at is answered. `request_base` is where the request came to (for the callback
    /// URL when neither `oauth.redirect_url` nor `node.public_url` is set).
    pub async fn start(
        &self,
        tenant: &str,
        employee: &str,
        provider: &str,
        request_base: &str,
    ) -> Result<Started, ConnectionError> {
        let (p, _) = self.provider(provider)?;
        let key = self.key()?;
        let state = hex::encode(rand::random::<[u8; 32]>());
        let redirect_uri = self.config.redirect_uri(request_base);
        let (verifier, challenge) = if p.uses_pkce() {
            let (v, c) = provider::pkce_pair();
            (
                key.seal(&v, &context(tenant, employee, provider, "verifier")),
                Some(c),
            )
        } else {
            (String::new(), None)
        };
        let now = Utc::now();
        let expires_at = now
            + chrono::Duration::from_std(self.config.state_ttl)
                .unwrap_or(chrono::Duration::minutes(10));
        self.store
            .insert_flow(&StoredFlow {
                state_hash: hash_state(&state),
                tenant: tenant.to_string(),
                employee_id: employee.to_string(),
                provider: provider.to_string(),
                verifier,
                redirect_uri: redirect_uri.clone(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(Started {
            authorize_url: provider::authorize_url(p, &redirect_uri, &state, challenge.as_deref()),
            expires_at,
        })
    }

    /// Takes the flow of a callback's `state` (once, whichever tenant's it is).
    pub async fn take(&self, state: &str) -> Result<StoredFlow, ConnectionError> {
        match self.store.take_flow(&hash_state(state), Utc::now()).await? {
            FlowTaken::Unknown => Err(ConnectionError::UnknownState),
            FlowTaken::Used => Err(ConnectionError::UsedState),
            FlowTaken::Taken(f) if f.expires_at < Utc::now() => Err(ConnectionError::ExpiredState),
            FlowTaken::Taken(f) => Ok(f),
        }
    }

    /// Finishes a taken flow: the code exchanged (with the verifier under PKCE), the
    /// connection stored under the flow's tenant.
    pub async fn finish(
        &self,
        flow: &StoredFlow,
        code: &str,
    ) -> Result<Connected, ConnectionError> {
        let key = self.key()?;
        let (p, secret) = self.provider(&flow.provider)?;
        let verifier = if flow.verifier.is_empty() {
            None
        } else {
            let ctx = context(&flow.tenant, &flow.employee_id, &flow.provider, "verifier");
            Some(key.open(&flow.verifier, &ctx)?)
        };
        let granted = Provider {
            http: &self.http,
            config: p,
            secret,
        }
        .exchange(code, &flow.redirect_uri, verifier.as_deref())
        .await
        .map_err(|e| ConnectionError::Provider {
            provider: flow.provider.clone(),
            reason: e.to_string(),
        })?;
        let now = Utc::now();
        let mut stored = StoredConnection {
            tenant: flow.tenant.clone(),
            employee_id: flow.employee_id.clone(),
            provider: flow.provider.clone(),
            account_id: granted.account_id.clone(),
            account_name: granted.account_name.clone(),
            scopes: if granted.scopes.is_empty() {
                p.scopes.clone()
            } else {
                granted.scopes.clone()
            },
            access_token: String::new(),
            refresh_token: String::new(),
            expires_at: None,
            connected_at: now,
            refreshed_at: None,
            status: "connected".into(),
            problem: String::new(),
        };
        self.seal_into(&mut stored, &granted, now)?;
        self.store.upsert_connection(&stored).await?;
        tracing::info!(employee = %flow.employee_id, provider = %flow.provider, account = %stored.account_name, "connected");
        Ok(Connected {
            tenant: flow.tenant.clone(),
            employee_id: flow.employee_id.clone(),
            view: self.view(&stored),
        })
    }

    /// Puts `g`'s tokens, sealed, into `c` (keeping the refresh token when none came).
    fn seal_into(
        &self,
        c: &mut StoredConnection,
        g: &Granted,
        now: DateTime<Utc>,
    ) -> Result<(), ConnectionError> {
        let key = self.key()?;
        let ctx = |what| context(&c.tenant, &c.employee_id, &c.provider, what);
        c.access_token = key.seal(&g.access_token, &ctx("access"));
        if let Some(r) = &g.refresh_token {
            c.refresh_token = key.seal(r, &ctx("refresh"));
        }
        c.expires_at = g
            .expires_in
            .filter(|s| *s > 0)
            .map(|s| now + chrono::Duration::seconds(s));
        Ok(())
    }

    fn view(&self, c: &StoredConnection) -> ConnectionView {
        ConnectionView {
            provider: c.provider.clone(),
            kind: self
                .config
                .providers
                .get(&c.provider)
                .map(|p| p.kind.as_str().to_string())
                .unwrap_or_default(),
            account_id: c.account_id.clone(),
            account_name: c.account_name.clone(),
            scopes: c.scopes.clone(),
            status: c.status.clone(),
            problem: (!c.problem.is_empty()).then(|| c.problem.clone()),
            expires_at: c.expires_at,
            connected_at: c.connected_at,
            refreshed_at: c.refreshed_at,
        }
    }

    /// An employee's connections.
    pub async fn list(
        &self,
        tenant: &str,
        employee: &str,
    ) -> Result<Vec<ConnectionView>, ConnectionError> {
        let rows = self.store.connections(tenant, employee).await?;
        Ok(rows.iter().map(|c| self.view(c)).collect())
    }

    fn lock(&self, tenant: &str, employee: &str, provider: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .entry((tenant.into(), employee.into(), provider.into()))
            .or_default()
            .clone()
    }

    /// The employee's current access token for `provider`, refreshed first when it
    /// expires within `oauth.refresh_margin`.
    pub async fn access_token(
        &self,
        tenant: &str,
        employee: &str,
        provider: &str,
    ) -> Result<String, ConnectionError> {
        let lock = self.lock(tenant, employee, provider);
        let _one = lock.lock().await;
        let c = self
            .store
            .connection(tenant, employee, provider)
            .await?
            .ok_or_else(|| ConnectionError::NotConnected(provider.to_string()))?;
        let c = if self.due(&c, Utc::now()) {
            self.refresh_locked(c).await?
        } else {
            c
        };
        if c.status != "connected" {
            return Err(ConnectionError::Reconnect(provider.into(), c.problem));
        }
        let ctx = context(tenant, employee, provider, "access");
        Ok(self.key()?.open(&c.access_token, &ctx)?)
    }

    fn due(&self, c: &StoredConnection, now: DateTime<Utc>) -> bool {
        let margin = chrono::Duration::from_std(self.config.refresh_margin)
            .unwrap_or(chrono::Duration::minutes(5));
        c.status == "connected"
            && !c.refresh_token.is_empty()
            && c.expires_at.is_some_and(|e| e < now + margin)
    }

    /// Refreshes every connection of `tenant` expiring within the margin, one at a
    /// time; how many were refreshed.
    pub async fn refresh_due(&self, tenant: &str) -> Result<usize, StoreError> {
        let margin = chrono::Duration::from_std(self.config.refresh_margin)
            .unwrap_or(chrono::Duration::minutes(5));
        let due = self
            .store
            .connections_expiring(tenant, Utc::now() + margin)
            .await?;
        let mut done = 0;
        for c in due {
            let lock = self.lock(tenant, &c.employee_id, &c.provider);
            let _one = lock.lock().await;
            // Another refresh may have come first.
            let Some(c) = self
                .store
                .connection(tenant, &c.employee_id, &c.provider)
                .await?
                .filter(|c| self.due(c, Utc::now()))
            else {
                continue;
            };
            let (employee, provider) = (c.employee_id.clone(), c.provider.clone());
            match self.refresh_locked(c).await {
                Ok(c) if c.status == "connected" => done += 1,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(%employee, %provider, error = %e, "a connection could not be refreshed; tried again next round")
                }
            }
        }
        Ok(done)
    }

    /// Refreshes `c` (its lock held): new tokens stored, or marked `reconnect` when the
    /// provider refuses the grant (never tried again until connected anew).
    async fn refresh_locked(
        &self,
        mut c: StoredConnection,
    ) -> Result<StoredConnection, ConnectionError> {
        let key = self.key()?;
        let (p, secret) = self.provider(&c.provider)?;
        let ctx = context(&c.tenant, &c.employee_id, &c.provider, "refresh");
        let refresh = key.open(&c.refresh_token, &ctx)?;
        let answer = Provider {
            http: &self.http,
            config: p,
            secret,
        }
        .refresh(&refresh)
        .await;
        match answer {
            Ok(g) => {
                let now = Utc::now();
                self.seal_into(&mut c, &g, now)?;
                c.refreshed_at = Some(now);
                if !g.scopes.is_empty() {
                    c.scopes = g.scopes;
                }
                self.store.upsert_connection(&c).await?;
                tracing::info!(employee = %c.employee_id, provider = %c.provider, "connection refreshed");
                Ok(c)
            }
            Err(ProviderError::Refused(why)) => {
                let problem =
                    format!("the provider refused to refresh the tokens ({why}); connect again");
                tracing::warn!(employee = %c.employee_id, provider = %c.provider, %why, "the provider refused a refresh; the connection must be made again");
                self.store
                    .mark_reconnect(&c.tenant, &c.employee_id, &c.provider, &problem)
                    .await?;
                c.status = "reconnect".into();
                c.problem = problem;
                Ok(c)
            }
            Err(e @ ProviderError::Failed(_)) => Err(ConnectionError::Provider {
                provider: c.provider.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Revokes the connection at its provider (best effort, logged) and forgets it;
    /// whether there was one.
    pub async fn disconnect(
        &self,
        tenant: &str,
        employee: &str,
        provider: &str,
    ) -> Result<bool, ConnectionError> {
        let lock = self.lock(tenant, employee, provider);
        let one = lock.lock().await;
        let gone = match self.store.connection(tenant, employee, provider).await {
            Ok(Some(c)) => {
                self.revoke(&c).await;
                self.store
                    .delete_connection(tenant, employee, provider)
                    .await
            }
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        drop(one);
        // The lock goes with the connection, unless another caller holds or waits on
        // it (the map's clone and this one are all there are).
        self.locks.remove_if(
            &(tenant.into(), employee.into(), provider.into()),
            |_, m| Arc::strong_count(m) <= 2,
        );
        Ok(gone?)
    }

    async fn revoke(&self, c: &StoredConnection) {
        let (employee, provider) = (&c.employee_id, &c.provider);
        let opened = self.key().map_err(|e| e.to_string()).and_then(|key| {
            let ctx = |w| context(&c.tenant, employee, provider, w);
            let access = key
                .open(&c.access_token, &ctx("access"))
                .map_err(|e| e.to_string())?;
            let refresh = if c.refresh_token.is_empty() {
                None
            } else {
                Some(
                    key.open(&c.refresh_token, &ctx("refresh"))
                        .map_err(|e| e.to_string())?,
                )
            };
            Ok((access, refresh))
        });
        let result = match (opened, self.provider(provider)) {
            (Ok((access, refresh)), Ok((p, secret))) => Provider {
                http: &self.http,
                config: p,
                secret,
            }
            .revoke(&access, refresh.as_deref())
            .await
            .map_err(|e| e.to_string()),
            (Err(e), _) => Err(e),
            (_, Err(e)) => Err(e.to_string()),
        };
        match result {
            Ok(true) => tracing::info!(%employee, %provider, "connection revoked at the provider"),
            Ok(false) => {
                tracing::info!(%employee, %provider, "the provider has no revocation endpoint; the connection is forgotten only")
            }
            Err(e) => {
                tracing::warn!(%employee, %provider, error = %e, "the connection could not be revoked at the provider; it is forgotten here")
            }
        }
    }

    /// Revokes and forgets every connection of an employee (offboarding).
    pub async fn offboard(&self, tenant: &str, employee: &str) -> Result<usize, ConnectionError> {
        let mut n = 0;
        for c in self.store.connections(tenant, employee).await? {
            if self.disconnect(tenant, employee, &c.provider).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Refreshes `tenant`'s connections every `oauth.refresh_every`, until aborted. In
    /// a cluster (`node` is this node's id) one node at a time does it, holding a
    /// singleton lease: two nodes refreshing one rotating refresh token would spend it.
    pub async fn run_refresh(self: Arc<Self>, tenant: String, node: Option<String>) {
        let mut tick = tokio::time::interval(self.config.refresh_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let lease = (self.config.refresh_every * 3).max(std::time::Duration::from_secs(30));
        let singleton = format!("oauth-refresh/{tenant}");
        loop {
            tick.tick().await;
            if let Some(node) = &node {
                match self.store.hold_singleton(&singleton, node, lease).await {
                    Ok(Some(_)) => {}
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "the refresh of connections could not take its lease");
                        continue;
                    }
                }
            }
            if let Err(e) = self.refresh_due(&tenant).await {
                tracing::warn!(error = %e, "connections due for a refresh could not be read");
            }
        }
    }
}
