//! Scale data: 10,000 APIs, 10,000 applications and 100,000 subscriptions written straight into
//! an API Manager database (SQLite or PostgreSQL; a node loads them at its next snapshot), and
//! 100,000 distinct tokens for an application, signed with the node's own key.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use sqlx::{AnyConnection, Connection, Executor, Row, SqliteConnection};
use tollgate_model::{Endpoints, Operation, RuntimeApi};

pub const APIS: usize = 10_000;
pub const APPLICATIONS: usize = 10_000;
pub const SUBSCRIPTIONS_PER_APPLICATION: usize = 10;

fn runtime(i: usize, backend: &str) -> String {
    serde_json::to_string(&RuntimeApi {
        id: format!("scale-api-{i}"),
        tenant: "carbon.super".into(),
        name: format!("ScaleApi{i}"),
        version: "1.0.0".into(),
        context: format!("/scale{i}"),
        provider: "admin".into(),
        lifecycle_status: tollgate_model::LifecycleState::Published,
        revision_id: format!("scale-rev-{i}"),
        api_throttling_policy: None,
        operations: vec![
            Operation {
                verb: tollgate_model::HttpVerb::Get,
                target: "/hello".into(),
                auth_type: tollgate_model::AuthType::Any,
                throttling_policy: None,
                scopes: vec![],
            },
            Operation {
                verb: tollgate_model::HttpVerb::Post,
                target: "/items/{id}".into(),
                auth_type: tollgate_model::AuthType::Any,
                throttling_policy: None,
                scopes: vec![],
            },
        ],
        endpoints: Endpoints {
            production: Some(backend.to_string()),
            sandbox: None,
            ..Default::default()
        },
        is_default_version: false,
        audiences: vec![],
        authentication: Default::default(),
        vhost: None,
        api_type: Default::default(),
    })
    .unwrap_or_default()
}

async fn insert_rows(
    conn: &mut AnyConnection,
    table_and_columns: &str,
    rows: impl Iterator<Item = String>,
) -> Result<(), String> {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(500) {
        conn.execute(
            format!("INSERT INTO {table_and_columns} VALUES {}", chunk.join(",")).as_str(),
        )
        .await
        .map_err(|e| format!("seeding {table_and_columns}: {e}"))?;
    }
    Ok(())
}

/// Writes the scale data into the API Manager database at `url` (`sqlite://…` or
/// `postgres://…`), with API endpoints at `backend`. A running node loads it at its next snapshot.
pub async fn seed(url: &str, backend: &str) -> Result<(), String> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    if url.starts_with("sqlite:") {
        conn.execute("PRAGMA busy_timeout = 10000")
            .await
            .map_err(|e| e.to_string())?;
    }
    conn.execute("BEGIN").await.map_err(|e| e.to_string())?;
    insert_rows(
        &mut conn,
        "am_api (api_id, name, context, version, provider, lifecycle_status, api_type, definition, created_time, updated_time)",
        (0..APIS).map(|i| format!("('scale-api-{i}', 'ScaleApi{i}', '/scale{i}', '1.0.0', 'admin', 'PUBLISHED', 'HTTP', '{{}}', 0, 0)")),
    )
    .await?;
    insert_rows(
        &mut conn,
        "am_api_revision (revision_id, api_id, revision_number, description, definition, runtime, created_time)",
        (0..APIS).map(|i| format!("('scale-rev-{i}', 'scale-api-{i}', 1, '', '{{}}', '{}', 0)", runtime(i, backend).replace('\'', "''"))),
    )
    .await?;
    insert_rows(
        &mut conn,
        "am_api_deployment (api_id, environment, revision_id, vhost, display_on_devportal, deployed_time)",
        (0..APIS).map(|i| format!("('scale-api-{i}', 'Default', 'scale-rev-{i}', 'localhost', 1, 0)")),
    )
    .await?;
    insert_rows(
        &mut conn,
        "am_application (application_id, name, owner, throttling_policy, description, token_type, status, attributes, created_time, updated_time)",
        (0..APPLICATIONS).map(|i| format!("('scale-app-{i}', 'ScaleApp{i}', 'user{}', 'Unlimited', '', 'JWT', 'APPROVED', '{{}}', 0, 0)", i % 100)),
    )
    .await?;
    insert_rows(
        &mut conn,
        "am_subscription (subscription_id, application_id, api_id, throttling_policy, status, created_time)",
        (0..APPLICATIONS).flat_map(|a| {
            (0..SUBSCRIPTIONS_PER_APPLICATION).map(move |k| format!("('scale-sub-{a}-{k}', 'scale-app-{a}', 'scale-api-{}', 'Gold', 'UNBLOCKED', 0)", (a * 7 + k * 1000) % APIS))
        }),
    )
    .await?;
    conn.execute("COMMIT").await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Signs `count` distinct tokens for `consumer_key` with the node's signing key (claims as the
/// key manager issues them) and writes them one per line to `out`.
pub async fn tokens(
    apim_db: &Path,
    keystore_password: &str,
    consumer_key: &str,
    count: usize,
    out: &Path,
) -> Result<(), String> {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", apim_db.display()))
        .await
        .map_err(|e| e.to_string())?;
    let row = sqlx::query(
        "SELECT kid, private_key_pem, issuer FROM am_signing_key WHERE active = 1 LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| e.to_string())?;
    let kid: String = row.try_get("kid").map_err(|e| e.to_string())?;
    let stored: String = row.try_get("private_key_pem").map_err(|e| e.to_string())?;
    let pem = tollgate_keymanager::Vault::new(keystore_password.to_string(), None)
        .open_pem(&kid, &stored)
        .map_err(|e| e.to_string())?;
    let issuer: String = row.try_get("issuer").map_err(|e| e.to_string())?;
    let der = rsa::RsaPrivateKey::from_pkcs1_pem(&pem)
        .and_then(|k| k.to_pkcs1_der())
        .map_err(|e| e.to_string())?;
    let key = EncodingKey::from_rsa_der(der.as_bytes());
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let per_thread = count.div_ceil(threads);
    let mut handles = Vec::new();
    for t in 0..threads {
        let (key, header, issuer, consumer_key) = (
            key.clone(),
            header.clone(),
            issuer.clone(),
            consumer_key.to_string(),
        );
        handles.push(std::thread::spawn(move || {
            (t * per_thread..((t + 1) * per_thread).min(count))
                .filter_map(|i| {
                    let claims = serde_json::json!({
                        "sub": "admin", "aut": "APPLICATION", "aud": consumer_key, "nbf": now, "azp": consumer_key,
                        "scope": "default", "iss": issuer, "exp": now + 86_400, "iat": now,
                        "jti": format!("scale-{i}-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(i.to_le_bytes())),
                        "client_id": consumer_key,
                    });
                    jsonwebtoken::encode(&header, &claims, &key).ok()
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(out).map_err(|e| e.to_string())?);
    for handle in handles {
        for token in handle
            .join()
            .map_err(|_| "signing thread panicked".to_string())?
        {
            writeln!(file, "{token}").map_err(|e| e.to_string())?;
        }
    }
    file.flush().map_err(|e| e.to_string())
}
