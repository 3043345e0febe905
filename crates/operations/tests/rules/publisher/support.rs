//! A tiny HTTP server in the test's runtime, for the operations that fetch or probe a URL
//! (definition imports, endpoint validation): no network beyond the loopback.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers every request with.
pub struct Answer {
    pub status: u16,
    /// The status for HEAD requests, when it differs.
    pub head_status: Option<u16>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn ok(body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status: 200,
            head_status: None,
            body: body.into(),
        }
    }
}

/// Serves `answer` on 127.0.0.1 until the test's runtime ends; the base URL.
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
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = request.starts_with(b"HEAD ");
                let (status, body): (u16, &[u8]) = if head {
                    (answer.head_status.unwrap_or(answer.status), &[])
                } else {
                    (answer.status, &answer.body)
                };
                let header = format!(
                    "HTTP/1.1 {status} Answer\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
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
