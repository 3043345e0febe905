//! Backend host names, resolved off the request path. Each name's answer is kept with its TTL
//! and refreshed by a background task when the TTL runs out, for as long as the name is in use,
//! so opening a connection to a backend is a lookup in a map, not a DNS query: only the very
//! first connection to a name (or one after a long idle spell) waits for an answer. When a
//! name's addresses change, its generation moves on, and connections pooled to the old
//! addresses are no longer reused (`upstream.rs`): a backend whose name moves is followed
//! without a restart.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;
use tokio_util::sync::CancellationToken;

use crate::HashMap;

/// An answer's shortest life: a TTL of 0 must not turn the refresher into a busy loop.
const MIN_TTL: Duration = Duration::from_secs(1);
/// An answer's longest life, whatever its TTL says.
const MAX_TTL: Duration = Duration::from_secs(3600);
/// How often the refresher looks for answers that ran out.
const REFRESH_PERIOD: Duration = Duration::from_millis(250);
/// A name no connection asked for in this long is no longer refreshed.
const IDLE_NAME: Duration = Duration::from_secs(600);
/// How long past its TTL an answer is still used while the refresher cannot get a new one (the
/// name servers are down, say): a backend stays reachable through a DNS outage.
const STALE_ANSWER_LIMIT: Duration = Duration::from_secs(3600);

/// Why a name has no addresses.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}")]
    Lookup(Arc<hickory_resolver::net::NetError>),
    #[error("no addresses")]
    NoAddresses,
}

/// Why the resolver could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("DNS resolver: {0}")]
pub struct DnsSetupError(#[source] hickory_resolver::net::NetError);

/// The gateway's resolver and the names its backends use; shared by every serving thread.
pub struct Dns {
    resolver: TokioResolver,
    names: Mutex<HashMap<Box<str>, Arc<ResolvedName>>>,
    /// When this resolver started: the clock names' last use is counted on.
    started: Instant,
}

/// One backend host name and its current answer.
pub struct ResolvedName {
    host: Box<str>,
    answer: Mutex<Option<Answer>>,
    /// Moves on whenever the addresses change.
    generation: AtomicU64,
    /// Milliseconds since [`Dns::started`] of the latest connection to this name.
    last_used: AtomicU64,
    /// Set while the refresher's lookup is under way.
    refreshing: AtomicBool,
}

#[derive(Clone)]
struct Answer {
    addresses: Arc<[IpAddr]>,
    /// When the TTL runs out.
    valid_until: Instant,
    /// When the refresher asks next: at `valid_until`, later after a failed lookup.
    refresh_at: Instant,
}

impl Dns {
    /// A resolver asking `name_servers` (port 53 when a server names none), or those of
    /// `/etc/resolv.conf` when there are none; `/etc/hosts` is read as the system resolver does.
    pub fn new(name_servers: &[SocketAddr]) -> Result<Arc<Dns>, DnsSetupError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if name_servers.is_empty() {
            TokioResolver::builder_tokio().map_err(DnsSetupError)?
        } else {
            let servers = name_servers
                .iter()
                .map(|server| {
                    let mut config = NameServerConfig::udp_and_tcp(server.ip());
                    for connection in &mut config.connections {
                        connection.port = server.port();
                    }
                    config
                })
                .collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider)
        };
        let options: &mut ResolverOpts = builder.options_mut();
        options.positive_min_ttl = Some(MIN_TTL);
        options.positive_max_ttl = Some(MAX_TTL);
        // Failed lookups are not cached by the resolver: the refresher decides when to ask again.
        options.negative_max_ttl = Some(Duration::ZERO);
        let resolver = builder.build().map_err(DnsSetupError)?;
        Ok(Arc::new(Dns {
            resolver,
            names: Mutex::new(HashMap::default()),
            started: Instant::now(),
        }))
    }

    /// The entry for `host`, created on its first use.
    pub fn name(&self, host: &str) -> Arc<ResolvedName> {
        let mut names = tollgate_guard::lock(&self.names);
        if let Some(name) = names.get(host) {
            return name.clone();
        }
        let name = Arc::new(ResolvedName {
            host: host.into(),
            answer: Mutex::new(None),
            generation: AtomicU64::new(0),
            last_used: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
        });
        names.insert(host.into(), name.clone());
        name
    }

    /// `name`'s addresses for a new connection, and the generation they belong to: the kept
    /// answer while it is fresh (or, while the refresher cannot get a new one, not too stale);
    /// otherwise a lookup now.
    pub async fn addresses(
        &self,
        name: &ResolvedName,
    ) -> Result<(Arc<[IpAddr]>, u64), ResolveError> {
        name.last_used.store(self.elapsed_ms(), Ordering::Relaxed);
        let now = Instant::now();
        if let Some(answer) = name.answer() {
            if now < answer.valid_until + STALE_ANSWER_LIMIT {
                return Ok((answer.addresses, name.generation()));
            }
        }
        self.resolve(name).await?;
        let answer = name.answer().ok_or(ResolveError::NoAddresses)?;
        Ok((answer.addresses, name.generation()))
    }

    /// Looks `name` up and keeps the answer; a failed lookup keeps the old one.
    async fn resolve(&self, name: &ResolvedName) -> Result<(), ResolveError> {
        let lookup = self
            .resolver
            .lookup_ip(&*name.host)
            .await
            .map_err(|e| ResolveError::Lookup(Arc::new(e)))?;
        let mut addresses: Vec<IpAddr> = lookup.iter().collect();
        if addresses.is_empty() {
            return Err(ResolveError::NoAddresses);
        }
        // Sorted, so that the same set in another order is no change.
        addresses.sort_unstable();
        addresses.dedup();
        let valid_until = lookup.valid_until().max(Instant::now() + MIN_TTL);
        name.keep(Answer {
            addresses: addresses.into(),
            valid_until,
            refresh_at: valid_until,
        });
        Ok(())
    }

    /// Refreshes answers that ran out, for names in use, until `shutdown`.
    pub async fn refresh(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(REFRESH_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = Instant::now();
            let idle_since = self
                .elapsed_ms()
                .saturating_sub(IDLE_NAME.as_millis() as u64);
            let due: Vec<Arc<ResolvedName>> = tollgate_guard::lock(&self.names)
                .values()
                .filter(|name| name.last_used.load(Ordering::Relaxed) >= idle_since)
                .filter(|name| name.answer().is_some_and(|a| a.refresh_at <= now))
                .filter(|name| !name.refreshing.swap(true, Ordering::AcqRel))
                .cloned()
                .collect();
            for name in due {
                let dns = self.clone();
                // One lookup per name at a time; a slow name server delays no other name.
                tokio::spawn(async move {
                    if let Err(err) = dns.resolve(&name).await {
                        tracing::warn!(host = %name.host, error = %err, "DNS refresh failed; the previous answer stays in use");
                        // Asked again after another TTL floor, not on every tick.
                        name.postpone(MIN_TTL);
                    }
                    name.refreshing.store(false, Ordering::Release);
                });
            }
        }
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

impl ResolvedName {
    /// Changes whenever the name's addresses do.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn answer(&self) -> Option<Answer> {
        tollgate_guard::lock(&self.answer).clone()
    }

    fn keep(&self, answer: Answer) {
        let mut kept = tollgate_guard::lock(&self.answer);
        let changed = kept
            .as_ref()
            .is_some_and(|old| old.addresses != answer.addresses);
        *kept = Some(answer);
        if changed {
            self.generation.fetch_add(1, Ordering::AcqRel);
            tracing::info!(host = %self.host, "a backend's DNS answer changed; new connections go to its new addresses");
        }
    }

    fn postpone(&self, by: Duration) {
        if let Some(answer) = tollgate_guard::lock(&self.answer).as_mut() {
            answer.refresh_at = Instant::now() + by;
        }
    }
}
