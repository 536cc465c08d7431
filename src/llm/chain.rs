//! The [`Llm`] service: the configured providers in order, each call retried with
//! backoff and jitter on 429, 5xx and timeouts (honouring `retry-after`), a provider
//! that keeps failing skipped for `cool_down` in favour of the next, each employee kept
//! within its daily budget, and every call counted (per employee and day, and in the
//! node's metrics).

use super::usage::Ledger;
use super::{LlmConfig, LlmError, Provider, ProviderKind, Request, Response};
use crate::model::{EmployeeId, TenantId};
use crate::store::Store;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A model: the provider's name and the model that answered.
    Model {
        /// `anthropic`, `openai`, `local`.
        provider: String,
        /// The model's name.
        model: String,
    },
    /// No model answered: the caller's own offline text stands, for this reason.
    Offline(String),
}

/// A model's answer, or why there is none.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The answer; none when offline.
    pub response: Option<Response>,
    /// Where it came from.
    pub source: Source,
}

impl Answer {
    fn offline(reason: impl Into<String>) -> Answer {
        Answer {
            response: None,
            source: Source::Offline(reason.into()),
        }
    }

    /// The model's text, if a model answered with any.
    pub fn text(&self) -> Option<String> {
        self.response
            .as_ref()
            .map(Response::text)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    }
}

/// One provider in the chain and how it has been doing.
struct Slot {
    provider: Arc<dyn Provider>,
    /// Its config key (`llm`, `llm.fallback`).
    key: String,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    /// Calls in a row that failed after their retries.
    failures: u32,
    /// Skipped until then.
    open_until: Option<Instant>,
}

/// An employee's use of the model, as its status shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LanguageStatus {
    /// The first provider and model (`anthropic/claude-…`).
    pub model: String,
    /// Tokens used today (UTC).
    pub tokens_today: u64,
    /// Cost today, US dollars by `[llm.prices]`.
    pub cost_today_usd: f64,
    /// Why it works offline now (its budget is spent), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<String>,
}

/// The node's language models: what employees ask, whatever is configured.
pub struct Llm {
    cfg: LlmConfig,
    prompts: super::prompt::Prompts,
    slots: Vec<Slot>,
    ledger: Option<Ledger>,
}

impl Llm {
    /// No model: every caller's offline path.
    pub fn offline() -> Llm {
        Llm {
            cfg: LlmConfig::default(),
            prompts: super::prompt::Prompts::built_in(),
            slots: Vec::new(),
            ledger: None,
        }
    }

    /// The providers `cfg` names, API keys read through `env`; usage counted in `store`.
    pub fn from_config(
        cfg: &LlmConfig,
        env: &dyn Fn(&str) -> Option<String>,
        store: Option<(Store, TenantId)>,
    ) -> Result<Llm, LlmError> {
        let mut providers: Vec<(String, Arc<dyn Provider>)> = Vec::new();
        for (key, s) in cfg.chain() {
            let p: Arc<dyn Provider> = match s.provider {
                ProviderKind::Anthropic => Arc::new(super::Anthropic::new(&key, &s, env)?),
                ProviderKind::Openai => Arc::new(super::OpenAi::new(&key, &s, env)?),
                #[cfg(feature = "local-llm")]
                ProviderKind::Local => Arc::new(super::Local::load(
                    std::path::Path::new(&s.model),
                    s.max_tokens,
                )?),
                #[cfg(not(feature = "local-llm"))]
                ProviderKind::Local => {
                    return Err(LlmError::Config(format!(
                        "`{key}.provider` is `local`, but this empla was built without the `local-llm` feature"
                    )));
                }
                ProviderKind::Offline => continue,
            };
            providers.push((key, p));
        }
        let prompts =
            super::prompt::Prompts::load(Some(&cfg.prompts_dir)).map_err(LlmError::Config)?;
        Ok(Llm {
            prompts,
            ..Llm::with_providers(cfg, providers, store)
        })
    }

    /// A service over the given providers (tests and benchmarks bring their own).
    pub fn with_providers(
        cfg: &LlmConfig,
        providers: Vec<(String, Arc<dyn Provider>)>,
        store: Option<(Store, TenantId)>,
    ) -> Llm {
        Llm {
            cfg: cfg.clone(),
            prompts: super::prompt::Prompts::built_in(),
            slots: providers
                .into_iter()
                .map(|(key, provider)| Slot {
                    provider,
                    key,
                    health: Mutex::new(Health::default()),
                })
                .collect(),
            ledger: store.map(|(s, t)| Ledger::new(s, t)),
        }
    }

    /// Whether no model is configured at all.
    pub fn is_offline(&self) -> bool {
        self.slots.is_empty()
    }

    /// The prompt templates.
    pub fn prompts(&self) -> &super::prompt::Prompts {
        &self.prompts
    }

    /// Whether a prompt may leave the node: some provider is not the local model.
    pub fn outside(&self) -> bool {
        self.slots.iter().any(|s| s.provider.name() != "local")
    }

    /// The settings.
    pub fn config(&self) -> &LlmConfig {
        &self.cfg
    }

    /// The first provider and model, as `provider/model` (or `offline`).
    pub fn describe(&self) -> String {
        match self.slots.first() {
            Some(s) => format!("{}/{}", s.provider.name(), s.provider.model()),
            None => "offline".into(),
        }
    }

    /// Employee `who`'s use of the model today, and why it works offline if it does;
    /// none when no model is configured.
    pub async fn status(&self, who: EmployeeId) -> Option<LanguageStatus> {
        if self.slots.is_empty() {
            return None;
        }
        let (tokens_today, cost_today_usd) = match &self.ledger {
            Some(l) => l.today(who).await,
            None => (0, 0.0),
        };
        Some(LanguageStatus {
            model: self.describe(),
            tokens_today,
            cost_today_usd,
            offline: self.spent(who).await,
        })
    }

    /// Why employee `who` may not use a model now (its budget is spent), if so.
    pub async fn spent(&self, who: EmployeeId) -> Option<String> {
        let ledger = self.ledger.as_ref()?;
        let (tokens, cost) = ledger.today(who).await;
        if let Some(b) = self.cfg.daily_token_budget
            && tokens >= b
        {
            return Some(format!(
                "today's token budget is spent ({tokens} of {b} tokens, `llm.daily_token_budget`); working offline until tomorrow (UTC)"
            ));
        }
        if let Some(b) = self.cfg.daily_cost_usd
            && cost >= b
        {
            return Some(format!(
                "today's cost budget is spent (${cost:.4} of ${b:.2}, `llm.daily_cost_usd`); working offline until tomorrow (UTC)"
            ));
        }
        None
    }

    /// Asks for employee `who`: the first provider that answers, after retries; an
    /// offline answer (with the reason) when none is configured, the budget is spent or
    /// every provider failed.
    pub async fn ask(&self, who: EmployeeId, request: &Request) -> Answer {
        if self.slots.is_empty() {
            return Answer::offline("no language model is configured (`llm.provider`)");
        }
        if let Some(why) = self.spent(who).await {
            return Answer::offline(why);
        }
        let mut reasons = Vec::new();
        for slot in &self.slots {
            let name = slot.provider.name().to_string();
            if let Some(until) = slot.health.lock().expect("not poisoned").open_until
                && Instant::now() < until
            {
                reasons.push(format!("{name} is skipped after failing repeatedly"));
                continue;
            }
            match self.try_slot(slot, request).await {
                Ok(response) => {
                    *slot.health.lock().expect("not poisoned") = Health::default();
                    self.count(who, &name, &response).await;
                    return Answer {
                        source: Source::Model {
                            provider: name,
                            model: response.model.clone(),
                        },
                        response: Some(response),
                    };
                }
                Err(e) => {
                    metrics::counter!("empla_llm_errors_total", "provider" => name.clone(), "kind" => error_kind(&e)).increment(1);
                    match &e {
                        LlmError::Auth { .. } | LlmError::Refused { .. } | LlmError::Config(_) => {
                            tracing::error!(provider = %name, key = %slot.key, error = %e, "language model refused the call; using the next provider or offline");
                        }
                        _ => {
                            tracing::warn!(provider = %name, error = %e, "language model failed; using the next provider or offline");
                        }
                    }
                    let mut h = slot.health.lock().expect("not poisoned");
                    h.failures += 1;
                    if h.failures >= self.cfg.trip_after {
                        h.open_until = Some(Instant::now() + self.cfg.cool_down);
                        h.failures = 0;
                    }
                    reasons.push(e.to_string());
                }
            }
        }
        Answer::offline(reasons.join("; "))
    }

    /// One provider, with retries on what is worth retrying.
    async fn try_slot(&self, slot: &Slot, request: &Request) -> Result<Response, LlmError> {
        let name = slot.provider.name().to_string();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = slot.provider.complete(request).await;
            metrics::histogram!("empla_llm_latency_seconds", "provider" => name.clone())
                .record(started.elapsed().as_secs_f64());
            match result {
                Err(e) if e.is_transient() && attempt < self.cfg.attempts.max(1) => {
                    let wait = match &e {
                        LlmError::Transient {
                            retry_after: Some(d),
                            ..
                        } => (*d).min(Duration::from_secs(60)),
                        _ => backoff(self.cfg.backoff, attempt),
                    };
                    tracing::debug!(provider = %name, attempt, ?wait, error = %e, "retrying the language model");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn count(&self, who: EmployeeId, provider: &str, r: &Response) {
        let cost = self.cfg.cost(&r.model, r.usage);
        let p = provider.to_string();
        metrics::counter!("empla_llm_calls_total", "provider" => p.clone()).increment(1);
        metrics::counter!("empla_llm_tokens_total", "provider" => p.clone(), "kind" => "input")
            .increment(r.usage.input_tokens);
        metrics::counter!("empla_llm_tokens_total", "provider" => p.clone(), "kind" => "output")
            .increment(r.usage.output_tokens);
        metrics::gauge!("empla_llm_cost_usd_total", "provider" => p).increment(cost);
        if let Some(l) = &self.ledger {
            l.add(who, provider, &r.model, r.usage, cost).await;
        }
    }
}

/// The wait before try `attempt + 1`: `base` doubled per try, at most 30 s, with up to
/// half of it as random jitter so many callers do not come back at once.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let d = base.saturating_mul(1 << attempt.saturating_sub(1).min(10));
    let d = d.min(Duration::from_secs(30));
    let jitter = rand::random::<f64>() * 0.5;
    d.mul_f64(0.75 + jitter)
}

fn error_kind(e: &LlmError) -> &'static str {
    match e {
        LlmError::Auth { .. } => "auth",
        LlmError::Refused { .. } => "refused",
        LlmError::Transient { .. } => "transient",
        LlmError::Malformed { .. } => "malformed",
        LlmError::Config(_) => "config",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let b = Duration::from_millis(100);
        for _ in 0..50 {
            let first = backoff(b, 1);
            assert!(first >= Duration::from_millis(75) && first <= Duration::from_millis(125));
            let third = backoff(b, 3);
            assert!(third >= Duration::from_millis(300) && third <= Duration::from_millis(500));
            assert!(backoff(b, 40) <= Duration::from_secs(38));
        }
    }
}
