//! Wiring: which components a profile starts, on which ports, and the order of start-up and
//! shutdown (stop accepting → finish in-flight requests → stop background tasks → close databases).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use hyper_util::service::TowerToHyperService;
use tokio::sync::broadcast::Receiver;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tollgate_controlplane::{GatewayEnvironment, RestContext};
use tollgate_gateway::{Gateway, StateFeed, Synchronizer};
use tollgate_model::{EventEnvelope, Snapshot};
use tollgate_store::Store;
use tollgate_traffic::EventHub;

use crate::config::{ports, Config, Profile};

pub async fn migrate(config: Config) -> Result<(), String> {
    open_store(&config).await?.close().await;
    tracing::info!("database schemas are up to date");
    Ok(())
}

async fn open_store(config: &Config) -> Result<Store, String> {
    std::fs::create_dir_all(&config.server.data_dir).map_err(|e| {
        format!(
            "[server] data_dir {}: {e}",
            config.server.data_dir.display()
        )
    })?;
    let apim = config.database_url(&config.database.apim_db, "apim.db");
    let shared = config.database_url(&config.database.shared_db, "shared.db");
    Store::open(&apim, &shared)
        .await
        .map_err(|e| format!("opening the databases: {e}"))
}

pub async fn run(config: Config) -> Result<(), String> {
    let started = Instant::now();
    if config.server.profile != Profile::AllInOne {
        return Err(format!(
            "profile '{}' is not available yet: this build runs the all-in-one profile only (distributed profiles come with the event hub over the network)",
            config.server.profile.name()
        ));
    }
    let store = open_store(&config).await?;
    crate::admin::ensure_admin(&config, &store).await?;
    let issuer = format!(
        "https://{}:{}/oauth2/token",
        config.server.hostname,
        config.port(ports::CONTROL_PLANE_HTTPS)
    );
    let key_manager = tollgate_keymanager::KeyManager::start(store.clone(), issuer)
        .await
        .map_err(|e| format!("starting the key manager: {e}"))?;
    let environments = environments(&config);
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();

    // Traffic manager (event hub) and the relay that feeds it from the outbox.
    let hub = Arc::new(EventHub::new());
    let relay = tollgate_controlplane::OutboxRelay::new(store.clone(), hub.clone())
        .await
        .map_err(|e| format!("starting the outbox relay: {e}"))?;
    tasks.spawn(relay.run(shutdown.clone()));

    // Gateway state, fed in-process.
    let gateway = Gateway::new();
    let feed = Arc::new(InProcessFeed {
        hub: hub.clone(),
        store: store.clone(),
    });
    let labels = environments.iter().map(|e| e.name.clone()).collect();
    tasks.spawn(Synchronizer::new(gateway.clone(), feed, labels).run(shutdown.clone()));

    // Listeners.
    let tls = tollgate_net::tls_acceptor(&config.server.data_dir, &config.server.hostname)
        .map_err(|e| e.to_string())?;
    let ctx = Arc::new(RestContext {
        store: store.clone(),
        key_manager,
        environments,
    });
    let control_plane = TowerToHyperService::new(tollgate_controlplane::router(ctx));
    let gateway_service = {
        let gateway = gateway.clone();
        hyper::service::service_fn(move |req| {
            tollgate_gateway::handler::handle(gateway.clone(), req)
        })
    };
    let mut servers = JoinSet::new();
    for (name, port, secure) in [
        ("control-plane-https", ports::CONTROL_PLANE_HTTPS, true),
        ("control-plane-http", ports::CONTROL_PLANE_HTTP, false),
    ] {
        let tls = secure.then(|| tls.clone());
        listen(
            &mut servers,
            name,
            config.port(port),
            tls,
            control_plane.clone(),
            &shutdown,
        )
        .await?;
    }
    for (name, port, secure) in [
        ("gateway-http", ports::GATEWAY_HTTP, false),
        ("gateway-https", ports::GATEWAY_HTTPS, true),
    ] {
        let tls = secure.then(|| tls.clone());
        listen(
            &mut servers,
            name,
            config.port(port),
            tls,
            gateway_service.clone(),
            &shutdown,
        )
        .await?;
    }

    // Ready once the gateway has its first state.
    while !gateway.is_ready() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    tracing::info!(
        profile = config.server.profile.name(),
        control_plane_https = config.port(ports::CONTROL_PLANE_HTTPS),
        control_plane_http = config.port(ports::CONTROL_PLANE_HTTP),
        gateway_http = config.port(ports::GATEWAY_HTTP),
        gateway_https = config.port(ports::GATEWAY_HTTPS),
        startup_ms = started.elapsed().as_millis() as u64,
        "Tollgate is ready"
    );

    wait_for_signal().await;
    tracing::info!("shutting down");
    shutdown.cancel();
    while servers.join_next().await.is_some() {}
    while tasks.join_next().await.is_some() {}
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Binds `port` on all interfaces and serves `service` there until shutdown.
async fn listen<S, B>(
    servers: &mut JoinSet<()>,
    name: &'static str,
    port: u16,
    tls: Option<tollgate_net::TlsAcceptor>,
    service: S,
    shutdown: &CancellationToken,
) -> Result<(), String>
where
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = hyper::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
    let listener = tollgate_net::bind(addr).await.map_err(|e| e.to_string())?;
    servers.spawn(tollgate_net::serve(
        name,
        listener,
        tls,
        service,
        shutdown.clone(),
    ));
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
            vhosts: vec![host.clone()],
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
            vhosts: env.vhosts.clone().unwrap_or_else(|| vec![host.clone()]),
            http_endpoint: env.http_endpoint.clone().unwrap_or_else(|| http.clone()),
            https_endpoint: env.https_endpoint.clone().unwrap_or_else(|| https.clone()),
        })
        .collect()
}

/// The all-in-one gateway's state source: the hub and the database of the same process.
struct InProcessFeed {
    hub: Arc<EventHub>,
    store: Store,
}

impl StateFeed for InProcessFeed {
    fn subscribe(&self) -> Receiver<Arc<EventEnvelope>> {
        self.hub.subscribe()
    }

    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Result<Snapshot, String>> + Send + '_>> {
        Box::pin(async move { self.store.snapshot().await.map_err(|e| e.to_string()) })
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
