use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub admin_password: String,
    /// Extra `deployment.toml` text appended after `[server]`.
    pub extra_config: String,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            admin_password: "test-admin-pw".into(),
            extra_config: String::new(),
        }
    }
}

/// A running `tollgate` process, killed when dropped.
pub struct Node {
    child: Option<Child>,
    pub offset: u16,
    pub data_dir: tempfile::TempDir,
    pub admin_password: String,
    pub log_path: PathBuf,
}

const BASE_PORTS: [u16; 4] = [9443, 9763, 8280, 8243];

impl Node {
    /// Starts the all-in-one profile of `binary` and waits until it serves.
    pub async fn start(binary: &Path, options: NodeOptions) -> Node {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let offset = free_offset();
        let config_path = data_dir.path().join("deployment.toml");
        let config = format!(
            "[server]\noffset = {offset}\ndata_dir = \"{}\"\n{}\n",
            data_dir.path().join("data").display(),
            options.extra_config
        );
        std::fs::write(&config_path, config).expect("write config");
        let log_path = data_dir.path().join("tollgate.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = Command::new(binary)
            .args(["start", "--config"])
            .arg(&config_path)
            .env("TOLLGATE_ADMIN_PASSWORD", &options.admin_password)
            .env("TOLLGATE_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start tollgate");
        let mut node = Node {
            child: Some(child),
            offset,
            data_dir,
            admin_password: options.admin_password,
            log_path,
        };
        node.wait_ready().await;
        node
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = crate::http_client();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "tollgate exited during start-up ({status}):\n{}",
                        self.log()
                    );
                }
            }
            if self.log().contains("Tollgate is ready")
                && client
                    .get(self.control_plane_http("/oauth2/jwks"))
                    .send()
                    .await
                    .is_ok()
            {
                return;
            }
            if Instant::now() > deadline {
                panic!("tollgate did not become ready in time:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
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

    pub fn gateway_https(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port(8243))
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
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An offset under which all four ports of a node are free right now.
fn free_offset() -> u16 {
    for _ in 0..200 {
        let offset = rand::random::<u16>() % 40_000 + 10_000;
        if BASE_PORTS
            .iter()
            .all(|p| TcpListener::bind(("0.0.0.0", p + offset)).is_ok())
        {
            return offset;
        }
    }
    panic!("no free port offset found");
}
