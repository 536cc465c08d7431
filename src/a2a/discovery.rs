//! Finding an outside agent: fetch its card, pick the interface this node speaks (A2A
//! 1.0 over JSON-RPC, else HTTP+JSON) and build the A2A project's client on it, with
//! the agent's bearer token. A card URL a plan names (rather than `[a2a.agents]`) is
//! reached only on public addresses unless `a2a.allow_private_agents` says otherwise,
//! and so are the interfaces its card names.

use super::client::ClientError;
use super::push::{self, AGENT, PublicOnly};
use a2a::{AgentCard, AgentInterface, TRANSPORT_PROTOCOL_HTTP_JSON, TRANSPORT_PROTOCOL_JSONRPC};
use a2a_client::auth::AuthInterceptor;
use a2a_client::jsonrpc::JsonRpcTransport;
use a2a_client::rest::RestTransport;
use a2a_client::{A2AClient, Transport};
use std::sync::Arc;
use std::time::Duration;

/// The largest agent card read.
const MAX_CARD_BYTES: usize = 1 << 20;

/// The bindings this node speaks, most preferred first.
pub(crate) const BINDINGS: [&str; 2] = [TRANSPORT_PROTOCOL_JSONRPC, TRANSPORT_PROTOCOL_HTTP_JSON];

/// How to reach one agent: from `[a2a.agents.NAME]`, or a card URL a plan gave.
#[derive(Clone)]
pub(crate) struct Target {
    /// The name errors use: the configured name, or the card URL.
    pub(crate) name: String,
    /// The card's URL.
    pub(crate) card: String,
    /// The bearer token, if any.
    pub(crate) token: Option<String>,
    /// Longest wait for one call.
    pub(crate) timeout: Duration,
    /// Whether the operator configured it (and so it may be on a private address).
    pub(crate) configured: bool,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token never reaches a log line.
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("card", &self.card)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("timeout", &self.timeout)
            .field("configured", &self.configured)
            .finish()
    }
}

/// An agent whose card was read: the client on the interface picked.
pub(crate) struct Reached {
    /// The agent's card.
    pub(crate) card: AgentCard,
    /// The interface picked.
    pub(crate) interface: AgentInterface,
    /// The A2A client on it.
    pub(crate) client: A2AClient<Box<dyn Transport>>,
}

impl Reached {
    /// Whether the agent streams task updates (`SubscribeToTask`).
    pub(crate) fn streams(&self) -> bool {
        self.card.capabilities.streaming.unwrap_or(false)
    }
}

/// The HTTP clients: one for configured agents, one that reaches public addresses only.
#[derive(Clone)]
pub(crate) struct Http {
    trusted: reqwest::Client,
    public: reqwest::Client,
}

impl Http {
    /// Both clients; `allow_private` lets the second reach any address.
    pub(crate) fn new(allow_private: bool) -> Result<Http, String> {
        // The node's one TLS provider (ring), should no one have installed it yet.
        crate::telemetry::install_crypto_provider();
        let base = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("empla/", env!("CARGO_PKG_VERSION")))
        };
        let trusted = base()
            .build()
            .map_err(|e| format!("no HTTP client for outside agents: {e}"))?;
        let mut public = base().redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            public = public.dns_resolver(Arc::new(PublicOnly(AGENT)));
        }
        let public = public
            .build()
            .map_err(|e| format!("no HTTP client for outside agents: {e}"))?;
        Ok(Http { trusted, public })
    }

    fn for_target(&self, t: &Target) -> &reqwest::Client {
        if t.configured {
            &self.trusted
        } else {
            &self.public
        }
    }
}

/// Reads `t`'s card and builds the client on the interface picked.
pub(crate) async fn discover(
    http: &Http,
    t: &Target,
    allow_private: bool,
) -> Result<Reached, ClientError> {
    let guarded = !t.configured && !allow_private;
    if guarded {
        push::check_resolved(&t.card, false, AGENT)
            .await
            .map_err(|why| ClientError::Refused {
                to: t.name.clone(),
                why,
            })?;
    }
    let client = http.for_target(t);
    let card = fetch_card(client, t).await?;
    let interface = pick(&card).map_err(|offered| ClientError::NoInterface {
        agent: t.name.clone(),
        offered,
    })?;
    if guarded {
        push::check(&interface.url, false, AGENT).map_err(|why| ClientError::Refused {
            to: t.name.clone(),
            why: format!("its card's {} interface: {why}", interface.protocol_binding),
        })?;
    }
    let transport: Box<dyn Transport> = if interface.protocol_binding == TRANSPORT_PROTOCOL_JSONRPC
    {
        Box::new(JsonRpcTransport::new(client.clone(), interface.url.clone()))
    } else {
        Box::new(RestTransport::new(client.clone(), interface.url.clone()))
    };
    let mut a2a = A2AClient::new(transport);
    if let Some(token) = &t.token {
        a2a = a2a.with_interceptors(vec![Arc::new(AuthInterceptor::bearer(token.clone()))]);
    }
    if let Some(tenant) = interface.tenant.as_deref().filter(|t| !t.is_empty()) {
        a2a = a2a.with_tenant(tenant);
    }
    Ok(Reached {
        card,
        interface,
        client: a2a,
    })
}

async fn fetch_card(client: &reqwest::Client, t: &Target) -> Result<AgentCard, ClientError> {
    let unreachable = |why: String| ClientError::CardUnreachable {
        agent: t.name.clone(),
        url: t.card.clone(),
        why,
    };
    let call = async {
        let resp = client
            .get(&t.card)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(unreachable(format!("it answered HTTP {status}")));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_CARD_BYTES as u64)
        {
            return Err(unreachable("the card is larger than 1 MiB".into()));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        if body.len() > MAX_CARD_BYTES {
            return Err(unreachable("the card is larger than 1 MiB".into()));
        }
        serde_json::from_slice::<AgentCard>(&body).map_err(|e| ClientError::BadCard {
            agent: t.name.clone(),
            url: t.card.clone(),
            why: e.to_string(),
        })
    };
    match tokio::time::timeout(t.timeout, call).await {
        Ok(r) => r,
        Err(_) => Err(unreachable(format!(
            "no answer within {}",
            humantime::format_duration(t.timeout)
        ))),
    }
}

/// The interface to use: A2A 1.x, the most preferred binding of [`BINDINGS`], an
/// http(s) URL. Or what the card offers, for the error.
pub(crate) fn pick(card: &AgentCard) -> Result<AgentInterface, String> {
    let speaks = |i: &AgentInterface| {
        let major = i.protocol_version.trim().split('.').next().unwrap_or("");
        // An interface that names no version is taken as the current one.
        (major.is_empty() || major == "1")
            && (i.url.starts_with("http://") || i.url.starts_with("https://"))
    };
    for binding in BINDINGS {
        if let Some(i) = card
            .supported_interfaces
            .iter()
            .find(|i| i.protocol_binding.eq_ignore_ascii_case(binding) && speaks(i))
        {
            return Ok(i.clone());
        }
    }
    let offered: Vec<String> = card
        .supported_interfaces
        .iter()
        .map(|i| format!("{} {} at {}", i.protocol_binding, i.protocol_version, i.url))
        .collect();
    Err(if offered.is_empty() {
        "none".to_string()
    } else {
        offered.join(", ")
    })
}

/// An error with its causes (reqwest's own text names only the outermost).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(interfaces: &[(&str, &str, &str)]) -> AgentCard {
        let json = serde_json::json!({
            "name": "a", "description": "b", "version": "1",
            "supportedInterfaces": interfaces.iter().map(|(b, v, u)| serde_json::json!({
                "url": u, "protocolBinding": b, "protocolVersion": v,
            })).collect::<Vec<_>>(),
            "capabilities": {}, "defaultInputModes": [], "defaultOutputModes": [], "skills": [],
        });
        serde_json::from_value(json).unwrap()
    }

    #[tokio::test]
    async fn the_public_client_refuses_names_that_resolve_to_private_addresses() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://localhost:{port}/card.json");
        let e = Http::new(false)
            .unwrap()
            .public
            .get(&url)
            .send()
            .await
            .unwrap_err();
        let e = error_chain(&e);
        assert!(e.contains("a2a.allow_private_agents"), "{e}");
        // Allowed, the name is resolved and tried (nothing listens there).
        let e = Http::new(true)
            .unwrap()
            .public
            .get(&url)
            .send()
            .await
            .unwrap_err();
        assert!(!error_chain(&e).contains("a2a.allow_private_agents"), "{e}");
    }

    #[test]
    fn json_rpc_is_preferred_then_http_json_on_version_one() {
        let both = card(&[
            ("HTTP+JSON", "1.0", "https://a/x"),
            ("JSONRPC", "1.0", "https://a/x"),
        ]);
        assert_eq!(pick(&both).unwrap().protocol_binding, "JSONRPC");
        let rest = card(&[
            ("JSONRPC", "0.3", "https://a/old"),
            ("HTTP+JSON", "1.0", "https://a/x"),
        ]);
        assert_eq!(pick(&rest).unwrap().protocol_binding, "HTTP+JSON");
        let none = card(&[("GRPC", "1.0", "a:443"), ("JSONRPC", "0.3", "https://a/")]);
        let offered = pick(&none).unwrap_err();
        assert!(
            offered.contains("GRPC 1.0 at a:443") && offered.contains("JSONRPC 0.3"),
            "{offered}"
        );
        assert_eq!(pick(&card(&[])).unwrap_err(), "none");
    }
}
