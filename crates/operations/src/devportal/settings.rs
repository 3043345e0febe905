//! What a developer portal reads to set itself up: the grants keys may have, the gateway, the
//! password rules (open to visitors: a portal reads them before sign-in), and the attributes
//! applications carry.

use super::ApplicationAttribute;
use crate::{Actor, OpResult, Services};

/// The developer portal's settings (WSO2's `Settings`).
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// The grant types application keys may be given.
    pub grant_types: Vec<&'static str>,
    /// The REST API's scopes a developer portal client asks for.
    pub scopes: &'static [&'static str],
    /// The first gateway environment's URLs (`http,https`), as WSO2's `apiGatewayEndpoint`.
    pub gateway_endpoint: String,
    pub anonymous_mode: bool,
    pub min_password_length: usize,
    pub max_password_length: usize,
}

/// The scopes of WSO2's Developer Portal REST API.
const PORTAL_SCOPES: &[&str] = &[
    "apim:subscribe",
    "apim:app_manage",
    "apim:sub_manage",
    "apim:api_key",
    "apim:store_settings",
];

/// Who may read the application attributes.
const READ_ATTRIBUTES: &[&str] = &["apim:subscribe", "apim:app_manage"];

pub fn settings(services: &Services) -> PortalSettings {
    PortalSettings {
        grant_types: services.key_manager.supported_grants(),
        scopes: PORTAL_SCOPES,
        gateway_endpoint: services
            .environments
            .first()
            .map(|e| format!("{},{}", e.http_endpoint, e.https_endpoint))
            .unwrap_or_default(),
        anonymous_mode: services.devportal.anonymous_mode,
        min_password_length: services.users.min_password_length,
        max_password_length: services.users.max_password_length,
    }
}

/// The attributes applications carry, as configured.
pub fn application_attributes<'s>(
    services: &'s Services,
    actor: &Actor,
) -> OpResult<&'s [ApplicationAttribute]> {
    actor.require_any(READ_ATTRIBUTES)?;
    Ok(&services.devportal.application_attributes)
}
