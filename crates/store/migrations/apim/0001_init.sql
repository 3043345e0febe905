-- The API Manager database: APIs, revisions, deployments, applications, subscriptions, keys,
-- throttling policies and the event outbox. Portable SQL: runs unchanged on SQLite and PostgreSQL.

CREATE TABLE tollgate_meta (
    meta_key   TEXT PRIMARY KEY,
    meta_value TEXT NOT NULL
);

CREATE TABLE am_api (
    api_id           TEXT PRIMARY KEY,
    tenant           TEXT NOT NULL DEFAULT 'carbon.super',
    name             TEXT NOT NULL,
    context          TEXT NOT NULL,
    version          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    lifecycle_status TEXT NOT NULL,
    api_type         TEXT NOT NULL,
    definition       TEXT NOT NULL,
    created_time     BIGINT NOT NULL,
    updated_time     BIGINT NOT NULL,
    UNIQUE (tenant, context, version),
    UNIQUE (tenant, name, version)
);

CREATE TABLE am_api_revision (
    revision_id     TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL DEFAULT 'carbon.super',
    api_id          TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    revision_number BIGINT NOT NULL,
    description     TEXT NOT NULL,
    definition      TEXT NOT NULL,
    runtime         TEXT NOT NULL,
    created_time    BIGINT NOT NULL,
    UNIQUE (api_id, revision_number)
);

CREATE TABLE am_api_deployment (
    api_id               TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    environment          TEXT NOT NULL,
    tenant               TEXT NOT NULL DEFAULT 'carbon.super',
    revision_id          TEXT NOT NULL REFERENCES am_api_revision (revision_id) ON DELETE CASCADE,
    vhost                TEXT NOT NULL,
    display_on_devportal BIGINT NOT NULL,
    deployed_time        BIGINT NOT NULL,
    PRIMARY KEY (api_id, environment)
);

CREATE TABLE am_policy (
    policy_id     TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL DEFAULT 'carbon.super',
    level         TEXT NOT NULL,
    name          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    description   TEXT NOT NULL,
    request_count BIGINT,
    unit_time     BIGINT NOT NULL,
    time_unit     TEXT NOT NULL,
    UNIQUE (tenant, level, name)
);

CREATE TABLE am_application (
    application_id    TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL DEFAULT 'carbon.super',
    name              TEXT NOT NULL,
    owner             TEXT NOT NULL,
    throttling_policy TEXT NOT NULL,
    description       TEXT NOT NULL,
    token_type        TEXT NOT NULL,
    status            TEXT NOT NULL,
    attributes        TEXT NOT NULL,
    created_time      BIGINT NOT NULL,
    updated_time      BIGINT NOT NULL,
    UNIQUE (tenant, owner, name)
);

CREATE TABLE am_subscription (
    subscription_id   TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL DEFAULT 'carbon.super',
    application_id    TEXT NOT NULL REFERENCES am_application (application_id) ON DELETE CASCADE,
    api_id            TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    throttling_policy TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_time      BIGINT NOT NULL,
    UNIQUE (application_id, api_id)
);

-- OAuth clients of the resident key manager: DCR clients and applications' key pairs alike.
CREATE TABLE am_oauth_client (
    consumer_key    TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL DEFAULT 'carbon.super',
    consumer_secret TEXT NOT NULL,
    client_name     TEXT NOT NULL,
    owner           TEXT NOT NULL,
    grant_types     TEXT NOT NULL,
    callback_url    TEXT NOT NULL,
    created_time    BIGINT NOT NULL
);

CREATE TABLE am_key_mapping (
    key_mapping_id TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL DEFAULT 'carbon.super',
    application_id TEXT NOT NULL REFERENCES am_application (application_id) ON DELETE CASCADE,
    consumer_key   TEXT NOT NULL UNIQUE REFERENCES am_oauth_client (consumer_key),
    key_type       TEXT NOT NULL,
    key_manager    TEXT NOT NULL,
    created_time   BIGINT NOT NULL,
    UNIQUE (application_id, key_type, key_manager)
);

CREATE TABLE am_signing_key (
    kid             TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL DEFAULT 'carbon.super',
    private_key_pem TEXT NOT NULL,
    n               TEXT NOT NULL,
    e               TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    active          BIGINT NOT NULL,
    created_time    BIGINT NOT NULL
);

-- Every controller event, written in the transaction of the change it reports. `seq` is dense
-- (writers serialise on this table), so a consumer can tell a gap from a quiet period.
CREATE TABLE am_outbox (
    seq          BIGINT PRIMARY KEY,
    tenant       TEXT NOT NULL DEFAULT 'carbon.super',
    event_type   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_time BIGINT NOT NULL
);

CREATE INDEX am_subscription_api ON am_subscription (api_id);
CREATE INDEX am_application_owner ON am_application (tenant, owner);

-- WSO2's default throttling tiers.
INSERT INTO am_policy (policy_id, level, name, display_name, description, request_count, unit_time, time_unit) VALUES
 ('d1f0c1a0-0000-4000-8000-000000000001', 'subscription', 'Gold', 'Gold', 'Allows 5000 requests per minute', 5000, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000002', 'subscription', 'Silver', 'Silver', 'Allows 2000 requests per minute', 2000, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000003', 'subscription', 'Bronze', 'Bronze', 'Allows 1000 requests per minute', 1000, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000004', 'subscription', 'Unauthenticated', 'Unauthenticated', 'Allows 500 request(s) per minute', 500, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000005', 'subscription', 'Unlimited', 'Unlimited', 'Allows unlimited requests', NULL, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000011', 'application', '50PerMin', '50PerMin', 'Allows 50 request per minute', 50, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000012', 'application', '20PerMin', '20PerMin', 'Allows 20 request per minute', 20, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000013', 'application', '10PerMin', '10PerMin', 'Allows 10 request per minute', 10, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000014', 'application', 'Unlimited', 'Unlimited', 'Allows unlimited requests', NULL, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000021', 'api', '50KPerMin', '50KPerMin', 'Allows 50000 requests per minute', 50000, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000022', 'api', '20KPerMin', '20KPerMin', 'Allows 20000 requests per minute', 20000, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000023', 'api', '10KPerMin', '10KPerMin', 'Allows 10000 requests per minute', 10000, 1, 'min'),
 ('d1f0c1a0-0000-4000-8000-000000000024', 'api', 'Unlimited', 'Unlimited', 'Allows unlimited requests', NULL, 1, 'min');
