//! `[oauth]`: the outside accounts employees may connect (Slack, HubSpot, any OAuth 2.0
//! provider), where the provider sends people back to, and how long a started
//! connection waits. Every bad value is reported with its key and what to write.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The path the provider sends the person back to, on the node.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// `[oauth]` in `config/empla.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthConfig {
    /// Where providers send the person back (register it with each provider's app).
    /// Empty: `<node.public_url>/oauth/callback`, or the address the connection was
    /// started through when `node.public_url` is empty too.
    pub redirect_url: String,
    /// How long a started connection waits for the person's consent.
    #[serde(with = "humantime_serde")]
    pub state_ttl: Duration,
    /// Tokens that expire within this margin are refreshed.
    #[serde(with = "humantime_serde")]
    pub refresh_margin: Duration,
    /// How often the node looks for tokens to refresh.
    #[serde(with = "humantime_serde")]
    pub refresh_every: Duration,
    /// `[oauth.providers.NAME]`: the providers employees may connect, by name.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// `node.public_url`, copied here when the node starts (not an `[oauth]` key).
    #[serde(skip)]
    pub public_url: String,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            redirect_url: String::new(),
            state_ttl: Duration::from_secs(600),
            refresh_margin: Duration::from_secs(300),
            refresh_every: Duration::from_secs(60),
            providers: BTreeMap::new(),
            public_url: String::new(),
        }
    }
}

/// Which token endpoint dialect a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Slack's app install (OAuth v2): the bot token, the workspace named in `team`.
    Slack,
    /// HubSpot's OAuth: RFC 6749 answers, refresh tokens revoked with `DELETE`.
    Hubspot,
    /// Any RFC 6749 provider (RFC 7009 revocation).
    Generic,
}

impl ProviderKind {
    /// Its name in config and in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Slack => "slack",
            ProviderKind::Hubspot => "hubspot",
            ProviderKind::Generic => "generic",
        }
    }
}

/// `[oauth.providers.NAME]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// `slack`, `hubspot` or `generic`.
    pub kind: ProviderKind,
    /// The OAuth app's client id.
    pub client_id: String,
    /// The environment variable holding the app's client secret (read at start).
    pub client_secret_env: String,
    /// The scopes asked for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The authorization endpoint; Slack's and HubSpot's have defaults.
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// The token endpoint; Slack's and HubSpot's have defaults.
    #[serde(default)]
    pub token_url: Option<String>,
    /// The revocation endpoint (HubSpot's has `{token}` in it); Slack's and HubSpot's
    /// have defaults; a generic provider without one is only forgotten on disconnect.
    #[serde(default)]
    pub revoke_url: Option<String>,
    /// Send a PKCE challenge (S256). Default: on for generic, off for Slack (only apps
    /// with PKCE turned on in their settings take it) and HubSpot (which does not).
    #[serde(default)]
    pub pkce: Option<bool>,
}

/// A provider's endpoints with the defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints {
    /// Where the person is sent to consent.
    pub authorize: String,
    /// Where codes and refresh tokens are exchanged.
    pub token: String,
    /// Where tokens are revoked, if anywhere.
    pub revoke: Option<String>,
}

impl ProviderConfig {
    /// The endpoints, defaults filled in for Slack and HubSpot.
    pub fn endpoints(&self) -> Endpoints {
        let (a, t, r) = match self.kind {
            ProviderKind::Slack => (
                "https://slack.com/oauth/v2/authorize",
                "https://slack.com/api/oauth.v2.access",
                "https://slack.com/api/auth.revoke",
            ),
            ProviderKind::Hubspot => (
                "https://app.hubspot.com/oauth/authorize",
                "https://api.hubapi.com/oauth/v1/token",
                "https://api.hubapi.com/oauth/v1/refresh-tokens/{token}",
            ),
            ProviderKind::Generic => ("", "", ""),
        };
        let or = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_string());
        Endpoints {
            authorize: or(&self.authorize_url, a),
            token: or(&self.token_url, t),
            revoke: self
                .revoke_url
                .clone()
                .or_else(|| (!r.is_empty()).then(|| r.to_string())),
        }
    }

    /// Whether a PKCE challenge is sent.
    pub fn uses_pkce(&self) -> bool {
        self.pkce.unwrap_or(self.kind == ProviderKind::Generic)
    }
}

fn is_http_url(v: &str) -> bool {
    (v.starts_with("http://") || v.starts_with("https://")) && reqwest::Url::parse(v).is_ok()
}

impl OAuthConfig {
    /// Checks every key, adding one error per bad value.
    pub fn validate(&self, file: &str, errors: &mut Vec<ConfigError>) {
        let mut bad = |key: String, message: String| {
            errors.push(ConfigError::new(file, key, message));
        };
        if !self.redirect_url.is_empty() && !is_http_url(&self.redirect_url) {
            bad(
                "oauth.redirect_url".into(),
                format!(
                    "must be an http(s) URL such as https://empla.example.com/oauth/callback, got {:?}",
                    self.redirect_url
                ),
            );
        }
        for (key, d) in [
            ("state_ttl", self.state_ttl),
            ("refresh_every", self.refresh_every),
        ] {
            if d.is_zero() {
                bad(
                    format!("oauth.{key}"),
                    "must be longer than 0s, e.g. \"10m\"".into(),
                );
            }
        }
        for (name, p) in &self.providers {
            let key = |k: &str| format!("oauth.providers.{name}.{k}");
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok {
                bad(
                    format!("oauth.providers.{name}"),
                    "must be named with 1 to 64 letters, digits, - or _ (the name is used in URLs), e.g. [oauth.providers.hubspot]".into(),
                );
            }
            if p.client_id.trim().is_empty() {
                bad(
                    key("client_id"),
                    "must be the OAuth app's client id, as the provider shows it in the app's settings".into(),
                );
            }
            let env_ok = !p.client_secret_env.is_empty()
                && p.client_secret_env
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p
                    .client_secret_env
                    .starts_with(|c: char| c.is_ascii_digit());
            if !env_ok {
                bad(
                    key("client_secret_env"),
                    format!(
                        "must name the environment variable holding the client secret, e.g. \"{}_CLIENT_SECRET\", got {:?}",
                        name.to_ascii_uppercase().replace('-', "_"),
                        p.client_secret_env
                    ),
                );
            }
            for s in &p.scopes {
                if s.is_empty() || s.contains(char::is_whitespace) || s.contains(',') {
                    bad(
                        key("scopes"),
                        format!(
                            "must list one scope per string, without spaces or commas, e.g. [\"chat:write\", \"channels:read\"]; got {s:?}"
                        ),
                    );
                }
            }
            for (k, v) in [
                ("authorize_url", &p.authorize_url),
                ("token_url", &p.token_url),
                ("revoke_url", &p.revoke_url),
            ] {
                match v {
                    Some(url) if !is_http_url(url) => {
                        bad(key(k), format!("must be an http(s) URL, got {url:?}"))
                    }
                    None if p.kind == ProviderKind::Generic && k != "revoke_url" => bad(
                        key(k),
                        format!(
                            "is needed for a generic provider: the provider's {} endpoint, e.g. \"https://auth.example.com/oauth2/{}\"",
                            k.trim_end_matches("_url"),
                            k.trim_end_matches("_url")
                        ),
                    ),
                    _ => {}
                }
            }
            if p.kind == ProviderKind::Hubspot && p.pkce == Some(true) {
                bad(
                    key("pkce"),
                    "HubSpot's OAuth takes no PKCE challenge; remove `pkce` or set it to false"
                        .into(),
                );
            }
        }
    }

    /// The callback URL for a connection started through `request_base` (the scheme and
    /// host the request came to).
    pub fn redirect_uri(&self, request_base: &str) -> String {
        if !self.redirect_url.is_empty() {
            return self.redirect_url.clone();
        }
        let base = if self.public_url.is_empty() {
            request_base
        } else {
            &self.public_url
        };
        format!("{}{CALLBACK_PATH}", base.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OAuthConfig, Vec<ConfigError>> {
        let cfg: OAuthConfig = toml::from_str(text)
            .map_err(|e| vec![ConfigError::new("t.toml", "", e.to_string())])?;
        let mut errors = Vec::new();
        cfg.validate("t.toml", &mut errors);
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(errors)
        }
    }

    #[test]
    fn slack_and_hubspot_take_their_documented_endpoints() {
        let cfg = parse(
            "[providers.slack]\nkind = \"slack\"\nclient_id = \"1.2\"\nclient_secret_env = \"SLACK_CLIENT_SECRET\"\nscopes = [\"chat:write\"]\n\
             [providers.hubspot]\nkind = \"hubspot\"\nclient_id = \"abc\"\nclient_secret_env = \"HUBSPOT_CLIENT_SECRET\"\n",
        )
        .unwrap();
        let slack = &cfg.providers["slack"];
        assert_eq!(
            slack.endpoints().token,
            "https://slack.com/api/oauth.v2.access"
        );
        assert!(!slack.uses_pkce());
        let hubspot = cfg.providers["hubspot"].endpoints();
        assert_eq!(hubspot.authorize, "https://app.hubspot.com/oauth/authorize");
        assert_eq!(
            hubspot.revoke.as_deref(),
            Some("https://api.hubapi.com/oauth/v1/refresh-tokens/{token}")
        );
        assert_eq!(cfg.state_ttl, Duration::from_secs(600));
    }

    #[test]
    fn each_bad_value_names_its_key_and_what_to_write() {
        let errors = parse(
            "redirect_url = \"callback\"\nstate_ttl = \"0s\"\n\
             [providers.\"my app\"]\nkind = \"generic\"\nclient_id = \"\"\nclient_secret_env = \"my secret\"\nscopes = [\"a b\"]\n\
             [providers.hubspot]\nkind = \"hubspot\"\nclient_id = \"x\"\nclient_secret_env = \"HS\"\npkce = true\ntoken_url = \"ftp://x\"\n",
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let has = |needle: &str| {
            assert!(
                text.iter().any(|t| t.contains(needle)),
                "{needle:?} not in {text:#?}"
            )
        };
        has("`oauth.redirect_url` must be an http(s) URL");
        has("`oauth.state_ttl` must be longer than 0s");
        has("`oauth.providers.my app` must be named with 1 to 64 letters");
        has("`oauth.providers.my app.client_id` must be the OAuth app's client id");
        has("`oauth.providers.my app.client_secret_env` must name the environment variable");
        has("`oauth.providers.my app.scopes` must list one scope per string");
        has("`oauth.providers.my app.authorize_url` is needed for a generic provider");
        has("`oauth.providers.my app.token_url` is needed for a generic provider");
        has("`oauth.providers.hubspot.pkce` HubSpot's OAuth takes no PKCE challenge");
        has("`oauth.providers.hubspot.token_url` must be an http(s) URL");
        assert_eq!(errors.len(), 10, "{text:#?}");
    }

    #[test]
    fn an_unknown_kind_or_key_is_refused() {
        assert!(
            parse(
                "[providers.x]\nkind = \"github\"\nclient_id = \"a\"\nclient_secret_env = \"A\"\n"
            )
            .is_err()
        );
        assert!(parse("[providers.x]\nkind = \"slack\"\nclient_id = \"a\"\nclient_secret_env = \"A\"\nsecret = \"s\"\n").is_err());
    }

    #[test]
    fn the_redirect_url_defaults_to_the_public_url_then_the_request() {
        let mut cfg = OAuthConfig::default();
        assert_eq!(
            cfg.redirect_uri("http://127.0.0.1:7700"),
            "http://127.0.0.1:7700/oauth/callback"
        );
        cfg.public_url = "https://empla.example.com/".into();
        assert_eq!(
            cfg.redirect_uri("http://127.0.0.1:7700"),
            "https://empla.example.com/oauth/callback"
        );
        cfg.redirect_url = "https://hooks.example.com/cb".into();
        assert_eq!(cfg.redirect_uri("x"), "https://hooks.example.com/cb");
    }
}
