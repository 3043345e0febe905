use sqlx::{Connection, Executor, PgConnection};

/// The PostgreSQL server tests use; `TOLLGATE_TEST_PG` overrides it.
pub fn server_url() -> String {
    std::env::var("TOLLGATE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A uniquely named database on the test server, dropped when this value is dropped.
pub struct PgDatabase {
    pub name: String,
}

impl PgDatabase {
    pub async fn create() -> PgDatabase {
        let name = format!("tollgate_test_{}", uuid_like());
        let mut conn = PgConnection::connect(&format!("{}/postgres", server_url()))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {} is required for this test: {e}",
                    server_url()
                )
            });
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        conn.close().await.ok();
        PgDatabase { name }
    }

    /// WSO2's two databases (`apim_db`, `shared_db`), each new.
    pub async fn pair() -> (PgDatabase, PgDatabase) {
        (PgDatabase::create().await, PgDatabase::create().await)
    }

    /// `postgres://…/<name>`, for `[database.*] url`.
    pub fn url(&self) -> String {
        format!("{}/{}", server_url(), self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Dropping runs inside async tests; do the blocking work on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&format!("{}/postgres", server_url()))
                    .await
                    .ok()?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

fn uuid_like() -> String {
    format!("{:016x}{:08x}", rand::random::<u64>(), std::process::id())
}

/// The `deployment.toml` sections that put a node on these databases (`apim_db`, `shared_db`).
pub fn databases_config(dbs: &(PgDatabase, PgDatabase)) -> String {
    format!(
        "[database.apim_db]\nurl = \"{}\"\n\n[database.shared_db]\nurl = \"{}\"\n",
        dbs.0.url(),
        dbs.1.url()
    )
}
