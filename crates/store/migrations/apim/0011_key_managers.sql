-- External key managers (WSO2's third-party key managers) added through the Admin API. The
-- columns gateways act on are typed; WSO2's other fields (endpoints, grant types, display
-- options, additionalProperties) are kept as given in `settings` (JSON).
CREATE TABLE am_key_manager (
    key_manager_id     TEXT PRIMARY KEY,
    tenant             TEXT NOT NULL DEFAULT 'carbon.super',
    name               TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    type               TEXT NOT NULL,
    description        TEXT NOT NULL,
    issuer             TEXT NOT NULL,
    jwks_endpoint      TEXT NOT NULL,
    consumer_key_claim TEXT NOT NULL,
    scopes_claim       TEXT NOT NULL,
    enabled            INTEGER NOT NULL,
    settings           TEXT NOT NULL,
    created_time       BIGINT NOT NULL,
    UNIQUE (tenant, name),
    -- The issuer selects the key manager for a token on every gateway: one per issuer, across
    -- tenants, so a tenant can never register another's identity provider with its own keys.
    UNIQUE (issuer)
);
