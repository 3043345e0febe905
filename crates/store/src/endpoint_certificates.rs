//! Endpoint certificates: PEM certificates gateways trust for a backend endpoint's TLS. Written
//! only through [`crate::Change`] (each write is an event gateways apply).

use sqlx::any::AnyRow;

use crate::db::col;
use crate::{ApimTx, Result, Store, StoreError};

/// An uploaded endpoint certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointCertificateRow {
    pub tenant: String,
    pub alias: String,
    /// The endpoint URL as uploaded.
    pub endpoint: String,
    /// PEM.
    pub certificate: String,
    pub created_time: i64,
}

impl EndpointCertificateRow {
    pub fn to_model(&self) -> tollgate_model::EndpointCertificate {
        tollgate_model::EndpointCertificate {
            tenant: self.tenant.clone(),
            alias: self.alias.clone(),
            endpoint: self.endpoint.clone(),
            pem: self.certificate.clone(),
        }
    }
}

pub(crate) const ENDPOINT_CERTIFICATE_COLUMNS: &str =
    "tenant, alias, endpoint, certificate, created_time";

pub(crate) fn endpoint_certificate_from(row: &AnyRow) -> Result<EndpointCertificateRow> {
    Ok(EndpointCertificateRow {
        tenant: col(row, "tenant")?,
        alias: col(row, "alias")?,
        endpoint: col(row, "endpoint")?,
        certificate: col(row, "certificate")?,
        created_time: col(row, "created_time")?,
    })
}

impl ApimTx {
    pub(crate) async fn insert_endpoint_certificate(
        &mut self,
        certificate: &EndpointCertificateRow,
    ) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO am_endpoint_certificate ({ENDPOINT_CERTIFICATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(&certificate.tenant)
        .bind(&certificate.alias)
        .bind(&certificate.endpoint)
        .bind(&certificate.certificate)
        .bind(certificate.created_time)
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!(
                    "A certificate with alias '{}' exists already",
                    certificate.alias
                )
            })
        })?;
        Ok(())
    }

    pub(crate) async fn update_endpoint_certificate(
        &mut self,
        certificate: &EndpointCertificateRow,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE am_endpoint_certificate SET certificate = $1 WHERE tenant = $2 AND alias = $3",
        )
        .bind(&certificate.certificate)
        .bind(&certificate.tenant)
        .bind(&certificate.alias)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub(crate) async fn delete_endpoint_certificate(
        &mut self,
        certificate: &EndpointCertificateRow,
    ) -> Result<()> {
        sqlx::query("DELETE FROM am_endpoint_certificate WHERE tenant = $1 AND alias = $2")
            .bind(&certificate.tenant)
            .bind(&certificate.alias)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The tenant's certificate with `alias`.
    pub async fn endpoint_certificate(
        &mut self,
        tenant: &str,
        alias: &str,
    ) -> Result<EndpointCertificateRow> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_CERTIFICATE_COLUMNS} FROM am_endpoint_certificate WHERE tenant = $1 AND alias = $2"
        ))
        .bind(tenant)
        .bind(alias)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("endpoint certificate {alias}")))?;
        endpoint_certificate_from(&row)
    }
}

impl Store {
    /// The tenant's certificates, by alias; `alias` and `endpoint` filter exactly when given.
    pub async fn endpoint_certificates(
        &self,
        tenant: &str,
        alias: Option<&str>,
        endpoint: Option<&str>,
    ) -> Result<Vec<EndpointCertificateRow>> {
        // A tenant has a handful of certificates: filtered here rather than with optional
        // parameters, which the two databases type differently.
        let all = sqlx::query(&format!(
            "SELECT {ENDPOINT_CERTIFICATE_COLUMNS} FROM am_endpoint_certificate \
             WHERE tenant = $1 ORDER BY alias"
        ))
        .bind(tenant)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(endpoint_certificate_from)
        .collect::<Result<Vec<_>>>()?;
        Ok(all
            .into_iter()
            .filter(|c| alias.is_none_or(|alias| c.alias == alias))
            .filter(|c| endpoint.is_none_or(|endpoint| c.endpoint == endpoint))
            .collect())
    }

    /// The tenant's certificate with `alias`.
    pub async fn endpoint_certificate(
        &self,
        tenant: &str,
        alias: &str,
    ) -> Result<EndpointCertificateRow> {
        let mut tx = self.begin().await?;
        let found = tx.endpoint_certificate(tenant, alias).await;
        tx.commit().await?;
        found
    }
}
