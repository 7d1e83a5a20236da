//! The `estuary` binary: parse the command line, load settings, set up
//! logging (text, or JSON lines with `ESTUARY_LOG_FORMAT=json`), run one
//! command; JSON on stdout, one line on stderr on failure.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use estuary::cli::{self, Cli};
use estuary::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// Rust's allocator for the whole process (see
/// [`estuary::server::limit_malloc_arenas`]).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    estuary::server::limit_malloc_arenas();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            let rendered = error.to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("{} (see estuary --help)", first.trim());
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    let filter = config
        .log_filter
        .clone()
        .unwrap_or_else(|| cli.command.default_log_filter().to_owned());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr);
    match config.log_format {
        // One JSON object per line: timestamp, level, target, the event's
        // fields (flattened) and the spans it happened in.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    match runtime.block_on(cli::run(cli.command, config)) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("{error:#}")),
    }
}

/// Prints the error on one line of stderr and exits non-zero.
fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    let message = error.to_string().replace('\n', " ");
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
