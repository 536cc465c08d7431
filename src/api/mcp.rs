//! `/mcp`: empla's MCP server over streamable HTTP (rmcp), answering through this very
//! API in process — each tool call is a request to the API's router with the caller's
//! own bearer token, so MCP has exactly the API's auth, gates and answers. The endpoint
//! itself needs the token too, and answers only the hosts it is told of (loopback and
//! `api.mcp_allowed_hosts`).

use crate::mcp::{ApiCall, Backend, Server};
use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use futures::future::BoxFuture;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value as Json;
use std::sync::Arc;
use tower::ServiceExt;

/// The API router in process, as the MCP server's backend.
struct InProcess {
    app: Router,
    max_body: usize,
}

impl Backend for InProcess {
    fn call(
        &self,
        c: ApiCall,
        authorization: Option<String>,
    ) -> BoxFuture<'_, Result<(u16, Json), String>> {
        Box::pin(async move {
            let mut req = axum::http::Request::builder()
                .method(c.method)
                .uri(format!("/api/v1{}", c.path))
                .extension(super::auth::Face::Mcp);
            if let Some(a) = authorization {
                req = req.header(AUTHORIZATION, a);
            }
            let body = match c.body {
                Some(b) => {
                    req = req.header(CONTENT_TYPE, "application/json");
                    Body::from(b.to_string())
                }
                None => Body::empty(),
            };
            let req = req
                .body(body)
                .map_err(|e| format!("the API call could not be made: {e}"))?;
            let response = match self.app.clone().oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), self.max_body.max(16 << 20))
                .await
                .map_err(|e| format!("the API's answer could not be read: {e}"))?;
            Ok((status, serde_json::from_slice(&bytes).unwrap_or(Json::Null)))
        })
    }
}

/// The host (`host` or `host:port`) of `url` (`node.public_url`), which `/mcp` answers
/// to as well; none when it is unset.
pub(super) fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// The `/mcp` service over `app` (the API without `/mcp`), answering loopback and `hosts`.
pub(super) fn service(
    app: Router,
    hosts: &[String],
    max_body: usize,
) -> StreamableHttpService<Server, LocalSessionManager> {
    let backend: Arc<dyn Backend> = Arc::new(InProcess { app, max_body });
    let mut allowed: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    allowed.extend(hosts.iter().cloned());
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(allowed);
    StreamableHttpService::new(
        move || Ok(Server::new(backend.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_public_urls_host_is_answered_too() {
        assert_eq!(
            super::host_of("https://empla.example.com/").as_deref(),
            Some("empla.example.com")
        );
        assert_eq!(
            super::host_of("http://10.0.0.5:7700").as_deref(),
            Some("10.0.0.5:7700")
        );
        assert_eq!(super::host_of(""), None);
    }
}
