use tollgate_model::wire::GatewayReport;

use crate::db::col;
use crate::{Result, Store};

/// A gateway as it last reported itself.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayStatusRow {
    pub node_id: String,
    pub labels: Vec<String>,
    pub epoch: String,
    pub applied_seq: i64,
    pub last_seen: i64,
}

impl Store {
    /// Records a gateway's report (the latest one per gateway is kept).
    pub async fn record_gateway_report(&self, report: &GatewayReport) -> Result<()> {
        let labels = serde_json::to_string(&report.labels)?;
        let now = tollgate_model::now_millis();
        // A write transaction, so SQLite's writers take turns (see `Store::begin`).
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE am_gateway_status SET labels = $1, epoch = $2, applied_seq = $3, last_seen = $4 WHERE node_id = $5",
        )
        .bind(&labels)
        .bind(&report.epoch)
        .bind(report.applied_seq)
        .bind(now)
        .bind(&report.node_id)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO am_gateway_status (node_id, labels, epoch, applied_seq, last_seen) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&report.node_id)
            .bind(&labels)
            .bind(&report.epoch)
            .bind(report.applied_seq)
            .bind(now)
            .execute(tx.conn())
            .await?;
        }
        // Gateways gone for an hour are forgotten.
        sqlx::query("DELETE FROM am_gateway_status WHERE last_seen < $1")
            .bind(now - 3_600_000)
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }

    /// Gateways that reported since `since` (milliseconds since the epoch).
    pub async fn live_gateways(&self, since: i64) -> Result<Vec<GatewayStatusRow>> {
        sqlx::query(
            "SELECT node_id, labels, epoch, applied_seq, last_seen FROM am_gateway_status WHERE last_seen >= $1 ORDER BY node_id",
        )
        .bind(since)
        .fetch_all(self.apim())
        .await?
        .iter()
        .map(|row| {
            Ok(GatewayStatusRow {
                node_id: col(row, "node_id")?,
                labels: serde_json::from_str(&col::<String>(row, "labels")?)?,
                epoch: col(row, "epoch")?,
                applied_seq: col(row, "applied_seq")?,
                last_seen: col(row, "last_seen")?,
            })
        })
        .collect()
    }
}
