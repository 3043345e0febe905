-- The key manager as a full authorization server: per-client token settings, rotating refresh
-- tokens, authorization codes, opaque access tokens and a signing key set.

-- `consumer_secret` now holds a hash (`sha256:…`); the key manager re-hashes older plain values
-- at start. Validity columns are seconds; NULL means the configured default.
ALTER TABLE am_oauth_client ADD COLUMN token_type TEXT NOT NULL DEFAULT 'JWT';
ALTER TABLE am_oauth_client ADD COLUMN app_token_validity BIGINT;
ALTER TABLE am_oauth_client ADD COLUMN user_token_validity BIGINT;
ALTER TABLE am_oauth_client ADD COLUMN refresh_token_validity BIGINT;
ALTER TABLE am_oauth_client ADD COLUMN id_token_validity BIGINT;
ALTER TABLE am_oauth_client ADD COLUMN key_manager TEXT NOT NULL DEFAULT 'Resident Key Manager';

-- Refresh tokens, stored as hashes. Each use rotates the token within its family; presenting a
-- used one revokes the family (and the access tokens issued with it).
CREATE TABLE am_refresh_token (
    token_hash        TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL,
    tenant            TEXT NOT NULL DEFAULT 'carbon.super',
    consumer_key      TEXT NOT NULL,
    subject           TEXT NOT NULL,
    scope             TEXT NOT NULL,
    access_jti        TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    state             TEXT NOT NULL,
    created_time      BIGINT NOT NULL
);
CREATE INDEX am_refresh_token_family ON am_refresh_token (family_id);
CREATE INDEX am_refresh_token_client ON am_refresh_token (consumer_key);

-- Authorization codes (hashes), single use; `family_id`/`access_jti` record what was issued
-- from a code so that a replayed code can revoke it.
CREATE TABLE am_authorization_code (
    code_hash         TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL DEFAULT 'carbon.super',
    consumer_key      TEXT NOT NULL,
    subject           TEXT NOT NULL,
    scope             TEXT NOT NULL,
    redirect_uri      TEXT NOT NULL,
    code_challenge    TEXT NOT NULL,
    nonce             TEXT,
    auth_time         BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    used              BIGINT NOT NULL DEFAULT 0,
    family_id         TEXT,
    access_jti        TEXT,
    access_expires_at BIGINT
);

-- Opaque access tokens (for applications whose token type is OAUTH), as hashes.
CREATE TABLE am_access_token (
    token_hash   TEXT PRIMARY KEY,
    jti          TEXT NOT NULL UNIQUE,
    tenant       TEXT NOT NULL DEFAULT 'carbon.super',
    consumer_key TEXT NOT NULL,
    subject      TEXT NOT NULL,
    aut          TEXT NOT NULL,
    scope        TEXT NOT NULL,
    key_type     TEXT,
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX am_access_token_client ON am_access_token (consumer_key);

-- A key set: a superseded key stays published until `retire_after` (seconds), by when every
-- token it signed has expired.
ALTER TABLE am_signing_key ADD COLUMN retire_after BIGINT;

-- Consumer keys whose tokens issued before `revoked_before` are revoked (a new secret), until
-- `expires_at`, when every such token has expired (seconds).
CREATE TABLE am_consumer_key_revocation (
    consumer_key   TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL DEFAULT 'carbon.super',
    revoked_before BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
