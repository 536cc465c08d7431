//! `empla mcp`: empla's MCP server on standard input and output, for an MCP client that
//! starts it (a desktop assistant, an agent framework). It answers through a running
//! node's HTTP API with the CLI's token, exactly as `/mcp` on the node does.

use super::NodeArgs;
use crate::mcp::{ApiCall, Backend, Server};
use futures::future::BoxFuture;
use rmcp::ServiceExt;
use serde_json::Value as Json;
use std::sync::Arc;

/// The node's HTTP API, as the MCP server's backend.
struct Remote {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Backend for Remote {
    fn call(&self, c: ApiCall, _: Option<String>) -> BoxFuture<'_, Result<(u16, Json), String>> {
        Box::pin(async move {
            let url = format!("{}/api/v1{}", self.base, c.path);
            let method =
                reqwest::Method::from_bytes(c.method.as_bytes()).map_err(|e| e.to_string())?;
            let mut req = self.http.request(method, &url).bearer_auth(&self.token);
            if let Some(b) = &c.body {
                req = req.json(b);
            }
            let r = req
                .send()
                .await
                .map_err(|e| format!("the node at {} could not be reached: {e}", self.base))?;
            let status = r.status().as_u16();
            let body = r.json::<Json>().await.unwrap_or(Json::Null);
            Ok((status, body))
        })
    }
}

/// Serves MCP on stdio until the client closes it.
pub(super) async fn serve(args: &NodeArgs) -> anyhow::Result<()> {
    let backend = Remote {
        http: reqwest::Client::new(),
        base: args.node.trim_end_matches('/').to_string(),
        token: super::client::token(args)?,
    };
    let running = Server::new(Arc::new(backend))
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("the MCP session could not start: {e}"))?;
    running.waiting().await?;
    Ok(())
}
