//! What the vendor clients share: one HTTP client per provider, statuses read into
//! [`LlmError`]s that name the config key to fix, `retry-after` honoured, and the
//! server-sent events of a streamed answer read line by line.

use crate::llm::{LlmError, ProviderSettings};
use std::time::Duration;

/// A vendor API's HTTP client with what it needs to say which key to fix.
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    /// The provider's name (`anthropic`, `openai`).
    pub(crate) name: &'static str,
    /// Its settings' key prefix (`llm`, `llm.fallback`).
    pub(crate) key: String,
    /// The environment variable the API key was read from (for errors).
    pub(crate) key_env: String,
    /// The API key, if any.
    pub(crate) api_key: Option<String>,
}

impl Http {
    /// A client for `s` (under config key `key`), reading its API key from `env`.
    pub(crate) fn new(
        name: &'static str,
        key: &str,
        s: &ProviderSettings,
        env: &dyn Fn(&str) -> Option<String>,
        key_required: bool,
    ) -> Result<Http, LlmError> {
        crate::telemetry::install_crypto_provider();
        let key_env = s.key_env().to_string();
        let api_key = (!key_env.is_empty())
            .then(|| env(&key_env))
            .flatten()
            .filter(|k| !k.trim().is_empty());
        if key_required && api_key.is_none() {
            return Err(LlmError::Config(format!(
                "`{key}.provider` is `{name}` but the API key is missing: set the environment variable `{key_env}`, or name the variable that holds it in `{key}.api_key_env`"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(s.timeout)
            .connect_timeout(s.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| {
                LlmError::Config(format!("{name}: the HTTP client cannot be built: {e}"))
            })?;
        Ok(Http {
            client,
            name,
            key: key.to_string(),
            key_env,
            api_key,
        })
    }

    /// Sends `req`; a status other than 2xx becomes the matching error.
    pub(crate) async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, LlmError> {
        let res = req.send().await.map_err(|e| self.transport(e))?;
        let status = res.status().as_u16();
        if res.status().is_success() {
            return Ok(res);
        }
        let retry_after = retry_after(res.headers());
        let body = res.text().await.unwrap_or_default();
        let message = vendor_message(&body);
        Err(match status {
            401 | 403 => LlmError::Auth {
                provider: self.name.into(),
                status,
                message,
                key: format!("{}.api_key_env (the key in ${})", self.key, self.key_env),
            },
            408 | 409 | 425 | 429 | 500..=599 => LlmError::Transient {
                provider: self.name.into(),
                message: format!("HTTP {status}: {message}"),
                retry_after,
            },
            404 => LlmError::Refused {
                provider: self.name.into(),
                status,
                message,
                key: format!("{}.model or {}.base_url", self.key, self.key),
            },
            _ => LlmError::Refused {
                provider: self.name.into(),
                status,
                message,
                key: format!("{}.model or {}.max_tokens", self.key, self.key),
            },
        })
    }

    /// A transport failure (timeout, refused connection, a body cut short).
    pub(crate) fn transport(&self, e: reqwest::Error) -> LlmError {
        let what = if e.is_timeout() {
            format!("no answer within `{}.timeout`", self.key)
        } else if e.is_connect() {
            format!("cannot connect (check `{}.base_url`)", self.key)
        } else {
            "the connection failed".into()
        };
        LlmError::Transient {
            provider: self.name.into(),
            message: format!("{what}: {e}"),
            retry_after: None,
        }
    }

    /// An answer that could not be read.
    pub(crate) fn malformed(&self, message: impl Into<String>) -> LlmError {
        LlmError::Malformed {
            provider: self.name.into(),
            message: message.into(),
        }
    }

    /// The JSON body of a whole answer.
    pub(crate) async fn json(&self, res: reqwest::Response) -> Result<serde_json::Value, LlmError> {
        let bytes = res.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            self.malformed(format!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ))
        })
    }

    /// Reads a streamed answer's server-sent events, giving `on` each event's name (empty
    /// when none) and data; `on` answers `false` to stop reading.
    pub(crate) async fn events(
        &self,
        mut res: reqwest::Response,
        on: &mut (dyn FnMut(&str, &str) -> Result<bool, LlmError> + Send),
    ) -> Result<(), LlmError> {
        let mut buf: Vec<u8> = Vec::new();
        let (mut event, mut data) = (String::new(), String::new());
        while let Some(chunk) = res.chunk().await.map_err(|e| self.transport(e))? {
            buf.extend_from_slice(&chunk);
            while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line);
                let line = line.trim_end_matches(['\n', '\r']);
                if line.is_empty() {
                    if !data.is_empty() && !on(&event, &data)? {
                        return Ok(());
                    }
                    event.clear();
                    data.clear();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
        }
        if !data.is_empty() {
            on(&event, &data)?;
        }
        Ok(())
    }
}

/// The wait a `retry-after` (seconds or an HTTP date) or `retry-after-ms` header asks.
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = h
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<f64>() {
        return Some(Duration::from_secs_f64(s.max(0.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// The vendor's own words from an error body (`{"error": {"message": ...}}` as both
/// vendors write it), else the body's start.
fn vendor_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v["error"]["message"]
                .as_str()
                .or(v["message"].as_str())
                .or(v["error"].as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_and_milliseconds() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
    }

    #[test]
    fn the_vendors_own_words_are_kept() {
        assert_eq!(
            vendor_message(
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}"#
            ),
            "max_tokens: too large"
        );
        assert_eq!(vendor_message("Bad Gateway"), "Bad Gateway");
    }
}
