//! Who is calling: API tokens (the node admin's bootstrap token and each tenant's own,
//! stored hashed), dashboard sessions, and what each role may do.
//!
//! The node's own token (`EMPLA_API_TOKEN` or the generated file) is the node admin:
//! admin of `node.tenant`, allowed every route, the only one who may create tenants.
//! Every other token belongs to one tenant and has one [`Role`].

use crate::model::{Role, TenantId, TenantStatus, TokenInfo};
use crate::store::{Store, StoreError, StoredSession};
use axum::http::Method;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use rand::RngCore;
use sha2::Digest;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The dashboard's session cookie.
pub const SESSION_COOKIE: &str = "empla_session";
/// The actor name of the node's own token.
pub const NODE_ADMIN: &str = "node-admin";
/// How long a checked token is trusted without asking the store again (a revocation
/// made on another node of a cluster takes at most this long).
const TOKEN_CACHE: Duration = Duration::from_secs(5);
/// A token's last use is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Failed logins allowed per client within [`LOGIN_WINDOW`].
const LOGIN_ATTEMPTS: u32 = 10;
const LOGIN_WINDOW: Duration = Duration::from_secs(60);

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The tenant it acts for.
    pub tenant: TenantId,
    /// What it may do.
    pub role: Role,
    /// The token's name (`node-admin` for the node's own token).
    pub actor: String,
    /// The token's id (empty for the node's own token).
    pub token_id: String,
    /// Whether this is the node's own token.
    pub node_admin: bool,
}

/// Through which face a request came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// The HTTP API.
    Api,
    /// The `empla` CLI (it says so in `x-empla-face`).
    Cli,
    /// The dashboard.
    Ui,
    /// An MCP tool call.
    Mcp,
    /// The A2A face.
    A2a,
}

impl Face {
    /// The face's name as the audit trail keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Face::Api => "api",
            Face::Cli => "cli",
            Face::Ui => "ui",
            Face::Mcp => "mcp",
            Face::A2a => "a2a",
        }
    }
}

/// The session a dashboard request came with.
#[derive(Debug, Clone)]
pub struct UiSession {
    /// The CSRF token every form of this session must send back (field `csrf`).
    pub csrf: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// What checking a secret found.
#[derive(Debug, Clone)]
pub enum Checked {
    /// A live token.
    Valid(Principal),
    /// A live token of a suspended tenant.
    Suspended(TenantId),
    /// No such live token.
    Unknown,
}

/// The node's check of tokens and sessions.
pub struct Auth {
    store: Store,
    node_tenant: TenantId,
    node_token: Arc<str>,
    /// Secrets' hashes checked lately, with when.
    checked: DashMap<String, (Checked, Instant)>,
    /// When each token's use was last written.
    touched: DashMap<String, Instant>,
    /// Failed logins per client: how many, since when.
    logins: DashMap<String, (u32, Instant)>,
    /// How long a dashboard session lasts.
    session_ttl: Duration,
}

/// SHA-256 of `secret`, hex: what is stored of tokens and session cookies.
pub fn digest(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// A new random secret with `prefix`: 32 random bytes, hex.
pub fn secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Auth {
    /// The check for a node whose own tenant is `node_tenant` and whose bootstrap token
    /// is `node_token`; sessions last `session_ttl`.
    pub fn new(
        store: Store,
        node_tenant: TenantId,
        node_token: Arc<str>,
        session_ttl: Duration,
    ) -> Self {
        Self {
            store,
            node_tenant,
            node_token,
            checked: DashMap::new(),
            touched: DashMap::new(),
            logins: DashMap::new(),
            session_ttl,
        }
    }

    /// The node's own tenant.
    pub fn node_tenant(&self) -> &TenantId {
        &self.node_tenant
    }

    /// The node admin, as a principal.
    pub fn node_admin(&self) -> Principal {
        Principal {
            tenant: self.node_tenant.clone(),
            role: Role::Admin,
            actor: NODE_ADMIN.into(),
            token_id: String::new(),
            node_admin: true,
        }
    }

    /// Who `token` is. Records the token's use (at most once a minute).
    pub async fn check(&self, token: &str) -> Result<Checked, StoreError> {
        if constant_time_eq(token.as_bytes(), self.node_token.as_bytes()) {
            return Ok(Checked::Valid(self.node_admin()));
        }
        let hash = digest(token);
        let cached = self
            .checked
            .get(&hash)
            .filter(|c| c.1.elapsed() < TOKEN_CACHE)
            .map(|c| c.0.clone());
        let checked = match cached {
            Some(c) => c,
            None => {
                let c = match self.store.token_by_hash(&hash).await? {
                    None => Checked::Unknown,
                    Some(t) if t.tenant_status == TenantStatus::Suspended => {
                        Checked::Suspended(TenantId::new(t.info.tenant))
                    }
                    Some(t) => Checked::Valid(principal_of(&t.info)),
                };
                // Unknown secrets are not remembered: a caller trying many cannot fill
                // the map.
                if !matches!(c, Checked::Unknown) {
                    self.checked.insert(hash, (c.clone(), Instant::now()));
                }
                c
            }
        };
        if let Checked::Valid(p) = &checked {
            self.touch(&p.token_id);
        }
        Ok(checked)
    }

    fn touch(&self, token_id: &str) {
        if token_id.is_empty() {
            return;
        }
        let due = self
            .touched
            .get(token_id)
            .is_none_or(|t| t.elapsed() >= TOUCH_EVERY);
        if due {
            self.touched.insert(token_id.to_string(), Instant::now());
            let store = self.store.clone();
            let id = token_id.to_string();
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(&id, Utc::now()).await {
                    tracing::warn!(token = %id, error = %e, "a token's last use could not be recorded");
                }
            });
        }
    }

    /// Creates a token of `tenant` named `name` with `role`; the secret is in the
    /// answer only. `Conflict { field: "name" }` when a live token has the name.
    pub async fn issue(
        &self,
        tenant: &TenantId,
        name: &str,
        role: Role,
        created_by: &str,
    ) -> Result<(TokenInfo, String), StoreError> {
        let (info, secret) = new_token(tenant, name, role, created_by);
        self.store.create_token(&info, &digest(&secret)).await?;
        Ok((info, secret))
    }

    /// Revokes a token of `tenant`; it is refused from now on, here at once.
    pub async fn revoke(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let t = self.store.revoke_token(tenant.as_str(), id).await?;
        self.forget_checked();
        Ok(t)
    }

    /// Forgets every checked token, so the next use of each asks the store (after a
    /// revocation, a suspension or a deletion).
    pub fn forget_checked(&self) {
        self.checked.clear();
    }

    /// Opens a dashboard session for `p`: the cookie's value and the session.
    pub async fn open_session(&self, p: &Principal) -> Result<(String, UiSession), StoreError> {
        let cookie = secret("");
        let session = UiSession {
            csrf: secret(""),
            expires_at: Utc::now()
                + chrono::Duration::from_std(self.session_ttl)
                    .unwrap_or(chrono::Duration::hours(8)),
        };
        self.store
            .open_session(
                &digest(&cookie),
                &StoredSession {
                    tenant: p.tenant.to_string(),
                    token_id: p.token_id.clone(),
                    role: p.role,
                    actor: p.actor.clone(),
                    csrf: session.csrf.clone(),
                    expires_at: session.expires_at,
                },
            )
            .await?;
        Ok((cookie, session))
    }

    /// The live session whose cookie is `cookie`, with who opened it.
    pub async fn session(
        &self,
        cookie: &str,
    ) -> Result<Option<(Principal, UiSession)>, StoreError> {
        Ok(self.store.session(&digest(cookie)).await?.map(|s| {
            let node_admin = s.token_id.is_empty() && s.tenant == self.node_tenant.as_str();
            (
                Principal {
                    tenant: TenantId::new(s.tenant),
                    role: s.role,
                    actor: s.actor,
                    token_id: s.token_id,
                    node_admin,
                },
                UiSession {
                    csrf: s.csrf,
                    expires_at: s.expires_at,
                },
            )
        }))
    }

    /// Ends the session whose cookie is `cookie`.
    pub async fn close_session(&self, cookie: &str) -> Result<(), StoreError> {
        self.store.close_session(&digest(cookie)).await
    }

    /// How long `client` must wait before trying to log in again, if it failed too
    /// often lately.
    pub fn login_wait(&self, client: &str) -> Option<Duration> {
        let entry = self.logins.get(client)?;
        let (failures, since) = *entry;
        let elapsed = since.elapsed();
        (failures >= LOGIN_ATTEMPTS && elapsed < LOGIN_WINDOW).then(|| LOGIN_WINDOW - elapsed)
    }

    /// Counts a failed login of `client`.
    pub fn login_failed(&self, client: &str) {
        let mut e = self
            .logins
            .entry(client.to_string())
            .or_insert((0, Instant::now()));
        if e.1.elapsed() >= LOGIN_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}

/// A new token's listing and its secret.
pub(crate) fn new_token(
    tenant: &TenantId,
    name: &str,
    role: Role,
    created_by: &str,
) -> (TokenInfo, String) {
    let info = TokenInfo {
        id: format!("tok-{}", &secret("")[..12]),
        tenant: tenant.to_string(),
        name: name.to_string(),
        role,
        created_by: created_by.to_string(),
        created_at: Utc::now(),
        last_used_at: None,
        revoked_at: None,
    };
    (info, secret("empla_"))
}

fn principal_of(t: &TokenInfo) -> Principal {
    Principal {
        tenant: TenantId::new(t.tenant.clone()),
        role: t.role,
        actor: t.name.clone(),
        token_id: t.id.clone(),
        node_admin: false,
    }
}

/// Whether `p` may make a `method` request to `path` through `face`; if not, why.
pub fn permits(p: &Principal, method: &Method, path: &str, face: Face) -> Result<(), String> {
    let reads = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let under = |prefix: &str| {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    if under("/api/v1/tenants") {
        return if p.node_admin {
            Ok(())
        } else {
            Err("only the node admin (the node's own token) manages tenants".into())
        };
    }
    if p.role == Role::Agent && !matches!(face, Face::Mcp | Face::A2a) && !under("/mcp") {
        return Err("an agent token speaks A2A and MCP only; use an operator or viewer token for the API and the dashboard".into());
    }
    if under("/api/v1/tokens") || under("/api/v1/audit") || under("/api/v1/tenant") {
        return if p.role == Role::Admin {
            Ok(())
        } else {
            Err(format!(
                "a {} token cannot manage tokens or read the audit trail; use an admin token of the tenant",
                p.role
            ))
        };
    }
    if reads || p.role.may_write() || (p.role == Role::Agent && face != Face::Api) {
        return Ok(());
    }
    Err(format!(
        "a {} token may only read; use an operator or admin token to change anything",
        p.role
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role) -> Principal {
        Principal {
            tenant: TenantId::new("acme"),
            role,
            actor: "t".into(),
            token_id: "tok-1".into(),
            node_admin: false,
        }
    }

    #[test]
    fn each_role_may_do_what_it_is_for_and_no_more() {
        let get = Method::GET;
        let post = Method::POST;
        let emp = "/api/v1/employees";
        for role in [Role::Admin, Role::Operator, Role::Viewer] {
            assert!(
                permits(&who(role), &get, emp, Face::Api).is_ok(),
                "{role} reads"
            );
        }
        assert!(permits(&who(Role::Operator), &post, emp, Face::Api).is_ok());
        let viewer = permits(&who(Role::Viewer), &post, emp, Face::Cli).unwrap_err();
        assert!(viewer.contains("may only read"), "{viewer}");
        let agent = permits(&who(Role::Agent), &get, emp, Face::Api).unwrap_err();
        assert!(agent.contains("A2A and MCP only"), "{agent}");
        assert!(permits(&who(Role::Agent), &post, emp, Face::Mcp).is_ok());
        assert!(permits(&who(Role::Agent), &post, "/a2a/ava", Face::A2a).is_ok());
        assert!(permits(&who(Role::Viewer), &post, "/a2a/ava", Face::A2a).is_err());
        for path in ["/api/v1/tokens", "/api/v1/tokens/tok-1", "/api/v1/audit"] {
            assert!(permits(&who(Role::Admin), &get, path, Face::Api).is_ok());
            assert!(permits(&who(Role::Operator), &get, path, Face::Api).is_err());
        }
        assert!(permits(&who(Role::Admin), &post, "/api/v1/tenants", Face::Api).is_err());
        let mut admin = who(Role::Admin);
        admin.node_admin = true;
        assert!(permits(&admin, &post, "/api/v1/tenants", Face::Api).is_ok());
        assert!(permits(&admin, &get, "/api/v1/tenantsx", Face::Api).is_ok());
    }

    #[test]
    fn secrets_are_random_and_only_their_digest_is_kept() {
        let a = secret("empla_");
        assert!(a.starts_with("empla_") && a.len() == 6 + 64);
        assert_ne!(a, secret("empla_"));
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
