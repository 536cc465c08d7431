//! The dashboard's team view with many employees: the server-side render of `GET /ui/`
//! (reading every employee's stored status and rendering the page) through the node's
//! real router, signed in with a dashboard session. Prints the median and p99 render
//! time, the page's weight in bytes, and the command that reproduces them.
//!
//! ```text
//! cargo bench --bench dashboard -- [EMPLOYEES] [RENDERS]     (default 1000 200)
//! ```
//!
//! The node runs in this process on a SQLite file in a temporary directory, with the
//! shipped role templates and default settings; the employees are hired round-robin
//! from the shipped roles and have not handled an event yet (their status is their
//! fresh mind's).

use anyhow::{Context, Result, ensure};
use axum::body::Body;
use axum::http::{Request, header};
use empla::api::{ApiConfig, ApiState};
use empla::lifecycle::HireRequest;
use empla::node::Node;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

mod support;

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "bench-token-0123456789abcdef";

fn main() -> Result<()> {
    let (employees, renders) = support::two_numbers((1000, 200), "EMPLOYEES and RENDERS")?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(employees, renders))
}

async fn run(employees: usize, renders: usize) -> Result<()> {
    empla::telemetry::install_crypto_provider();
    let dir = tempfile::tempdir()?;
    let roles = support::shipped_roles()?;
    let names: Vec<String> = roles.keys().cloned().collect();
    let opts = support::options(dir.path(), "dashboard.db", roles);
    let node = Arc::new(Node::start(opts).await.context("node did not start")?);
    let hiring = Instant::now();
    for i in 0..employees {
        let role = &names[i % names.len()];
        node.hire(HireRequest::new(role, format!("Employee Number{i:05}")))
            .await
            .map_err(|e| anyhow::anyhow!("hiring employee {i}: {e}"))?;
    }
    eprintln!("hired {employees} employees in {:.1?}", hiring.elapsed());
    let state = ApiState::single(node.clone(), TOKEN, empla::telemetry::metrics_handle())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (cookie, _) = state
        .auth
        .open_session(&state.auth.node_admin())
        .await
        .context("opening a dashboard session")?;
    let app = empla::api::router(state, &ApiConfig::default());
    let render = || async {
        let req = Request::get("/ui/")
            .header(header::COOKIE, format!("empla_session={cookie}"))
            .body(Body::empty())
            .expect("a valid request");
        let started = Instant::now();
        let response = app.clone().oneshot(req).await.expect("infallible");
        ensure!(
            response.status() == 200,
            "GET /ui/ answered {}",
            response.status()
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        Ok::<_, anyhow::Error>((started.elapsed(), body))
    };
    // The first render warms the template cache; it is not counted.
    let (_, page) = render().await?;
    let html = String::from_utf8_lossy(&page);
    ensure!(
        html.contains("Employee Number00000")
            && html.contains(&format!("{employees} of {employees} employees")),
        "the team view does not list every employee"
    );
    let mut times: Vec<Duration> = Vec::with_capacity(renders);
    for _ in 0..renders {
        times.push(render().await?.0);
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "team view, {employees} employees: render median {:.1?}, p99 {:.1?} over {renders} renders; page {} bytes",
        at(0.5),
        at(0.99),
        page.len()
    );
    println!("reproduce: cargo bench --bench dashboard -- {employees} {renders}");
    node.shutdown().await;
    Ok(())
}
