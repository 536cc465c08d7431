//! The API's HTTP server: an accept loop of our own over hyper's HTTP/1 connections, so
//! that clients who stall cannot take the node's API away from everyone else.
//!
//! A client must send its request head within `api.header_read_timeout` of being accepted
//! (or of its previous response): a stalled connection is closed and its slot freed. At
//! most `api.max_connections` connections are served at once; the others wait in the
//! kernel's listen backlog until a slot frees. Shutdown stops accepting, lets each
//! connection finish the request it is in, and waits for them within a deadline. The
//! request timeout and the body limit are layers of the [`router`](super::router).
//!
//! The accept loop never waits on a connection: each is served in its own task.

use super::{ApiConfig, ApiState};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Pause after an accept error other than a connection reset by its client: usually the
/// process is out of file descriptors, and connections closing will free some.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(250);

/// Serves the API on `listener` with `config`'s limits until `shutdown` completes, then
/// waits for open connections to finish their requests, for at most
/// `header_read_timeout + request_timeout`.
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
    config: &ApiConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = super::router(state, config);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let slots = Arc::new(Semaphore::new(config.max_connections as usize));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first: without one nothing is accepted, and new connections queue in
        // the kernel.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => {
                slot.expect("the connection semaphore is never closed")
            }
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        // Handlers that need the client's address (the dashboard's login limit) find it
        // as axum's `ConnectInfo`.
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let open = metrics::gauge!("empla_api_connections");
            open.increment(1.0);
            if let Err(e) = connection.await {
                if e.is_timeout() {
                    metrics::counter!("empla_api_header_timeouts_total").increment(1);
                }
                tracing::debug!(error = %e, "API connection closed on an error");
            }
            open.decrement(1.0);
            drop(slot);
        });
    }
    // New connections are refused from here on.
    drop(listener);
    let open = graceful.count();
    let deadline = config.header_read_timeout + config.request_timeout;
    if tokio::time::timeout(deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open,
            ?deadline,
            "API connections still open at the shutdown deadline; shutting down regardless"
        );
    }
}

async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    // The client gave up between connecting and being accepted: nothing to wait for.
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "cannot accept an API connection; retrying shortly");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

/// This process's open-file limit (`RLIMIT_NOFILE`) around [`raise_open_file_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFileLimit {
    /// The soft limit found.
    pub before: u64,
    /// The soft limit now.
    pub now: u64,
    /// The hard limit, the most the soft limit may be raised to.
    pub hard: u64,
}

/// What an unlimited hard limit raises the soft limit to: Linux's default `fs.nr_open`,
/// beyond which the kernel refuses.
#[cfg(unix)]
const UNLIMITED_TARGET: u64 = 1 << 20;

/// Raises this process's soft open-file limit to its hard limit. Every connection holds a
/// file descriptor, and the usual soft limit of 1024 would refuse connections well below
/// `api.max_connections`.
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<OpenFileLimit> {
    let (before, hard) = rlimit::Resource::NOFILE.get()?;
    let target = if hard == rlimit::INFINITY {
        UNLIMITED_TARGET
    } else {
        hard
    };
    let now = rlimit::increase_nofile_limit(target)?;
    Ok(OpenFileLimit { before, now, hard })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_soft_open_file_limit_is_raised_to_the_hard_limit() {
        let limit = raise_open_file_limit().unwrap();
        assert!(limit.now >= limit.before, "{limit:?}");
        if limit.hard != rlimit::INFINITY {
            assert_eq!(limit.now, limit.hard, "{limit:?}");
        }
        let (soft, _) = rlimit::Resource::NOFILE.get().unwrap();
        assert_eq!(soft, limit.now);
        // Raising again finds it raised.
        assert_eq!(raise_open_file_limit().unwrap().before, limit.now);
    }
}
