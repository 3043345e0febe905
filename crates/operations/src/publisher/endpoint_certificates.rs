//! Endpoint certificates (`/endpoint-certificates`): PEM certificates gateways trust, besides
//! the system roots and `[truststore]`, for TLS to one backend origin (scheme, host and port of
//! the endpoint URL they were uploaded for). Each change is an event gateways apply.

use tollgate_store::{ApiRow, ApiSearch, Change, EndpointCertificateRow};
use x509_cert::der::DecodePem;

use crate::{Actor, OpError, OpResult, Problems, Services};

const VIEW: &[&str] = &[
    "apim:ep_certificates_view",
    "apim:ep_certificates_manage",
    "apim:api_view",
    "apim:api_manage",
    "apim:api_create",
];
const ADD: &[&str] = &[
    "apim:ep_certificates_add",
    "apim:ep_certificates_manage",
    "apim:api_create",
    "apim:api_manage",
];
const UPDATE: &[&str] = &[
    "apim:ep_certificates_update",
    "apim:ep_certificates_manage",
    "apim:api_create",
    "apim:api_manage",
];

/// WSO2's longest alias.
pub const MAX_ALIAS_CHARS: usize = 30;

/// What an upload carries.
#[derive(Debug, Clone, Default)]
pub struct CertificateUpload {
    pub alias: String,
    pub endpoint: String,
    /// The file as sent: one PEM certificate.
    pub certificate: Vec<u8>,
}

/// What a certificate says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateDetails {
    /// RFC 4514 (`CN=backend.example,O=Example`).
    pub subject: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// `V1`, `V2` or `V3`.
    pub version: &'static str,
}

impl CertificateDetails {
    /// WSO2's status: `Active` within the validity, `Expired` after it, `Not yet valid` before.
    pub fn status(&self, now_secs: i64) -> &'static str {
        if now_secs > self.not_after {
            "Expired"
        } else if now_secs < self.not_before {
            "Not yet valid"
        } else {
            "Active"
        }
    }
}

/// Reads one PEM certificate; the message says what is wrong with it.
pub fn certificate_details(pem: &str) -> Result<CertificateDetails, String> {
    let certificate = x509_cert::Certificate::from_pem(pem.trim().as_bytes()).map_err(|e| {
        format!("must be one X.509 certificate in PEM (-----BEGIN CERTIFICATE-----): {e}")
    })?;
    let tbs = &certificate.tbs_certificate;
    let seconds = |time: x509_cert::time::Time| time.to_unix_duration().as_secs() as i64;
    Ok(CertificateDetails {
        subject: tbs.subject.to_string(),
        not_before: seconds(tbs.validity.not_before),
        not_after: seconds(tbs.validity.not_after),
        version: match tbs.version {
            x509_cert::certificate::Version::V1 => "V1",
            x509_cert::certificate::Version::V2 => "V2",
            x509_cert::certificate::Version::V3 => "V3",
        },
    })
}

pub use tollgate_model::https_origin;

fn checked_alias(problems: &mut Problems, alias: &str) {
    let chars = alias.chars().count();
    if alias.trim().is_empty() {
        problems.add("alias", "is required");
    } else if chars > MAX_ALIAS_CHARS {
        problems.add(
            "alias",
            format!("must be at most {MAX_ALIAS_CHARS} characters (it has {chars})"),
        );
    } else if alias.contains('/') || alias.chars().any(char::is_control) {
        problems.add("alias", "must not contain '/' or control characters");
    }
}

/// The certificate's PEM text, if it is one valid certificate that has not expired.
fn checked_certificate(problems: &mut Problems, bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        problems.add("certificate", "is required");
        return None;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        problems.add(
            "certificate",
            "must be a PEM certificate (text), not binary DER",
        );
        return None;
    };
    match certificate_details(text) {
        Ok(details) if details.status(tollgate_model::now_millis() / 1000) == "Expired" => {
            problems.add("certificate", "has expired");
            None
        }
        Ok(_) => Some(text.trim().to_string()),
        Err(message) => {
            problems.add("certificate", message);
            None
        }
    }
}

/// The tenant's certificates; `alias` and `endpoint` filter when given.
pub async fn list(
    services: &Services,
    actor: &Actor,
    alias: Option<&str>,
    endpoint: Option<&str>,
) -> OpResult<Vec<EndpointCertificateRow>> {
    actor.require_any(VIEW)?;
    Ok(services
        .store
        .endpoint_certificates(&actor.tenant, alias, endpoint)
        .await?)
}

pub async fn get(
    services: &Services,
    actor: &Actor,
    alias: &str,
) -> OpResult<(EndpointCertificateRow, CertificateDetails)> {
    actor.require_any(VIEW)?;
    let row = services
        .store
        .endpoint_certificate(&actor.tenant, alias)
        .await?;
    // Stored certificates were checked on upload.
    let details = certificate_details(&row.certificate).map_err(|message| {
        OpError::Conflict(format!("The stored certificate cannot be read: {message}"))
    })?;
    Ok((row, details))
}

/// Uploads a certificate for an `https://` endpoint under a new alias.
pub async fn add(
    services: &Services,
    actor: &Actor,
    upload: CertificateUpload,
) -> OpResult<EndpointCertificateRow> {
    actor.require_any(ADD)?;
    let mut problems = Problems::default();
    checked_alias(&mut problems, &upload.alias);
    if upload.endpoint.trim().is_empty() {
        problems.add("endpoint", "is required");
    } else if https_origin(&upload.endpoint).is_none() {
        problems.add(
            "endpoint",
            "must be an https:// URL: gateways use endpoint certificates for TLS to that endpoint",
        );
    }
    let pem = checked_certificate(&mut problems, &upload.certificate);
    let pem = problems.into_result(pem)?.unwrap_or_default();
    let row = EndpointCertificateRow {
        tenant: actor.tenant.clone(),
        alias: upload.alias.trim().to_string(),
        endpoint: upload.endpoint.trim().to_string(),
        certificate: pem,
        created_time: tollgate_model::now_millis(),
    };
    let mut tx = services.store.begin().await?;
    tx.apply(&Change::AddEndpointCertificate(row.clone()))
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// Replaces the certificate under `alias` (its endpoint stays).
pub async fn update(
    services: &Services,
    actor: &Actor,
    alias: &str,
    certificate: &[u8],
) -> OpResult<EndpointCertificateRow> {
    actor.require_any(UPDATE)?;
    let mut problems = Problems::default();
    let pem = checked_certificate(&mut problems, certificate);
    let pem = problems.into_result(pem)?.unwrap_or_default();
    let mut tx = services.store.begin().await?;
    let mut row = tx.endpoint_certificate(&actor.tenant, alias).await?;
    row.certificate = pem;
    tx.apply(&Change::UpdateEndpointCertificate(row.clone()))
        .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete(services: &Services, actor: &Actor, alias: &str) -> OpResult<()> {
    actor.require_any(UPDATE)?;
    let mut tx = services.store.begin().await?;
    let row = tx.endpoint_certificate(&actor.tenant, alias).await?;
    tx.apply(&Change::DeleteEndpointCertificate(row)).await?;
    tx.commit().await?;
    Ok(())
}

/// Every endpoint URL an API's `endpointConfig` names.
pub fn endpoint_urls(api: &ApiRow) -> Vec<String> {
    fn collect(value: &serde_json::Value, urls: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("url", serde_json::Value::String(url)) => urls.push(url.clone()),
                        // Advanced settings hold no URLs.
                        ("config", _) => {}
                        _ => collect(value, urls),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, urls)),
            _ => {}
        }
    }
    let mut urls = Vec::new();
    collect(&api.definition["endpointConfig"], &mut urls);
    urls
}

/// The tenant's APIs with an endpoint on the certificate's origin: those gateways call with it.
pub async fn usage(services: &Services, actor: &Actor, alias: &str) -> OpResult<Vec<ApiRow>> {
    actor.require_any(VIEW)?;
    let row = services
        .store
        .endpoint_certificate(&actor.tenant, alias)
        .await?;
    let origin = https_origin(&row.endpoint);
    let (apis, _) = services
        .store
        .search_apis(&actor.tenant, &ApiSearch::default(), i64::MAX, 0)
        .await?;
    Ok(apis
        .into_iter()
        .filter(|api| {
            endpoint_urls(api)
                .iter()
                .any(|url| origin.is_some() && https_origin(url) == origin)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_certificate_is_refused_naming_the_field() {
        let mut problems = Problems::default();
        assert_eq!(checked_certificate(&mut problems, b"hello"), None);
        let err = problems.into_result(()).unwrap_err().to_string();
        assert!(err.starts_with("certificate: must be one X.509"), "{err}");
    }
}
