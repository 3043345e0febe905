//! Tollgate's two databases, as WSO2 splits them: the API Manager database (APIs, applications,
//! subscriptions, keys, policies, the event outbox) and the shared database (users and roles).
//!
//! Both run on SQLite (the embedded default) or PostgreSQL through sqlx's `Any` driver, with one
//! set of portable migrations. Every write that changes what gateways enforce goes through an
//! [`ApimTx`], which records the matching [`Event`](tollgate_model::Event) in the outbox in the
//! same transaction.

mod apis;
mod applications;
mod change;
mod db;
mod devportal;
mod documents;
mod endpoint_certificates;
mod environments;
mod gateways;
mod key_managers;
mod keys;
mod migrate;
mod oauth;
mod outbox;
mod policies;
mod scopes;
mod sessions;
mod snapshot;
mod users;
mod workflows;

pub use apis::{
    ApiFilter, ApiRow, ApiSearch, DeploymentRow, LifecycleEventRow, RevisionRow, TextMatch,
    Thumbnail,
};
pub use applications::{ApplicationRow, SubscriptionRow};
pub use change::Change;
pub use db::{Dialect, StoreError};
pub use devportal::{visible_role, CommentRow, Finder, RatingRow, RatingSummary};
pub use documents::{DocumentFile, DocumentRow};
pub use endpoint_certificates::EndpointCertificateRow;
pub use environments::EnvironmentRow;
pub use gateways::GatewayStatusRow;
pub use key_managers::KeyManagerRow;
pub use keys::{ClientValidity, KeyMappingRow, OAuthClientRow, SigningKeyRow};
pub use oauth::{AccessTokenRow, AuthorizationCodeRow, IssuedToken, RefreshState, RefreshTokenRow};
pub use policies::PolicyUsers;
pub use scopes::{ScopeRow, ScopeUse};
pub use sessions::PortalSessionRow;
pub use users::{NewUser, UserMatch, UserRow};
pub use workflows::WorkflowRow;

use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

pub type Result<T> = std::result::Result<T, StoreError>;

/// Handle to both databases. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    apim: AnyPool,
    apim_dialect: Dialect,
    shared: AnyPool,
    shared_dialect: Dialect,
    /// The newest outbox position committed through this handle (0 before the first): moved
    /// after every commit that wrote events, so relays wake at once instead of polling.
    outbox: watch::Sender<i64>,
    /// SQLite allows one writer; serialising writers in-process turns "database is locked" into a wait.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// The same for the shared database's user management writes.
    shared_writer: Option<Arc<Mutex<()>>>,
    epoch: String,
}

impl Store {
    /// Connects to both databases and brings their schemas up to date.
    pub async fn open(apim_url: &str, shared_url: &str) -> Result<Store> {
        Self::connect(apim_url, shared_url, true).await
    }

    /// Connects to both databases; migrates them only when `migrate` (the control plane does,
    /// other nodes use the schema it made).
    pub async fn connect(apim_url: &str, shared_url: &str, migrate: bool) -> Result<Store> {
        let (apim, apim_dialect) = db::connect(apim_url).await?;
        let (shared, shared_dialect) = db::connect(shared_url).await?;
        if migrate {
            migrate::run(&apim, apim_dialect, &migrate::APIM).await?;
            migrate::run(&shared, shared_dialect, &migrate::SHARED).await?;
        }
        // A node that does not migrate may start before the schema exists; it has no use for
        // the epoch (only the control plane's relay stamps events with it).
        let epoch = match migrate::epoch(&apim).await {
            Ok(epoch) => epoch,
            Err(_) if !migrate => String::new(),
            Err(err) => return Err(err),
        };
        let store = Store {
            inner: Arc::new(Inner {
                apim,
                apim_dialect,
                shared,
                shared_dialect,
                outbox: watch::Sender::new(0),
                sqlite_writer: (apim_dialect == Dialect::Sqlite).then(|| Arc::new(Mutex::new(()))),
                shared_writer: (shared_dialect == Dialect::Sqlite)
                    .then(|| Arc::new(Mutex::new(()))),
                epoch,
            }),
        };
        if migrate {
            let copied = store.backfill_visibility().await?;
            if copied > 0 {
                tracing::info!(
                    apis = copied,
                    "API visibility copied for the developer portal"
                );
            }
        }
        Ok(store)
    }

    /// Identity of this API Manager database's outbox; carried by every event envelope.
    pub fn epoch(&self) -> &str {
        &self.inner.epoch
    }

    /// The outbox's commit watermark: the newest sequence number this process has committed to
    /// the outbox (0 before the first), published after each commit that wrote events. Events
    /// committed by other processes sharing the database do not move it.
    pub fn outbox_watermark(&self) -> watch::Receiver<i64> {
        self.inner.outbox.subscribe()
    }

    /// Begins a write transaction on the API Manager database.
    pub async fn begin(&self) -> Result<ApimTx> {
        let tx = WriteTx::begin(&self.inner.apim, self.inner.sqlite_writer.as_ref()).await?;
        Ok(ApimTx {
            tx,
            dialect: self.inner.apim_dialect,
            outbox: self.inner.outbox.clone(),
            emitted_through: None,
        })
    }

    pub(crate) fn apim(&self) -> &AnyPool {
        &self.inner.apim
    }

    pub(crate) fn shared(&self) -> &AnyPool {
        &self.inner.shared
    }

    /// A write transaction on the shared database (holding, on SQLite, the turn to write).
    pub(crate) async fn begin_shared(&self) -> Result<WriteTx> {
        WriteTx::begin(&self.inner.shared, self.inner.shared_writer.as_ref()).await
    }

    pub(crate) fn apim_dialect(&self) -> Dialect {
        self.inner.apim_dialect
    }

    /// A query builder for the API Manager database.
    pub(crate) fn apim_sql(&self) -> db::SqlBuilder {
        db::SqlBuilder::new(self.inner.apim_dialect)
    }

    /// A query builder for the shared database.
    pub(crate) fn shared_sql(&self) -> db::SqlBuilder {
        db::SqlBuilder::new(self.inner.shared_dialect)
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.inner.apim.close().await;
        self.inner.shared.close().await;
    }
}

/// A write transaction that holds the writer's turn (SQLite's one writer, taken in process)
/// until it has ended. Dropped without a commit — an operation that refused half-way — it is
/// rolled back before the turn passes on: sqlx alone would roll it back only when its
/// connection is next used, and the next writer would meanwhile find the database locked.
pub(crate) struct WriteTx {
    tx: Option<sqlx::Transaction<'static, sqlx::Any>>,
    turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    async fn begin(pool: &AnyPool, writer: Option<&Arc<Mutex<()>>>) -> Result<WriteTx> {
        let turn = match writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        Ok(WriteTx {
            tx: Some(pool.begin().await?),
            turn,
        })
    }

    /// The transaction's connection, to run statements on.
    #[allow(
        clippy::expect_used,
        reason = "`tx` is Some from `begin` until `commit` or `rollback`, which consume the value; only `drop` sees it None"
    )]
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.tx
            .as_mut()
            .expect("a write transaction is open until it ends")
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(())
    }

    pub(crate) async fn rollback(mut self) -> Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.rollback().await?;
        }
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else {
            return;
        };
        let turn = self.turn.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(err) = tx.rollback().await {
                        tracing::warn!(error = %err, "rolling back an abandoned transaction failed");
                    }
                    drop(turn);
                });
            }
            // No runtime (a test's teardown): sqlx rolls back when the connection is next used.
            Err(_) => drop((tx, turn)),
        }
    }
}

/// A write transaction on the API Manager database. Dropping it without [`ApimTx::commit`] rolls back.
pub struct ApimTx {
    tx: WriteTx,
    dialect: Dialect,
    /// The store's commit watermark, moved to `emitted_through` once this commits.
    outbox: watch::Sender<i64>,
    /// The newest outbox sequence number this transaction wrote, if it wrote events.
    emitted_through: Option<i64>,
}

impl ApimTx {
    /// What a read inside this transaction appends to lock the rows it reads until the commit:
    /// `FOR UPDATE` on PostgreSQL; nothing on SQLite, where the writer's turn is exclusive.
    pub(crate) fn lock_clause(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if let Some(seq) = self.emitted_through {
            // Commits can report out of order; the watermark only moves forward.
            self.outbox.send_if_modified(|committed| {
                let newer = seq > *committed;
                if newer {
                    *committed = seq;
                }
                newer
            });
        }
        Ok(())
    }

    /// Undoes the transaction, and only then lets the next writer in (as dropping it does).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.tx.conn()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str) -> ApplicationRow {
        ApplicationRow {
            id: id.into(),
            tenant: tollgate_model::SUPER_TENANT.into(),
            name: id.into(),
            owner: "alice".into(),
            throttling_policy: "Unlimited".into(),
            description: String::new(),
            token_type: tollgate_model::TokenType::Jwt,
            status: tollgate_model::ApplicationStatus::Approved,
            attributes: serde_json::json!({}),
            created_time: 1,
            updated_time: 1,
        }
    }

    #[tokio::test]
    async fn commits_that_write_events_move_the_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        let store = Store::open(&url("apim.db"), &url("shared.db"))
            .await
            .unwrap();
        let mut watermark = store.outbox_watermark();
        assert_eq!(*watermark.borrow_and_update(), 0);

        let mut tx = store.begin().await.unwrap();
        tx.apply(&Change::CreateApplication(app("a1")))
            .await
            .unwrap();
        // Not before the commit: a relay must not look for events it cannot see yet.
        assert!(!watermark.has_changed().unwrap());
        tx.commit().await.unwrap();
        assert!(watermark.has_changed().unwrap());
        let first = *watermark.borrow_and_update();
        assert_eq!(first, store.last_event_seq().await.unwrap());

        // A transaction without events, or rolled back, leaves it where it was.
        store.set_relay_position("ws://hub", first).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.apply(&Change::CreateApplication(app("a2")))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(!watermark.has_changed().unwrap());

        // Another handle on the same database (another process) moves only its own: relays
        // find such events by polling.
        let other = Store::open(&url("apim.db"), &url("shared.db"))
            .await
            .unwrap();
        let mut tx = other.begin().await.unwrap();
        tx.apply(&Change::CreateApplication(app("a3")))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(!watermark.has_changed().unwrap());
        assert_eq!(*other.outbox_watermark().borrow(), first + 1);
        other.close().await;
        store.close().await;
    }
}
