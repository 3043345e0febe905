-- The developer portal: who may find an API (copied from its definition's visibility and
-- visibleRoles), ratings, and comments with replies.

-- NULL until copied: APIs written before this migration get it when the store opens.
ALTER TABLE am_api ADD COLUMN visibility TEXT;

-- The roles of a RESTRICTED API, lower case, without WSO2's `Internal/` prefix.
CREATE TABLE am_api_visible_role (
    api_id TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    tenant TEXT NOT NULL DEFAULT 'carbon.super',
    role   TEXT NOT NULL,
    PRIMARY KEY (api_id, role)
);

-- One rating (1 to 5) per user and API.
CREATE TABLE am_api_rating (
    rating_id  TEXT NOT NULL UNIQUE,
    tenant     TEXT NOT NULL DEFAULT 'carbon.super',
    api_id     TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    username   TEXT NOT NULL,
    rating     BIGINT NOT NULL,
    rated_time BIGINT NOT NULL,
    PRIMARY KEY (api_id, username)
);

-- Comments on an API; a reply names its parent (one level, as WSO2's portal shows them).
CREATE TABLE am_api_comment (
    comment_id   TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL DEFAULT 'carbon.super',
    api_id       TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    parent_id    TEXT REFERENCES am_api_comment (comment_id) ON DELETE CASCADE,
    content      TEXT NOT NULL,
    category     TEXT NOT NULL,
    entry_point  TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_time BIGINT NOT NULL,
    updated_time BIGINT NOT NULL
);
CREATE INDEX am_api_comment_api ON am_api_comment (api_id, parent_id, created_time);
