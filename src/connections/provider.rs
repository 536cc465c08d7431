//! The providers' wire formats: the authorization URL, the token endpoint (code and
//! refresh grants) and revocation, in Slack's dialect (HTTP 200 with `ok: false` on
//! failure, the bot token and its workspace), HubSpot's (RFC 6749 answers, the portal
//! read from its access-token endpoint, refresh tokens revoked with `DELETE`) and plain
//! RFC 6749 / RFC 7009. Tokens travel in request bodies and headers only, and no error
//! here carries one.

use super::config::{ProviderConfig, ProviderKind};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a request to a provider may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// What a token endpoint granted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Granted {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_in: Option<i64>,
    pub(crate) scopes: Vec<String>,
    pub(crate) account_id: String,
    pub(crate) account_name: String,
}

/// Why a call to the provider did not give tokens.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ProviderError {
    /// The provider refused the grant (`invalid_grant` and its kin): the person must
    /// connect again.
    #[error("the provider refused the grant ({0}); connect again")]
    Refused(String),
    /// Any other failure: unreachable, an error status, an answer not understood.
    #[error("{0}")]
    Failed(String),
}

/// A PKCE verifier (43 URL-safe characters from 32 random bytes) and its S256
/// challenge.
pub(crate) fn pkce_pair() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The URL the person is sent to, to consent.
pub(crate) fn authorize_url(
    p: &ProviderConfig,
    redirect_uri: &str,
    state: &str,
    challenge: Option<&str>,
) -> String {
    // Slack lists scopes with commas, the others with spaces (RFC 6749 3.3).
    let sep = if p.kind == ProviderKind::Slack {
        ","
    } else {
        " "
    };
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", &p.client_id);
    if p.kind != ProviderKind::Slack {
        q.append_pair("response_type", "code");
    }
    q.append_pair("redirect_uri", redirect_uri);
    if !p.scopes.is_empty() {
        q.append_pair("scope", &p.scopes.join(sep));
    }
    q.append_pair("state", state);
    if let Some(c) = challenge {
        q.append_pair("code_challenge", c);
        q.append_pair("code_challenge_method", "S256");
    }
    let base = p.endpoints().authorize;
    let join = if base.contains('?') { '&' } else { '?' };
    format!("{base}{join}{}", q.finish())
}

/// Calls a provider's endpoints with one client secret.
pub(crate) struct Provider<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) config: &'a ProviderConfig,
    pub(crate) secret: &'a str,
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish()
}

/// `v` form-encoded, as RFC 6749 (2.3.1) wants the client's id and secret before Basic.
fn encoded(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn failed(what: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Failed(format!("{what}: {e}"))
}

impl Provider<'_> {
    /// Exchanges an authorization code.
    pub(crate) async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<Granted, ProviderError> {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(v) = verifier {
            pairs.push(("code_verifier", v));
        }
        let mut granted = self.token_call(&pairs).await?;
        if self.config.kind == ProviderKind::Hubspot {
            self.hubspot_portal(&mut granted).await;
        }
        Ok(granted)
    }

    /// Trades a refresh token for new tokens.
    pub(crate) async fn refresh(&self, refresh_token: &str) -> Result<Granted, ProviderError> {
        self.token_call(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// A POST to the token endpoint: the client's credentials in the body for Slack and
    /// HubSpot (as they document), with HTTP Basic for the RFC's providers.
    async fn token_call(&self, pairs: &[(&str, &str)]) -> Result<Granted, ProviderError> {
        let c = self.config;
        let url = c.endpoints().token;
        let mut pairs = pairs.to_vec();
        let mut req = self.http.post(&url);
        if c.kind == ProviderKind::Generic {
            req = req.basic_auth(encoded(&c.client_id), Some(encoded(self.secret)));
        } else {
            pairs.push(("client_id", &c.client_id));
            pairs.push(("client_secret", self.secret));
        }
        let resp = req
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(form(&pairs))
            .send()
            .await
            .map_err(|e| failed("the token endpoint could not be reached", e.without_url()))?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| {
            failed(
                &format!("the token endpoint answered {status} without JSON"),
                e.without_url(),
            )
        })?;
        match c.kind {
            ProviderKind::Slack => slack_answer(&body),
            _ if !status.is_success() => Err(rfc_error(status, &body)),
            _ => rfc_answer(&body),
        }
    }

    /// HubSpot names the portal a token is for at its access-token endpoint, beside the
    /// token endpoint; without it the connection is kept, unnamed.
    async fn hubspot_portal(&self, g: &mut Granted) {
        let token_url = self.config.endpoints().token;
        let Some(base) = token_url.strip_suffix("/token") else {
            return;
        };
        let url = format!("{base}/access-tokens/{}", encoded(&g.access_token));
        let answer = async {
            self.http
                .get(&url)
                .send()
                .await?
                .error_for_status()?
                .json::<Value>()
                .await
        }
        .await;
        match answer {
            Ok(v) => {
                g.account_id = text_or_number(&v["hub_id"]);
                g.account_name = v["hub_domain"].as_str().unwrap_or_default().to_string();
            }
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "HubSpot did not name the portal of a new connection")
            }
        }
    }

    /// Revokes a token at the provider; `Ok(false)` when the provider has nowhere to
    /// revoke at.
    pub(crate) async fn revoke(
        &self,
        access_token: &str,
        refresh_token: Option<&str>,
    ) -> Result<bool, ProviderError> {
        let Some(url) = self.config.endpoints().revoke else {
            return Ok(false);
        };
        let c = self.config;
        let resp = match c.kind {
            ProviderKind::Slack => self.http.post(&url).bearer_auth(access_token).send().await,
            ProviderKind::Hubspot => {
                let token = refresh_token.unwrap_or(access_token);
                let url = url.replace("{token}", &encoded(token));
                self.http.delete(url).send().await
            }
            ProviderKind::Generic => {
                let (token, hint) = match refresh_token {
                    Some(r) => (r, "refresh_token"),
                    None => (access_token, "access_token"),
                };
                self.http
                    .post(&url)
                    .basic_auth(encoded(&c.client_id), Some(encoded(self.secret)))
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form(&[("token", token), ("token_type_hint", hint)]))
                    .send()
                    .await
            }
        }
        .map_err(|e| {
            failed(
                "the revocation endpoint could not be reached",
                e.without_url(),
            )
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(ProviderError::Failed(format!(
                "the revocation endpoint answered {status}"
            )));
        }
        if c.kind == ProviderKind::Slack {
            let body: Value = resp.json().await.unwrap_or_default();
            if body["ok"] != Value::Bool(true) {
                return Err(ProviderError::Failed(format!(
                    "Slack refused the revocation: {}",
                    body["error"].as_str().unwrap_or("no reason given")
                )));
            }
        }
        Ok(true)
    }
}

fn text_or_number(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn scopes_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Slack answers 200 with `ok`; the bot token is `access_token`, the workspace `team`;
/// token rotation adds `refresh_token` and `expires_in`.
fn slack_answer(body: &Value) -> Result<Granted, ProviderError> {
    if body["ok"] != Value::Bool(true) {
        let error = body["error"].as_str().unwrap_or("no reason given");
        return Err(match error {
            "invalid_refresh_token"
            | "invalid_grant"
            | "invalid_code"
            | "code_already_used"
            | "token_revoked"
            | "token_expired" => ProviderError::Refused(error.to_string()),
            _ => ProviderError::Failed(format!("Slack refused: {error}")),
        });
    }
    let access_token = body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ProviderError::Failed("Slack's answer has no access_token".into()))?;
    Ok(Granted {
        access_token: access_token.to_string(),
        refresh_token: body["refresh_token"].as_str().map(str::to_string),
        expires_in: body["expires_in"].as_i64(),
        scopes: scopes_of(&body["scope"]),
        account_id: text_or_number(&body["team"]["id"]),
        account_name: body["team"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}

/// An RFC 6749 (5.1) answer.
fn rfc_answer(body: &Value) -> Result<Granted, ProviderError> {
    let access_token = body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ProviderError::Failed("the token endpoint's answer has no access_token".into())
        })?;
    Ok(Granted {
        access_token: access_token.to_string(),
        refresh_token: body["refresh_token"].as_str().map(str::to_string),
        expires_in: body["expires_in"].as_i64(),
        scopes: scopes_of(&body["scope"]),
        ..Granted::default()
    })
}

/// An RFC 6749 (5.2) error, or HubSpot's `{"status": "BAD_REFRESH_TOKEN", ...}`.
fn rfc_error(status: reqwest::StatusCode, body: &Value) -> ProviderError {
    let error = body["error"]
        .as_str()
        .or_else(|| body["status"].as_str())
        .unwrap_or("no reason given");
    match error {
        "invalid_grant" | "BAD_REFRESH_TOKEN" | "BAD_AUTH_CODE" => {
            ProviderError::Refused(error.to_string())
        }
        _ => ProviderError::Failed(format!(
            "the token endpoint answered {status}: {error}{}",
            body["error_description"]
                .as_str()
                .or_else(|| body["message"].as_str())
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_pkce_challenge_is_the_s256_of_the_verifier() {
        let (v, c) = pkce_pair();
        assert_eq!(v.len(), 43);
        assert_eq!(c, URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())));
    }

    #[test]
    fn slack_failures_come_with_ok_false() {
        assert!(matches!(
            slack_answer(&json!({"ok": false, "error": "invalid_refresh_token"})),
            Err(ProviderError::Refused(_))
        ));
        assert!(matches!(
            slack_answer(&json!({"ok": false, "error": "ratelimited"})),
            Err(ProviderError::Failed(_))
        ));
        let g = slack_answer(
            &json!({"ok": true, "access_token": "xoxb-1", "scope": "chat:write,channels:read",
            "team": {"id": "T1", "name": "Acme"}}),
        )
        .unwrap();
        assert_eq!(
            (g.account_id.as_str(), g.account_name.as_str()),
            ("T1", "Acme")
        );
        assert_eq!(g.scopes, ["chat:write", "channels:read"]);
    }

    #[test]
    fn an_invalid_grant_means_connect_again() {
        let e = rfc_error(
            reqwest::StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_grant"}),
        );
        assert!(matches!(e, ProviderError::Refused(_)));
        let e = rfc_error(
            reqwest::StatusCode::BAD_REQUEST,
            &json!({"status": "BAD_REFRESH_TOKEN", "message": "m"}),
        );
        assert!(matches!(e, ProviderError::Refused(_)));
    }
}
