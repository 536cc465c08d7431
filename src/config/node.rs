//! The node's own settings (`config/empla.toml`): where it keeps data, where it listens,
//! which store it uses, and how its runtime behaves.

use super::{ConfigError, ConfigErrors, env};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything in `config/empla.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// `[node]`: identity, addresses, files.
    pub node: NodeSection,
    /// `[api]`: the HTTP server's timeouts and limits.
    pub api: crate::api::ApiConfig,
    /// `[store]`: the database.
    pub store: crate::store::StoreConfig,
    /// `[runtime]`: actors, passivation, supervision.
    pub runtime: crate::actors::RuntimeConfig,
    /// `[memory]`: embeddings, retention, working memory.
    pub memory: crate::memory::MemoryConfig,
    /// `[mail]`: the mail driver and mailbox logins.
    pub mail: crate::capabilities::email::MailConfig,
    /// `[calendar]`: where calendars are kept and when people work.
    pub calendar: crate::capabilities::calendar::CalendarConfig,
    /// `[chat]`: the chat driver and each employee's Slack app.
    pub chat: crate::capabilities::chat::ChatConfig,
    /// `[crm]`: the CRM driver and the deal pipeline.
    pub crm: crate::capabilities::crm::CrmConfig,
    /// `[documents]`: the price list, terms, templates and fonts.
    pub documents: crate::capabilities::documents::DocumentsConfig,
    /// `[research]`: the search provider and the limits of page fetches.
    pub research: crate::capabilities::research::ResearchConfig,
    /// `[llm]`: language models, their prices and the employees' daily budgets.
    pub llm: crate::llm::LlmConfig,
    /// `[mcp]`: the MCP servers whose tools employees may use as actions.
    pub mcp: crate::mcp::McpConfig,
    /// `[log]`: logging.
    pub log: crate::telemetry::LogConfig,
    /// `[a2a]`: the A2A protocol face (answer wait, push notifications).
    pub a2a: crate::a2a::A2aConfig,
    /// `[cluster]`: nodes sharing one PostgreSQL store.
    pub cluster: crate::cluster::ClusterConfig,
    /// `[oauth]`: the outside accounts employees connect through OAuth 2.0.
    pub oauth: crate::connections::OAuthConfig,
}

/// `[node]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// Directory for the SQLite store, the generated API token and other node files.
    /// Relative paths are taken from the working directory.
    pub data_dir: PathBuf,
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// Domain of employees' email addresses.
    pub company_domain: String,
    /// Tenant id stamped on every stored row.
    pub tenant: String,
    /// API bearer token; empty means `EMPLA_API_TOKEN` or a generated token file.
    pub api_token: String,
    /// The node's URL as other agents reach it (`https://empla.example.com`), for the
    /// absolute URLs of agent cards; empty: taken from each request's Host.
    pub public_url: String,
    /// Role templates directory, relative to the node file.
    pub roles_dir: PathBuf,
    /// Demo employee specs directory, relative to the node file.
    pub employees_dir: PathBuf,
    /// Shared plan files (`*.toml`, each naming the roles it adds plans to), relative to
    /// the node file; a missing directory means none.
    pub plans_dir: PathBuf,
    /// Teams (`*.toml`, one per team), relative to the node file; a missing directory
    /// means none.
    pub teams_dir: PathBuf,
    /// Collaborative workflows (`*.toml`, one per workflow), relative to the node file;
    /// a missing directory means none.
    pub workflows_dir: PathBuf,
    /// Hire the employees of `employees_dir` on start when not hired yet.
    pub hire_demo_employees: bool,
    /// The demo book of business (`accounts.csv`, `contacts.csv`, `deals.csv`), relative
    /// to the node file: imported into an empty CRM with the demo hires.
    pub demo_dir: PathBuf,
}

impl Default for NodeSection {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 7700)),
            company_domain: "example.com".into(),
            tenant: "default".into(),
            api_token: String::new(),
            public_url: String::new(),
            roles_dir: PathBuf::from("roles"),
            employees_dir: PathBuf::from("employees"),
            plans_dir: PathBuf::from("plans"),
            teams_dir: PathBuf::from("teams"),
            workflows_dir: PathBuf::from("workflows"),
            hire_demo_employees: true,
            demo_dir: PathBuf::from("demo"),
        }
    }
}

impl NodeConfig {
    /// Parses node TOML `text` from `file`, applies `EMPLA_*` overrides, validates.
    pub fn parse(
        file: &str,
        text: &str,
        vars: &[(String, String)],
    ) -> Result<NodeConfig, ConfigErrors> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| {
            ConfigErrors(vec![ConfigError::new(
                file,
                "",
                format!("is not valid TOML: {}", e.message().trim()),
            )])
        })?;
        let mut errors = env::apply_overrides::<NodeConfig>(&mut value, vars);
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let cfg: NodeConfig = super::from_value(value)
            .map_err(|(key, message)| ConfigErrors(vec![ConfigError::new(file, key, message)]))?;
        errors.extend(cfg.validate(file));
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    fn validate(&self, file: &str) -> Vec<ConfigError> {
        let mut e = Vec::new();
        let n = &self.node;
        let domain_ok = !n.company_domain.is_empty()
            && n.company_domain.contains('.')
            && n.company_domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !domain_ok {
            e.push(ConfigError::new(
                file,
                "node.company_domain",
                format!(
                    "must be a domain name such as example.com, got {:?}",
                    n.company_domain
                ),
            ));
        }
        let tenant_ok = !n.tenant.is_empty()
            && n.tenant.len() <= 64
            && n.tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !tenant_ok {
            e.push(ConfigError::new(
                file,
                "node.tenant",
                format!(
                    "must be 1 to 64 letters, digits, - or _, got {:?}",
                    n.tenant
                ),
            ));
        }
        if !n.api_token.is_empty() && n.api_token.len() < 16 {
            e.push(ConfigError::new(
                file,
                "node.api_token",
                "must be at least 16 characters; leave it empty to have the node generate one",
            ));
        }
        if !n.public_url.is_empty()
            && (!(n.public_url.starts_with("http://") || n.public_url.starts_with("https://"))
                || reqwest::Url::parse(&n.public_url).is_err())
        {
            e.push(ConfigError::new(
                file,
                "node.public_url",
                format!(
                    "must be an http(s) URL such as https://empla.example.com, got {:?}",
                    n.public_url
                ),
            ));
        }
        self.api.validate(file, &mut e);
        self.store.validate(file, &mut e);
        self.runtime.validate(file, &mut e);
        self.memory.validate(file, &mut e);
        self.mail.validate(file, &mut e);
        self.calendar.validate(file, &mut e);
        self.chat.validate(file, &mut e);
        self.crm.validate(file, &mut e);
        self.documents.validate(file, &mut e);
        self.research.validate(file, &mut e);
        self.log.validate(file, &mut e);
        self.a2a.validate(file, &mut e);
        e.extend(self.llm.validate(file));
        self.mcp.validate(file, &mut e);
        self.oauth.validate(file, &mut e);
        self.cluster.validate(file, &self.store_url(), &mut e);
        e
    }

    /// The store URL to use: the configured one, or the SQLite file under the data dir.
    pub fn store_url(&self) -> String {
        if self.store.url.is_empty() {
            format!("sqlite://{}", self.node.data_dir.join("empla.db").display())
        } else {
            self.store.url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_documented_defaults() {
        let c = NodeConfig::parse("t.toml", "", &[]).unwrap();
        assert_eq!(c.node.listen.to_string(), "127.0.0.1:7700");
        assert_eq!(c.store_url(), "sqlite://data/empla.db");
    }

    #[test]
    fn bad_values_name_file_key_and_fix() {
        let err = NodeConfig::parse(
            "t.toml",
            "[node]\ncompany_domain = \"nodot\"\ntenant = \"a b\"\n",
            &[],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("t.toml: `node.company_domain` must be a domain name"),
            "{text}"
        );
        assert!(text.contains("t.toml: `node.tenant`"), "{text}");
    }

    #[test]
    fn a_bad_listen_address_names_the_key() {
        let err = NodeConfig::parse("t.toml", "[node]\nlisten = \"nowhere\"\n", &[]).unwrap_err();
        assert_eq!(err.0[0].key, "node.listen");
    }

    #[test]
    fn env_overrides_replace_file_values() {
        let vars = vec![
            ("EMPLA_LISTEN".to_string(), "127.0.0.1:9000".to_string()),
            ("EMPLA_RUNTIME__MAX_RESTARTS".to_string(), "9".to_string()),
            ("EMPLA_NODE__TENANT".to_string(), "1234".to_string()),
        ];
        let c = NodeConfig::parse("t.toml", "[node]\nlisten = \"127.0.0.1:1\"\n", &vars).unwrap();
        assert_eq!(c.node.listen.port(), 9000);
        assert_eq!(c.runtime.max_restarts, 9);
        assert_eq!(c.node.tenant, "1234");
    }

    #[test]
    fn api_limits_are_read_from_the_file_and_the_environment() {
        let vars = vec![(
            "EMPLA_API__HEADER_READ_TIMEOUT".to_string(),
            "1s".to_string(),
        )];
        let c = NodeConfig::parse(
            "t.toml",
            "[api]\nmax_connections = 256\nmax_body_bytes = 4096\n",
            &vars,
        )
        .unwrap();
        assert_eq!(c.api.header_read_timeout, std::time::Duration::from_secs(1));
        assert_eq!(c.api.request_timeout, std::time::Duration::from_secs(30));
        assert_eq!(c.api.max_connections, 256);
        assert_eq!(c.api.max_body_bytes, 4096);
        let err =
            NodeConfig::parse("t.toml", "[api]\nheader_read_timeout = \"0s\"\n", &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("t.toml: `api.header_read_timeout` must be longer than 0s"),
            "{err}"
        );
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Every section takes an override of its optional keys (unset by default, so absent
    /// from the serialised defaults) and of any other key, each read as its key's type.
    /// Only `[memory]` has optional keys today; every other section is given a key of a
    /// different type.
    #[test]
    fn every_section_takes_env_overrides_of_optional_and_other_keys() {
        let vars = env(&[
            ("EMPLA_NODE__HIRE_DEMO_EMPLOYEES", "false"),
            ("EMPLA_NODE__PLANS_DIR", "shared-plans"),
            ("EMPLA_API__MAX_BODY_BYTES", "65536"),
            ("EMPLA_STORE__SQLITE_SYNCHRONOUS", "normal"),
            ("EMPLA_STORE__WRITERS", "2"),
            ("EMPLA_RUNTIME__REFLECTION_INTERVAL", "2m"),
            ("EMPLA_MEMORY__EMBEDDINGS_URL", "http://127.0.0.1:9/v1"),
            ("EMPLA_MEMORY__DIMENSIONS", "1536"),
            ("EMPLA_MEMORY__EMBEDDINGS_API_KEY_ENV", "EMBEDDINGS_KEY"),
            ("EMPLA_MEMORY__RETENTION", "30d"),
            ("EMPLA_MAIL__IMAP_PORT", "993"),
            ("EMPLA_MAIL__IMAP_SECURITY", "tls"),
            ("EMPLA_CALENDAR__WORKING_DAYS", r#"["mon", "tue"]"#),
            ("EMPLA_CALENDAR__TIMEZONE", "Europe/Berlin"),
            ("EMPLA_CHAT__API_URL", "http://127.0.0.1:9/api"),
            ("EMPLA_LOG__FILTER", "empla=debug"),
        ]);
        let c = NodeConfig::parse("t.toml", "", &vars).unwrap();
        assert!(!c.node.hire_demo_employees);
        assert_eq!(c.node.plans_dir, PathBuf::from("shared-plans"));
        assert_eq!(c.api.max_body_bytes, 65536);
        assert_eq!(c.store.sqlite_synchronous, crate::store::SqliteSync::Normal);
        assert_eq!(c.store.writers, 2);
        assert_eq!(
            c.runtime.reflection_interval,
            std::time::Duration::from_secs(120)
        );
        assert_eq!(
            c.memory.embeddings_url.as_deref(),
            Some("http://127.0.0.1:9/v1")
        );
        assert_eq!(c.memory.dimensions, Some(1536));
        assert_eq!(
            c.memory.embeddings_api_key_env.as_deref(),
            Some("EMBEDDINGS_KEY")
        );
        assert_eq!(
            c.memory.retention,
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        assert_eq!(c.mail.imap_port, 993);
        assert_eq!(
            c.mail.imap_security,
            crate::capabilities::email::Security::Tls
        );
        assert_eq!(c.calendar.working_days, ["mon", "tue"]);
        assert_eq!(c.calendar.timezone, "Europe/Berlin");
        assert_eq!(c.chat.api_url, "http://127.0.0.1:9/api");
        assert_eq!(c.log.filter, "empla=debug");
    }

    #[test]
    fn an_optional_key_set_in_the_file_is_replaced_by_the_environment() {
        let c = NodeConfig::parse(
            "t.toml",
            "[memory]\nembedder = \"openai\"\ndimensions = 8\nembeddings_url = \"http://a/v1\"\n",
            &env(&[
                ("EMPLA_MEMORY__DIMENSIONS", "1536"),
                ("EMPLA_MEMORY__EMBEDDINGS_URL", "http://b/v1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.memory.dimensions, Some(1536));
        assert_eq!(c.memory.embeddings_url.as_deref(), Some("http://b/v1"));
    }

    #[test]
    fn a_string_key_takes_the_value_as_written_even_when_it_reads_as_toml() {
        let c = NodeConfig::parse(
            "t.toml",
            "",
            &env(&[
                ("EMPLA_NODE__API_TOKEN", "1234567890123456789"),
                ("EMPLA_CALENDAR__COLLECTION", "\"team\""),
            ]),
        )
        .unwrap();
        assert_eq!(c.node.api_token, "1234567890123456789");
        assert_eq!(c.calendar.collection, "\"team\"");
    }

    #[test]
    fn a_table_key_takes_an_inline_toml_table() {
        let c = NodeConfig::parse(
            "t.toml",
            "",
            &env(&[(
                "EMPLA_CALENDAR__PEOPLE",
                r#"{ "alex.morgan@example.com" = { timezone = "Europe/Berlin" } }"#,
            )]),
        )
        .unwrap();
        assert_eq!(
            c.calendar.people["alex.morgan@example.com"]
                .timezone
                .as_deref(),
            Some("Europe/Berlin")
        );
    }

    #[test]
    fn an_env_override_of_the_wrong_type_names_the_variable_the_key_and_why() {
        for (name, raw, key, why) in [
            (
                "EMPLA_RUNTIME__MAX_RESTARTS",
                "many",
                "runtime.max_restarts",
                "expected u32",
            ),
            (
                "EMPLA_MEMORY__DIMENSIONS",
                "-1",
                "memory.dimensions",
                "expected usize",
            ),
            (
                "EMPLA_MEMORY__RETENTION",
                "forever",
                "memory.retention",
                "forever",
            ),
            (
                "EMPLA_MAIL__DRIVER",
                "pigeon",
                "mail.driver",
                "unknown variant `pigeon`",
            ),
        ] {
            let err = NodeConfig::parse("t.toml", "", &env(&[(name, raw)])).unwrap_err();
            assert_eq!(err.0.len(), 1, "{err}");
            let e = &err.0[0];
            assert_eq!((e.file.as_str(), e.key.as_str()), ("environment", key));
            assert!(
                e.message.contains(name) && e.message.contains(why),
                "{name}: {}",
                e.message
            );
        }
    }

    #[test]
    fn an_override_naming_no_key_is_refused_whatever_its_value() {
        for (name, raw) in [
            ("EMPLA_MEMORY__EMBEDINGS_URL", "http://127.0.0.1:9/v1"),
            ("EMPLA_MEMORY__DIMENSION", "1536"),
            ("EMPLA_MEMROY__RETENTION", "30d"),
            ("EMPLA_CALENDAR__PEOPLE__TIMEZONE", "UTC"),
            ("EMPLA_NODE__LISEN", r#"{ port = 1 }"#),
        ] {
            let err = NodeConfig::parse("t.toml", "", &env(&[(name, raw)])).unwrap_err();
            let e = &err.0[0];
            assert_eq!(e.file, "environment");
            assert!(
                e.message.contains("is not a node config key") && e.message.contains(name),
                "{name}: {}",
                e.message
            );
        }
    }

    #[test]
    fn an_unknown_env_override_is_an_error_naming_the_variable() {
        let vars = vec![("EMPLA_NODE__LISEN".to_string(), "x".to_string())];
        let err = NodeConfig::parse("t.toml", "", &vars).unwrap_err();
        assert_eq!(err.0[0].file, "environment");
        assert!(
            err.0[0].message.contains("EMPLA_NODE__LISEN"),
            "{}",
            err.0[0].message
        );
    }
}
