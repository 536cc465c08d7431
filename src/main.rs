//! The `empla` binary: parses the command line and runs it.

use clap::Parser;

/// Per-thread heaps: thousands of actors starting at once on every worker thread do
/// not queue on one allocator lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    empla::telemetry::install_crypto_provider();
    let cli = empla::cli::Cli::parse();
    match empla::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of the output went away (`empla list | head`): it has what it wanted.
        Err(e) if empla::cli::is_stdout_closed(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
