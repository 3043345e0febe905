use tollgate_model::{DeployedApi, RevokedToken, RuntimeApi, Snapshot};

use crate::apis::deployment_from;
use crate::applications::{application_from, subscription_from};
use crate::db::{col, name_col, Dialect};
use crate::keys::{mapping_from, signing_key_from};
use crate::{Result, Store};

impl Store {
    /// Everything a gateway needs, read in one consistent view together with the outbox position
    /// it corresponds to: applying the events after `seq` to it gives the current state.
    pub async fn snapshot(&self) -> Result<Snapshot> {
        let mut tx = self.apim().begin().await?;
        if self.apim_dialect() == Dialect::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let seq: i64 = col(
            &sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM am_outbox")
                .fetch_one(&mut *tx)
                .await?,
            "seq",
        )?;
        let deployment_rows = sqlx::query(
            "SELECT d.api_id, d.environment, d.revision_id, d.vhost, d.display_on_devportal, d.deployed_time, d.event_seq,
                    r.runtime, a.lifecycle_status, a.is_default_version
             FROM am_api_deployment d
             JOIN am_api_revision r ON r.revision_id = d.revision_id
             JOIN am_api a ON a.api_id = d.api_id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut apis = Vec::with_capacity(deployment_rows.len());
        for row in &deployment_rows {
            let deployment = deployment_from(row)?;
            let mut api: RuntimeApi = serde_json::from_str(&col::<String>(row, "runtime")?)?;
            api.lifecycle_status = name_col(row, "lifecycle_status")?;
            api.is_default_version = col::<i64>(row, "is_default_version")? != 0;
            apis.push(DeployedApi {
                environment: deployment.environment,
                api,
            });
        }
        let applications = sqlx::query(
            "SELECT application_id, tenant, name, owner, throttling_policy, description, token_type, status, attributes, created_time, updated_time FROM am_application",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| application_from(r).map(|a| a.to_model()))
        .collect::<Result<_>>()?;
        let key_mappings = sqlx::query(
            "SELECT key_mapping_id, tenant, application_id, consumer_key, key_type, key_manager, mode, created_time FROM am_key_mapping",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| mapping_from(r).map(|m| m.to_model()))
        .collect::<Result<_>>()?;
        let subscriptions = sqlx::query(
            "SELECT subscription_id, tenant, application_id, api_id, throttling_policy, status, created_time FROM am_subscription",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| subscription_from(r).map(|s| s.to_model()))
        .collect::<Result<_>>()?;
        let signing_keys = sqlx::query(
            "SELECT kid, private_key_pem, n, e, issuer, created_time, retire_after FROM am_signing_key \
             WHERE active = 1 AND (retire_after IS NULL OR retire_after > $1)",
        )
        .bind(tollgate_model::now_millis() / 1000)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| signing_key_from(r).map(|k| k.to_model()))
        .collect::<Result<_>>()?;
        let policies = crate::policies::all_policies(&mut tx).await?;
        // Revocations outlive their tokens by the largest clock leeway (see the constant).
        let now_secs = tollgate_model::now_millis() / 1000 - tollgate_model::REVOCATION_GRACE_SECS;
        let revoked_tokens =
            sqlx::query("SELECT jti, expires_at FROM am_revoked_token WHERE expires_at >= $1")
                .bind(now_secs)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok(RevokedToken {
                        jti: col(r, "jti")?,
                        expires_at: col(r, "expires_at")?,
                    })
                })
                .collect::<Result<_>>()?;
        let revoked_consumer_keys = sqlx::query(
            "SELECT consumer_key, revoked_before, expires_at FROM am_consumer_key_revocation WHERE expires_at >= $1",
        )
        .bind(now_secs)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(tollgate_model::ConsumerKeyRevocation {
                consumer_key: col(r, "consumer_key")?,
                revoked_before: col(r, "revoked_before")?,
                expires_at: col(r, "expires_at")?,
            })
        })
        .collect::<Result<_>>()?;
        let key_managers = sqlx::query(&format!(
            "SELECT {} FROM am_key_manager",
            crate::key_managers::KEY_MANAGER_COLUMNS
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| crate::key_managers::key_manager_from(r).map(|k| k.to_model()))
        .collect::<Result<_>>()?;
        let endpoint_certificates = sqlx::query(&format!(
            "SELECT {} FROM am_endpoint_certificate",
            crate::endpoint_certificates::ENDPOINT_CERTIFICATE_COLUMNS
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| crate::endpoint_certificates::endpoint_certificate_from(r).map(|c| c.to_model()))
        .collect::<Result<_>>()?;
        tx.commit().await?;
        Ok(Snapshot {
            epoch: self.epoch().to_string(),
            seq,
            apis,
            applications,
            key_mappings,
            subscriptions,
            signing_keys,
            policies,
            revoked_tokens,
            revoked_consumer_keys,
            key_managers,
            endpoint_certificates,
        })
    }
}
