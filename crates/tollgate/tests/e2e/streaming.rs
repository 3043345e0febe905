//! Bodies stream through the gateway both ways, never buffered whole: 300 MB down and 300 MB up
//! with the gateway's peak memory growing by well under 64 MB, and server-sent events each
//! reaching the client before the backend writes the next.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tollgate_testkit::flow::{named_api, Flow};
use tollgate_testkit::gateway::{Bearer, Gateway};
use tollgate_testkit::{Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const BIG: usize = 300 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

/// Reads a request head; returns it (lower-cased) and what followed it.
async fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
            return Some((head, seen[end + 4..].to_vec()));
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A backend of three resources, written by hand so nothing buffers on its side either:
/// `GET …/big` sends 300 MB, `POST …/upload` counts what it receives, `GET …/events` sends an
/// event each time `next_event` is notified.
async fn streaming_backend(next_event: Arc<Notify>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let next_event = next_event.clone();
            tokio::spawn(async move {
                while let Some((head, mut body)) = read_head(&mut stream).await {
                    let target = head.split(' ').nth(1).unwrap_or("").to_string();
                    if target.ends_with("/big") {
                        let header = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {BIG}\r\n\r\n"
                        );
                        stream.write_all(header.as_bytes()).await.unwrap();
                        let chunk = vec![b'x'; CHUNK];
                        for _ in 0..BIG / CHUNK {
                            if stream.write_all(&chunk).await.is_err() {
                                return;
                            }
                        }
                    } else if target.ends_with("/upload") {
                        let expected = content_length(&head);
                        let mut received = body.len();
                        let mut buf = vec![0u8; 64 * 1024];
                        while received < expected {
                            match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => received += n,
                            }
                        }
                        body.clear();
                        let answer = format!("{{\"received\":{received}}}");
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        stream.write_all(response.as_bytes()).await.unwrap();
                    } else if target.ends_with("/events") {
                        let header = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                        stream.write_all(header.as_bytes()).await.unwrap();
                        for n in 1..=3 {
                            next_event.notified().await;
                            let event = format!("data: {n}\n\n");
                            let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                            if stream.write_all(chunk.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        let _ = stream.write_all(b"0\r\n\r\n").await;
                    } else {
                        let _ = stream
                            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                            .await;
                    }
                }
            });
        }
    });
    addr
}

/// The gateway process's resident memory, now and at its peak (kB).
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_stream_both_ways_and_events_are_not_held_back() {
    let next_event = Arc::new(Notify::new());
    let backend = streaming_backend(next_event.clone()).await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;
    let gateway = Gateway::of(&node);
    let mut api = named_api(
        "Streaming",
        "/streaming",
        "1.0.0",
        &format!("http://{backend}/v1"),
    );
    api["operations"] = json!([
        {"target": "/big", "verb": "GET", "authType": "Application & Application User"},
        {"target": "/upload", "verb": "POST", "authType": "Application & Application User"},
        {"target": "/events", "verb": "GET", "authType": "Application & Application User"},
    ]);
    let api_id = flow.publish_api(api).await;
    let (_, token) = flow
        .application_with_token("StreamingApp", Some(&api_id))
        .await;
    // Deployed once the gateway knows its resources (404 `900906` is the API's own).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = gateway
            .get("/streaming/1.0.0/nothing", Bearer(&token))
            .await;
        if answer.body.contains("900906") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", answer.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, peak_before) = memory_kb(node.pid());

    // 300 MB down, read as it comes.
    let mut download = gateway
        .http
        .get(gateway.url("/streaming/1.0.0/big"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let mut received = 0usize;
    while let Some(chunk) = download.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, BIG);

    // 300 MB up, written as it goes.
    let gateway_addr: SocketAddr = gateway
        .url("")
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let mut upload = TcpStream::connect(gateway_addr).await.unwrap();
    let head = format!(
        "POST /streaming/1.0.0/upload HTTP/1.1\r\nhost: {gateway_addr}\r\nauthorization: Bearer {token}\r\ncontent-type: application/octet-stream\r\ncontent-length: {BIG}\r\n\r\n"
    );
    upload.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'y'; CHUNK];
    for _ in 0..BIG / CHUNK {
        upload.write_all(&chunk).await.unwrap();
    }
    let (answer_head, mut answer) = read_head(&mut upload).await.expect("an answer");
    assert!(answer_head.starts_with("http/1.1 200"), "{answer_head}");
    while answer.len() < content_length(&answer_head) {
        let mut buf = [0u8; 1024];
        let n = upload.read(&mut buf).await.unwrap();
        answer.extend_from_slice(&buf[..n]);
    }
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["received"], BIG);

    let (_, peak_after) = memory_kb(node.pid());
    let growth_mb = peak_after.saturating_sub(peak_before) / 1024;
    println!("gateway peak memory grew by {growth_mb} MB moving 600 MB");
    assert!(growth_mb < 64, "peak memory grew by {growth_mb} MB");

    // Server-sent events: each reaches the client before the backend writes the next.
    let mut events = gateway
        .http
        .get(gateway.url("/streaming/1.0.0/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    for n in 1..=3 {
        next_event.notify_one();
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .unwrap_or_else(|_| panic!("event {n} held back"))
            .unwrap()
            .unwrap();
        assert_eq!(chunk, format!("data: {n}\n\n").as_bytes());
    }
    assert!(events.chunk().await.unwrap().is_none());
}
