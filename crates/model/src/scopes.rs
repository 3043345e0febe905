//! Which REST API scopes each built-in role grants, after WSO2's default role-to-scope mapping.

/// WSO2's built-in roles, by their short names (WSO2 prefixes the last three with `Internal/`).
pub mod roles {
    pub const ADMIN: &str = "admin";
    pub const CREATOR: &str = "creator";
    pub const PUBLISHER: &str = "publisher";
    pub const SUBSCRIBER: &str = "subscriber";
    pub const ALL: &[&str] = &[ADMIN, CREATOR, PUBLISHER, SUBSCRIBER];
}

const CREATOR_SCOPES: &[&str] = &[
    "apim:api_view",
    "apim:api_list_view",
    "apim:api_create",
    "apim:api_delete",
    "apim:api_definition_view",
    "apim:document_create",
    "apim:document_manage",
    "apim:mediation_policy_view",
    "apim:mediation_policy_create",
    "apim:client_certificates_view",
    "apim:client_certificates_add",
    "apim:ep_certificates_view",
    "apim:ep_certificates_add",
    "apim:shared_scope_manage",
    "apim:tier_view",
    "apim:comment_view",
    "apim:comment_write",
    "apim:pub_alert_manage",
];

const PUBLISHER_SCOPES: &[&str] = &[
    "apim:api_view",
    "apim:api_list_view",
    "apim:api_publish",
    "apim:api_definition_view",
    "apim:subscription_view",
    "apim:subscription_block",
    "apim:subscription_manage",
    "apim:tier_view",
    "apim:comment_view",
    "apim:comment_write",
    "apim:pub_alert_manage",
    "apim:client_certificates_view",
    "apim:ep_certificates_view",
    "apim:mediation_policy_view",
];

const SUBSCRIBER_SCOPES: &[&str] = &[
    "apim:subscribe",
    "apim:app_manage",
    "apim:sub_manage",
    "apim:store_settings",
    "apim:sub_alert_manage",
    "apim:app_import_export",
];

/// Whether a user holding `roles` may be granted `scope`. `admin` may be granted every `apim:` scope.
pub fn role_allows(roles: &[String], scope: &str) -> bool {
    roles.iter().any(|role| match role.as_str() {
        roles::ADMIN => scope.starts_with("apim:"),
        roles::CREATOR => CREATOR_SCOPES.contains(&scope),
        roles::PUBLISHER => PUBLISHER_SCOPES.contains(&scope),
        roles::SUBSCRIBER => SUBSCRIBER_SCOPES.contains(&scope),
        _ => false,
    })
}

/// The Publisher API's scopes (the creator's and the publisher's), for its settings.
pub fn publisher_scopes() -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> = CREATOR_SCOPES
        .iter()
        .chain(PUBLISHER_SCOPES)
        .copied()
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

/// Keeps the requested scopes the roles allow; `default` and `openid` are always granted, as in WSO2.
pub fn grantable(roles: &[String], requested: &[&str]) -> Vec<String> {
    requested
        .iter()
        .filter(|s| **s == "default" || **s == "openid" || role_allows(roles, s))
        .map(|s| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_their_scopes_only() {
        let sub = vec!["subscriber".to_string()];
        assert_eq!(
            grantable(&sub, &["apim:subscribe", "apim:api_create", "default"]),
            vec!["apim:subscribe", "default"]
        );
        let admin = vec!["admin".to_string()];
        assert!(role_allows(&admin, "apim:api_publish"));
        assert!(!role_allows(&admin, "other:thing"));
    }
}
