-- Certificates the Publisher uploaded for backend endpoints (WSO2's /endpoint-certificates):
-- gateways trust each for TLS to its endpoint's origin. Aliases are unique per tenant.
CREATE TABLE am_endpoint_certificate (
    tenant       TEXT NOT NULL DEFAULT 'carbon.super',
    alias        TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    certificate  TEXT NOT NULL,
    created_time BIGINT NOT NULL,
    PRIMARY KEY (tenant, alias)
);
CREATE INDEX am_endpoint_certificate_endpoint ON am_endpoint_certificate (tenant, endpoint);
