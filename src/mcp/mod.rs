//! MCP, the Model Context Protocol: empla's server — its tools, resources and prompts
//! ([`server`], answering through the node's HTTP API), served by the node at `/mcp`
//! (streamable HTTP) and by `empla mcp` over stdio — and its client ([`client`]): the
//! tools of configured MCP servers as employees' actions.

pub mod client;
pub mod server;
pub mod tools;

pub use client::{McpClients, McpConfig, McpServerConfig};
pub use server::{Backend, Server};
pub use tools::ApiCall;
