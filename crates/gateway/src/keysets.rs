//! External key managers' key sets, kept fresh off the request path: fetched as soon as a key
//! manager appears in the state, then again every [`REFRESH_INTERVAL`]; a token naming an
//! unknown key fetches at once (at most every [`ON_DEMAND_INTERVAL`], see
//! [`Gateway::refresh_key_set`]).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Gateway;

/// How long a fetched key set is used before it is fetched again.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// The shortest time between two fetches of one key set (also between retries of a failed one):
/// a flood of tokens naming unknown keys costs the issuer one request a second at most.
pub const ON_DEMAND_INTERVAL: Duration = Duration::from_secs(1);
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client key sets are fetched with: the public web's roots, or `tls` (the gateway's
/// backend TLS settings, with the truststore's certificates).
pub fn http_client(tls: Option<&rustls::ClientConfig>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        // No redirects: one could lead from https to plain http, where a key set can be swapped.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(tls) = tls {
        builder = builder.use_preconfigured_tls(tls.clone());
    }
    builder.build().unwrap_or_else(|err| {
        tracing::warn!(error = %err, "key set client falls back to the defaults");
        reqwest::Client::new()
    })
}

/// Keeps every external key manager's key set fetched until shutdown.
pub async fn keep_fresh(gateway: Arc<Gateway>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let state = gateway.state();
        for issuer in state.external_issuers() {
            let interval = match issuer.keys.age_millis() {
                // Never fetched: retry a failed first fetch soon.
                None => ON_DEMAND_INTERVAL,
                Some(_) => REFRESH_INTERVAL,
            };
            if let Err(err) = issuer.keys.refresh(&gateway.key_fetch, interval).await {
                tracing::warn!(key_manager = %issuer.config.name, error = %err, "cannot fetch key set");
            }
        }
    }
}
