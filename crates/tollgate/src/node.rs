//! Wiring: which components a profile starts, on which ports, and the order of start-up and
//! shutdown (stop accepting → finish in-flight requests → stop background tasks → close databases).
//!
//! | profile         | components                                  | ports (+ offset)         | databases |
//! |-----------------|---------------------------------------------|--------------------------|-----------|
//! | all-in-one      | everything, linked in-process               | 9443 9763 8280 8243      | both      |
//! | control-plane   | REST APIs, key manager, internal data API,  | 9443 9763 (+ 9611 9711   | both      |
//! |                 | outbox relay (+ traffic manager unless      |  with the traffic        |           |
//! |                 | `event_listening_endpoints` names others)   |  manager inside)         |           |
//! | traffic-manager | event hub, throttle counting                | 9611 9711                | both      |
//! | gateway         | data plane                                  | 8280 8243                | none      |

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::service::TowerToHyperService;
use tokio::sync::broadcast::Receiver;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tollgate_controlplane::{GatewayEnvironment, OutboxRelay, RestContext};
use tollgate_gateway::access_log::{AccessLog, AccessLogFormat};
use tollgate_gateway::{Backends, FeedError, Gateway, NetworkFeed, StateFeed, Synchronizer};

use tollgate_guard::{FailureGuard, SourceKey};
use tollgate_hublink::{NodeCredential, NodeGate};
use tollgate_model::wire::{FeedItem, IntrospectedToken, ThrottleHit};
use tollgate_model::Snapshot;
use tollgate_store::Store;
use tollgate_traffic::EventHub;

use crate::config::{ports, Config, Profile};
use crate::error::StartError;

pub async fn migrate(config: Config) -> Result<(), StartError> {
    open_store(&config, true).await?.close().await;
    tracing::info!("database schemas are up to date");
    Ok(())
}

async fn open_store(config: &Config, migrate: bool) -> Result<Store, StartError> {
    std::fs::create_dir_all(&config.server.data_dir).map_err(|source| StartError::DataDir {
        path: config.server.data_dir.clone(),
        source,
    })?;
    let apim = config.database_url(&config.database.apim_db, "apim.db");
    let shared = config.database_url(&config.database.shared_db, "shared.db");
    Store::connect(&apim, &shared, migrate)
        .await
        .map_err(StartError::Databases)
}

/// Lifts a user's account lock (`tollgate users unlock`).
pub async fn unlock_user(config: Config, username: &str) -> Result<(), StartError> {
    let store = open_store(&config, true).await?;
    let (tenant, name) = tollgate_keymanager::split_tenant(username);
    let found = store.clear_failed_logins(tenant, name).await;
    store.close().await;
    match found {
        Ok(true) => {
            tracing::info!(user = ?username, "account unlocked");
            Ok(())
        }
        Ok(false) => Err(StartError::NoSuchUser(username.to_string())),
        Err(source) => Err(StartError::Unlock {
            user: username.to_string(),
            source,
        }),
    }
}

/// What a running node holds until shutdown.
/// How long shutdown waits for WebSocket connections to close.
const WEBSOCKET_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

struct Node {
    shutdown: CancellationToken,
    servers: JoinSet<()>,
    tasks: JoinSet<()>,
    store: Option<Store>,
    /// What every listener allows its clients.
    limits: tollgate_net::Limits,
    /// Failed credential checks per client address (passwords, client secrets, the node
    /// credential), shared by every listener of the process.
    sources: Arc<FailureGuard<SourceKey>>,
    /// Access logs to drain and flush once the listeners have finished their requests.
    access_logs: Vec<Arc<tollgate_gateway::access_log::AccessLog>>,
}

pub async fn run(config: Config) -> Result<(), StartError> {
    let started = Instant::now();
    for key in config.unused_keys() {
        tracing::warn!("{key} is accepted as WSO2 writes it but not used");
    }
    let profile = config.server.profile;
    let open_files = tollgate_net::raise_open_files_limit();
    let limits = config.transport.limits(open_files);
    tracing::info!(
        open_files,
        max_connections = limits.max_connections,
        "connection limits set"
    );
    let mut node = Node {
        shutdown: CancellationToken::new(),
        servers: JoinSet::new(),
        tasks: JoinSet::new(),
        store: None,
        limits,
        sources: Arc::new(config.identity_mgt.login_throttling.guard()),
        access_logs: Vec::new(),
    };
    let tls = tollgate_net::tls_acceptor(&config.server.data_dir, &config.server.hostname)?;
    let trust = tollgate_hublink::tls_client_config(config.truststore.file_name.as_deref())?;
    let mut opened = Vec::new();

    let gateway = match profile {
        Profile::AllInOne => {
            let store = open_store(&config, true).await?;
            let hub = start_hub(&mut node, &store);
            let key_manager = start_control_plane(
                &config,
                &mut node,
                &store,
                &tls,
                None,
                RelayTo::InProcess(hub.clone()),
                &mut opened,
            )
            .await?;
            // The labels given, or every environment deployment.toml declares (environments
            // added through the Admin API are served by the gateways labelled with them).
            let labels = if config
                .apim
                .sync_runtime_artifacts
                .gateway
                .gateway_labels
                .is_empty()
            {
                environments(&config).into_iter().map(|e| e.name).collect()
            } else {
                config.gateway_labels()
            };
            let feed = Arc::new(InProcessFeed {
                hub,
                store: store.clone(),
                key_manager,
                labels: labels.clone(),
                reports: Default::default(),
            });
            node.store = Some(store);
            Some(start_gateway(&config, &mut node, &tls, feed, labels, &mut opened).await?)
        }
        Profile::ControlPlane => {
            let credential = require_credential(&config)?;
            let store = open_store(&config, true).await?;
            let endpoints = &config.apim.event_hub.event_listening_endpoints;
            let relay_to = if endpoints.is_empty() {
                let hub = start_hub(&mut node, &store);
                serve_hub(
                    &config,
                    &mut node,
                    &tls,
                    hub.clone(),
                    credential.clone(),
                    &mut opened,
                )
                .await?;
                RelayTo::InProcess(hub)
            } else {
                RelayTo::Remote(
                    endpoints.iter().map(|url| url.to_string()).collect(),
                    trust.clone(),
                )
            };
            start_control_plane(
                &config,
                &mut node,
                &store,
                &tls,
                Some(credential),
                relay_to,
                &mut opened,
            )
            .await?;
            node.store = Some(store);
            None
        }
        Profile::TrafficManager => {
            let credential = require_credential(&config)?;
            let store = open_store(&config, false).await?;
            let hub = start_hub(&mut node, &store);
            serve_hub(&config, &mut node, &tls, hub, credential, &mut opened).await?;
            node.store = Some(store);
            None
        }
        Profile::Gateway => {
            let credential = require_credential(&config)?;
            let hub = &config.apim.event_hub;
            let service_url = hub.service_url.clone().ok_or(StartError::NoServiceUrl)?;
            if hub.event_listening_endpoints.is_empty() {
                return Err(StartError::NoHubEndpoints);
            }
            let labels = config.gateway_labels();
            let feed = NetworkFeed::start(
                service_url.into(),
                hub.event_listening_endpoints
                    .iter()
                    .map(|url| url.to_string())
                    .collect(),
                labels.clone(),
                credential,
                trust.clone(),
                node.shutdown.clone(),
            )?;
            Some(start_gateway(&config, &mut node, &tls, feed, labels, &mut opened).await?)
        }
    };

    let ports = opened
        .iter()
        .map(|(name, port)| format!("{name}={port}"))
        .collect::<Vec<_>>()
        .join(" ");
    let announce = {
        let gateway = gateway.clone();
        async move {
            // A gateway is ready once it has a state to serve from.
            if let Some(gateway) = gateway {
                while !gateway.is_ready() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            tracing::info!(profile = %profile, %ports, startup_ms = started.elapsed().as_millis() as u64, "Tollgate is ready");
        }
    };
    let announcer = tokio::spawn(announce);

    wait_for_signal().await;
    announcer.abort();
    tracing::info!("shutting down");
    // WebSocket connections first, while the serving threads that relay them still run: each
    // side is told 1001 (going away).
    if let Some(gateway) = &gateway {
        if tokio::time::timeout(WEBSOCKET_CLOSE_TIMEOUT, gateway.websockets().close_all())
            .await
            .is_err()
        {
            tracing::warn!("WebSocket connections still open after the close timeout");
        }
    }
    node.shutdown.cancel();
    while node.servers.join_next().await.is_some() {}
    for log in std::mem::take(&mut node.access_logs) {
        let _ = tokio::task::spawn_blocking(move || log.stop()).await;
    }
    while node.tasks.join_next().await.is_some() {}
    if let Some(store) = node.store {
        store.close().await;
    }
    tracing::info!("stopped");
    Ok(())
}

fn require_credential(config: &Config) -> Result<NodeCredential, StartError> {
    let profile = config.server.profile;
    if config.apim.event_hub.enable == Some(false) {
        return Err(StartError::EventHubDisabled { profile });
    }
    config
        .node_credential()
        .ok_or(StartError::NoNodeCredential { profile })
}

/// The event hub, and a task loading the throttling policies into it and keeping them current.
fn start_hub(node: &mut Node, store: &Store) -> Arc<EventHub> {
    let hub = Arc::new(EventHub::new());
    let (hub_for_task, store, shutdown) = (hub.clone(), store.clone(), node.shutdown.clone());
    node.tasks.spawn(async move {
        // Policies also arrive as events; the periodic reload covers a traffic manager that
        // started before the control plane created the schema, or missed events while down.
        loop {
            let next = match store.all_policies().await {
                Ok(policies) => {
                    tracing::info!(count = policies.len(), "throttling policies loaded");
                    hub_for_task.set_policies(&policies);
                    Duration::from_secs(30)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot load throttling policies; will retry");
                    Duration::from_millis(250)
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(next) => {}
                _ = hub_for_task.policies_wanted() => {}
            }
        }
    });
    hub
}

async fn serve_hub(
    config: &Config,
    node: &mut Node,
    tls: &tollgate_net::TlsAcceptor,
    hub: Arc<EventHub>,
    credential: NodeCredential,
    opened: &mut Vec<(&'static str, u16)>,
) -> Result<(), StartError> {
    let gate = Arc::new(NodeGate::new(credential, node.sources.clone()));
    let service = TowerToHyperService::new(tollgate_traffic::server::router(
        hub,
        gate,
        node.shutdown.clone(),
    ));
    for (name, port, secure) in [
        ("event-hub", ports::EVENT_HUB, false),
        ("event-hub-tls", ports::EVENT_HUB_TLS, true),
    ] {
        listen(
            node,
            name,
            config.port(port),
            secure.then(|| tls.clone()),
            service.clone(),
            opened,
        )
        .await?;
    }
    Ok(())
}

enum RelayTo {
    InProcess(Arc<EventHub>),
    Remote(Vec<String>, Option<Arc<rustls::ClientConfig>>),
}

async fn start_control_plane(
    config: &Config,
    node: &mut Node,
    store: &Store,
    tls: &tollgate_net::TlsAcceptor,
    credential: Option<NodeCredential>,
    relay_to: RelayTo,
    opened: &mut Vec<(&'static str, u16)>,
) -> Result<Arc<tollgate_keymanager::KeyManager>, StartError> {
    // argon2 on one worker per core, never more (see tollgate_keymanager::Passwords).
    let passwords = tollgate_keymanager::Passwords::start(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    );
    crate::admin::ensure_admin(config, store, &passwords).await?;
    let issuer = format!(
        "https://{}:{}/oauth2/token",
        config.server.hostname,
        config.port(ports::CONTROL_PLANE_HTTPS)
    );
    let locking = &config.identity_mgt.account_locking;
    let settings = tollgate_keymanager::KeyManagerSettings {
        rules: config.oauth.token_rules(),
        tokens: config.oauth.token_settings(),
        vault: crate::admin::keystore_vault(config)?,
        logins: tollgate_keymanager::Logins::new(
            passwords,
            node.sources.clone(),
            tollgate_keymanager::LockPolicy {
                enabled: locking.enable_account_locking,
                allowed_failed_attempts: locking.allowed_failed_attempts.get() as u32,
                unlock_after: (locking.auto_unlock_after.get() > 0)
                    .then(|| Duration::from_secs(locking.auto_unlock_after.get() * 60)),
            },
        ),
    };
    let key_manager = tollgate_keymanager::KeyManager::start(store.clone(), issuer, settings)
        .await
        .map_err(StartError::KeyManager)?;
    node.tasks.spawn(key_manager_upkeep(
        key_manager.clone(),
        node.shutdown.clone(),
    ));
    match relay_to {
        RelayTo::InProcess(hub) => {
            let relay = OutboxRelay::in_process(store.clone(), hub)
                .await
                .map_err(StartError::Relay)?;
            node.tasks.spawn(relay.run(node.shutdown.clone()));
        }
        RelayTo::Remote(urls, trust) => {
            let credential = credential
                .clone()
                .ok_or(StartError::RelayWithoutCredential)?;
            for url in urls {
                let relay =
                    OutboxRelay::remote(store.clone(), url, credential.clone(), trust.clone());
                node.tasks.spawn(relay.run(node.shutdown.clone()));
            }
        }
    }
    let ctx = Arc::new(RestContext {
        store: store.clone(),
        key_manager: key_manager.clone(),
        environments: environments(config),
        control_plane_url: format!(
            "https://{}:{}",
            config.server.hostname,
            config.port(ports::CONTROL_PLANE_HTTPS)
        ),
        users: config.identity_mgt.user_settings(),
        devportal: config.apim.devportal_settings(),
    });
    let gate = credential.map(|c| Arc::new(NodeGate::new(c, node.sources.clone())));
    let service = TowerToHyperService::new(tollgate_controlplane::router(ctx, gate));
    for (name, port, secure) in [
        ("control-plane-https", ports::CONTROL_PLANE_HTTPS, true),
        ("control-plane-http", ports::CONTROL_PLANE_HTTP, false),
    ] {
        listen(
            node,
            name,
            config.port(port),
            secure.then(|| tls.clone()),
            service.clone(),
            opened,
        )
        .await?;
    }
    Ok(key_manager)
}

/// How often a key manager looks for signing keys added elsewhere (another control plane,
/// `tollgate keys rotate`), and forgets expired token state.
const KEY_SET_CHECK: Duration = Duration::from_secs(5);
const TOKEN_PURGE_EVERY: u32 = 720;

async fn key_manager_upkeep(
    key_manager: Arc<tollgate_keymanager::KeyManager>,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval(KEY_SET_CHECK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut count: u32 = 0;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if let Err(err) = key_manager.refresh_keys().await {
            tracing::warn!(error = %err, "checking the signing key set failed");
        }
        count = count.wrapping_add(1);
        if count % TOKEN_PURGE_EVERY == 1 {
            match key_manager.purge_expired().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired token state forgotten"),
                Err(err) => tracing::warn!(error = %err, "purging expired token state failed"),
            }
        }
    }
}

/// `tollgate keys rotate`: a new signing key in the store; running key managers sign with it
/// within seconds, gateways learn of it by event, and the replaced key stays published until
/// the tokens it signed have expired.
pub async fn rotate_keys(config: Config) -> Result<(), StartError> {
    let store = open_store(&config, true).await?;
    let issuer = format!(
        "https://{}:{}/oauth2/token",
        config.server.hostname,
        config.port(ports::CONTROL_PLANE_HTTPS)
    );
    let result = tollgate_keymanager::KeyManager::rotate_stored_keys(
        &store,
        &crate::admin::keystore_vault(&config)?,
        &issuer,
        &config.oauth.token_settings(),
        config.oauth.token_rules(),
    )
    .await;
    store.close().await;
    let key = result.map_err(StartError::RotateKeys)?;
    tracing::info!(kid = %key.kid, "signing key rotated");
    Ok(())
}

async fn start_gateway(
    config: &Config,
    node: &mut Node,
    tls: &tollgate_net::TlsAcceptor,
    feed: Arc<dyn StateFeed>,
    labels: Vec<String>,
    opened: &mut Vec<(&'static str, u16)>,
) -> Result<Arc<Gateway>, StartError> {
    let backend_tls = tollgate_gateway::backend_tls(config.truststore.file_name.as_deref())
        .map_err(StartError::BackendTrust)?;
    let gateway = Gateway::configured(
        config.oauth.token_rules(),
        tollgate_gateway::keysets::http_client(Some(&backend_tls.config)),
    );
    node.tasks.spawn(tollgate_gateway::keysets::keep_fresh(
        gateway.clone(),
        node.shutdown.clone(),
    ));
    node.tasks.spawn(tollgate_gateway::hits::report(
        gateway.hits(),
        feed.clone(),
        node.shutdown.clone(),
    ));
    gateway.introspect_with(feed.clone());
    let access_log = &config.apim.gateway.access_log;
    if access_log.enable {
        let path = config.server.data_dir.join(&access_log.file);
        let format = match access_log.format {
            crate::config::AccessLogFormatName::Json => AccessLogFormat::Json,
            crate::config::AccessLogFormatName::Combined => AccessLogFormat::Combined,
        };
        let log = AccessLog::start(&path, format, gateway.metrics().access_log_dropped())
            .map_err(|source| StartError::AccessLog { path, source })?;
        gateway.log_access_to(log.clone());
        node.access_logs.push(log);
    }
    // Backend host names: resolved off the request path, answers refreshed as their TTL runs out.
    let name_servers: Vec<SocketAddr> = config
        .apim
        .gateway
        .dns
        .name_servers
        .iter()
        .map(|server| server.0)
        .collect();
    let dns = tollgate_gateway::dns::Dns::new(&name_servers)?;
    node.tasks.spawn(dns.clone().refresh(node.shutdown.clone()));
    // Upgraded WebSocket connections leave their listener's count: the gateway bounds them.
    gateway.websockets().limit(node.limits.max_connections);
    let mut synchronizer = Synchronizer::new(gateway.clone(), feed, labels);
    if config.server.profile == Profile::Gateway {
        synchronizer =
            synchronizer.with_state_file(config.server.data_dir.join("gateway-state.json"));
    }
    node.tasks.spawn(synchronizer.run(node.shutdown.clone()));
    // One serving thread per core, each with its own backend connections (see `serve_sharded`).
    let shards = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let trusted_proxies: Arc<[ipnet::IpNet]> = config
        .apim
        .gateway
        .trusted_proxies
        .iter()
        .map(|proxy| proxy.0)
        .collect();
    // The gateway's ports, and WSO2's WebSocket ports (which serve the same APIs: WebSocket
    // APIs as upgrades, as on the others).
    for (name, port, secure) in [
        ("gateway-http", ports::GATEWAY_HTTP, false),
        ("gateway-https", ports::GATEWAY_HTTPS, true),
        ("gateway-ws", ports::GATEWAY_WS, false),
        ("gateway-wss", ports::GATEWAY_WSS, true),
    ] {
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), config.port(port));
        let (gateway, backend_tls, trusted_proxies, dns) = (
            gateway.clone(),
            backend_tls.clone(),
            trusted_proxies.clone(),
            dns.clone(),
        );
        // Per serving thread: its backend connections. Per connection: what the connection
        // tells (the client, TLS, whether it is a trusted proxy), worked out once.
        let make_service = move || {
            let (gateway, backends) = (gateway.clone(), Backends::new(&backend_tls, &dns));
            let trusted_proxies = trusted_proxies.clone();
            move |peer: SocketAddr| {
                let (gateway, backends) = (gateway.clone(), backends.clone());
                let connection = Arc::new(
                    tollgate_gateway::phases::forwarded::Connection::new(
                        Some(peer),
                        secure,
                        &trusted_proxies,
                    )
                    .counted(gateway.metrics()),
                );
                hyper::service::service_fn(move |req| {
                    tollgate_gateway::phases::handle(
                        gateway.clone(),
                        backends.clone(),
                        connection.clone(),
                        req,
                    )
                })
            }
        };
        let serving = tollgate_net::serve_sharded(
            name,
            addr,
            secure.then(|| tls.clone()),
            shards,
            make_service,
            node.limits,
            node.shutdown.clone(),
        )?;
        node.servers.spawn(serving);
        opened.push((name, config.port(port)));
    }
    // Metrics and health probes, apart from API traffic.
    let management = {
        let gateway = gateway.clone();
        hyper::service::service_fn(move |req| {
            tollgate_gateway::management::serve(gateway.clone(), req)
        })
    };
    let management_port = config.port(config.apim.gateway.management_port);
    listen(
        node,
        "gateway-management",
        management_port,
        None,
        management,
        opened,
    )
    .await?;
    Ok(gateway)
}

/// Binds `port` on all interfaces and serves `service` there until shutdown.
async fn listen<S: tollgate_net::HttpService>(
    node: &mut Node,
    name: &'static str,
    port: u16,
    tls: Option<tollgate_net::TlsAcceptor>,
    service: S,
    opened: &mut Vec<(&'static str, u16)>,
) -> Result<(), StartError> {
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
    let listener = tollgate_net::bind(addr).await?;
    node.servers.spawn(tollgate_net::serve(
        name,
        listener,
        tls,
        service,
        node.limits,
        node.shutdown.clone(),
    ));
    opened.push((name, port));
    Ok(())
}

/// The gateway environments: the configured ones, or WSO2's `Default` on this node's ports.
fn environments(config: &Config) -> Vec<GatewayEnvironment> {
    let host = &config.server.hostname;
    let http = format!("http://{host}:{}", config.port(ports::GATEWAY_HTTP));
    let https = format!("https://{host}:{}", config.port(ports::GATEWAY_HTTPS));
    if config.apim.gateway.environment.is_empty() {
        return vec![GatewayEnvironment {
            name: tollgate_model::DEFAULT_ENVIRONMENT.into(),
            display_name: tollgate_model::DEFAULT_ENVIRONMENT.into(),
            description:
                "This is a hybrid gateway that handles both production and sandbox token traffic."
                    .into(),
            vhosts: vec![host.to_string()],
            http_endpoint: http,
            https_endpoint: https,
        }];
    }
    config
        .apim
        .gateway
        .environment
        .iter()
        .map(|env| GatewayEnvironment {
            name: env.name.clone(),
            display_name: env.display_name.clone().unwrap_or_else(|| env.name.clone()),
            description: env.description.clone().unwrap_or_default(),
            vhosts: env.vhosts.clone().unwrap_or_else(|| vec![host.to_string()]),
            http_endpoint: env
                .http_endpoint
                .as_ref()
                .map_or_else(|| http.clone(), |url| url.to_string()),
            https_endpoint: env
                .https_endpoint
                .as_ref()
                .map_or_else(|| https.clone(), |url| url.to_string()),
        })
        .collect()
}

/// The all-in-one gateway's feed: the hub and the database of the same process.
struct InProcessFeed {
    hub: Arc<EventHub>,
    store: Store,
    key_manager: Arc<tollgate_keymanager::KeyManager>,
    labels: Vec<String>,
    reports: tollgate_gateway::report::AppliedReports,
}

impl StateFeed for InProcessFeed {
    fn subscribe(&self) -> Receiver<FeedItem> {
        self.hub.subscribe()
    }

    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Result<Snapshot, FeedError>> + Send + '_>> {
        Box::pin(async move { self.store.snapshot().await.map_err(FeedError::local) })
    }

    fn report_hits(&self, hits: Vec<ThrottleHit>) {
        self.hub.record_hits("in-process", &hits);
    }

    fn introspect<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<IntrospectedToken>, FeedError>> + Send + 'a>>
    {
        Box::pin(async move {
            self.key_manager
                .introspect_for_gateway(token)
                .await
                .map_err(FeedError::local)
        })
    }

    fn report_applied(&self, epoch: &str, seq: i64) {
        if !self.reports.due(epoch, seq) {
            return;
        }
        let report = tollgate_model::wire::GatewayReport {
            node_id: "in-process".into(),
            labels: self.labels.clone(),
            epoch: epoch.to_string(),
            applied_seq: seq,
        };
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(err) = store.record_gateway_report(&report).await {
                tracing::debug!(error = %err, "cannot record the gateway's report");
            }
        });
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
