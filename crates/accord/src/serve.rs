//! `accord serve`.

use std::process::ExitCode;
use std::sync::Arc;

use accord_server::{AppState, Config};
use accord_stix::SystemClock;
use anyhow::Context;

use crate::DataArg;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataArg,
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Most objects accepted in one request.
    #[arg(long, default_value_t = 100_000)]
    max_objects: usize,
    /// The URL clients reach this server at (e.g. https://exchange.example behind a TLS
    /// proxy); discovery names it. Without it, discovery uses http:// and the Host header.
    #[arg(long)]
    public_url: Option<String>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let store = accord_store::open(&args.data.data.to_string_lossy())
        .with_context(|| format!("opening data directory {}", args.data.data.display()))?;
    let config = Config {
        max_body_bytes: args.max_body_bytes,
        max_objects: args.max_objects,
        public_url: args.public_url,
        ..Config::default()
    };
    serve_store(store, config, &args.listen, |_| {})
}

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ACCORD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Binds, prints `listening on http://ADDR` on stdout, calls `ready` and serves until stopped.
pub fn serve_store(
    store: Arc<dyn accord_store::Store>,
    config: Config,
    listen: &str,
    ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<ExitCode> {
    let state = AppState::new(store, Arc::new(SystemClock), config).context("reading the store")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{addr}")?;
            out.flush()?;
        }
        tracing::info!(%addr, "serving TAXII 2.1 at /taxii2/");
        ready(addr);
        accord_server::serve(listener, state).await?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}
