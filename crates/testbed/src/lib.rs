//! The control plane in process, for testing its rules in milliseconds: the real [`Services`]
//! (operations, key manager, store) over a temporary SQLite database — or PostgreSQL, where a
//! rule depends on the database — with users for every role already there.
//!
//! ```ignore
//! let bed = TestBed::sqlite().await;
//! let app = bed.application(&bed.user("alice"), "Shop").await;
//! assert_eq!(bed.events().await, ["APPLICATION_CREATE"]);
//! ```
//!
//! A process builds one template once (migrated databases, a signing key, the users); each bed
//! starts from a copy of its files, so a test pays for a file copy and the key manager's start,
//! not for migrations, key generation or password hashing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "test support: a step that cannot be taken fails the test that asked for it"
)]

pub mod archives;
pub mod fixtures;
mod http;
mod refusals;
pub mod stub;

pub use http::{Call, Part, Reply};
pub use refusals::Refused;
/// The end-to-end test kit, for what in-process tests share with it (WSO2's PizzaShack API
/// object, the mock backend, percent-encoding).
pub use tollgate_testkit as testkit;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tollgate_keymanager::{KeyManager, KeyManagerSettings, LockPolicy, Logins, Passwords, Vault};
use tollgate_model::scopes::roles;
use tollgate_model::{Event, SUPER_TENANT};
use tollgate_operations::devportal::DevportalSettings;
use tollgate_operations::users::UserSettings;
use tollgate_operations::{Actor, GatewayEnvironment, Services};
use tollgate_store::{SigningKeyRow, Store};
use tollgate_testkit::PgDatabase;

/// Every user of the template signs in with this password.
pub const PASSWORD: &str = "test-password-1";
/// The keystore password the template's signing key is sealed with.
const KEYSTORE_PASSWORD: &str = "testbed keystore";
/// The issuer of the key manager's tokens.
pub const ISSUER: &str = "https://localhost:9443/oauth2/token";

/// The users every bed starts with, and their roles.
pub const USERS: &[(&str, &[&str])] = &[
    ("admin", &[roles::ADMIN]),
    ("creator", &[roles::CREATOR]),
    ("publisher", &[roles::PUBLISHER]),
    ("alice", &[roles::SUBSCRIBER]),
    ("bob", &[roles::SUBSCRIBER]),
];

/// The settings a bed's services start with; change them before [`TestBed::sqlite_with`].
#[derive(Debug, Clone)]
pub struct Settings {
    pub users: UserSettings,
    pub devportal: DevportalSettings,
    pub environments: Vec<GatewayEnvironment>,
    pub lock_policy: LockPolicy,
    /// The key manager's token rules (validities, the password grant's switch).
    pub tokens: tollgate_keymanager::TokenSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            users: UserSettings::default(),
            devportal: DevportalSettings::default(),
            environments: vec![GatewayEnvironment {
                name: tollgate_model::DEFAULT_ENVIRONMENT.into(),
                display_name: tollgate_model::DEFAULT_ENVIRONMENT.into(),
                description: "the test bed's gateways".into(),
                vhosts: vec!["localhost".into()],
                http_endpoint: "http://localhost:8280".into(),
                https_endpoint: "https://localhost:8243".into(),
            }],
            lock_policy: LockPolicy::default(),
            tokens: tollgate_keymanager::TokenSettings::default(),
        }
    }
}

/// Where a bed's databases live; removed (files) or dropped (PostgreSQL) with the bed.
enum Databases {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(
        #[allow(dead_code)] PgDatabase,
        #[allow(dead_code)] PgDatabase,
    ),
}

/// One control plane in process over its own databases.
pub struct TestBed {
    services: Arc<Services>,
    /// The control plane's HTTP endpoints over the same services, served in process.
    router: axum::Router,
    /// The outbox position up to which [`TestBed::events`] has reported.
    seen: Mutex<i64>,
    _databases: Databases,
}

impl TestBed {
    /// A bed over SQLite with default settings.
    pub async fn sqlite() -> TestBed {
        TestBed::sqlite_with(Settings::default()).await
    }

    /// A bed over SQLite with these settings.
    pub async fn sqlite_with(settings: Settings) -> TestBed {
        let template = template().await;
        let dir = tempfile::tempdir().expect("a temporary folder");
        for (name, bytes) in &template.files {
            std::fs::write(dir.path().join(name), bytes).expect("copy the template database");
        }
        let store = Store::open(
            &sqlite_url(dir.path(), "apim.db"),
            &sqlite_url(dir.path(), "shared.db"),
        )
        .await
        .expect("open the copied databases");
        TestBed::start(store, settings, Databases::Sqlite(dir)).await
    }

    /// A bed over two new PostgreSQL databases (dropped with the bed), for rules that depend
    /// on the database.
    pub async fn postgres() -> TestBed {
        let template = template().await;
        let (apim, shared) = (PgDatabase::create().await, PgDatabase::create().await);
        let store = Store::open(&apim.url(), &shared.url())
            .await
            .expect("open the PostgreSQL databases");
        // The template's key and users, without generating or hashing anything again.
        let mut tx = store.begin().await.expect("begin");
        tx.apply(&tollgate_store::Change::AddSigningKey {
            tenant: SUPER_TENANT.into(),
            public: template.key.to_model(),
            stored: template.key.clone(),
            retire_previous_after: None,
        })
        .await
        .expect("store the signing key");
        tx.commit().await.expect("commit");
        for (username, user_roles) in USERS {
            store
                .upsert_user(SUPER_TENANT, username, &template.password_hash, user_roles)
                .await
                .expect("create a user");
        }
        TestBed::start(
            store,
            Settings::default(),
            Databases::Postgres(apim, shared),
        )
        .await
    }

    async fn start(store: Store, settings: Settings, databases: Databases) -> TestBed {
        let key_manager = start_key_manager(&store, settings.lock_policy, settings.tokens).await;
        let seen = store.last_event_seq().await.expect("the outbox position");
        let services = Arc::new(Services {
            store,
            key_manager,
            environments: settings.environments,
            control_plane_url: "https://localhost:9443".into(),
            users: settings.users,
            devportal: settings.devportal,
        });
        TestBed {
            router: tollgate_controlplane::router(services.clone(), None),
            services,
            seen: Mutex::new(seen),
            _databases: databases,
        }
    }

    /// What operations take.
    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn key_manager(&self) -> &KeyManager {
        &self.services.key_manager
    }

    /// The databases, to look at what an operation wrote.
    pub fn store(&self) -> &Store {
        &self.services.store
    }

    /// The super admin, with the admin role.
    pub fn admin(&self) -> Actor {
        self.user("admin")
    }

    /// One of [`USERS`] as a caller who proved their password: their roles decide.
    pub fn user(&self, username: &str) -> Actor {
        let roles = USERS
            .iter()
            .find(|(name, _)| *name == username)
            .map(|(_, roles)| roles.iter().map(|r| r.to_string()).collect())
            .unwrap_or_default();
        Actor::with_roles(SUPER_TENANT.into(), username.into(), roles)
    }

    /// A caller holding a token with exactly these scopes.
    pub fn with_scopes(&self, username: &str, scopes: &[&str]) -> Actor {
        Actor::with_scopes(
            SUPER_TENANT.into(),
            username.into(),
            scopes.iter().map(|s| s.to_string()).collect(),
        )
    }

    /// The events written since the last call (or since the bed started), by WSO2's type name.
    pub async fn events(&self) -> Vec<&'static str> {
        self.event_bodies()
            .await
            .iter()
            .map(Event::type_name)
            .collect()
    }

    /// The events written since the last call (or since the bed started).
    pub async fn event_bodies(&self) -> Vec<Event> {
        let after = *self.seen.lock().expect("the events mark");
        let envelopes = self
            .store()
            .events_after(after, 10_000)
            .await
            .expect("read the outbox");
        if let Some(last) = envelopes.last() {
            *self.seen.lock().expect("the events mark") = last.seq;
        }
        envelopes.into_iter().map(|e| e.event).collect()
    }
}

fn sqlite_url(dir: &Path, file: &str) -> String {
    format!("sqlite://{}", dir.join(file).display())
}

/// One password-hashing pool for the process (its threads outlive any test's runtime).
fn passwords() -> Arc<Passwords> {
    static POOL: OnceLock<Arc<Passwords>> = OnceLock::new();
    POOL.get_or_init(|| Passwords::start(2)).clone()
}

async fn start_key_manager(
    store: &Store,
    lock_policy: LockPolicy,
    tokens: tollgate_keymanager::TokenSettings,
) -> Arc<KeyManager> {
    let settings = KeyManagerSettings {
        rules: tollgate_jwt::TokenRules::default(),
        vault: Vault::new(KEYSTORE_PASSWORD.into(), None),
        logins: Logins::new(
            passwords(),
            Arc::new(tollgate_guard::FailureGuard::new(
                tollgate_guard::FailurePolicy::SOURCES,
            )),
            lock_policy,
        ),
        tokens,
    };
    KeyManager::start(store.clone(), ISSUER.into(), settings)
        .await
        .expect("start the key manager")
}

/// What every bed starts from.
struct Template {
    /// The SQLite files by name.
    files: Vec<(String, Vec<u8>)>,
    /// The signing key, sealed under [`KEYSTORE_PASSWORD`].
    key: SigningKeyRow,
    /// The hash of [`PASSWORD`].
    password_hash: String,
}

async fn template() -> &'static Template {
    static TEMPLATE: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
    TEMPLATE.get_or_init(build_template).await
}

async fn build_template() -> Template {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = Store::open(
        &sqlite_url(dir.path(), "apim.db"),
        &sqlite_url(dir.path(), "shared.db"),
    )
    .await
    .expect("create the template databases");
    // Starting a key manager on an empty database generates and stores the signing key.
    drop(
        start_key_manager(
            &store,
            LockPolicy::default(),
            tollgate_keymanager::TokenSettings::default(),
        )
        .await,
    );
    let password_hash = passwords().hash(PASSWORD).await.expect("hash the password");
    for (username, user_roles) in USERS {
        store
            .upsert_user(SUPER_TENANT, username, &password_hash, user_roles)
            .await
            .expect("create a user");
    }
    let key = store
        .signing_keys()
        .await
        .expect("the signing key")
        .into_iter()
        .next()
        .expect("a signing key was generated");
    store.close().await;
    let files = ["apim.db", "shared.db"]
        .iter()
        .flat_map(|db| [db.to_string(), format!("{db}-wal")])
        .filter_map(|name| {
            let path: PathBuf = dir.path().join(&name);
            std::fs::read(&path).ok().map(|bytes| (name, bytes))
        })
        .collect();
    Template {
        files,
        key,
        password_hash,
    }
}
