//! `tavana up`: an executor, a gateway and a pg-adapter as child processes on loopback, with
//! sample data, for a first look. Each role still runs as its own OS process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

/// Flags of `tavana up`.
#[derive(clap::Args, Debug)]
pub(crate) struct UpArgs {
    /// Where sample data and process state go.
    #[arg(long, env = "TAVANA_DATA_DIR", default_value = "tavana-data")]
    data_dir: PathBuf,
    /// Directory of provisioned DuckDB extensions.
    #[arg(long, env = "TAVANA_EXTENSION_DIR")]
    extension_dir: Option<PathBuf>,
    /// Flight SQL port of the gateway.
    #[arg(long, env = "FLIGHT_SQL_PORT", default_value_t = 50051)]
    flight_sql_port: u16,
    /// PostgreSQL port of the pg-adapter.
    #[arg(long, env = "PG_PORT", default_value_t = 15432)]
    pg_port: u16,
    /// Admin port of the gateway; the executor and pg-adapter use the next two.
    #[arg(long, env = "METRICS_PORT", default_value_t = 8080)]
    admin_port: u16,
    /// The local user's name.
    #[arg(long, env = "TAVANA_USER", default_value = "tavana")]
    user: String,
    /// The local user's password (generated when not given).
    #[arg(long, env = "TAVANA_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Log filter passed to the children.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
}

/// Network threads per child: the three processes share one machine (see `--worker-threads`).
const LOCAL_WORKER_THREADS: &str = "1";

/// A random letters-and-digits secret (about 143 bits): safe to paste into a shell or a
/// connection string, and never starting with `-`.
fn random_secret() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

/// Runs until Ctrl-C or SIGTERM, then stops the children.
pub(crate) async fn run(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = absolute(&args.data_dir)?;
    let sample_dir = data_dir.join("sample");
    let state_dir = data_dir.join("state");
    std::fs::create_dir_all(&sample_dir)?;
    std::fs::create_dir_all(&state_dir)?;
    let sample = sample_dir.clone();
    tokio::task::spawn_blocking(move || write_sample_data(&sample)).await??;
    let catalog_file = write_catalog(&data_dir, &sample_dir)?;

    let password = args.password.clone().unwrap_or_else(random_secret);
    let users = format!("{}:{}", args.user, password);
    let internal_token = random_secret();
    let program = std::env::current_exe()?;
    let extension_dir = match &args.extension_dir {
        Some(dir) => Some(absolute(dir)?),
        None => None,
    };

    let executor_file = state_dir.join("executor.json");
    let _ = std::fs::remove_file(&executor_file);
    let mut executor = Command::new(&program);
    executor
        .arg("executor")
        .args(["--grpc-port", "0"])
        .args(["--admin-port", &admin_port(args.admin_port, 1)])
        .arg("--addr-file")
        .arg(&executor_file)
        .arg("--allowed-path")
        .arg(format!("{}/", data_dir.display()))
        .arg("--temp-dir")
        .arg(state_dir.join("spill"))
        .arg("--catalog-file")
        .arg(&catalog_file)
        .args(["--log-level", &args.log_level])
        .args(["--worker-threads", LOCAL_WORKER_THREADS])
        .env("TAVANA_INTERNAL_TOKEN", &internal_token);
    if let Some(dir) = &extension_dir {
        executor.arg("--extension-dir").arg(dir);
    }
    let mut children = vec![spawn("executor", executor)?];
    let (executor_addr, _) = wait_for_addr(&executor_file, &mut children).await?;

    let gateway_file = state_dir.join("gateway.json");
    let _ = std::fs::remove_file(&gateway_file);
    let mut gateway = Command::new(&program);
    gateway
        .arg("gateway")
        .args(["--flight-sql-port", &args.flight_sql_port.to_string()])
        .args(["--admin-port", &args.admin_port.to_string()])
        .arg("--addr-file")
        .arg(&gateway_file)
        .args(["--worker-addr", &format!("http://{executor_addr}")])
        .args(["--log-level", &args.log_level])
        .args(["--worker-threads", LOCAL_WORKER_THREADS])
        .env("TAVANA_USERS", &users)
        .env("TAVANA_INTERNAL_TOKEN", &internal_token);
    children.push(spawn("gateway", gateway)?);
    let (gateway_addr, gateway_admin) = wait_for_addr(&gateway_file, &mut children).await?;

    let adapter_file = state_dir.join("pg-adapter.json");
    let _ = std::fs::remove_file(&adapter_file);
    let mut adapter = Command::new(&program);
    adapter
        .arg("pg-adapter")
        .args(["--pg-port", &args.pg_port.to_string()])
        .args(["--admin-port", &admin_port(args.admin_port, 2)])
        .arg("--addr-file")
        .arg(&adapter_file)
        .args(["--gateway-addr", &format!("http://{gateway_addr}")])
        .args(["--log-level", &args.log_level])
        .args(["--worker-threads", LOCAL_WORKER_THREADS])
        .env("TAVANA_USERS", &users);
    children.push(spawn("pg-adapter", adapter)?);
    let (adapter_addr, _) = wait_for_addr(&adapter_file, &mut children).await?;

    wait_ready(&gateway_admin, &mut children).await?;
    let flight_port = port_of(&gateway_addr);
    let pg_port = port_of(&adapter_addr);
    let glob = sample_dir.join("trips_*.parquet");
    println!(
        "\nTavana is up.\n\
         \n  Flight SQL (ADBC, JDBC):  grpc://127.0.0.1:{flight}\n  PostgreSQL (psql, BI):    postgresql://{user}@127.0.0.1:{pg}/tavana\n  user: {user}   password: {password}\n\
         \nTry:\n  PGPASSWORD='{password}' psql -h 127.0.0.1 -p {pg} -U {user} -c \"SELECT city, count(*) FROM sample.trips GROUP BY city ORDER BY city\"\n\
         \n  python - <<'PY'\n  import adbc_driver_flightsql.dbapi as flight_sql\n  conn = flight_sql.connect('grpc://127.0.0.1:{flight}', db_kwargs={{'username': '{user}', 'password': '{password}'}})\n  cur = conn.cursor(); cur.execute(\"SELECT * FROM read_parquet('{glob}') LIMIT 5\"); print(cur.fetch_arrow_table())\n  PY\n\
         \nSample data: {sample}  (trips_*.parquet, trips.csv, trips.json)\nTables: sample.trips, sample.trips_csv, sample.trips_json  (catalog: {catalog})\nMetrics: http://127.0.0.1:{admin}/metrics   Ctrl-C stops everything.\n",
        flight = flight_port,
        pg = pg_port,
        user = args.user,
        glob = glob.display(),
        sample = sample_dir.display(),
        catalog = catalog_file.display(),
        admin = port_of(&gateway_admin),
    );

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let exited = async {
        loop {
            for child in children.iter_mut() {
                if let Ok(Some(status)) = child.1.try_wait() {
                    return (child.0, status);
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        (name, status) = exited => eprintln!("{name} exited ({status}); stopping the others"),
    }
    stop_all(&mut children).await;
    Ok(())
}

/// The lake catalog that serves the sample data as tables (`sample.trips`, ...), written once:
/// it is the user's to edit afterwards, and the executor re-reads it when it changes.
fn write_catalog(data_dir: &Path, sample_dir: &Path) -> anyhow::Result<PathBuf> {
    let file = data_dir.join("catalog.toml");
    if file.exists() {
        return Ok(file);
    }
    let location = |name: &str| toml_string(&sample_dir.join(name).display().to_string());
    let text = format!(
        "# Tables over `tavana up`'s sample data (the format: docs/lakes.md, \"The table catalog\").\n\
         # Edit and save: the executor re-reads this file. Delete it to get this one back.\n\
         [sample]\n\
         trips = {{ format = \"parquet\", location = {parquet}, comment = \"Sample trips\" }}\n\
         trips_csv = {{ format = \"csv\", location = {csv}, comment = \"Sample trips\" }}\n\
         trips_json = {{ format = \"json\", location = {json}, comment = \"Sample trips\" }}\n",
        parquet = location("trips_*.parquet"),
        csv = location("trips.csv"),
        json = location("trips.json"),
    );
    std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    Ok(file)
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn port_of(address: &str) -> &str {
    address.rsplit(':').next().unwrap_or(address)
}

/// The admin port of a helper process: the gateway's plus `offset`, or any free port when the
/// gateway's is chosen by the system.
fn admin_port(base: u16, offset: u16) -> String {
    if base == 0 { 0 } else { base + offset }.to_string()
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()?.join(path)
    })
}

type NamedChild = (&'static str, Child);

fn spawn(name: &'static str, mut command: Command) -> anyhow::Result<NamedChild> {
    command.stdin(Stdio::null()).kill_on_drop(true);
    // SAFETY: prctl is async-signal-safe; it makes the child die with `tavana up`.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let child = command
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok((name, child))
}

/// Waits for a child's address file; returns its (listen, admin) addresses.
async fn wait_for_addr(
    file: &Path,
    children: &mut [NamedChild],
) -> anyhow::Result<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(text) = std::fs::read_to_string(file) {
            let value: serde_json::Value = serde_json::from_str(&text)?;
            if let (Some(listen), Some(admin)) = (value["listen"].as_str(), value["admin"].as_str())
            {
                return Ok((listen.to_owned(), admin.to_owned()));
            }
        }
        check_alive(children)?;
        if Instant::now() > deadline {
            bail!("timed out waiting for {}", file.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_ready(admin: &str, children: &mut [NamedChild]) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if http_status(admin, "/readyz").await == Some(200) {
            return Ok(());
        }
        check_alive(children)?;
        if Instant::now() > deadline {
            bail!("the gateway did not become ready (no executor reachable?)");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A minimal HTTP/1.0 GET for the readiness probe of our own admin endpoint.
async fn http_status(addr: &str, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1)?.parse().ok()
}

fn check_alive(children: &mut [NamedChild]) -> anyhow::Result<()> {
    for (name, child) in children.iter_mut() {
        if let Some(status) = child.try_wait()? {
            bail!("{name} exited during start-up ({status}); see its log above");
        }
    }
    Ok(())
}

async fn stop_all(children: &mut [NamedChild]) {
    for (_, child) in children.iter_mut().rev() {
        if let Some(pid) = child.id() {
            // SAFETY: sending SIGTERM to our own child.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
    }
    for (name, child) in children.iter_mut().rev() {
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            eprintln!("{name} did not stop in 10s; killing it");
            let _ = child.kill().await;
        }
    }
}

/// Writes the sample data set: Parquet files for a glob, a CSV and a JSON file.
fn write_sample_data(dir: &Path) -> anyhow::Result<()> {
    if dir.join("trips.json").exists() {
        return Ok(());
    }
    let connection = duckdb::Connection::open_in_memory()?;
    let quoted = |name: &str| {
        format!(
            "'{}'",
            dir.join(name).display().to_string().replace('\'', "''")
        )
    };
    let trips = "SELECT i AS trip_id,
                        (DATE '2026-01-01' + INTERVAL (i % 365) DAY)::DATE AS trip_date,
                        TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (i * 37) SECOND AS started_at,
                        ['Amsterdam', 'Berlin', 'Lisbon', 'Oslo', 'Tehran'][1 + i % 5] AS city,
                        round(1.5 + (i % 97) * 0.37, 2)::DECIMAL(10, 2) AS distance_km,
                        (i % 7 = 0) AS shared
                 FROM range(10000) t(i)";
    connection.execute_batch(&format!(
        "COPY (SELECT * FROM ({trips}) WHERE trip_id < 5000) TO {p0} (FORMAT parquet);
         COPY (SELECT * FROM ({trips}) WHERE trip_id >= 5000) TO {p1} (FORMAT parquet);
         COPY (SELECT * FROM ({trips}) WHERE trip_id < 1000) TO {csv} (FORMAT csv, HEADER);
         COPY (SELECT * FROM ({trips}) WHERE trip_id < 1000) TO {json} (FORMAT json);",
        p0 = quoted("trips_0.parquet"),
        p1 = quoted("trips_1.parquet"),
        csv = quoted("trips.csv"),
        json = quoted("trips.json"),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(toml_string("/data/a b"), "\"/data/a b\"");
        assert_eq!(toml_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\u000Ad\"");
    }

    #[test]
    fn the_catalog_is_written_once() {
        let dir = std::env::temp_dir().join(format!("tavana-up-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = write_catalog(&dir, &dir.join("sample")).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("[sample]") && text.contains("trips_*.parquet"),
            "{text}"
        );
        std::fs::write(&file, "# mine\n").unwrap();
        write_catalog(&dir, &dir.join("sample")).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "# mine\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
