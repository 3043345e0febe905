-- Web portal sign-ins: a session per browser, found by the hash of its cookie (the cookie
-- itself is never stored), with the token every form of the session must carry.
CREATE TABLE am_portal_session (
    session_hash TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL DEFAULT 'carbon.super',
    username     TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_time BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    -- No use after this moment, however active (milliseconds).
    expires_time BIGINT NOT NULL
);
CREATE INDEX am_portal_session_user ON am_portal_session (tenant, username);
