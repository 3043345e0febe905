//! A tiny HTTP server on loopback, for operations that call out (definition imports, endpoint
//! probes, external key managers' token and discovery endpoints): it answers every request the
//! same way, until the test's runtime ends. No network beyond the loopback.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers every request with.
#[derive(Debug, Clone)]
pub struct Answer {
    /// 0: read the request, then hang up without an answer.
    pub status: u16,
    /// The status of HEAD requests, when it differs.
    pub head_status: Option<u16>,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
}

impl Answer {
    /// 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Answer {
        Answer::status(200, body)
    }

    /// `status` with `body`.
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            head_status: None,
            content_type: None,
            body: body.into(),
        }
    }

    /// `status` with a JSON body.
    pub fn json(status: u16, body: &serde_json::Value) -> Answer {
        Answer {
            content_type: Some("application/json"),
            ..Answer::status(status, body.to_string())
        }
    }

    /// Hangs up without answering.
    pub fn silence() -> Answer {
        Answer::status(0, Vec::new())
    }
}

/// Serves `answer` on 127.0.0.1; the base URL (`http://127.0.0.1:port`).
pub async fn serve(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("the bound address");
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let Some(head) = read_request(&mut socket).await else {
                    return;
                };
                if answer.status == 0 {
                    return;
                }
                let (status, body): (u16, &[u8]) = if head.starts_with("head ") {
                    (answer.head_status.unwrap_or(answer.status), &[])
                } else {
                    (answer.status, &answer.body)
                };
                let content_type = answer
                    .content_type
                    .map(|t| format!("content-type: {t}\r\n"))
                    .unwrap_or_default();
                let header = format!(
                    "HTTP/1.1 {status} Answer\r\n{content_type}content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(header.as_bytes()).await;
                let _ = socket.write_all(body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

/// Reads one request's head and body (by its `content-length`); the head, lowercased.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return Some(head);
            }
        }
    }
}
