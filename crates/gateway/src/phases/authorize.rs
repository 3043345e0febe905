//! Authorize: may this consumer call this operation? The API's audiences (tokens only), the
//! application's subscription to the API and its state for the key type, and the resource's
//! scopes. Concludes with the subscription's throttle rule.

use tollgate_model::{KeyType, LifecycleState, Operation};

use super::authenticate::{Consumer, Scheme};
use super::route::Routed;
use crate::state::{SubscriptionAccess, ThrottleRule};
use crate::tokens::VerifiedClaims;
use crate::{GatewayError, RuntimeState};

/// Checks `consumer` may call `routed`; the subscription's throttle rule (`None` when its tier
/// is unlimited, or for a prototype, which needs no subscription).
pub fn authorize<'s>(
    state: &'s RuntimeState,
    routed: &Routed<'_, '_>,
    consumer: &Consumer<'_>,
) -> Result<Option<&'s ThrottleRule>, GatewayError> {
    let api = &routed.route.api;
    let claims = &consumer.claims;
    // An API that names audiences takes only tokens meant for one of them.
    if consumer.scheme == Scheme::OAuth2
        && !api.audiences.is_empty()
        && !claims.aud.iter().any(|aud| api.audiences.contains(aud))
    {
        return Err(GatewayError::InvalidCredentials(
            "the token is meant for another audience".into(),
        ));
    }
    let Some(entry) = state.subscription(&consumer.application.id, &api.id) else {
        // A prototype is for trying out: any application's credential may call it.
        if api.lifecycle_status == LifecycleState::Prototyped {
            check_scopes(routed.operation, claims)?;
            return Ok(None);
        }
        return Err(GatewayError::NotSubscribed);
    };
    match entry.access {
        SubscriptionAccess::Blocked => return Err(GatewayError::SubscriptionBlocked),
        SubscriptionAccess::ProductionBlocked if consumer.key_type == KeyType::Production => {
            return Err(GatewayError::SubscriptionBlocked)
        }
        SubscriptionAccess::Unblocked | SubscriptionAccess::ProductionBlocked => {}
        SubscriptionAccess::Inactive => return Err(GatewayError::SubscriptionInactive),
    }
    check_scopes(routed.operation, claims)?;
    Ok(entry.throttle.as_ref())
}

/// A resource that names scopes needs a credential holding one of them (an API key holds none).
fn check_scopes(operation: &Operation, claims: &VerifiedClaims) -> Result<(), GatewayError> {
    if !operation.scopes.is_empty()
        && !claims
            .scope
            .split_whitespace()
            .any(|s| operation.scopes.iter().any(|r| r == s))
    {
        return Err(GatewayError::InvalidScope);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::Method;
    use tollgate_model::{Application, DeployedApi, Event, RuntimeData, Subscription};

    use super::*;
    use crate::phases::route::route;
    use crate::state::fixtures::runtime_api;

    fn state() -> RuntimeState {
        let mut data = RuntimeData::new(vec!["Default".into()]);
        for (id, context, status) in [("a", "/shop", "PUBLISHED"), ("p", "/proto", "PROTOTYPED")] {
            let operations = [("/items", vec![]), ("/secret", vec!["read".to_string()])]
                .into_iter()
                .map(|(target, scopes)| Operation {
                    verb: "GET".parse().unwrap(),
                    target: target.into(),
                    auth_type: tollgate_model::AuthType::Any,
                    throttling_policy: None,
                    scopes,
                })
                .collect();
            let mut api = runtime_api(id, context, status, operations);
            api.audiences = vec!["shop".into()];
            data.apply(&Event::ApiDeploy(DeployedApi {
                environment: "Default".into(),
                api,
            }));
        }
        for (app, status) in [
            ("app1", Some("UNBLOCKED")),
            ("app2", Some("PROD_ONLY_BLOCKED")),
            ("app3", Some("BLOCKED")),
            ("app4", None),
        ] {
            data.apply(&Event::ApplicationCreate(Application {
                id: app.into(),
                tenant: "carbon.super".into(),
                name: app.into(),
                owner: "alice".into(),
                throttling_policy: "Unlimited".into(),
                status: tollgate_model::ApplicationStatus::Approved,
            }));
            if let Some(status) = status {
                data.apply(&Event::SubscriptionCreate(Subscription {
                    id: format!("s-{app}"),
                    tenant: "carbon.super".into(),
                    application_id: app.into(),
                    api_id: "a".into(),
                    throttling_policy: "Unlimited".into(),
                    status: status.parse().unwrap(),
                }));
            }
        }
        RuntimeState::build(&data)
    }

    fn claims(scope: &str, aud: &[&str]) -> Arc<VerifiedClaims> {
        Arc::new(VerifiedClaims {
            azp: "client".into(),
            scope: scope.into(),
            jti: "j".into(),
            exp: i64::MAX,
            iat: 0,
            aud: aud.iter().map(|a| a.to_string()).collect(),
            origin: None,
            introspected: false,
            api_key: None,
        })
    }

    fn check(
        state: &RuntimeState,
        path: &str,
        app: &str,
        key_type: KeyType,
        scheme: Scheme,
        claims: Arc<VerifiedClaims>,
    ) -> Result<(), GatewayError> {
        let routed = route(state, None, &Method::GET, path).unwrap();
        let consumer = Consumer {
            application: state.application(app).unwrap(),
            key_type,
            scheme,
            claims,
        };
        authorize(state, &routed, &consumer).map(|_| ())
    }

    #[test]
    fn audiences_concern_tokens_only() {
        let state = state();
        let items = "/shop/1.0.0/items";
        let (prod, token, key) = (KeyType::Production, Scheme::OAuth2, Scheme::ApiKey);
        assert!(check(&state, items, "app1", prod, token, claims("", &["shop"])).is_ok());
        assert!(matches!(
            check(&state, items, "app1", prod, token, claims("", &["other"])),
            Err(GatewayError::InvalidCredentials(_))
        ));
        assert!(check(&state, items, "app1", prod, key, claims("", &[])).is_ok());
    }

    #[test]
    fn a_production_only_block_lets_sandbox_keys_through() {
        let state = state();
        let items = "/shop/1.0.0/items";
        let call = |app, key_type| {
            check(
                &state,
                items,
                app,
                key_type,
                Scheme::ApiKey,
                claims("", &[]),
            )
        };
        assert!(matches!(
            call("app2", KeyType::Production),
            Err(GatewayError::SubscriptionBlocked)
        ));
        assert!(call("app2", KeyType::Sandbox).is_ok());
        assert!(matches!(
            call("app3", KeyType::Sandbox),
            Err(GatewayError::SubscriptionBlocked)
        ));
        assert!(matches!(
            call("app4", KeyType::Production),
            Err(GatewayError::NotSubscribed)
        ));
    }

    #[test]
    fn a_prototype_needs_no_subscription_but_keeps_its_scopes() {
        let state = state();
        let call = |path, scope| {
            check(
                &state,
                path,
                "app4",
                KeyType::Production,
                Scheme::OAuth2,
                claims(scope, &["shop"]),
            )
        };
        assert!(call("/proto/1.0.0/items", "").is_ok());
        assert!(matches!(
            call("/proto/1.0.0/secret", "write"),
            Err(GatewayError::InvalidScope)
        ));
        assert!(call("/proto/1.0.0/secret", "write read").is_ok());
    }

    #[test]
    fn a_resource_with_scopes_needs_one_of_them() {
        let state = state();
        let call = |scheme, scope| {
            check(
                &state,
                "/shop/1.0.0/secret",
                "app1",
                KeyType::Production,
                scheme,
                claims(scope, &["shop"]),
            )
        };
        assert!(call(Scheme::OAuth2, "openid read").is_ok());
        assert!(matches!(
            call(Scheme::OAuth2, "openid"),
            Err(GatewayError::InvalidScope)
        ));
        // An API key holds no scopes.
        assert!(matches!(
            call(Scheme::ApiKey, ""),
            Err(GatewayError::InvalidScope)
        ));
    }
}
