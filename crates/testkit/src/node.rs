use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// `all-in-one`, `control-plane`, `traffic-manager` or `gateway`.
    pub profile: String,
    pub admin_password: String,
    /// Extra `deployment.toml` text appended after `[server]`.
    pub extra_config: String,
    /// The port offset; a free one when `None`.
    pub offset: Option<u16>,
    /// Soft and hard limit on open files for the process (`prlimit --nofile`).
    pub open_files_limit: Option<u64>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            profile: "all-in-one".into(),
            admin_password: "test-admin-pw".into(),
            extra_config: String::new(),
            offset: None,
            open_files_limit: None,
            env: Vec::new(),
        }
    }
}

/// A running `tollgate` process, killed when dropped. Its data folder lives as long as it.
pub struct Node {
    child: Option<Child>,
    binary: PathBuf,
    config_path: PathBuf,
    options: NodeOptions,
    pub offset: u16,
    pub data_dir: tempfile::TempDir,
    pub admin_password: String,
    pub log_path: PathBuf,
    /// "ready" announcements in the log before the latest start.
    ready_before: usize,
}

const BASE_PORTS: [u16; 9] = [9443, 9763, 8280, 8243, 9611, 9711, 9901, 9099, 8099];
/// The lowest and highest base port: a node's ports lie in `[offset + LOW, offset + HIGH]`.
const LOWEST_BASE_PORT: u16 = 8099;
const HIGHEST_BASE_PORT: u16 = 9901;
/// Offsets this far apart never share a port.
const OFFSET_STRIDE: u16 = HIGHEST_BASE_PORT - LOWEST_BASE_PORT + 1;
/// Every port stays below this: Linux hands out outgoing connections' ports from 32768 up
/// (`ip_local_port_range`), and a port checked free there can be taken by a client socket
/// before the node binds it.
const PORT_CEILING: u16 = 32_768;
/// The smallest offset handed out: keeps nodes clear of a Tollgate running at offset 0.
const LOWEST_OFFSET: u16 = 1_000;

/// Ports handed out in this process, never handed out again: tests run as threads, and two of
/// them checking the same free ports at once would both get them (a node stopped and started
/// again by its test keeps its offset).
static CLAIMED_PORTS: std::sync::Mutex<BTreeSet<u16>> = std::sync::Mutex::new(BTreeSet::new());

impl Node {
    /// Starts `binary` as `options` say and waits until it is ready.
    pub async fn start(binary: &Path, options: NodeOptions) -> Node {
        let mut node = Node::launch(binary, options);
        node.wait_ready().await;
        node
    }

    /// Starts `binary` without waiting for it to become ready (for nodes that must not).
    pub fn launch(binary: &Path, options: NodeOptions) -> Node {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let offset = options.offset.unwrap_or_else(|| free_offsets(1)[0]);
        let config_path = data_dir.path().join("deployment.toml");
        write_config(&config_path, offset, &options, data_dir.path());
        let log_path = data_dir.path().join("tollgate.log");
        let mut node = Node {
            child: None,
            binary: binary.to_path_buf(),
            config_path,
            admin_password: options.admin_password.clone(),
            options,
            offset,
            data_dir,
            log_path,
            ready_before: 0,
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        self.ready_before = self.ready_count();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("log file");
        let mut command = match self.options.open_files_limit {
            Some(limit) => {
                let mut command = Command::new("prlimit");
                command
                    .arg(format!("--nofile={limit}:{limit}"))
                    .arg("--")
                    .arg(&self.binary);
                command
            }
            None => Command::new(&self.binary),
        };
        let child = command
            .args(["start", "--config"])
            .arg(&self.config_path)
            .envs(self.options.env.iter().map(|(k, v)| (k, v)))
            .env("TOLLGATE_ADMIN_PASSWORD", &self.options.admin_password)
            .env("TOLLGATE_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start tollgate");
        self.child = Some(child);
    }

    /// Starts the node again (same configuration, ports and data) after it stopped or was killed.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn();
        self.wait_ready().await;
    }

    fn ready_count(&self) -> usize {
        self.log().matches("Tollgate is ready").count()
    }

    async fn wait_ready(&mut self) {
        let before = self.ready_before;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "tollgate ({}) exited during start-up ({status}):\n{}",
                        self.options.profile,
                        self.log()
                    );
                }
            }
            if self.ready_count() > before {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "tollgate ({}) did not become ready in time:\n{}",
                    self.options.profile,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn port(&self, base: u16) -> u16 {
        base + self.offset
    }

    pub fn control_plane_http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port(9763))
    }

    pub fn control_plane_https(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port(9443))
    }

    pub fn gateway_http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port(8280))
    }

    /// The gateway's management listener (`/metrics`, health probes).
    pub fn gateway_management(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port(9901))
    }

    /// WSO2's WebSocket port: `ws://127.0.0.1:<9099 + offset>{path}`.
    pub fn gateway_ws(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port(9099))
    }

    pub fn gateway_https(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port(8243))
    }

    /// `ws://127.0.0.1:<9611 + offset>`: this node's event hub.
    pub fn hub_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port(9611))
    }

    /// The `deployment.toml` this node was started with.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Replaces the extra configuration (takes effect at the next [`Node::restart`]).
    pub fn set_extra_config(&mut self, extra_config: &str) {
        self.options.extra_config = extra_config.to_string();
        write_config(
            &self.config_path,
            self.offset,
            &self.options,
            self.data_dir.path(),
        );
    }

    /// Starts the node again and expects it to exit during start-up; returns its log.
    pub async fn restart_expecting_failure(&mut self) -> String {
        self.kill();
        self.spawn();
        let status = self.wait_exit(Duration::from_secs(60)).await;
        assert!(
            status.is_some_and(|s| !s.success()),
            "expected tollgate to fail to start:\n{}",
            self.log()
        );
        self.log()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends SIGTERM (what Ctrl-C or an orchestrator sends).
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
    }

    /// Kills the process at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        // A failing test shows what the node logged last (its data folder is about to go).
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!(
                "--- last lines of {} ---\n{}",
                self.log_path.display(),
                tail.join("\n")
            );
        }
    }
}

/// Writes a node's `deployment.toml`: its `[server]` section, then the options' extra text.
fn write_config(path: &Path, offset: u16, options: &NodeOptions, folder: &Path) {
    let config = format!(
        "[server]\noffset = {offset}\nprofile = \"{}\"\ndata_dir = \"{}\"\n{}\n",
        options.profile,
        folder.join("data").display(),
        options.extra_config
    );
    std::fs::write(path, config).expect("write config");
}

/// `n` port offsets whose ports are all free now, below the ephemeral range, and never overlap
/// each other or any offset handed out before in this process.
pub fn free_offsets(n: usize) -> Vec<u16> {
    let n = n as u16;
    let highest_first = PORT_CEILING - HIGHEST_BASE_PORT - OFFSET_STRIDE * n;
    let mut claimed = CLAIMED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..500 {
        let first = LOWEST_OFFSET + rand::random::<u16>() % (highest_first - LOWEST_OFFSET);
        let offsets: Vec<u16> = (0..n).map(|i| first + i * OFFSET_STRIDE).collect();
        let ports: Vec<u16> = offsets
            .iter()
            .flat_map(|offset| BASE_PORTS.iter().map(move |p| p + offset))
            .collect();
        let all_free = ports
            .iter()
            .all(|port| !claimed.contains(port) && TcpListener::bind(("0.0.0.0", *port)).is_ok());
        if all_free {
            claimed.extend(ports);
            return offsets;
        }
    }
    panic!("no free port offsets found");
}
