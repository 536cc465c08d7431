//! `empla node` and `empla config check`.

use crate::api::auth::Auth;
use crate::api::{ApiState, serve};
use crate::config::Config;
use crate::node::{Node, NodeOptions, Tenants};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name of the generated token file in the data dir.
pub(crate) const TOKEN_FILE: &str = "api-token";

/// Runs a node until Ctrl-C or SIGTERM, then shuts it down gracefully.
pub(crate) async fn run(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let mut cfg = Config::load_default(config.as_deref())
        .map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
    if let Some(d) = data_dir {
        cfg.node.node.data_dir = d;
    }
    if let Some(l) = listen {
        cfg.node.node.listen = l;
    }
    crate::telemetry::init_logging(&cfg.node.log.filter);
    let stop = shutdown_signal();
    #[cfg(unix)]
    raise_open_file_limit(cfg.node.api.max_connections);
    let metrics = crate::telemetry::metrics_handle();
    let data = cfg.node.node.data_dir.clone();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create data dir {}", data.display()))?;
    let token = api_token(&cfg.node.node.api_token, &data)?;
    let listener = tokio::net::TcpListener::bind(cfg.node.node.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; pick another with --listen",
                cfg.node.node.listen
            )
        })?;
    let mut opts = NodeOptions::from_config(&cfg);
    if opts.cluster.enabled && opts.cluster.advertise.is_empty() {
        let bound = listener.local_addr()?;
        anyhow::ensure!(
            !bound.ip().is_unspecified(),
            "the node listens on {bound} (every interface), so the other nodes of the cluster cannot be told where to reach it: set `cluster.advertise` (e.g. \"http://10.0.0.5:7700\")"
        );
        opts.cluster.advertise = format!("http://{bound}");
    }
    let node = Arc::new(
        Node::start(opts.clone())
            .await
            .context("node did not start")?,
    );
    node.set_workflows(cfg.workflows.clone());
    let tenants = Tenants::start(node.clone(), opts, cfg.workflows.clone())
        .await
        .context("the tenants' employees did not start")?;
    let auth = Arc::new(Auth::new(
        node.store().clone(),
        node.tenant().clone(),
        token.into(),
        cfg.node.api.session_ttl,
    ));
    let addr = listener.local_addr()?;
    tracing::info!(%addr, employees = node.hired(), "API listening on http://{addr}");
    println!("empla node listening on http://{addr}");
    let state = ApiState {
        node: node.clone(),
        auth,
        tenants: tenants.clone(),
        metrics,
    };
    serve(listener, state, &cfg.node.api, stop).await;
    tracing::info!("shutting down");
    // Connections still closing may hold the API state; the nodes shut down regardless.
    tenants.shutdown().await;
    node.shutdown().await;
    Ok(())
}

/// Raises the open-file limit to the hard limit, so the API can hold
/// `api.max_connections` connections; logs both, and warns when the limit stays too low.
#[cfg(unix)]
fn raise_open_file_limit(max_connections: u32) {
    match crate::api::raise_open_file_limit() {
        Ok(limit) => {
            tracing::info!(
                before = limit.before,
                now = limit.now,
                hard = limit.hard,
                "open-file limit raised to the hard limit"
            );
            if limit.now <= u64::from(max_connections) {
                tracing::warn!(
                    open_files = limit.now,
                    max_connections,
                    "the open-file limit is below `api.max_connections`; connections past it \
                     fail to be accepted: raise the hard limit (ulimit -Hn, LimitNOFILE=) or \
                     lower `api.max_connections`"
                );
            }
        }
        Err(e) => tracing::warn!(
            error = %e,
            "cannot raise the open-file limit; the API may refuse connections under load"
        ),
    }
}

/// The token clients must send: configured (file or `EMPLA_API_TOKEN`), or generated on
/// first start into `<data_dir>/api-token`, readable by its owner only.
fn api_token(configured: &str, data: &Path) -> anyhow::Result<String> {
    if !configured.is_empty() {
        return Ok(configured.to_string());
    }
    let path = data.join(TOKEN_FILE);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if !t.is_empty() {
            tracing::info!(path = %path.display(), "API token read from file");
            return Ok(t);
        }
    }
    let token: String = {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..40)
            .map(|_| {
                char::from(
                    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        [rng.random_range(0..62)],
                )
            })
            .collect()
    };
    write_private(&path, &token)
        .with_context(|| format!("cannot write token file {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated an API token; clients read it from this file");
    Ok(token)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called, not when it is
/// first awaited, so a signal that arrives while the node starts stops it gracefully
/// instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (term, interrupt) {
                (Ok(mut term), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = interrupt.recv() => {},
                    }
                }
                _ => {
                    tracing::warn!(
                        "signal handlers could not be installed; stop the node with Ctrl-C"
                    );
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `empla config check`: prints every problem, or a summary when all is well.
pub(crate) fn check(config: Option<PathBuf>) -> anyhow::Result<()> {
    let path = config.unwrap_or_else(|| PathBuf::from("config/empla.toml"));
    match Config::load(&path, &std::env::vars().collect::<Vec<_>>()) {
        Ok(cfg) => {
            let slack = slack_apps(&cfg)?;
            outln!(
                "{}: OK — {} role templates ({}), {} demo employees{slack}",
                path.display(),
                cfg.roles.len(),
                cfg.roles.keys().cloned().collect::<Vec<_>>().join(", "),
                cfg.employees.len()
            );
            Ok(())
        }
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("error: {e}");
            }
            anyhow::bail!("{} problem(s) in the configuration", errors.0.len())
        }
    }
}

/// With `chat.driver = "slack"`: the Slack apps read as the node reads them at start
/// (", N Slack apps"), or every problem printed and an error.
fn slack_apps(cfg: &Config) -> anyhow::Result<String> {
    if cfg.node.chat.driver != crate::config::ChatDriver::Slack {
        return Ok(String::new());
    }
    let file = crate::config::MailConfig::resolve(
        &cfg.node.node.data_dir,
        &cfg.node.chat.credentials_file,
    );
    match crate::config::SlackApps::load(&file) {
        Ok(apps) => Ok(format!(", {} Slack apps", apps.len())),
        Err(e) => {
            eprintln!("error: {e}");
            anyhow::bail!("the Slack credentials cannot be used")
        }
    }
}
