use sqlx::{AnyPool, Row};

use crate::db::{col, Dialect};
use crate::StoreError;

/// The migrations of one database.
pub(crate) struct Migrations {
    pub database: &'static str,
    pub list: &'static [Migration],
}

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const APIM: Migrations = Migrations {
    database: "apim_db",
    list: &[
        Migration {
            version: 1,
            name: "init",
            sql: include_str!("../migrations/apim/0001_init.sql"),
        },
        Migration {
            version: 2,
            name: "distributed",
            sql: include_str!("../migrations/apim/0002_distributed.sql"),
        },
        Migration {
            version: 3,
            name: "publisher",
            sql: include_str!("../migrations/apim/0003_publisher.sql"),
        },
        Migration {
            version: 4,
            name: "api_definitions",
            sql: include_str!("../migrations/apim/0004_api_definitions.sql"),
        },
        Migration {
            version: 5,
            name: "documents",
            sql: include_str!("../migrations/apim/0005_documents.sql"),
        },
        Migration {
            version: 6,
            name: "scopes",
            sql: include_str!("../migrations/apim/0006_scopes.sql"),
        },
        Migration {
            version: 7,
            name: "environments",
            sql: include_str!("../migrations/apim/0007_environments.sql"),
        },
        Migration {
            version: 8,
            name: "thumbnails",
            sql: include_str!("../migrations/apim/0008_thumbnails.sql"),
        },
        Migration {
            version: 9,
            name: "gateway_status",
            sql: include_str!("../migrations/apim/0009_gateway_status.sql"),
        },
        Migration {
            version: 10,
            name: "oauth",
            sql: include_str!("../migrations/apim/0010_oauth.sql"),
        },
        Migration {
            version: 11,
            name: "key_managers",
            sql: include_str!("../migrations/apim/0011_key_managers.sql"),
        },
        Migration {
            version: 12,
            name: "devportal",
            sql: include_str!("../migrations/apim/0012_devportal.sql"),
        },
        Migration {
            version: 13,
            name: "workflows",
            sql: include_str!("../migrations/apim/0013_workflows.sql"),
        },
        Migration {
            version: 14,
            name: "key_mapping_mode",
            sql: include_str!("../migrations/apim/0014_key_mapping_mode.sql"),
        },
        Migration {
            version: 15,
            name: "endpoint_certificates",
            sql: include_str!("../migrations/apim/0015_endpoint_certificates.sql"),
        },
    ],
};

pub(crate) const SHARED: Migrations = Migrations {
    database: "shared_db",
    list: &[
        Migration {
            version: 1,
            name: "init",
            sql: include_str!("../migrations/shared/0001_init.sql"),
        },
        Migration {
            version: 2,
            name: "account_locking",
            sql: include_str!("../migrations/shared/0002_account_locking.sql"),
        },
        Migration {
            version: 3,
            name: "user_management",
            sql: include_str!("../migrations/shared/0003_user_management.sql"),
        },
        Migration {
            version: 4,
            name: "portal_sessions",
            sql: include_str!("../migrations/shared/0004_portal_sessions.sql"),
        },
    ],
};

/// Applies the pending migrations, all in one transaction. On PostgreSQL a transaction-scoped
/// advisory lock makes two nodes starting at once take turns; the second finds nothing to do.
pub(crate) async fn run(
    pool: &AnyPool,
    dialect: Dialect,
    migrations: &Migrations,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7436104529)")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS tollgate_schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_time BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM tollgate_schema_migrations")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| col::<i64>(r, "version"))
        .collect::<Result<_, _>>()?;
    for migration in migrations.list {
        if applied.contains(&migration.version) {
            continue;
        }
        tracing::info!(
            database = migrations.database,
            version = migration.version,
            name = migration.name,
            "applying migration"
        );
        sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO tollgate_schema_migrations (version, name, applied_time) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(tollgate_model::now_millis())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The outbox epoch, created once per API Manager database.
pub(crate) async fn epoch(pool: &AnyPool) -> Result<String, StoreError> {
    let fresh = uuid::Uuid::new_v4().to_string();
    // Insert-if-absent in portable SQL; a concurrent starter's insert wins and both read it back.
    let _ = sqlx::query(
        "INSERT INTO tollgate_meta (meta_key, meta_value)
         SELECT 'epoch', CAST($1 AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM tollgate_meta WHERE meta_key = 'epoch')",
    )
    .bind(&fresh)
    .execute(pool)
    .await;
    let row = sqlx::query("SELECT meta_value FROM tollgate_meta WHERE meta_key = 'epoch'")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get::<String, _>("meta_value")?)
}
