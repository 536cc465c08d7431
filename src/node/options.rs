//! What a node is started with: its options, from the loaded configuration or built
//! by hand (tests, benchmarks).

use crate::config::{Config, RoleTemplate, RuntimeConfig, StoreConfig};
use crate::lifecycle::HireRequest;
use crate::model::TenantId;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// Tenant stamped on every row.
    pub tenant: TenantId,
    /// Domain of employees' addresses.
    pub company_domain: String,
    /// Store URL.
    pub store_url: String,
    /// Store settings.
    pub store: StoreConfig,
    /// Runtime settings.
    pub runtime: RuntimeConfig,
    /// Memory settings: the embedder, retention, working memory.
    pub memory: crate::config::MemoryConfig,
    /// Mail settings: the built-in driver or a mail server.
    pub mail: crate::config::MailConfig,
    /// Calendar settings: the built-in driver or a CalDAV server, working hours.
    pub calendar: crate::config::CalendarConfig,
    /// Chat settings: the built-in driver or Slack.
    pub chat: crate::config::ChatConfig,
    /// CRM settings: the driver and the deal pipeline.
    pub crm: crate::capabilities::crm::CrmConfig,
    /// Documents settings: the price list, terms, fonts.
    pub documents: crate::capabilities::documents::DocumentsConfig,
    /// Research settings: the search provider, the limits of page fetches.
    pub research: crate::capabilities::research::ResearchConfig,
    /// Language models: the provider chain, prices, budgets.
    pub llm: crate::llm::LlmConfig,
    /// `[mcp]`: MCP servers whose tools are actions.
    pub mcp: crate::mcp::McpConfig,
    /// `[a2a]`: the A2A face's answer wait and push notifications.
    pub a2a: crate::a2a::A2aConfig,
    /// Where the operator's document templates are (resolved against the node file).
    pub templates_dir: Option<PathBuf>,
    /// The node's data directory (mail logins, attachments).
    pub data_dir: PathBuf,
    /// Role templates by id.
    pub roles: BTreeMap<String, RoleTemplate>,
    /// Employees to hire on start unless already hired from the same file.
    pub demo_employees: Vec<(PathBuf, HireRequest)>,
    /// The demo book of business to import into an empty CRM after the demo hires.
    pub demo_crm: Option<PathBuf>,
    /// Teams by id, as plans name them (`team:<id>`).
    pub teams: BTreeMap<String, crate::config::teams::Team>,
    /// `[cluster]`; `advertise` filled in with the bound address when left empty.
    pub cluster: crate::cluster::ClusterConfig,
    /// `[oauth]`: the providers employees connect to, with `node.public_url`.
    pub oauth: crate::connections::OAuthConfig,
}

impl NodeOptions {
    /// Options from a loaded configuration.
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            tenant: TenantId::new(cfg.node.node.tenant.clone()),
            company_domain: cfg.node.node.company_domain.clone(),
            store_url: cfg.node.store_url(),
            store: cfg.node.store.clone(),
            runtime: cfg.node.runtime.clone(),
            memory: cfg.node.memory.clone(),
            mail: cfg.node.mail.clone(),
            calendar: cfg.node.calendar.clone(),
            chat: cfg.node.chat.clone(),
            crm: cfg.node.crm.clone(),
            documents: cfg.node.documents.clone(),
            research: cfg.node.research.clone(),
            a2a: crate::a2a::A2aConfig {
                public_url: cfg.node.node.public_url.clone(),
                ..cfg.node.a2a.clone()
            },
            llm: crate::llm::LlmConfig {
                prompts_dir: cfg
                    .path
                    .as_deref()
                    .and_then(|p| p.parent())
                    .unwrap_or(std::path::Path::new("."))
                    .join(&cfg.node.llm.prompts_dir),
                ..cfg.node.llm.clone()
            },
            mcp: cfg.node.mcp.clone(),
            oauth: crate::connections::OAuthConfig {
                public_url: cfg.node.node.public_url.clone(),
                ..cfg.node.oauth.clone()
            },
            templates_dir: Some(
                cfg.path
                    .as_deref()
                    .and_then(|p| p.parent())
                    .unwrap_or(std::path::Path::new("."))
                    .join(&cfg.node.documents.templates_dir),
            ),
            data_dir: cfg.node.node.data_dir.clone(),
            roles: cfg.roles.clone(),
            teams: cfg.teams.clone(),
            cluster: cfg.node.cluster.clone(),
            demo_employees: if cfg.node.node.hire_demo_employees {
                cfg.employees.clone()
            } else {
                Vec::new()
            },
            demo_crm: cfg.node.node.hire_demo_employees.then(|| {
                let base = cfg.path.as_deref().and_then(|p| p.parent());
                base.unwrap_or(std::path::Path::new("."))
                    .join(&cfg.node.node.demo_dir)
            }),
        }
    }
}
