//! Starts real `tavana` processes on port 0 for integration tests and kills them on drop.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use tonic::transport::Channel;

pub const INTERNAL_TOKEN: &str = "test-internal-token";
pub const USER: &str = "alice";
pub const PASSWORD: &str = "wonderland";

/// A running `tavana` child process.
pub struct Process {
    pub name: &'static str,
    child: Child,
    pub listen: String,
    pub admin: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Process {
    pub fn start(name: &'static str, args: &[&str]) -> Process {
        let dir = tempfile::tempdir().unwrap();
        let addr_file = dir.path().join("addr.json");
        let log = dir.path().join("log.txt");
        let child = Command::new(env!("CARGO_BIN_EXE_tavana"))
            .args(args)
            .args(["--host", "127.0.0.1", "--admin-port", "0", "--addr-file"])
            .arg(&addr_file)
            // Hermetic: nothing from the caller's environment (TAVANA_*, AWS_*, ...) configures
            // the child; only what the test passes.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("LOG_LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).unwrap())
            .spawn()
            .expect("spawn tavana");
        let mut process = Process {
            name,
            child,
            listen: String::new(),
            admin: String::new(),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(text) = std::fs::read_to_string(&addr_file) {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                process.listen = value["listen"].as_str().unwrap().to_owned();
                process.admin = value["admin"].as_str().unwrap().to_owned();
                break;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!(
                    "{name} exited during start-up ({status}):\n{}",
                    process.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not start:\n{}",
                process.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        process.wait_ready();
        process
    }

    pub fn logs(&self) -> String {
        let dir = self.log.parent().unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!(
            "--- {} stdout ---\n{}\n--- stderr ---\n{}",
            self.name,
            read(&self.log),
            read(&dir.join("stderr.txt"))
        )
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_get(&self.admin, "/readyz").0 != 200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}):\n{}", self.name, self.logs());
            }
            assert!(
                Instant::now() < deadline,
                "{} never became ready:\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    pub fn metric(&self, name: &str) -> f64 {
        let (_, body) = http_get(&self.admin, "/metrics");
        body.lines()
            .filter(|line| line.starts_with(name) && !line.starts_with('#'))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
        self.kill();
    }
}

/// GET over plain HTTP/1.0; returns (status, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// An executor allowed to read `data_dir`, and a gateway in front of it.
pub struct Cluster {
    pub executor: Process,
    pub gateway: Process,
}

impl Cluster {
    pub fn start(data_dir: &Path, executor_args: &[&str]) -> Cluster {
        let allowed = format!("{}/", data_dir.display());
        let mut args = vec![
            "executor",
            "--grpc-port",
            "0",
            "--internal-token",
            INTERNAL_TOKEN,
            "--threads",
            "2",
            "--max-memory-gb",
            "2",
            "--allowed-path",
            &allowed,
        ];
        args.extend_from_slice(executor_args);
        let executor = Process::start("executor", &args);
        let worker = executor.url();
        let users = format!("{USER}:{PASSWORD}");
        let gateway = Process::start(
            "gateway",
            &[
                "gateway",
                "--flight-sql-port",
                "0",
                "--worker-addr",
                &worker,
                "--users",
                &users,
                "--internal-token",
                INTERNAL_TOKEN,
            ],
        );
        Cluster { executor, gateway }
    }

    pub async fn client(&self) -> FlightSqlServiceClient<Channel> {
        let channel = Channel::from_shared(self.gateway.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = FlightSqlServiceClient::new(channel);
        client.handshake(USER, PASSWORD).await.expect("handshake");
        client
    }
}
