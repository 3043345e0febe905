use std::sync::Once;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness rule was broken, e.g. an API with the same context and version exists.
    #[error("{0}")]
    Conflict(String),
    /// A write based on a version of a row that is no longer current.
    #[error("{0}")]
    Stale(String),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB")]
    UnsupportedUrl(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The database cannot store a value as given (PostgreSQL refuses NUL in text). The REST
    /// edges refuse control characters first; this is the second line.
    #[error("{0}")]
    InvalidText(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl StoreError {
    /// Turns a unique-constraint violation into [`StoreError::Conflict`] with `what` as message.
    pub(crate) fn conflict_on_unique(
        err: sqlx::Error,
        what: impl FnOnce() -> String,
    ) -> StoreError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
            _ => StoreError::from(err),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // 22021: character_not_in_repertoire ("invalid byte sequence … 0x00"),
            // 22P05: untranslatable_character.
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return StoreError::InvalidText(
                    "A value contains a character that cannot be stored (such as NUL)".into(),
                );
            }
        }
        StoreError::Database(err)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt(err.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub(crate) async fn connect(url: &str) -> Result<(AnyPool, Dialect), StoreError> {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);

    let (dialect, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
        // Create the file on first start unless the URL says otherwise.
        let url = if rest.contains("mode=") {
            url.to_string()
        } else if rest.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        (Dialect::Sqlite, url)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (Dialect::Postgres, url.to_string())
    } else {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    };

    let options = AnyPoolOptions::new()
        .max_connections(if dialect == Dialect::Sqlite { 4 } else { 10 })
        .acquire_timeout(Duration::from_secs(10));
    let options = if dialect == Dialect::Sqlite {
        options.after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                Ok(())
            })
        })
    } else {
        options
    };
    let pool = options.connect(&url).await?;
    Ok((pool, dialect))
}

/// Reads a column that must be present, naming it when it is not.
pub(crate) fn col<'r, T>(row: &'r sqlx::any::AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    row.try_get::<T, _>(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// A column holding one of WSO2's names (a lifecycle state, a time unit, …).
pub(crate) fn name_col<T>(row: &sqlx::any::AnyRow, name: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = tollgate_model::UnknownName>,
{
    col::<String>(row, name)?
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// Text parameters numbered as they are added, for SQL whose shape depends on the input
/// (filters, `IN` lists).
pub(crate) struct SqlBuilder {
    dialect: Dialect,
    values: Vec<String>,
}

impl SqlBuilder {
    pub(crate) fn new(dialect: Dialect) -> SqlBuilder {
        SqlBuilder {
            dialect,
            values: Vec::new(),
        }
    }

    /// Adds a parameter; returns its placeholder (`$3`).
    pub(crate) fn bind(&mut self, value: &str) -> String {
        self.values.push(value.to_string());
        format!("${}", self.values.len())
    }

    /// Adds a list as one parameter (a JSON array) and returns what goes inside `IN (…)`: a
    /// subquery that expands it. One placeholder per item would cap a list at the driver's
    /// variable limit (SQLite's 32,766) — and any list a client sends can be longer.
    pub(crate) fn bind_list(&mut self, values: &[&str]) -> String {
        let json = serde_json::Value::from(values.to_vec()).to_string();
        let at = self.bind(&json);
        match self.dialect {
            Dialect::Sqlite => format!("SELECT value FROM json_each({at})"),
            Dialect::Postgres => format!("SELECT jsonb_array_elements_text(CAST({at} AS jsonb))"),
        }
    }

    pub(crate) fn query<'q>(
        &'q self,
        sql: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let mut query = sqlx::query(sql);
        for value in &self.values {
            query = query.bind(value.as_str());
        }
        query
    }
}
