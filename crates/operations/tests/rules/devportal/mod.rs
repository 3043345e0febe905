//! `operations::devportal`: what consumers do with their own applications — subscriptions,
//! OAuth keys, API keys, approvals they wait for — and what they find, rate and discuss. Another
//! user's application (or subscription, or key) is "not found", never "forbidden".

mod api_keys;
mod applications;
mod discovery;
mod feedback;
mod invocation;
mod keys;
mod subscriptions;
mod workflows;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tollgate_operations::devportal::workflows::Approvals;
use tollgate_operations::key_managers::{self, KeyManagerInput};
use tollgate_operations::Page;
use tollgate_store::KeyManagerRow;
use tollgate_testbed::{Settings, TestBed};

/// A page holding everything these tests make.
const ALL: Page = Page {
    limit: 100,
    offset: 0,
};

/// A bed where these changes wait for an administrator.
async fn approving(approvals: Approvals) -> TestBed {
    let mut settings = Settings::default();
    settings.devportal.approvals = approvals;
    TestBed::sqlite_with(settings).await
}

/// An authorization server on loopback answering every request with `status` (a token for
/// 200); its token endpoint. It lives as long as the test's runtime.
async fn token_endpoint(status: u16) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_request(&mut stream).await;
                let body = r#"{"access_token":"t","token_type":"Bearer","expires_in":3600}"#;
                let reply = format!(
                    "HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

/// Reads one request's head and body (by its `content-length`).
async fn read_request(stream: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
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
                return;
            }
        }
    }
}

/// The admin adds an external key manager `name` (of type `custom`) proving clients at
/// `token_endpoint`, when given.
async fn external_key_manager(
    bed: &TestBed,
    name: &str,
    token_endpoint: Option<&str>,
) -> KeyManagerRow {
    let issuer = format!("https://{}.example.com", name.to_lowercase());
    key_managers::create(
        bed.services(),
        &bed.admin(),
        KeyManagerInput {
            name: name.into(),
            kind: "custom".into(),
            certificate_value: Some(format!("{issuer}/jwks")),
            issuer: Some(issuer),
            endpoints: token_endpoint
                .map(|url| vec![("tokenEndpoint".to_string(), url.to_string())])
                .unwrap_or_default(),
            ..KeyManagerInput::default()
        },
    )
    .await
    .expect("add the key manager")
}
