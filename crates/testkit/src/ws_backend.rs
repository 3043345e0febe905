//! A WebSocket backend on loopback: it echoes every text and binary message, and says
//! `welcome` first when the path ends in `/greet`; it records each upgrade request's path and
//! headers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// What the backend saw of one upgrade request.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
}

impl Upgrade {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running WebSocket echo backend; it stops when dropped.
pub struct WsBackend {
    pub addr: SocketAddr,
    upgrades: Arc<Mutex<Vec<Upgrade>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WsBackend {
    pub async fn start() -> WsBackend {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let upgrades: Arc<Mutex<Vec<Upgrade>>> = Arc::default();
        let seen = upgrades.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut greet = false;
                    // The callback's error type is the library's (a large response).
                    #[allow(clippy::result_large_err)]
                    let callback = |request: &Request, response: Response| {
                        let path_and_query = request
                            .uri()
                            .path_and_query()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        greet = request.uri().path().ends_with("/greet");
                        seen.lock().unwrap().push(Upgrade {
                            path_and_query,
                            headers: request
                                .headers()
                                .iter()
                                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect(),
                        });
                        Ok(response)
                    };
                    let Ok(mut socket) =
                        tokio_tungstenite::accept_hdr_async(stream, callback).await
                    else {
                        return;
                    };
                    if greet {
                        let _ = socket.send(Message::text("welcome")).await;
                    }
                    while let Some(Ok(message)) = socket.next().await {
                        let echo = match message {
                            Message::Text(_) | Message::Binary(_) => message,
                            Message::Close(_) => return,
                            _ => continue,
                        };
                        if socket.send(echo).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        WsBackend {
            addr,
            upgrades,
            task,
        }
    }

    /// The endpoint URL: `ws://127.0.0.1:<port>/chat`.
    pub fn url(&self) -> String {
        format!("ws://{}/chat", self.addr)
    }

    pub fn upgrades(&self) -> Vec<Upgrade> {
        self.upgrades.lock().unwrap().clone()
    }
}

impl Drop for WsBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}
