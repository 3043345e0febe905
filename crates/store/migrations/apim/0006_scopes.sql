-- OAuth2 scopes APIs protect resources with: shared ones (api_id NULL) and API-local ones,
-- each bound to roles. Names are unique per tenant, as in WSO2.
CREATE TABLE am_scope (
    scope_id     TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL DEFAULT 'carbon.super',
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL,
    bindings     TEXT NOT NULL,
    api_id       TEXT REFERENCES am_api (api_id) ON DELETE CASCADE,
    UNIQUE (tenant, name)
);

-- Which scopes each API resource requires, for a scope's usage.
CREATE TABLE am_api_resource_scope (
    api_id TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    tenant TEXT NOT NULL DEFAULT 'carbon.super',
    verb   TEXT NOT NULL,
    target TEXT NOT NULL,
    scope  TEXT NOT NULL,
    PRIMARY KEY (api_id, verb, target, scope)
);
CREATE INDEX am_api_resource_scope_scope ON am_api_resource_scope (tenant, scope);
