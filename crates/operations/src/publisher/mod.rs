//! The API provider's operations (WSO2's Publisher).

pub mod apis;
pub mod definition;
pub mod definitions;
pub mod documents;
pub mod endpoint_certificates;
pub mod lifecycle;
pub mod openapi;
pub mod projects;
pub mod query;
pub mod revisions;
pub mod scopes;
pub mod settings;
pub mod subscriptions;

pub use definition::ApiDefinition;

/// Who may do what, by WSO2's scopes (any one listed suffices).
pub mod permissions {
    pub const VIEW: &[&str] = &[
        "apim:api_view",
        "apim:api_manage",
        "apim:api_import_export",
        "apim:api_list_view",
        "apim:api_product_import_export",
    ];
    pub const CREATE: &[&str] = &["apim:api_create", "apim:api_manage"];
    pub const UPDATE: &[&str] = &["apim:api_create", "apim:api_manage", "apim:api_publish"];
    pub const DELETE: &[&str] = &["apim:api_delete", "apim:api_manage"];
    pub const REVISE: &[&str] = &[
        "apim:api_create",
        "apim:api_manage",
        "apim:api_publish",
        "apim:api_import_export",
    ];
    pub const DEPLOY: &[&str] = &[
        "apim:api_create",
        "apim:api_manage",
        "apim:api_publish",
        "apim:api_import_export",
    ];
    pub const PUBLISH: &[&str] = &[
        "apim:api_publish",
        "apim:api_manage",
        "apim:api_import_export",
    ];
    pub const BLOCK_SUBSCRIPTION: &[&str] =
        &["apim:subscription_block", "apim:subscription_manage"];
    pub const VIEW_SUBSCRIPTIONS: &[&str] = &[
        "apim:subscription_view",
        "apim:subscription_manage",
        "apim:api_view",
        "apim:api_manage",
    ];
}
