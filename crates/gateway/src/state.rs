use std::sync::Arc;

use tollgate_jwt::remote::RemoteKeySet;
use tollgate_jwt::{TokenRules, VerifyingKey};
use tollgate_model::{
    wire, Application, ApplicationStatus, Event, ExternalKeyManager, HttpVerb, KeyMapping, KeyType,
    Operation, PolicyLevel, RuntimeApi, RuntimeData, Subscription, SubscriptionStatus,
};

use crate::tokens::VerifiedClaims;

use crate::endpoints::EndpointGroup;
use crate::metrics::{ApiMetrics, GatewayMetrics};
use crate::upstream::{EndpointTrust, UpstreamError};
use crate::HashMap;

/// Everything the request path reads, as prepared lookup structures. Immutable once built: a
/// change builds a new one off the path and swaps it in. Each part is shared (`Arc`) with the
/// previous state when the change did not touch it (see [`Changes`]), so a change costs time in
/// proportion to what it touched.
#[derive(Default)]
pub struct RuntimeState {
    pub epoch: String,
    pub seq: i64,
    routes: Arc<Routes>,
    /// Consumer key → key mapping.
    key_mappings: Arc<HashMap<String, KeyMapping>>,
    applications: Arc<HashMap<String, Application>>,
    /// Application id → API id → subscription; an application's map is shared with the previous
    /// state when its subscriptions did not change.
    subscriptions: Arc<HashMap<String, Arc<Subscriptions>>>,
    /// `kid` → verifying key.
    keys: Arc<HashMap<String, VerifyingKey>>,
    /// Revoked token ids → expiry (seconds).
    revoked: Arc<HashMap<String, i64>>,
    /// Consumer key → tokens issued before this moment (seconds) are revoked.
    revoked_before: Arc<HashMap<String, i64>>,
    /// Enabled external key managers by the `iss` of their tokens.
    external: Arc<HashMap<String, Arc<ExternalIssuer>>>,
}

/// The invocable APIs and where they answer.
#[derive(Default)]
struct Routes {
    /// By base path (`/pizzashack/1.0.0`).
    apis: HashMap<String, Arc<ApiRoute>>,
    /// Base paths served on some virtual hosts only → those hosts (lower case). A base path
    /// absent here is served on any host.
    vhosts: HashMap<String, Box<[String]>>,
}

/// What a batch of events changed: the parts of the state to build again. Everything else is
/// shared with the previous state.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    everything: bool,
    apis: bool,
    applications: bool,
    key_mappings: bool,
    /// Applications whose subscriptions changed.
    subscribers: std::collections::HashSet<String>,
    /// Every application's subscriptions (a tier changed).
    all_subscriptions: bool,
    signing_keys: bool,
    revocations: bool,
    key_managers: bool,
    /// Endpoint certificates: every API's endpoints are prepared again (rare).
    endpoint_certificates: bool,
}

impl Changes {
    /// Everything changed (a new snapshot).
    pub fn everything() -> Changes {
        Changes {
            everything: true,
            ..Changes::default()
        }
    }

    /// Notes what `event` changes.
    pub fn note(&mut self, event: &Event) {
        match event {
            Event::ApiDeploy(_)
            | Event::ApiUndeploy { .. }
            | Event::ApiDefaultVersion { .. }
            | Event::ApiDelete { .. }
            | Event::ApiLifecycleChange { .. } => self.apis = true,
            Event::ApplicationCreate(_) | Event::ApplicationUpdate(_) => self.applications = true,
            Event::ApplicationDelete { application_id } => {
                self.applications = true;
                self.key_mappings = true;
                self.subscribers.insert(application_id.clone());
            }
            Event::KeyMappingCreate(_) | Event::KeyMappingRemove { .. } => self.key_mappings = true,
            Event::SubscriptionCreate(sub) | Event::SubscriptionUpdate(sub) => {
                self.subscribers.insert(sub.application_id.clone());
            }
            Event::SubscriptionDelete { application_id, .. } => {
                self.subscribers.insert(application_id.clone());
            }
            Event::KeyRotation(_) => self.signing_keys = true,
            Event::TokenRevocation(_) | Event::ConsumerKeyRevocation(_) => self.revocations = true,
            Event::KeyManagerUpdate(_) | Event::KeyManagerDelete { .. } => self.key_managers = true,
            Event::PolicyUpdate(_) | Event::PolicyDelete { .. } => self.all_subscriptions = true,
            Event::EndpointCertificateUpdate(_) | Event::EndpointCertificateDelete { .. } => {
                self.endpoint_certificates = true
            }
        }
    }

    /// Revocations changed (expired ones were forgotten).
    pub fn note_revocations(&mut self) {
        self.revocations = true;
    }
}

/// An external key manager as the request path uses it: its settings and its signing keys.
/// The keys are fetched by the gateway itself (see `keysets`), so they change inside an
/// otherwise immutable state; a state rebuilt with the same settings keeps the same keys.
pub struct ExternalIssuer {
    pub config: ExternalKeyManager,
    pub keys: Arc<RemoteKeySet>,
}

impl std::fmt::Debug for ExternalIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalIssuer")
            .field("name", &self.config.name)
            .field("issuer", &self.config.issuer)
            .finish()
    }
}

/// Endpoint certificates' trust by (tenant, origin).
type TrustByOrigin = HashMap<(String, String), Arc<EndpointTrust>>;

fn trust_by_origin(data: &RuntimeData) -> TrustByOrigin {
    let mut pems: HashMap<(String, String), Vec<&str>> = HashMap::default();
    for certificate in data.endpoint_certificates.values() {
        if let Some(origin) = tollgate_model::https_origin(&certificate.endpoint) {
            pems.entry((certificate.tenant.clone(), origin))
                .or_default()
                .push(&certificate.pem);
        }
    }
    pems.into_iter()
        .map(|(key, mut pems)| {
            // Sorted: the same set builds the same trust (and pool key) on every rebuild.
            pems.sort_unstable();
            (key, Arc::new(EndpointTrust::new(pems)))
        })
        .collect()
}

/// One application's subscriptions by API id.
type Subscriptions = HashMap<String, SubscriptionEntry>;

/// A subscription as the request path checks it: what it allows and its throttle rule (not the
/// whole record: a gateway may hold hundreds of thousands).
pub struct SubscriptionEntry {
    pub access: SubscriptionAccess,
    /// `None` when the tier is unlimited (or unknown to this gateway).
    pub throttle: Option<ThrottleRule>,
}

/// A subscription's status, as the request path acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionAccess {
    Unblocked,
    /// Sandbox keys still pass.
    ProductionBlocked,
    Blocked,
    /// Awaiting approval, rejected or otherwise not active.
    Inactive,
}

impl SubscriptionAccess {
    fn of(status: SubscriptionStatus) -> SubscriptionAccess {
        match status {
            // A tier change waiting for approval leaves the subscription on its old tier.
            SubscriptionStatus::Unblocked | SubscriptionStatus::TierUpdatePending => {
                SubscriptionAccess::Unblocked
            }
            SubscriptionStatus::ProdOnlyBlocked => SubscriptionAccess::ProductionBlocked,
            SubscriptionStatus::Blocked => SubscriptionAccess::Blocked,
            _ => SubscriptionAccess::Inactive,
        }
    }
}

/// What the request path needs to count a request against a tier.
pub struct ThrottleRule {
    pub key: Arc<str>,
    pub level: PolicyLevel,
    pub policy: Arc<str>,
    pub window_millis: i64,
}

/// One path template of an API: its operations (one per verb) and the `Allow` header a request
/// with another method is answered with, prepared once.
struct Resource {
    /// Indexes into `api.operations`.
    operations: Vec<usize>,
    allow: http::HeaderValue,
}

/// Why a request found no operation of the API it was routed to.
#[derive(Debug)]
pub enum RouteMiss {
    /// No template matches the path.
    NoResource,
    /// Templates match, not with this method: the methods they have.
    MethodNotAllowed(http::HeaderValue),
}

/// One API with its resource matcher and its endpoints.
pub struct ApiRoute {
    pub api: RuntimeApi,
    /// Templates without a wildcard (`/menu`, `/order/{id}`) → their resource.
    resources: matchit::Router<Resource>,
    /// Wildcard templates (`/*`, `/order/*`) by their prefix (`""`, `/order`), longest first: a
    /// path under a prefix, or the prefix itself, matches. Apart from the exact ones because a
    /// wildcard beside a parameter at the same place (`/order/{id}` and `/order/*`, both
    /// common in WSO2 APIs) is a conflict to matchit.
    wildcards: Vec<(String, Resource)>,
    /// The production and sandbox endpoint lists, prepared (or why they could not be).
    production: Option<Result<EndpointGroup, UpstreamError>>,
    sandbox: Option<Result<EndpointGroup, UpstreamError>>,
    /// The API's metric series, looked up at its first request.
    metrics: std::sync::OnceLock<ApiMetrics>,
}

impl ApiRoute {
    fn build(api: RuntimeApi, trust: &TrustByOrigin) -> ApiRoute {
        // Template (in matchit's syntax, or a wildcard's prefix) → its operations.
        let mut exact: Vec<(String, Vec<usize>)> = Vec::new();
        let mut wildcard: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, op) in api.operations.iter().enumerate() {
            let target = op.target.split('?').next().unwrap_or(&op.target);
            let (templates, key) = match target.strip_suffix("/*") {
                Some(prefix) => (&mut wildcard, prefix.to_string()),
                None => (&mut exact, target.to_string()),
            };
            match templates.iter_mut().find(|(t, _)| *t == key) {
                Some((_, ops)) => ops.push(i),
                None => templates.push((key, vec![i])),
            }
        }
        let resource = |ops: Vec<usize>| {
            let mut verbs: Vec<&str> = ops
                .iter()
                .map(|&i| api.operations[i].verb.as_str())
                .collect();
            verbs.sort_unstable();
            verbs.dedup();
            Resource {
                allow: http::HeaderValue::from_str(&verbs.join(", "))
                    .unwrap_or_else(|_| http::HeaderValue::from_static("")),
                operations: ops,
            }
        };
        let mut resources = matchit::Router::new();
        for (template, ops) in exact {
            if let Err(err) = resources.insert(template.clone(), resource(ops)) {
                tracing::warn!(api = %api.id, %template, error = %err, "resource template skipped");
            }
        }
        let mut wildcards: Vec<(String, Resource)> = wildcard
            .into_iter()
            .map(|(prefix, ops)| (prefix, resource(ops)))
            .collect();
        wildcards.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        let base_path = api.base_path();
        let group = |key_type: KeyType| {
            let list = api.endpoints.list(key_type);
            (!list.is_empty()).then(|| {
                let trust = |url: &str| {
                    // A `wss://` endpoint is the same TLS origin as `https://` on its host and port.
                    let origin = match url.strip_prefix("wss://") {
                        Some(rest) => tollgate_model::https_origin(&format!("https://{rest}"))?,
                        None => tollgate_model::https_origin(url)?,
                    };
                    trust.get(&(api.tenant.clone(), origin)).cloned()
                };
                EndpointGroup::build(&api.endpoints.routing, &list, &base_path, &trust).inspect_err(
                    |err| {
                        tracing::warn!(api = %api.id, %err, "unusable endpoint");
                    },
                )
            })
        };
        ApiRoute {
            production: group(KeyType::Production),
            sandbox: group(KeyType::Sandbox),
            api,
            resources,
            wildcards,
            metrics: std::sync::OnceLock::new(),
        }
    }

    /// The API's metric series in `metrics`.
    pub fn metrics(&self, metrics: &GatewayMetrics) -> &ApiMetrics {
        self.metrics
            .get_or_init(|| metrics.api(&self.api.name, &self.api.version))
    }

    /// The endpoints requests with keys of `key_type` go to: `None` when the API has none.
    pub fn endpoints(&self, key_type: KeyType) -> Option<&Result<EndpointGroup, UpstreamError>> {
        match key_type {
            KeyType::Production => self.production.as_ref(),
            KeyType::Sandbox => self.sandbox.as_ref(),
        }
    }

    /// The operation for a method and a path relative to the API's base path: the most
    /// specific template with that method (an exact template, then wildcards, longest prefix
    /// first); when there is none, whether templates matched with other methods.
    pub fn operation(&self, method: &http::Method, path: &str) -> Result<&Operation, RouteMiss> {
        let path = if path.is_empty() { "/" } else { path };
        let verb = verb_of(method);
        let exact = self.resources.at(path).ok().map(|matched| matched.value);
        let wildcards = self
            .wildcards
            .iter()
            .filter(|(prefix, _)| is_under(path, prefix))
            .map(|(_, resource)| resource);
        let mut matched: Vec<&Resource> = Vec::new();
        for resource in exact.into_iter().chain(wildcards) {
            let found = verb.and_then(|verb| {
                resource
                    .operations
                    .iter()
                    .map(|&i| &self.api.operations[i])
                    .find(|op| op.verb == verb)
            });
            if let Some(operation) = found {
                return Ok(operation);
            }
            matched.push(resource);
        }
        // A refusal: its `Allow` names every method of the templates that matched.
        match matched.as_slice() {
            [] => Err(RouteMiss::NoResource),
            [one] => Err(RouteMiss::MethodNotAllowed(one.allow.clone())),
            several => {
                let mut verbs: Vec<&str> = several
                    .iter()
                    .flat_map(|r| r.operations.iter())
                    .map(|&i| self.api.operations[i].verb.as_str())
                    .collect();
                verbs.sort_unstable();
                verbs.dedup();
                Err(RouteMiss::MethodNotAllowed(
                    http::HeaderValue::from_str(&verbs.join(", "))
                        .unwrap_or_else(|_| http::HeaderValue::from_static("")),
                ))
            }
        }
    }
}

/// Whether `path` is `prefix` or below it (`prefix` `""`: everything).
fn is_under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.is_empty() || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// The resource verb a request's method is; `None` for methods no resource can have.
fn verb_of(method: &http::Method) -> Option<HttpVerb> {
    use http::Method;
    Some(match *method {
        Method::GET => HttpVerb::Get,
        Method::POST => HttpVerb::Post,
        Method::PUT => HttpVerb::Put,
        Method::DELETE => HttpVerb::Delete,
        Method::PATCH => HttpVerb::Patch,
        Method::HEAD => HttpVerb::Head,
        Method::OPTIONS => HttpVerb::Options,
        // A WebSocket API's topics: the gateway asks with these (see `phases::websocket`).
        ref other if other.as_str() == "SUBSCRIBE" => HttpVerb::Subscribe,
        ref other if other.as_str() == "PUBLISH" => HttpVerb::Publish,
        _ => return None,
    })
}

impl SubscriptionEntry {
    /// Whether this entry is what `sub` with the current `tiers` would build.
    fn is_for(&self, sub: &Subscription, tiers: &HashMap<&str, (Arc<str>, i64)>) -> bool {
        self.access == SubscriptionAccess::of(sub.status)
            && self
                .throttle
                .as_ref()
                .map(|rule| (&*rule.policy, rule.window_millis))
                == tiers
                    .get(sub.throttling_policy.as_str())
                    .map(|(name, window)| (&**name, *window))
    }
}

fn subscription_entry(
    sub: &Subscription,
    tiers: &HashMap<&str, (Arc<str>, i64)>,
) -> SubscriptionEntry {
    SubscriptionEntry {
        access: SubscriptionAccess::of(sub.status),
        throttle: tiers
            .get(sub.throttling_policy.as_str())
            .map(|(policy, window_millis)| ThrottleRule {
                key: wire::subscription_key(&sub.application_id, &sub.api_id).into(),
                level: PolicyLevel::Subscription,
                policy: policy.clone(),
                window_millis: *window_millis,
            }),
    }
}

fn copy<V: Clone>(map: &std::collections::HashMap<String, V>) -> HashMap<String, V> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Routes {
    /// The routes of `data`'s invocable APIs, reusing `previous`'s route of every API that did
    /// not change (none when `previous` is `None`).
    fn build(data: &RuntimeData, previous: Option<&RuntimeState>) -> Routes {
        let trust = trust_by_origin(data);
        let mut apis = HashMap::default();
        for api in data.apis.values() {
            // Blocked APIs stay routed, to be answered 503; retired ones are gone.
            if api.lifecycle_status.is_routed() {
                let base_path = api.base_path();
                let route = previous
                    .and_then(|p| p.routes.apis.get(&base_path))
                    .filter(|route| route.api == *api)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(ApiRoute::build(api.clone(), &trust)));
                apis.insert(base_path, route);
            }
        }
        // Virtual hosts: a base path deployed only on non-default vhosts answers for those.
        let mut vhosts: HashMap<String, Option<Vec<String>>> = HashMap::default();
        for api in data
            .apis
            .values()
            .filter(|api| api.vhost.is_some() && api.lifecycle_status.is_routed())
        {
            let mut paths = vec![api.base_path()];
            if api.is_default_version {
                paths.push(api.default_version_path());
            }
            for path in paths {
                vhosts
                    .entry(path)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .extend(api.vhost.iter().map(|h| h.to_ascii_lowercase()));
            }
        }
        // …unless deployed on a default vhost somewhere too: then any host.
        if !vhosts.is_empty() {
            for api in data
                .apis
                .values()
                .filter(|api| api.vhost.is_none() && api.lifecycle_status.is_routed())
            {
                if let Some(hosts) = vhosts.get_mut(&api.base_path()) {
                    *hosts = None;
                }
                if api.is_default_version {
                    if let Some(hosts) = vhosts.get_mut(&api.default_version_path()) {
                        *hosts = None;
                    }
                }
            }
        }
        // Default versions are also served without the version, unless a versioned base path
        // is the same (an exact route wins); in id order, so a brief overlap of two defaults
        // resolves the same way on every gateway.
        let mut defaults: Vec<&RuntimeApi> = data
            .apis
            .values()
            .filter(|api| api.is_default_version && api.lifecycle_status.is_routed())
            .collect();
        defaults.sort_by(|a, b| a.id.cmp(&b.id));
        for api in defaults {
            if let Some(route) = apis.get(&api.base_path()).cloned() {
                apis.entry(api.default_version_path()).or_insert(route);
            }
        }
        Routes {
            apis,
            vhosts: vhosts
                .into_iter()
                .filter_map(|(path, hosts)| Some((path, hosts?.into_boxed_slice())))
                .collect(),
        }
    }
}

/// Every application's subscriptions — or, with `only`, `previous`'s with those applications'
/// built again — each application's map shared with `previous` when it did not change.
fn subscriptions_of(
    data: &RuntimeData,
    previous: Option<&RuntimeState>,
    tiers: &HashMap<&str, (Arc<str>, i64)>,
    only: Option<&std::collections::HashSet<String>>,
) -> HashMap<String, Arc<Subscriptions>> {
    let mut by_application: HashMap<&str, Vec<&Subscription>> = HashMap::default();
    for sub in data.subscriptions.values() {
        if only.is_none_or(|only| only.contains(&sub.application_id)) {
            by_application
                .entry(sub.application_id.as_str())
                .or_default()
                .push(sub);
        }
    }
    let mut subscriptions = match (only, previous) {
        (Some(only), Some(previous)) => {
            let mut kept = (*previous.subscriptions).clone();
            for application in only {
                kept.remove(application);
            }
            kept
        }
        _ => HashMap::default(),
    };
    for (application_id, subs) in by_application {
        let unchanged = previous
            .and_then(|p| p.subscriptions.get(application_id))
            .filter(|before| {
                before.len() == subs.len()
                    && subs.iter().all(|sub| {
                        before
                            .get(&sub.api_id)
                            .is_some_and(|entry| entry.is_for(sub, tiers))
                    })
            });
        let entries = match unchanged {
            Some(before) => before.clone(),
            None => Arc::new(
                subs.iter()
                    .map(|sub| (sub.api_id.clone(), subscription_entry(sub, tiers)))
                    .collect(),
            ),
        };
        subscriptions.insert(application_id.to_string(), entries);
    }
    subscriptions
}

impl RuntimeState {
    pub fn build(data: &RuntimeData) -> RuntimeState {
        RuntimeState::rebuild(data, None, TokenRules::default())
    }

    /// The state for `data`, reusing from `previous` every API route and every application's
    /// subscriptions that did not change (compared, not assumed: for a new snapshot).
    pub fn rebuild(
        data: &RuntimeData,
        previous: Option<&RuntimeState>,
        rules: TokenRules,
    ) -> RuntimeState {
        RuntimeState::update(data, previous, rules, &Changes::everything())
    }

    /// The state for `data` after `changes`: the parts they touched are built again (reusing
    /// what did not change inside them), the others shared with `previous`. One subscription or
    /// API change among 10,000 APIs and 100,000 subscriptions costs milliseconds.
    pub fn update(
        data: &RuntimeData,
        previous: Option<&RuntimeState>,
        rules: TokenRules,
        changes: &Changes,
    ) -> RuntimeState {
        // What may be shared: the previous state's part, unless the change touched it.
        let kept = |touched: bool| previous.filter(|_| !(changes.everything || touched));
        let routes = match kept(changes.apis || changes.endpoint_certificates) {
            Some(previous) => previous.routes.clone(),
            // Endpoint certificates changed: no route is reused, each endpoint takes its trust.
            None if changes.endpoint_certificates => Arc::new(Routes::build(data, None)),
            None => Arc::new(Routes::build(data, previous)),
        };
        let tiers: HashMap<&str, (Arc<str>, i64)> = data
            .policies
            .values()
            .filter(|p| p.level == PolicyLevel::Subscription && p.request_count.is_some())
            .map(|p| (p.name.as_str(), (p.name.as_str().into(), p.window_millis())))
            .collect();
        let subscriptions = match kept(changes.all_subscriptions) {
            Some(previous) if changes.subscribers.is_empty() => previous.subscriptions.clone(),
            Some(previous) => Arc::new(subscriptions_of(
                data,
                Some(previous),
                &tiers,
                Some(&changes.subscribers),
            )),
            None => Arc::new(subscriptions_of(data, previous, &tiers, None)),
        };
        let keys = match kept(changes.signing_keys) {
            Some(previous) => previous.keys.clone(),
            None => Arc::new(
                data.signing_keys
                    .values()
                    .filter_map(
                        |k| match VerifyingKey::rs256(&k.n, &k.e, &k.issuer, rules) {
                            Ok(key) => Some((k.kid.clone(), key)),
                            Err(err) => {
                                tracing::warn!(kid = %k.kid, error = %err, "unusable signing key skipped");
                                None
                            }
                        },
                    )
                    .collect(),
            ),
        };
        let external = match kept(changes.key_managers) {
            Some(previous) => previous.external.clone(),
            None => Arc::new(
                data.key_managers
                    .values()
                    .filter(|km| km.enabled)
                    .map(|km| {
                        let issuer = previous
                            .and_then(|p| p.external.get(&km.issuer))
                            .filter(|before| before.config == *km)
                            .cloned()
                            .unwrap_or_else(|| {
                                Arc::new(ExternalIssuer {
                                    keys: Arc::new(RemoteKeySet::new(
                                        &km.issuer,
                                        &km.jwks_endpoint,
                                        rules,
                                    )),
                                    config: km.clone(),
                                })
                            });
                        (km.issuer.clone(), issuer)
                    })
                    .collect(),
            ),
        };
        let (revoked, revoked_before) = match kept(changes.revocations) {
            Some(previous) => (previous.revoked.clone(), previous.revoked_before.clone()),
            None => (
                Arc::new(copy(&data.revoked_tokens)),
                Arc::new(
                    data.revoked_consumer_keys
                        .iter()
                        .map(|(key, r)| (key.clone(), r.revoked_before))
                        .collect(),
                ),
            ),
        };
        RuntimeState {
            epoch: data.epoch.clone(),
            seq: data.seq,
            routes,
            key_mappings: match kept(changes.key_mappings) {
                Some(previous) => previous.key_mappings.clone(),
                None => Arc::new(copy(&data.key_mappings)),
            },
            applications: match kept(changes.applications) {
                Some(previous) => previous.applications.clone(),
                // An application waiting for approval (or rejected) is as good as unknown.
                None => Arc::new(
                    data.applications
                        .iter()
                        .filter(|(_, app)| app.status == ApplicationStatus::Approved)
                        .map(|(id, app)| (id.clone(), app.clone()))
                        .collect(),
                ),
            },
            subscriptions,
            keys,
            revoked,
            revoked_before,
            external,
        }
    }

    /// The enabled external key manager whose tokens carry `issuer`.
    pub fn external_issuer(&self, issuer: &str) -> Option<&Arc<ExternalIssuer>> {
        self.external.get(issuer)
    }

    pub fn external_issuers(&self) -> impl Iterator<Item = &Arc<ExternalIssuer>> {
        self.external.values()
    }

    /// Whether a token verified earlier with key `kid` would still be: its key manager is the
    /// same (not removed, disabled or changed since) and still publishes the key. (An opaque
    /// token's introspection holds until it expires or is revoked.)
    pub fn still_trusts(&self, kid: &str, claims: &VerifiedClaims) -> bool {
        if claims.introspected {
            return true;
        }
        match &claims.origin {
            None => self.keys.contains_key(kid),
            Some(origin) => self
                .external
                .get(&origin.config.issuer)
                .is_some_and(|current| Arc::ptr_eq(current, origin) && origin.keys.knows(kid)),
        }
    }

    /// Whether a token was revoked: by its id, or with every token its client was issued
    /// before a moment (a new consumer secret).
    pub fn is_revoked(&self, jti: &str, consumer_key: &str, issued_at: i64) -> bool {
        self.revoked.contains_key(jti)
            || (!self.revoked_before.is_empty()
                && self
                    .revoked_before
                    .get(consumer_key)
                    .is_some_and(|before| issued_at < *before))
    }

    /// The API whose base path is the longest prefix of `path` (at a segment boundary), and the
    /// rest of the path.
    pub fn route<'p>(&self, path: &'p str) -> Option<(&Arc<ApiRoute>, &'p str)> {
        let mut end = path.len();
        loop {
            let candidate = &path[..end];
            if let Some(api) = self.routes.apis.get(candidate) {
                return Some((api, &path[end..]));
            }
            end = candidate.rfind('/')?;
            if end == 0 {
                return None;
            }
        }
    }

    /// As [`RuntimeState::route`], for a request to `host` (the `Host` header, port and all):
    /// an API deployed on some virtual hosts only is found for those hosts only.
    pub fn route_on<'p>(
        &self,
        host: Option<&str>,
        path: &'p str,
    ) -> Option<(&Arc<ApiRoute>, &'p str)> {
        let (route, rest) = self.route(path)?;
        if self.routes.vhosts.is_empty() {
            return Some((route, rest));
        }
        let base_path = &path[..path.len() - rest.len()];
        match self.routes.vhosts.get(base_path) {
            None => Some((route, rest)),
            Some(hosts) => {
                let host = host.map(host_name)?;
                hosts
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(host))
                    .then_some((route, rest))
            }
        }
    }

    pub fn key_mapping(&self, consumer_key: &str) -> Option<&KeyMapping> {
        self.key_mappings.get(consumer_key)
    }

    pub fn application(&self, application_id: &str) -> Option<&Application> {
        self.applications.get(application_id)
    }

    pub fn subscription(&self, application_id: &str, api_id: &str) -> Option<&SubscriptionEntry> {
        self.subscriptions.get(application_id)?.get(api_id)
    }

    pub fn verifying_key(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    pub fn api_count(&self) -> usize {
        self.routes.apis.len()
    }
}

/// The host name of a `Host` value: without its port (`api.example.com:8243`, `[::1]:8280`).
fn host_name(host: &str) -> &str {
    if let Some(bracketed) = host.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// What tests of the request path build states from.
#[cfg(test)]
pub(crate) mod fixtures {
    use tollgate_model::{Endpoints, Operation, RuntimeApi};

    /// A published (or `status`) API of the super tenant, without endpoints or audiences.
    pub fn runtime_api(
        id: &str,
        context: &str,
        status: &str,
        operations: Vec<Operation>,
    ) -> RuntimeApi {
        RuntimeApi {
            id: id.into(),
            tenant: "carbon.super".into(),
            name: id.into(),
            version: "1.0.0".into(),
            context: context.into(),
            provider: "admin".into(),
            lifecycle_status: status.parse().unwrap(),
            revision_id: "r".into(),
            api_throttling_policy: None,
            operations,
            endpoints: Endpoints::default(),
            is_default_version: false,
            audiences: vec![],
            authentication: Default::default(),
            vhost: None,
            api_type: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_model::{DeployedApi, Event, Subscription};

    fn op(verb: &str, target: &str) -> Operation {
        Operation {
            verb: verb.parse().unwrap(),
            target: target.into(),
            auth_type: tollgate_model::AuthType::Any,
            throttling_policy: None,
            scopes: vec![],
        }
    }

    fn state_with(context: &str, status: &str, operations: Vec<Operation>) -> RuntimeState {
        let mut data = RuntimeData::new(vec!["Default".into()]);
        data.apply(&Event::ApiDeploy(DeployedApi {
            environment: "Default".into(),
            api: fixtures::runtime_api("a", context, status, operations),
        }));
        RuntimeState::build(&data)
    }

    #[test]
    fn routes_by_longest_base_path_and_template() {
        let state = state_with(
            "/pizzashack",
            "PUBLISHED",
            vec![
                op("GET", "/menu"),
                op("GET", "/order/{orderId}"),
                op("DELETE", "/order/{orderId}"),
            ],
        );
        let (api, rest) = state.route("/pizzashack/1.0.0/order/42").unwrap();
        assert_eq!(rest, "/order/42");
        assert_eq!(
            api.operation(&http::Method::DELETE, rest).unwrap().verb,
            HttpVerb::Delete
        );
        match api.operation(&http::Method::POST, rest) {
            Err(RouteMiss::MethodNotAllowed(allow)) => assert_eq!(allow, "DELETE, GET"),
            _ => panic!("POST /order/42 has other methods"),
        }
        assert!(matches!(
            api.operation(&http::Method::GET, "/nothing"),
            Err(RouteMiss::NoResource)
        ));
        assert!(state.route("/pizzashack/2.0.0/menu").is_none());
        assert!(state.route("/pizzashack1.0.0/menu").is_none());
        assert!(state.route("/other").is_none());
    }

    #[test]
    fn the_most_specific_template_wins() {
        let state = state_with(
            "/shop",
            "PUBLISHED",
            vec![
                op("GET", "/*"),
                op("GET", "/order/{id}"),
                op("GET", "/order/new"),
                op("GET", "/order/*"),
            ],
        );
        let target = |path: &str| {
            let (api, rest) = state.route(path).unwrap();
            api.operation(&http::Method::GET, rest)
                .unwrap()
                .target
                .clone()
        };
        assert_eq!(target("/shop/1.0.0/order/new"), "/order/new");
        assert_eq!(target("/shop/1.0.0/order/42"), "/order/{id}");
        assert_eq!(target("/shop/1.0.0/order/42/items"), "/order/*");
        assert_eq!(target("/shop/1.0.0/menu"), "/*");
        assert_eq!(target("/shop/1.0.0"), "/*");

        // A template matches by path and method, as in WSO2: a method the exact template lacks
        // is found on a wildcard; `Allow` names what every matching template has.
        let state = state_with(
            "/shop",
            "PUBLISHED",
            vec![op("GET", "/order/{id}"), op("DELETE", "/order/*")],
        );
        let (api, rest) = state.route("/shop/1.0.0/order/5").unwrap();
        assert_eq!(
            api.operation(&http::Method::DELETE, rest).unwrap().target,
            "/order/*"
        );
        match api.operation(&http::Method::POST, rest) {
            Err(RouteMiss::MethodNotAllowed(allow)) => assert_eq!(allow, "DELETE, GET"),
            _ => panic!("POST has no template"),
        }
        assert!(matches!(
            api.operation(&http::Method::GET, "/orders"),
            Err(RouteMiss::NoResource)
        ));
    }

    #[test]
    fn wildcards_match_everything_below() {
        let state = state_with("/shop/{version}/v", "PUBLISHED", vec![op("GET", "/*")]);
        let (api, rest) = state.route("/shop/1.0.0/v/a/b").unwrap();
        assert!(api.operation(&http::Method::GET, rest).is_ok());
        let (api, rest) = state.route("/shop/1.0.0/v").unwrap();
        assert!(api.operation(&http::Method::GET, rest).is_ok());
    }

    #[test]
    fn a_rebuild_reuses_what_did_not_change_and_only_that() {
        let mut data = RuntimeData::new(vec!["Default".into()]);
        for (id, context) in [("a", "/one"), ("b", "/two")] {
            let mut api = fixtures::runtime_api(id, context, "PUBLISHED", vec![op("GET", "/x")]);
            api.endpoints.production = Some("http://backend:1/x".into());
            data.apply(&Event::ApiDeploy(DeployedApi {
                environment: "Default".into(),
                api,
            }));
        }
        let subscribe = |data: &mut RuntimeData, id: &str, app: &str, api: &str, status: &str| {
            data.apply(&Event::SubscriptionCreate(Subscription {
                id: id.into(),
                tenant: "carbon.super".into(),
                application_id: app.into(),
                api_id: api.into(),
                throttling_policy: "Unlimited".into(),
                status: status.parse().unwrap(),
            }))
        };
        subscribe(&mut data, "s1", "app1", "a", "UNBLOCKED");
        subscribe(&mut data, "s2", "app2", "a", "UNBLOCKED");
        subscribe(&mut data, "s3", "app3", "b", "UNBLOCKED");
        let before = RuntimeState::build(&data);

        // Block app1's subscription, subscribe app2 to b, move API a's endpoint.
        subscribe(&mut data, "s1", "app1", "a", "BLOCKED");
        subscribe(&mut data, "s4", "app2", "b", "UNBLOCKED");
        let mut moved = data
            .apis
            .values()
            .find(|api| api.id == "a")
            .unwrap()
            .clone();
        moved.endpoints.production = Some("http://elsewhere:2/x".into());
        data.apply(&Event::ApiDeploy(DeployedApi {
            environment: "Default".into(),
            api: moved,
        }));
        let after = RuntimeState::rebuild(&data, Some(&before), TokenRules::default());

        let access = |state: &RuntimeState, app: &str, api: &str| {
            state.subscription(app, api).map(|entry| entry.access)
        };
        assert_eq!(
            access(&after, "app1", "a"),
            Some(SubscriptionAccess::Blocked)
        );
        assert_eq!(
            access(&after, "app2", "b"),
            Some(SubscriptionAccess::Unblocked)
        );
        assert_eq!(
            access(&after, "app3", "b"),
            Some(SubscriptionAccess::Unblocked)
        );
        assert!(Arc::ptr_eq(
            &before.subscriptions["app3"],
            &after.subscriptions["app3"]
        ));
        assert!(!Arc::ptr_eq(
            &before.subscriptions["app2"],
            &after.subscriptions["app2"]
        ));
        let (route, _) = after.route("/one/1.0.0/x").unwrap();
        let group = route
            .endpoints(KeyType::Production)
            .unwrap()
            .as_ref()
            .unwrap();
        assert_eq!(&*group.members()[0].upstream.url, "http://elsewhere:2/x");
        assert!(Arc::ptr_eq(
            before.route("/two/1.0.0/x").unwrap().0,
            after.route("/two/1.0.0/x").unwrap().0
        ));

        // The same as building from scratch.
        let fresh = RuntimeState::build(&data);
        for (app, api) in [("app1", "a"), ("app2", "a"), ("app2", "b"), ("app3", "b")] {
            assert_eq!(access(&after, app, api), access(&fresh, app, api));
        }
    }

    #[test]
    fn an_api_on_a_virtual_host_answers_for_that_host_only() {
        let mut data = RuntimeData::new(vec!["Default".into(), "Public".into()]);
        let mut on_vhost = fixtures::runtime_api("a", "/a", "PUBLISHED", vec![op("GET", "/x")]);
        on_vhost.vhost = Some("API.example.com".into());
        data.apply(&Event::ApiDeploy(DeployedApi {
            environment: "Public".into(),
            api: on_vhost.clone(),
        }));
        let anywhere = fixtures::runtime_api("b", "/b", "PUBLISHED", vec![op("GET", "/x")]);
        data.apply(&Event::ApiDeploy(DeployedApi {
            environment: "Default".into(),
            api: anywhere,
        }));
        let state = RuntimeState::build(&data);
        let found = |host: Option<&str>, path: &str| state.route_on(host, path).is_some();
        assert!(found(Some("api.example.com:8243"), "/a/1.0.0/x"));
        assert!(found(Some("api.EXAMPLE.com"), "/a/1.0.0/x"));
        assert!(!found(Some("other.example.com"), "/a/1.0.0/x"));
        assert!(!found(None, "/a/1.0.0/x"));
        assert!(found(Some("anything:1"), "/b/1.0.0/x"));
        assert!(found(None, "/b/1.0.0/x"));
        // Deployed on a default vhost too: any host.
        on_vhost.vhost = None;
        data.apply(&Event::ApiDeploy(DeployedApi {
            environment: "Default".into(),
            api: on_vhost,
        }));
        let state = RuntimeState::build(&data);
        assert!(state
            .route_on(Some("other.example.com"), "/a/1.0.0/x")
            .is_some());
        assert_eq!(host_name("[::1]:8280"), "::1");
        assert_eq!(host_name("api.example.com"), "api.example.com");
    }

    #[test]
    fn an_update_after_changes_equals_a_build_from_scratch() {
        let mut data = RuntimeData::new(vec!["Default".into()]);
        let mut events = Vec::new();
        for (id, context) in [("a", "/one"), ("b", "/two"), ("c", "/three")] {
            events.push(Event::ApiDeploy(DeployedApi {
                environment: "Default".into(),
                api: fixtures::runtime_api(id, context, "PUBLISHED", vec![op("GET", "/x")]),
            }));
        }
        let subscription = |id: &str, app: &str, api: &str, status: &str| {
            Event::SubscriptionCreate(Subscription {
                id: id.into(),
                tenant: "carbon.super".into(),
                application_id: app.into(),
                api_id: api.into(),
                throttling_policy: "Unlimited".into(),
                status: status.parse().unwrap(),
            })
        };
        for (i, app) in ["app1", "app2", "app3"].iter().enumerate() {
            events.push(subscription(&format!("s{i}"), app, "a", "UNBLOCKED"));
            events.push(subscription(&format!("t{i}"), app, "b", "UNBLOCKED"));
        }
        for event in &events {
            data.apply(event);
        }
        let mut state = RuntimeState::build(&data);
        // Batches of changes, each applied as the synchronizer does, the result compared with
        // a state built from scratch.
        let batches = vec![
            vec![subscription("s0", "app1", "a", "BLOCKED")],
            vec![
                Event::SubscriptionDelete {
                    subscription_id: "t1".into(),
                    application_id: "app2".into(),
                    api_id: "b".into(),
                },
                subscription("u2", "app3", "c", "UNBLOCKED"),
            ],
            vec![Event::ApiUndeploy {
                api_id: "b".into(),
                environment: "Default".into(),
            }],
            vec![Event::ApiLifecycleChange {
                api_id: "c".into(),
                status: "BLOCKED".parse().unwrap(),
            }],
            vec![Event::ApplicationDelete {
                application_id: "app1".into(),
            }],
        ];
        let access = |state: &RuntimeState, app: &str, api: &str| {
            state.subscription(app, api).map(|entry| entry.access)
        };
        for batch in batches {
            let mut changes = Changes::default();
            for event in &batch {
                data.apply(event);
                changes.note(event);
            }
            let updated =
                RuntimeState::update(&data, Some(&state), TokenRules::default(), &changes);
            let fresh = RuntimeState::build(&data);
            for app in ["app1", "app2", "app3"] {
                for api in ["a", "b", "c"] {
                    assert_eq!(
                        access(&updated, app, api),
                        access(&fresh, app, api),
                        "{batch:?}"
                    );
                }
            }
            for path in ["/one/1.0.0/x", "/two/1.0.0/x", "/three/1.0.0/x"] {
                assert_eq!(
                    updated.route(path).map(|(r, _)| r.api.lifecycle_status),
                    fresh.route(path).map(|(r, _)| r.api.lifecycle_status),
                    "{batch:?}"
                );
            }
            // What the batch did not touch is shared, not copied.
            if !batch.iter().any(|e| {
                matches!(
                    e,
                    Event::ApiUndeploy { .. } | Event::ApiLifecycleChange { .. }
                )
            }) {
                assert!(Arc::ptr_eq(&updated.routes, &state.routes));
            }
            assert!(
                Arc::ptr_eq(&updated.key_mappings, &state.key_mappings)
                    || batch
                        .iter()
                        .any(|e| matches!(e, Event::ApplicationDelete { .. }))
            );
            state = updated;
        }
    }

    #[test]
    fn unpublished_apis_are_not_routed() {
        let state = state_with("/pizzashack", "CREATED", vec![op("GET", "/menu")]);
        assert!(state.route("/pizzashack/1.0.0/menu").is_none());
    }
}
