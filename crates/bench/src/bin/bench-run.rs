//! The benchmark driver behind `bench/run`: starts the hello backend, nginx and HAProxy proxying to it and
//! Tollgate (all-in-one, with APIs published, an application subscribed and a token issued),
//! drives each with the same wrk settings in alternating rounds, measures each target's CPU and
//! memory from /proc, and prints one table. Also measures start-up time and idle memory.
//!
//! Usage: bench-run [--quick] [--duration SECS] [--rounds N] [--out FILE]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark tool outside the product: its report is what it prints, and a failed step ends the run"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tollgate_testkit::flow::{ok_json, Flow};
use tollgate_testkit::{free_offsets, Node, NodeOptions};

struct Args {
    duration: u64,
    rounds: usize,
    out: Option<PathBuf>,
    /// Record a `perf` CPU profile of each Tollgate run into this folder.
    perf: Option<PathBuf>,
    /// Add the scale rows: 10,000 APIs, 100,000 subscriptions, 100,000 tokens in rotation.
    scale: bool,
}

fn args() -> Args {
    let mut args = Args {
        duration: 10,
        rounds: 3,
        out: None,
        perf: None,
        scale: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => {
                args.duration = 3;
                args.rounds = 1;
            }
            "--duration" => {
                args.duration = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(args.duration)
            }
            "--rounds" => {
                args.rounds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(args.rounds)
            }
            "--out" => args.out = it.next().map(PathBuf::from),
            "--perf" => args.perf = it.next().map(PathBuf::from),
            "--scale" => args.scale = true,
            other => {
                eprintln!("bench-run: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    args
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    /// SIGTERM first, so nginx's master stops its workers (a SIGKILL would orphan them, still
    /// holding the port), then SIGKILL whatever is left after two seconds.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.0.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sibling_binary(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("current exe");
    me.with_file_name(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// utime + stime of the processes, in clock ticks (1/100 s on Linux).
fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The process and its children (nginx's master and workers).
fn with_children(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let parent = std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                });
            if parent == Some(pid) {
                pids.push(child);
            }
        }
    }
    pids
}

struct Target {
    name: String,
    url: String,
    /// The credential header sent (`Authorization: Bearer …`, `apikey: …`).
    header: Option<String>,
    pid: u32,
    /// A file of tokens to rotate through instead of one token.
    rotate: Option<PathBuf>,
    /// Whether a control-plane change is applied every second while the row runs.
    changing: bool,
}

/// Set while a `changing` row runs: the changer task applies a change a second.
static CHANGES_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Ends the changer thread.
static STOP_CHANGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Changes applied while `changing` rows ran.
static CHANGES_APPLIED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[derive(Default, Clone)]
struct Sample {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    cpu_per_10k: f64,
    peak_kb: u64,
    failures: u64,
}

fn run_wrk(
    root: &Path,
    target: &Target,
    duration: u64,
    perf: Option<&Path>,
) -> Result<Sample, String> {
    let pids = with_children(target.pid);
    let file_stem = target.name.replace([' ', ',', '(', ')'], "_");
    let pid_list = pids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    // A CPU profile, syscall and context-switch counts of every proxy (nginx's workers
    // included), to compare the work each does per request.
    let perf_dir = perf.filter(|_| target.name != "backend directly");
    let stat_file = perf_dir.map(|dir| dir.join(format!("{file_stem}.stat")));
    let mut profilers = Vec::new();
    if let (Some(dir), Some(stat_file)) = (perf_dir, &stat_file) {
        let perf = |args: &[&str], out: &Path| {
            Proc(
                Command::new("perf")
                    .args(args)
                    .args(["-p", &pid_list, "-o"])
                    .arg(out)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("perf"),
            )
        };
        profilers.push(perf(
            &[
                "stat",
                "-x",
                ",",
                "-e",
                "raw_syscalls:sys_enter,context-switches",
            ],
            stat_file,
        ));
        profilers.push(perf(
            &["record", "-e", "cpu-clock", "-F", "999", "-g"],
            &dir.join(format!("{file_stem}.data")),
        ));
    }
    let before = cpu_ticks(&pids);
    let mut command = Command::new("wrk");
    let script = if target.rotate.is_some() {
        "bench/rotate.lua"
    } else {
        "bench/report.lua"
    };
    command.current_dir(root).args([
        "-t1",
        "-c50",
        &format!("-d{duration}s"),
        "--latency",
        "-s",
        script,
    ]);
    if let Some(header) = &target.header {
        command.args(["-H", header]);
    }
    command.arg(&target.url);
    if let Some(tokens) = &target.rotate {
        command.arg("--").arg(tokens);
    }
    let output = command
        .output()
        .map_err(|e| format!("wrk: {e} (is wrk installed?)"))?;
    let after = cpu_ticks(&pids);
    for profiler in &mut profilers {
        // perf writes its file on SIGINT.
        let _ = Command::new("kill")
            .args(["-INT", &profiler.0.id().to_string()])
            .status();
        let _ = profiler.0.wait();
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("wrk printed no result:\n{text}"))?;
    let result: Value =
        serde_json::from_str(line).map_err(|e| format!("wrk result {line}: {e}"))?;
    let requests = result["requests"].as_f64().unwrap_or(0.0);
    let seconds = result["duration_us"].as_f64().unwrap_or(1.0) / 1e6;
    let peak_kb = pids.iter().map(|pid| status_kb(*pid, "VmHWM")).sum();
    if let Some(stat) = &stat_file {
        // perf stat -x, lines: count,unit,event,...
        let counts = std::fs::read_to_string(stat).unwrap_or_default();
        let per_request = |event: &str| {
            counts
                .lines()
                .find(|l| l.contains(event))
                .and_then(|l| l.split(',').next()?.parse::<f64>().ok())
                .map_or(f64::NAN, |n| n / requests.max(1.0))
        };
        eprintln!(
            "  {}: {:.2} syscalls and {:.2} context switches per request",
            target.name,
            per_request("raw_syscalls:sys_enter"),
            per_request("context-switches"),
        );
    }
    Ok(Sample {
        rps: requests / seconds,
        p50_us: result["p50_us"].as_f64().unwrap_or(0.0),
        p99_us: result["p99_us"].as_f64().unwrap_or(0.0),
        p999_us: result["p999_us"].as_f64().unwrap_or(0.0),
        cpu_per_10k: if requests > 0.0 {
            (after.saturating_sub(before)) as f64 / 100.0 / requests * 10_000.0
        } else {
            0.0
        },
        peak_kb,
        failures: result["socket_errors"].as_u64().unwrap_or(0)
            + result["non_2xx"].as_u64().unwrap_or(0)
            + u64::from(requests == 0.0),
    })
}

/// A row's medians over its rounds.
struct Medians {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    cpu: f64,
}

impl Medians {
    fn of(runs: &[Sample]) -> Self {
        let of =
            |field: fn(&Sample) -> f64| median(&mut runs.iter().map(field).collect::<Vec<_>>());
        Medians {
            rps: of(|s| s.rps),
            p50_us: of(|s| s.p50_us),
            p99_us: of(|s| s.p99_us),
            p999_us: of(|s| s.p999_us),
            cpu: of(|s| s.cpu_per_10k),
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn start_nginx(dir: &Path, port: u16, backend_port: u16) -> Proc {
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "worker_processes 2;\ndaemon off;\npid {pid};\nerror_log {dir}/error.log warn;\nevents {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n  fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
             upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}\n\
             server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }}\n}}\n",
            pid = dir.join("nginx.pid").display(),
            dir = dir.display(),
        ),
    )
    .expect("nginx.conf");
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx (is it installed?)");
    Proc(child)
}

/// HAProxy as a plain HTTP proxy: two threads (nginx has two workers), keep-alive to the
/// backend with idle connections shared between clients, no logging.
fn start_haproxy(dir: &Path, port: u16, backend_port: u16) -> Proc {
    let conf = dir.join("haproxy.cfg");
    std::fs::write(
        &conf,
        format!(
            "global\n  nbthread 2\n  maxconn 4096\n\
             defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  http-reuse always\n\
             frontend plain\n  bind 127.0.0.1:{port}\n  default_backend hello\n\
             backend hello\n  server hello 127.0.0.1:{backend_port}\n"
        ),
    )
    .expect("haproxy.cfg");
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start haproxy (is it installed?)");
    Proc(child)
}

async fn wait_http(url: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(url).send().await.is_err() {
        assert!(Instant::now() < deadline, "{url} did not answer");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Spawns a node and measures wall time from spawn to `/_health/ready` 200, then idle memory.
async fn measure_start(
    binary: &Path,
    options: NodeOptions,
    ready_url: impl Fn(&Node) -> String,
) -> (Node, Duration, u64) {
    let started = Instant::now();
    let node = Node::launch(binary, options);
    let url = ready_url(&node);
    let http = reqwest::Client::new();
    loop {
        if let Ok(r) = http.get(&url).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{url} never became ready:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ready = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = status_kb(node.pid(), "VmRSS");
    (node, ready, rss)
}

/// Runs `args.rounds` alternating rounds over `targets[first..]`.
fn run_rounds(
    root: &Path,
    args: &Args,
    targets: &[Target],
    samples: &mut [Vec<Sample>],
    first: usize,
) {
    for round in 0..args.rounds {
        for (i, target) in targets.iter().enumerate().skip(first) {
            CHANGES_ON.store(target.changing, std::sync::atomic::Ordering::SeqCst);
            let run = run_wrk(root, target, args.duration, args.perf.as_deref());
            CHANGES_ON.store(false, std::sync::atomic::Ordering::SeqCst);
            match run {
                Ok(sample) => samples[i].push(sample),
                Err(err) => {
                    eprintln!("bench-run: {}: {err}", target.name);
                    std::process::exit(1);
                }
            }
            eprintln!(
                "round {}/{} {}: {:.0} req/s",
                round + 1,
                args.rounds,
                target.name,
                samples[i].last().map(|s| s.rps).unwrap_or(0.0)
            );
        }
    }
}

/// What `set_up` makes: a subscribed application's JWT, consumer key and API key, and another's
/// opaque token.
struct Credentials {
    token: String,
    /// The opaque-token application's subscription: what the changing row blocks and unblocks
    /// (not the measured application's).
    other_subscription: String,
    consumer_key: String,
    opaque_token: String,
    api_key: String,
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

/// Publishes the benchmark APIs — one of them load-balanced over `backend` and `second_backend`
/// — and subscribes two applications (JWT and opaque tokens).
async fn set_up(node: &Node, backend: &str, second_backend: &str) -> Credentials {
    let flow = Flow::login(node).await;
    let admin = |r: reqwest::RequestBuilder| r.basic_auth("admin", Some(&node.admin_password));
    // A tier the run never reaches, so the throttle is checked and counted but never trips.
    ok_json(
        admin(flow.http.post(node.control_plane_http("/api/am/admin/v4/throttling/policies/subscription")))
            .json(&json!({"policyName": "BenchTier", "defaultLimit": {"type": "REQUESTCOUNTLIMIT", "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 1_000_000_000i64}}}))
            .send()
            .await
            .expect("create tier"),
        reqwest::StatusCode::CREATED,
    )
    .await;
    let api = |name: &str, context: &str, auth: &str| {
        json!({
            "name": name, "context": context, "version": "1.0.0", "policies": ["BenchTier"],
            "endpointConfig": {"endpoint_type": "http", "production_endpoints": {"url": backend}},
            "operations": [{"target": "/hello", "verb": "GET", "authType": auth}],
            "securityScheme": ["oauth2", "api_key"]
        })
    };
    flow.publish_api(api("BenchNone", "/bench-none", "None"))
        .await;
    let api_id = flow
        .publish_api(api("BenchFull", "/bench", "Application & Application User"))
        .await;
    let mut balanced = api(
        "BenchBalanced",
        "/bench-balanced",
        "Application & Application User",
    );
    balanced["endpointConfig"] = json!({
        "endpoint_type": "load_balance",
        "production_endpoints": [{"url": backend}, {"url": second_backend}],
    });
    let balanced_id = flow.publish_api(balanced).await;
    let (app_id, _) = flow.application_with_token("BenchApp", None).await;
    flow.subscribe(&app_id, &api_id, "BenchTier").await;
    flow.subscribe(&app_id, &balanced_id, "BenchTier").await;
    let key = flow.production_key(&app_id).await;
    let token = flow.token_for(&app_id, &key, 86_400).await;
    let consumer_key = key["consumerKey"].as_str().unwrap().to_string();
    let (opaque_app, opaque_key, _) = flow
        .application_with_token_type("BenchOpaqueApp", None, "OAUTH")
        .await;
    let other_subscription = flow.subscribe(&opaque_app, &api_id, "BenchTier").await
        ["subscriptionId"]
        .as_str()
        .expect("a subscription id")
        .to_string();
    let opaque_token = flow.token_for(&opaque_app, &opaque_key, 86_400).await;
    let api_key = ok_json(
        flow.post(
            flow.devportal(&format!(
                "/applications/{app_id}/api-keys/PRODUCTION/generate"
            )),
            json!({"validityPeriod": 86_400}),
        )
        .await,
        reqwest::StatusCode::OK,
    )
    .await["apikey"]
        .as_str()
        .expect("an API key")
        .to_string();
    // Wait until the gateway serves all four.
    for (path, header) in [
        ("/bench-none/1.0.0/hello", None),
        (
            "/bench/1.0.0/hello",
            Some(("authorization", format!("Bearer {token}"))),
        ),
        (
            "/bench/1.0.0/hello",
            Some(("authorization", format!("Bearer {opaque_token}"))),
        ),
        ("/bench/1.0.0/hello", Some(("apikey", api_key.clone()))),
        (
            "/bench-balanced/1.0.0/hello",
            Some(("authorization", format!("Bearer {token}"))),
        ),
    ] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut request = flow.http.get(node.gateway_http(path));
            if let Some((name, value)) = &header {
                request = request.header(*name, value);
            }
            if request
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false)
            {
                break;
            }
            assert!(Instant::now() < deadline, "gateway never served {path}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Credentials {
        token,
        other_subscription,
        consumer_key,
        opaque_token,
        api_key,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = args();
    if let Some(dir) = &args.perf {
        std::fs::create_dir_all(dir).expect("perf folder");
    }
    let root = std::env::current_dir().expect("cwd");
    let work = tempfile::tempdir().expect("temp dir");
    let tollgate = sibling_binary("tollgate");

    // Start-up and footprint.
    let offsets = free_offsets(3);
    let (all_in_one, aio_ready, aio_rss) = measure_start(
        &tollgate,
        NodeOptions {
            offset: Some(offsets[0]),
            ..NodeOptions::default()
        },
        |n| n.gateway_http("/_health/ready"),
    )
    .await;
    let credential = "[apim.event_hub]\nusername = \"bench\"\npassword = \"bench-node-secret\"\n";
    let control_plane = Node::start(
        &tollgate,
        NodeOptions {
            profile: "control-plane".into(),
            offset: Some(offsets[1]),
            extra_config: credential.into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let gateway_config = format!(
        "{credential}service_url = \"{}\"\nevent_listening_endpoints = [\"{}\"]\n",
        control_plane.control_plane_http(""),
        control_plane.hub_url()
    );
    let (gateway, gw_ready, gw_rss) = measure_start(
        &tollgate,
        NodeOptions {
            profile: "gateway".into(),
            offset: Some(offsets[2]),
            extra_config: gateway_config,
            ..NodeOptions::default()
        },
        |n| n.gateway_http("/_health/ready"),
    )
    .await;
    drop(gateway);
    drop(control_plane);

    // The targets.
    let backend_port = free_port();
    let backend = Proc(
        Command::new(sibling_binary("bench-backend"))
            .arg(backend_port.to_string())
            .spawn()
            .expect("start bench-backend"),
    );
    wait_http(&format!("http://127.0.0.1:{backend_port}/hello")).await;
    // The second backend of the load-balanced row.
    let second_backend_port = free_port();
    let _second_backend = Proc(
        Command::new(sibling_binary("bench-backend"))
            .arg(second_backend_port.to_string())
            .spawn()
            .expect("start the second bench-backend"),
    );
    wait_http(&format!("http://127.0.0.1:{second_backend_port}/hello")).await;
    let nginx_port = free_port();
    let nginx = start_nginx(work.path(), nginx_port, backend_port);
    wait_http(&format!("http://127.0.0.1:{nginx_port}/hello")).await;
    let haproxy_port = free_port();
    let haproxy = start_haproxy(work.path(), haproxy_port, backend_port);
    wait_http(&format!("http://127.0.0.1:{haproxy_port}/hello")).await;
    let Credentials {
        token,
        other_subscription,
        consumer_key,
        opaque_token,
        api_key,
    } = set_up(
        &all_in_one,
        &format!("http://127.0.0.1:{backend_port}"),
        &format!("http://127.0.0.1:{second_backend_port}"),
    )
    .await;

    let mut targets = vec![
        Target {
            name: "backend directly".into(),
            url: format!("http://127.0.0.1:{backend_port}/hello"),
            header: None,
            pid: backend.0.id(),
            rotate: None,
            changing: false,
        },
        Target {
            name: "nginx proxying".into(),
            url: format!("http://127.0.0.1:{nginx_port}/hello"),
            header: None,
            pid: nginx.0.id(),
            rotate: None,
            changing: false,
        },
        Target {
            name: "HAProxy proxying".into(),
            url: format!("http://127.0.0.1:{haproxy_port}/hello"),
            header: None,
            pid: haproxy.0.id(),
            rotate: None,
            changing: false,
        },
        Target {
            name: "Tollgate, None-auth API".into(),
            url: all_in_one.gateway_http("/bench-none/1.0.0/hello"),
            header: None,
            pid: all_in_one.pid(),
            rotate: None,
            changing: false,
        },
        Target {
            name: "Tollgate, full chain (JWT)".into(),
            url: all_in_one.gateway_http("/bench/1.0.0/hello"),
            header: Some(bearer(&token)),
            pid: all_in_one.pid(),
            rotate: None,
            changing: false,
        },
        Target {
            name: "Tollgate, opaque token (cached introspection)".into(),
            url: all_in_one.gateway_http("/bench/1.0.0/hello"),
            header: Some(bearer(&opaque_token)),
            pid: all_in_one.pid(),
            rotate: None,
            changing: false,
        },
        Target {
            name: "Tollgate, API key".into(),
            url: all_in_one.gateway_http("/bench/1.0.0/hello"),
            header: Some(format!("apikey: {api_key}")),
            pid: all_in_one.pid(),
            rotate: None,
            changing: false,
        },
        Target {
            name: "Tollgate, full chain, load-balanced pair".into(),
            url: all_in_one.gateway_http("/bench-balanced/1.0.0/hello"),
            header: Some(bearer(&token)),
            pid: all_in_one.pid(),
            rotate: None,
            changing: false,
        },
    ];
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); targets.len()];
    run_rounds(&root, &args, &targets, &mut samples, 0);

    // Scale: the same full chain with 10,000 more APIs and 100,000 subscriptions loaded, then
    // with 100,000 distinct tokens in rotation.
    let mut all_in_one = all_in_one;
    let mut scale_notes = String::new();
    if args.scale {
        let db = all_in_one.data_dir.path().join("data/apim.db");
        let backend_url = format!("http://127.0.0.1:{backend_port}");
        if let Err(err) =
            tollgate_bench::scale::seed(&format!("sqlite://{}", db.display()), &backend_url).await
        {
            eprintln!("bench-run: {err}");
            std::process::exit(1);
        }
        let started = Instant::now();
        all_in_one.restart().await;
        let load = started.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = status_kb(all_in_one.pid(), "VmRSS");
        let tokens = work.path().join("tokens.txt");
        let signing = Instant::now();
        // The node generated its keystore password into its data folder.
        let keystore_password =
            std::fs::read_to_string(all_in_one.data_dir.path().join("data/keystore-password"))
                .unwrap_or_default();
        if let Err(err) = tollgate_bench::scale::tokens(
            &db,
            keystore_password.trim(),
            &consumer_key,
            100_000,
            &tokens,
        )
        .await
        {
            eprintln!("bench-run: {err}");
            std::process::exit(1);
        }
        eprintln!("signed 100000 tokens in {:?}", signing.elapsed());
        scale_notes = format!(
            "\nScale: all-in-one restarted with {} APIs, {} applications and {} subscriptions: ready in {} ms, {:.1} MB resident.\n",
            tollgate_bench::scale::APIS + 2,
            tollgate_bench::scale::APPLICATIONS + 1,
            tollgate_bench::scale::APPLICATIONS * tollgate_bench::scale::SUBSCRIPTIONS_PER_APPLICATION + 1,
            load.as_millis(),
            rss as f64 / 1024.0
        );
        let first_scale = targets.len();
        targets.push(Target {
            name: "Tollgate, full chain, 10k APIs + 100k subscriptions".into(),
            url: all_in_one.gateway_http("/bench/1.0.0/hello"),
            header: Some(bearer(&token)),
            pid: all_in_one.pid(),
            rotate: None,
            changing: false,
        });
        targets.push(Target {
            name: "Tollgate, full chain, same + 100k tokens in rotation".into(),
            url: all_in_one.gateway_http("/bench/1.0.0/hello"),
            header: None,
            pid: all_in_one.pid(),
            rotate: Some(tokens),
            changing: false,
        });
        targets.push(Target {
            name: "Tollgate, full chain, 10k APIs + 100k subscriptions, one change a second".into(),
            url: all_in_one.gateway_http("/bench/1.0.0/hello"),
            header: Some(bearer(&token)),
            pid: all_in_one.pid(),
            rotate: None,
            changing: true,
        });
        // The changes: another application's subscription blocked, then unblocked, each a
        // control-plane change every gateway applies while the row runs. On a thread of its own:
        // this runtime is blocked while wrk runs.
        let changer = {
            let flow = Flow::login_with_scopes(
                &all_in_one,
                "apim:api_view apim:api_create apim:api_publish apim:subscribe apim:subscription_block",
            )
            .await;
            let urls = [
                flow.publisher(&format!(
                    "/subscriptions/block-subscription?subscriptionId={other_subscription}&blockState=BLOCKED"
                )),
                flow.publisher(&format!(
                    "/subscriptions/unblock-subscription?subscriptionId={other_subscription}"
                )),
            ];
            let token = flow.token.clone();
            std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    let http = tollgate_testkit::http_client();
                    let mut next = 0;
                    loop {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        if STOP_CHANGES.load(std::sync::atomic::Ordering::SeqCst) {
                            return;
                        }
                        if !CHANGES_ON.load(std::sync::atomic::Ordering::SeqCst) {
                            continue;
                        }
                        let answer = http.post(&urls[next]).bearer_auth(&token).send().await;
                        match answer {
                            Ok(answer) if answer.status().is_success() => {
                                next = 1 - next;
                                CHANGES_APPLIED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                            Ok(answer) => {
                                eprintln!("bench-run: a change was refused: {}", answer.status())
                            }
                            Err(err) => eprintln!("bench-run: a change failed: {err}"),
                        }
                    }
                });
            })
        };
        samples.resize(targets.len(), Vec::new());
        run_rounds(&root, &args, &targets, &mut samples, first_scale);
        STOP_CHANGES.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = changer.join();
        scale_notes.push_str(&format!(
            "The changing row: {} subscription blocks and unblocks applied while it ran.\n",
            CHANGES_APPLIED.load(std::sync::atomic::Ordering::SeqCst)
        ));
    }

    // Rows 1 and 2 are the plain proxies: every row's CPU per request is set beside the leaner.
    let medians: Vec<Medians> = samples.iter().map(|runs| Medians::of(runs)).collect();
    let nginx_rps = medians[1].rps;
    let (leaner_name, leaner_cpu) = if medians[1].cpu <= medians[2].cpu {
        ("nginx", medians[1].cpu)
    } else {
        ("HAProxy", medians[2].cpu)
    };
    let mut table = String::new();
    table.push_str(&format!(
        "| target | req/s | p50 ms | p99 ms | p99.9 ms | CPU s / 10k req | CPU × {leaner_name} | peak memory MB | req/s × nginx |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    ));
    let mut failed = false;
    for ((target, runs), row) in targets.iter().zip(&samples).zip(&medians) {
        let peak = runs.iter().map(|s| s.peak_kb).max().unwrap_or(0);
        let failures: u64 = runs.iter().map(|s| s.failures).sum();
        failed |= failures > 0;
        table.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.3} | {:.2} | {:.1} | {:.2} |{}\n",
            target.name,
            row.rps,
            row.p50_us / 1000.0,
            row.p99_us / 1000.0,
            row.p999_us / 1000.0,
            row.cpu,
            row.cpu / leaner_cpu,
            peak as f64 / 1024.0,
            row.rps / nginx_rps,
            if failures > 0 {
                format!(" {failures} failed requests")
            } else {
                String::new()
            }
        ));
    }
    let footprint = format!(
        "\n| node | start to ready | idle memory (RSS) |\n|---|---:|---:|\n| all-in-one (first start: schema, keys, certificate) | {} ms | {:.1} MB |\n| gateway (state from a control plane) | {} ms | {:.1} MB |\n",
        aio_ready.as_millis(),
        aio_rss as f64 / 1024.0,
        gw_ready.as_millis(),
        gw_rss as f64 / 1024.0
    );
    let settings = format!(
        "wrk -t1 -c50 -d{}s, {} round(s) alternating, medians; {} cores",
        args.duration,
        args.rounds,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let report = format!("{settings}\n\n{table}{footprint}{scale_notes}");
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).expect("write report");
    }
    drop(all_in_one);
    let failed_rows = targets
        .iter()
        .zip(&samples)
        .filter(|(_, runs)| runs.iter().any(|s| s.failures > 0))
        .count();
    // The plain summary line CI reads.
    println!(
        "bench: {} passed, {failed_rows} failed",
        targets.len() - failed_rows
    );
    if failed {
        eprintln!("bench-run: some requests failed");
        std::process::exit(1);
    }
}
