//! `tavana`: one program, one OS process per role.
//!
//! - `tavana executor`: a DuckDB engine served over Arrow Flight SQL.
//! - `tavana gateway`: the Flight SQL endpoint clients use; routes to executors.
//! - `tavana pg-adapter`: PostgreSQL wire protocol in front of the gateway.
//! - `tavana up`: one of each on loopback with sample data, for trying Tavana out.

mod admin;
mod allocator;
mod up;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

/// Tavana: SQL over Arrow Flight SQL and the PostgreSQL wire protocol for data lakes.
#[derive(Parser, Debug)]
#[command(name = "tavana", version, about)]
struct Cli {
    #[command(subcommand)]
    role: Role,
}

// Parsed once at start-up; the size difference between roles costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Role {
    /// Run a DuckDB executor serving Arrow Flight SQL to the gateway.
    Executor {
        #[command(flatten)]
        process: ProcessArgs,
        #[command(flatten)]
        args: tavana_executor::ExecutorArgs,
    },
    /// Run the Flight SQL gateway clients connect to.
    Gateway {
        #[command(flatten)]
        process: ProcessArgs,
        #[command(flatten)]
        args: tavana_flight_server::GatewayArgs,
    },
    /// Run the PostgreSQL wire-protocol adapter (a Flight SQL client of the gateway).
    PgAdapter {
        #[command(flatten)]
        process: ProcessArgs,
        #[command(flatten)]
        args: tavana_pg_adapter::PgAdapterArgs,
    },
    /// Start an executor, a gateway and a pg-adapter locally with sample data.
    Up(up::UpArgs),
}

/// Flags every long-running role shares.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ProcessArgs {
    /// Address to listen on.
    #[arg(long, env = "TAVANA_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port of the admin endpoint (/metrics, /healthz, /readyz); 0 picks a free port.
    #[arg(long, env = "METRICS_PORT", default_value_t = 8080)]
    admin_port: u16,
    /// Serve the admin endpoint over HTTPS with this PEM certificate chain (with
    /// --admin-tls-key); without both, plain HTTP.
    #[arg(long, env = "ADMIN_TLS_CERT")]
    admin_tls_cert: Option<PathBuf>,
    /// PEM private key for the admin endpoint's HTTPS.
    #[arg(long, env = "ADMIN_TLS_KEY")]
    admin_tls_key: Option<PathBuf>,
    /// Write `{"listen": ..., "admin": ...}` here once listening (for supervisors and tests).
    #[arg(long, env = "TAVANA_ADDR_FILE")]
    addr_file: Option<PathBuf>,
    /// Seconds running streams get to finish after SIGTERM before they are cancelled.
    #[arg(long, env = "TAVANA_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    shutdown_grace_secs: u64,
    /// Log filter (`info`, `debug`, `tavana_executor=debug,info`, ...).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Log format: `text` or `json`.
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    log_format: String,
    /// Threads serving the network (default: one per core). Where several Tavana processes
    /// share a few cores, one each saves the wake-ups of threads handing work to each other:
    /// on 2 cores it cut a `SELECT 1` through the pg-adapter from 1.42 to 1.23 ms. The
    /// executor's DuckDB threads are separate (`--threads`).
    #[arg(long, env = "TAVANA_WORKER_THREADS")]
    worker_threads: Option<usize>,
}

impl Role {
    /// Network threads for the role's runtime; `None` is one per core.
    fn worker_threads(&self) -> Option<usize> {
        match self {
            Role::Executor { process, .. }
            | Role::Gateway { process, .. }
            | Role::PgAdapter { process, .. } => process.worker_threads,
            // `up` only supervises its children.
            Role::Up(_) => Some(1),
        }
    }
}

/// What `allocator::tune` set, logged once tracing is up.
static MALLOC_SETTINGS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn main() -> anyhow::Result<()> {
    MALLOC_SETTINGS.get_or_init(allocator::tune);
    let cli = Cli::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = cli.role.worker_threads() {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = runtime.enable_all().build()?;
    let outcome = runtime.block_on(async move {
        match cli.role {
            Role::Executor { process, args } => run_executor(process, args).await,
            Role::Gateway { process, args } => run_gateway(process, args).await,
            Role::PgAdapter { process, args } => run_pg_adapter(process, args).await,
            Role::Up(args) => up::run(args).await,
        }
    });
    // Running streams had their grace period; blocking work still going (a catalog table
    // loading into memory, a query that ignored its cancellation) must not hold up the exit.
    runtime.shutdown_timeout(BLOCKING_WORK_AT_EXIT);
    outcome
}

/// How long the process waits at exit for blocking work that is still running.
const BLOCKING_WORK_AT_EXIT: std::time::Duration = std::time::Duration::from_secs(2);

fn init_tracing(process: &ProcessArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&process.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if process.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    if let Some(settings) = MALLOC_SETTINGS.get() {
        info!(malloc = %settings, "allocator settings");
    }
}

/// Bound listeners and the admin server of one process.
struct Listening {
    listener: TcpListener,
    registry: prometheus::Registry,
    ready_flag: Arc<std::sync::atomic::AtomicBool>,
}

async fn listen(
    process: &ProcessArgs,
    port: u16,
    registry: prometheus::Registry,
    ready: Option<admin::Readiness>,
) -> anyhow::Result<Listening> {
    let admin_tls = admin::tls_acceptor(
        process.admin_tls_cert.as_deref(),
        process.admin_tls_key.as_deref(),
    )
    .context("admin endpoint TLS")?;
    let listener = TcpListener::bind(SocketAddr::new(process.host, port))
        .await
        .with_context(|| format!("binding {}:{port}", process.host))?;
    let admin_listener = TcpListener::bind(SocketAddr::new(process.host, process.admin_port))
        .await
        .with_context(|| format!("binding admin port {}:{}", process.host, process.admin_port))?;
    let ready_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readiness: admin::Readiness = match ready {
        Some(ready) => ready,
        None => {
            let flag = Arc::clone(&ready_flag);
            Arc::new(move || flag.load(std::sync::atomic::Ordering::Relaxed))
        }
    };
    let listen_addr = listener.local_addr()?;
    let admin_addr = admin_listener.local_addr()?;
    tokio::spawn(admin::serve(
        admin_listener,
        registry.clone(),
        readiness,
        admin_tls,
    ));
    if let Some(path) = &process.addr_file {
        let contents = serde_json::json!({ "listen": listen_addr.to_string(), "admin": admin_addr.to_string() });
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, contents.to_string())
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::fs::rename(&temporary, path)?;
    }
    info!(listen = %listen_addr, admin = %admin_addr, "listening");
    Ok(Listening {
        listener,
        registry,
        ready_flag,
    })
}

/// Resolves on SIGTERM or Ctrl-C; the receiver side tells the grace timer when that was.
fn shutdown_signal() -> (
    impl std::future::Future<Output = ()> + Send + 'static,
    watch::Receiver<bool>,
) {
    let (tx, rx) = watch::channel(false);
    let signal = async move {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing SIGTERM handler");
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        info!("shutdown requested: no new connections; running streams may finish");
        let _ = tx.send(true);
    };
    (signal, rx)
}

/// Runs `serve` until it ends, or until the grace period after a shutdown signal runs out.
async fn with_grace<F>(
    serve: F,
    mut signalled: watch::Receiver<bool>,
    grace: Duration,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<()>>,
{
    tokio::pin!(serve);
    let grace_over = async {
        let _ = signalled.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = &mut serve => result,
        _ = grace_over => {
            warn!(grace_secs = grace.as_secs(), "grace period over; cancelling remaining streams");
            Ok(())
        }
    }
}

async fn run_executor(
    process: ProcessArgs,
    args: tavana_executor::ExecutorArgs,
) -> anyhow::Result<()> {
    init_tracing(&process);
    let config = args.engine_config()?;
    let listening = listen(&process, args.grpc_port, prometheus::Registry::new(), None).await?;
    let registry = listening.registry.clone();
    let engine =
        tokio::task::spawn_blocking(move || tavana_executor::open_engine(config, &registry))
            .await??;
    listening
        .ready_flag
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (signal, signalled) = shutdown_signal();
    let serve =
        async { Ok(tavana_executor::serve(engine, &args, listening.listener, signal).await?) };
    with_grace(
        serve,
        signalled,
        Duration::from_secs(process.shutdown_grace_secs),
    )
    .await
}

async fn run_gateway(
    process: ProcessArgs,
    args: tavana_flight_server::GatewayArgs,
) -> anyhow::Result<()> {
    init_tracing(&process);
    let registry = prometheus::Registry::new();
    let gateway = tavana_flight_server::Gateway::new(args.clone(), &registry)?;
    let ready: admin::Readiness = Arc::new(gateway.readiness());
    let listening = listen(&process, args.flight_sql_port, registry, Some(ready)).await?;
    let (signal, signalled) = shutdown_signal();
    let serve = async { Ok(gateway.serve(listening.listener, signal).await?) };
    with_grace(
        serve,
        signalled,
        Duration::from_secs(process.shutdown_grace_secs),
    )
    .await
}

async fn run_pg_adapter(
    process: ProcessArgs,
    args: tavana_pg_adapter::PgAdapterArgs,
) -> anyhow::Result<()> {
    init_tracing(&process);
    let listening = listen(&process, args.pg_port(), prometheus::Registry::new(), None).await?;
    listening
        .ready_flag
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (signal, signalled) = shutdown_signal();
    let serve = async {
        Ok(tavana_pg_adapter::serve(args, listening.listener, listening.registry, signal).await?)
    };
    with_grace(
        serve,
        signalled,
        Duration::from_secs(process.shutdown_grace_secs),
    )
    .await
}
