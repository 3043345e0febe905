-- Token revocation and per-hub relay progress, for the distributed deployment.

CREATE TABLE am_revoked_token (
    jti          TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL DEFAULT 'carbon.super',
    expires_at   BIGINT NOT NULL,
    revoked_time BIGINT NOT NULL
);

-- How far the outbox has been delivered to each event hub, so a restarted control plane resumes
-- where it left off and a hub that was down catches up.
CREATE TABLE am_outbox_relay (
    hub_url  TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
