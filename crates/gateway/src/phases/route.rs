//! Route: the API whose context (and version) starts the path, then the operation whose URL
//! template and method match the rest. Both are lookups in tables built with the state.

use std::sync::Arc;

use http::Method;
use tollgate_model::{LifecycleState, Operation};

use crate::state::{ApiRoute, RouteMiss};
use crate::{GatewayError, RuntimeState};

/// Where a request goes: its API, the operation it calls, and the path below the API's base.
pub struct Routed<'s, 'p> {
    pub route: &'s Arc<ApiRoute>,
    pub operation: &'s Operation,
    /// The path below the API's base path, as the backend receives it.
    pub resource_path: &'p str,
}

/// Finds the API and operation of `method path` (`path` in normal form, see `crate::path`) on
/// `host` (the request's `Host`; an API deployed on some virtual hosts answers for those only).
pub fn route<'s, 'p>(
    state: &'s RuntimeState,
    host: Option<&str>,
    method: &Method,
    path: &'p str,
) -> Result<Routed<'s, 'p>, GatewayError> {
    let (route, resource_path) = state.route_on(host, path).ok_or(GatewayError::NoApi)?;
    if route.api.lifecycle_status == LifecycleState::Blocked {
        return Err(GatewayError::ApiBlocked);
    }
    let operation = route
        .operation(method, resource_path)
        .map_err(|miss| match miss {
            RouteMiss::NoResource => GatewayError::NoResource {
                method: method.to_string(),
                path: path.to_string(),
            },
            RouteMiss::MethodNotAllowed(allow) => GatewayError::MethodNotAllowed { allow },
        })?;
    Ok(Routed {
        route,
        operation,
        resource_path,
    })
}
