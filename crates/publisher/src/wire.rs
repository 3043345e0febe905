//! WSO2's JSON shapes of the Publisher API's results.

use serde_json::{json, Value};
use tollgate_model::LifecycleState;
use tollgate_operations::publisher::revisions::DeploymentStatus;
use tollgate_store::{ApiRow, DeploymentRow, LifecycleEventRow, RevisionRow};

/// Removes `null` members: an absent optional field, as WSO2's schemas describe it.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// The API object: the stored definition (`null` members left out) with the server's fields.
pub(crate) fn api_json(api: &ApiRow) -> Value {
    let mut out = api.definition.clone();
    drop_nulls(&mut out);
    if let Some(object) = out.as_object_mut() {
        object.insert("id".into(), json!(api.id));
        object.insert("provider".into(), json!(api.provider));
        object.insert("lifeCycleStatus".into(), json!(api.lifecycle_status));
        object.insert("isDefaultVersion".into(), json!(api.is_default_version));
        object.insert("createdTime".into(), json!(api.created_time.to_string()));
        object.insert(
            "lastUpdatedTime".into(),
            json!(api.updated_time.to_string()),
        );
        object.insert("hasThumbnail".into(), json!(api.has_thumbnail));
        object.insert("isRevision".into(), json!(false));
    }
    out
}

/// The short form used in lists (WSO2's `APIInfo`).
pub(crate) fn api_info_json(api: &ApiRow) -> Value {
    let pick = |k: &str| api.definition.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "id": api.id,
        "name": api.name,
        "description": api.description,
        "context": api.context,
        "version": api.version,
        "provider": api.provider,
        "type": api.api_type,
        "lifeCycleStatus": api.lifecycle_status,
        "hasThumbnail": api.has_thumbnail,
        "securityScheme": pick("securityScheme"),
        "createdTime": api.created_time.to_string(),
        "updatedTime": api.updated_time.to_string(),
        "gatewayVendor": pick("gatewayVendor"),
        "advertiseOnly": false,
        "isDefaultVersion": api.is_default_version,
    })
}

/// `ETag` of an API: its write count.
pub(crate) fn etag(api: &ApiRow) -> String {
    format!("\"{}\"", api.row_version)
}

pub(crate) fn revision_json(revision: &RevisionRow, deployments: &[DeploymentRow]) -> Value {
    json!({
        "displayName": format!("Revision {}", revision.number),
        "id": revision.id,
        "description": revision.description,
        "createdTime": revision.created_time.to_string(),
        "apiInfo": {"id": revision.api_id},
        "deploymentInfo": deployments
            .iter()
            .filter(|d| d.revision_id == revision.id)
            .map(deployment_json)
            .collect::<Vec<_>>(),
    })
}

pub(crate) fn deployment_json(d: &DeploymentRow) -> Value {
    json!({
        "revisionUuid": d.revision_id,
        "name": d.environment,
        "vhost": d.vhost,
        "displayOnDevportal": d.display_on_devportal,
        "deployedTime": d.deployed_time.to_string(),
    })
}

/// A deployment with its gateways' progress: `successDeployedTime` once every live gateway of
/// the environment serves it, and (Tollgate's) `liveGateways` / `appliedGateways` counts.
pub(crate) fn deployment_status_json(status: &DeploymentStatus) -> Value {
    let mut body = deployment_json(&status.deployment);
    if status.live_gateways > 0 && status.applied_gateways == status.live_gateways {
        body["successDeployedTime"] = json!(status.deployment.deployed_time.to_string());
    }
    body["liveGateways"] = json!(status.live_gateways);
    body["appliedGateways"] = json!(status.applied_gateways);
    body
}

/// WSO2's `LifecycleState`: the state, its check items and the actions allowed from it.
pub(crate) fn lifecycle_state_json(state: LifecycleState) -> Value {
    let check_items: Vec<Value> = if state == LifecycleState::Published {
        vec![]
    } else {
        [
            tollgate_operations::publisher::lifecycle::DEPRECATE_OLD_VERSIONS,
            tollgate_operations::publisher::lifecycle::REQUIRES_RESUBSCRIPTION,
        ]
        .iter()
        .map(|name| json!({"name": name, "value": false, "requiredStates": []}))
        .collect()
    };
    json!({
        "state": state.display_name(),
        "checkItems": check_items,
        "availableTransitions": state
            .actions()
            .iter()
            .map(|action| json!({
                "event": action,
                "targetState": state.after(*action).map(LifecycleState::display_name),
            }))
            .collect::<Vec<_>>(),
    })
}

pub(crate) fn lifecycle_history_json(history: &[LifecycleEventRow]) -> Value {
    json!({
        "count": history.len(),
        "list": history.iter().map(|event| {
            let mut item = json!({
                "postState": event.new_state.display_name(),
                "user": event.username,
                "updatedTime": rfc3339(event.time),
            });
            if let Some(previous) = event.previous_state {
                item["previousState"] = json!(previous.display_name());
            }
            item
        }).collect::<Vec<_>>(),
    })
}

/// A name as WSO2's clients put it in a path (scopes, roles): base64url-encoded. `None` when
/// `encoded` is not that (the caller may then take it as the plain name).
pub(crate) fn decode_name(encoded: &str) -> Option<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|name| !name.is_empty() && !name.chars().any(char::is_control))
}

pub(crate) use tollgate_restcore::rfc3339;

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_709_294_400_000), "2024-03-01T12:00:00Z");
    }
}
