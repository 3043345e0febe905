use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// What the mock backend saw of one request.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A PizzaShack-like backend on loopback: `GET …/menu` returns a menu, `POST …/order` echoes the
/// order, `…/order/{id}` answers for that id, `…/slow` answers after a second, `…/close` answers
/// and closes the connection.
pub struct MockBackend {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    task: tokio::task::JoinHandle<()>,
    secure: bool,
}

/// The body the mock backend answers `GET …/menu` with.
pub const MENU: &str = r#"[{"name":"BBQ Chicken Bacon","description":"Grilled white chicken, hickory-smoked bacon and fresh sliced onions in barbeque sauce","price":"15.99","icon":"/images/6.png"}]"#;

impl MockBackend {
    pub async fn start() -> MockBackend {
        Self::serve(None, "127.0.0.1:0").await
    }

    /// The backend on a given address (a port reserved earlier: a backend that comes back).
    pub async fn start_at(addr: SocketAddr) -> MockBackend {
        Self::serve(None, &addr.to_string()).await
    }

    /// The same backend over HTTPS with a self-signed certificate for `localhost`, written to
    /// `certificate` (PEM) so a gateway can be told to trust it.
    pub async fn start_tls(certificate: &std::path::Path) -> MockBackend {
        let generated =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
        std::fs::write(certificate, generated.cert.pem()).expect("write certificate");
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(generated.key_pair.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![generated.cert.der().clone()], key)
        .expect("server config");
        Self::serve(
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
            "127.0.0.1:0",
        )
        .await
    }

    async fn serve(tls: Option<tokio_rustls::TlsAcceptor>, addr: &str) -> MockBackend {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind mock backend");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let secure = tls.is_some();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let recorded = recorded.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| respond(req, recorded.clone()));
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        MockBackend {
            addr,
            requests,
            task,
            secure,
        }
    }

    /// Base URL under which the PizzaShack resources live.
    pub fn url(&self) -> String {
        if self.secure {
            format!("https://localhost:{}/pizzashack/v1", self.addr.port())
        } else {
            format!("http://{}/pizzashack/v1", self.addr)
        }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for MockBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn respond(
    req: Request<Incoming>,
    recorded: Arc<Mutex<Vec<RecordedRequest>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    if let Ok(mut r) = recorded.lock() {
        r.push(RecordedRequest {
            method: method.clone(),
            path_and_query: path_and_query.clone(),
            headers,
            body: body.clone(),
        });
    }
    let path = path_and_query.split('?').next().unwrap_or("");
    let (status, payload) = if path.ends_with("/menu") && method == "GET" {
        (200, Bytes::from_static(MENU.as_bytes()))
    } else if path.ends_with("/order") && method == "POST" {
        (201, Bytes::from(body))
    } else if path.ends_with("/slow") {
        tokio::time::sleep(Duration::from_secs(1)).await;
        (200, Bytes::from_static(b"{\"slow\":true}"))
    } else if let Some(id) = path.rsplit_once("/order/").map(|(_, id)| id.to_string()) {
        (
            200,
            Bytes::from(format!("{{\"orderId\":\"{id}\",\"method\":\"{method}\"}}")),
        )
    } else {
        (
            404,
            Bytes::from_static(b"{\"error\":\"no such pizza resource\"}"),
        )
    };
    let closing = path.ends_with("/close");
    let (status, payload) = if closing {
        (200, Bytes::from_static(b"{\"closing\":true}"))
    } else {
        (status, payload)
    };
    let mut response = Response::new(Full::new(payload));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    if closing {
        response.headers_mut().insert(
            "connection",
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        "x-backend",
        hyper::header::HeaderValue::from_static("pizzashack-mock"),
    );
    Ok(response)
}
