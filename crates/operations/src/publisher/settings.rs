//! What the publisher's clients read to set themselves up: settings, tiers, thumbnails.

use tollgate_model::{PolicyLevel, ThrottlePolicy};
use tollgate_store::Thumbnail;

use super::permissions;
use crate::environments::Environment;
use crate::{Actor, OpError, OpResult, Services};

/// The publisher's settings: the gateway environments and the REST API's scopes.
pub struct Settings {
    pub environments: Vec<Environment>,
    pub devportal_url: String,
    pub scopes: Vec<&'static str>,
}

pub async fn settings(services: &Services, actor: &Actor) -> OpResult<Settings> {
    actor.require_any(permissions::VIEW)?;
    Ok(Settings {
        environments: crate::environments::all_environments(services, &actor.tenant).await?,
        devportal_url: format!("{}/devportal", services.control_plane_url),
        scopes: tollgate_model::scopes::publisher_scopes(),
    })
}

/// The tiers an API or its subscriptions can use.
pub async fn throttling_policies(
    services: &Services,
    actor: &Actor,
    level: PolicyLevel,
) -> OpResult<Vec<ThrottlePolicy>> {
    actor.require_any(&[
        "apim:api_view",
        "apim:api_create",
        "apim:api_publish",
        "apim:api_manage",
        "apim:tier_view",
    ])?;
    if level == PolicyLevel::Application {
        return Err(OpError::invalid(
            "policyLevel",
            "'application' tiers are the Admin API's; use api or subscription",
        ));
    }
    Ok(services.store.policies(&actor.tenant, level).await?)
}

/// The largest thumbnail accepted.
pub const MAX_THUMBNAIL_BYTES: usize = 1024 * 1024;

/// The image kind of `bytes`, by its signature: PNG, JPEG, GIF, WebP or SVG.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    let text_start = std::str::from_utf8(&bytes[..bytes.len().min(512)])
        .ok()
        .map(str::trim_start);
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if text_start
        .is_some_and(|t| t.starts_with("<svg") || (t.starts_with("<?xml") && t.contains("<svg")))
    {
        Some("image/svg+xml")
    } else {
        None
    }
}

/// Sets an API's thumbnail: an image (PNG, JPEG, GIF, WebP or SVG) of at most 1 MB.
pub async fn set_thumbnail(
    services: &Services,
    actor: &Actor,
    api_id: &str,
    content: Vec<u8>,
) -> OpResult<Thumbnail> {
    actor.require_any(permissions::UPDATE)?;
    if content.len() > MAX_THUMBNAIL_BYTES {
        return Err(OpError::invalid(
            "file",
            format!("must be at most {MAX_THUMBNAIL_BYTES} bytes"),
        ));
    }
    let content_type = image_type(&content)
        .ok_or_else(|| OpError::invalid("file", "must be a PNG, JPEG, GIF, WebP or SVG image"))?;
    let image = Thumbnail {
        content_type: content_type.to_string(),
        content,
    };
    let mut tx = services.store.begin().await?;
    let api = tx.api(&actor.tenant, api_id).await?;
    tx.set_thumbnail(&api.id, &image).await?;
    tx.commit().await?;
    Ok(image)
}

pub async fn thumbnail(services: &Services, actor: &Actor, api_id: &str) -> OpResult<Thumbnail> {
    actor.require_any(permissions::VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    services
        .store
        .thumbnail(&api.id)
        .await?
        .ok_or_else(|| OpError::NotFound(format!("thumbnail of API {api_id}")))
}

/// The subscription tiers an API offers, with their limits.
pub async fn api_subscription_policies(
    services: &Services,
    actor: &Actor,
    api_id: &str,
) -> OpResult<Vec<ThrottlePolicy>> {
    actor.require_any(permissions::VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    let offered = super::definition::ApiDefinition::from_json(api.definition)?.policies;
    let all = services
        .store
        .policies(&actor.tenant, PolicyLevel::Subscription)
        .await?;
    Ok(all
        .into_iter()
        .filter(|p| offered.contains(&p.name))
        .collect())
}

/// An API's resources as `(verb, path)`, in its order.
pub async fn resource_paths(
    services: &Services,
    actor: &Actor,
    api_id: &str,
) -> OpResult<Vec<(String, String)>> {
    actor.require_any(permissions::VIEW)?;
    let api = services.store.api(&actor.tenant, api_id).await?;
    Ok(super::definition::ApiDefinition::from_json(api.definition)?
        .operations
        .into_iter()
        .map(|r| (r.verb.as_str().to_string(), r.target))
        .collect())
}

/// What a backend answered when probed, or why it could not be reached.
pub struct EndpointProbe {
    pub status: u16,
    pub message: String,
    pub error: Option<String>,
}

/// Probes a backend URL as WSO2 does: a HEAD (a GET when HEAD is not allowed), five seconds at
/// most. An unreachable endpoint is reported as 404 with the reason, as WSO2 reports it.
pub async fn validate_endpoint(actor: &Actor, url: &str) -> OpResult<EndpointProbe> {
    actor.require_any(permissions::CREATE)?;
    let parsed = url.parse::<http::Uri>().ok().filter(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    });
    if parsed.is_none() {
        return Err(OpError::invalid(
            "endpointUrl",
            format!("'{url}' is not an http:// or https:// URL"),
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| OpError::invalid("endpointUrl", format!("cannot probe: {e}")))?;
    let mut response = client.head(url).send().await;
    if matches!(&response, Ok(r) if r.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED) {
        response = client.get(url).send().await;
    }
    Ok(match response {
        Ok(response) => EndpointProbe {
            status: response.status().as_u16(),
            message: response
                .status()
                .canonical_reason()
                .unwrap_or("")
                .to_string(),
            error: None,
        },
        Err(err) => EndpointProbe {
            status: 404,
            message: "Not Found".into(),
            error: Some(err.to_string()),
        },
    })
}
