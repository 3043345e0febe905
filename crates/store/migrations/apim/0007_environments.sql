-- Gateway environments added through the Admin API (those in deployment.toml are not stored).
CREATE TABLE am_gateway_environment (
    environment_id TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL DEFAULT 'carbon.super',
    name           TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    description    TEXT NOT NULL,
    provider       TEXT NOT NULL,
    vhosts         TEXT NOT NULL,
    created_time   BIGINT NOT NULL,
    UNIQUE (tenant, name)
);
