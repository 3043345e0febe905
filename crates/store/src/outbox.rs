use tollgate_model::{Event, EventEnvelope};

use crate::db::{col, Dialect};
use crate::{ApimTx, Result, Store};

impl ApimTx {
    /// Records `event` in the outbox as part of this transaction.
    ///
    /// Writers of events serialise on the outbox table (SQLite does anyway; PostgreSQL takes a
    /// table lock that readers ignore), so sequence numbers are dense and commit in order: a
    /// consumer that has seen `n` can trust that `n + 1` is the next change, never a late one.
    pub(crate) async fn emit(&mut self, tenant: &str, event: &Event) -> Result<i64> {
        if self.dialect == Dialect::Postgres && self.emitted_through.is_none() {
            sqlx::query("LOCK TABLE am_outbox IN SHARE ROW EXCLUSIVE MODE")
                .execute(self.conn())
                .await?;
        }
        let payload = serde_json::to_string(event)?;
        let row = sqlx::query(
            "INSERT INTO am_outbox (seq, tenant, event_type, payload, created_time)
             SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4 FROM am_outbox
             RETURNING seq",
        )
        .bind(tenant)
        .bind(event.type_name())
        .bind(payload)
        .bind(tollgate_model::now_millis())
        .fetch_one(self.conn())
        .await?;
        let seq = col::<i64>(&row, "seq")?;
        self.emitted_through = Some(seq);
        Ok(seq)
    }
}

impl Store {
    /// Events after `after_seq`, oldest first, at most `limit` of them.
    pub async fn events_after(&self, after_seq: i64, limit: i64) -> Result<Vec<EventEnvelope>> {
        let rows = sqlx::query(
            "SELECT seq, tenant, payload, created_time FROM am_outbox
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(self.apim())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EventEnvelope {
                    seq: col(row, "seq")?,
                    epoch: self.epoch().to_string(),
                    tenant: col(row, "tenant")?,
                    time: col(row, "created_time")?,
                    event: serde_json::from_str(&col::<String>(row, "payload")?)?,
                })
            })
            .collect()
    }

    /// The newest outbox sequence, 0 when empty.
    pub async fn last_event_seq(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM am_outbox")
            .fetch_one(self.apim())
            .await?;
        col(&row, "seq")
    }
}

impl Store {
    /// How far the outbox has been delivered to `hub_url` (0 if never).
    pub async fn relay_position(&self, hub_url: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT last_seq FROM am_outbox_relay WHERE hub_url = $1")
            .bind(hub_url)
            .fetch_optional(self.apim())
            .await?;
        row.map(|r| col(&r, "last_seq")).transpose()
    }

    pub async fn set_relay_position(&self, hub_url: &str, last_seq: i64) -> Result<()> {
        // A write transaction, so SQLite's writers take turns (see `Store::begin`).
        let mut tx = self.begin().await?;
        let updated = sqlx::query("UPDATE am_outbox_relay SET last_seq = $1 WHERE hub_url = $2")
            .bind(last_seq)
            .bind(hub_url)
            .execute(tx.conn())
            .await?;
        if updated.rows_affected() == 0 {
            sqlx::query("INSERT INTO am_outbox_relay (hub_url, last_seq) VALUES ($1, $2)")
                .bind(hub_url)
                .bind(last_seq)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await
    }
}
