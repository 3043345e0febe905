-- The publisher's searchable fields, optimistic concurrency and lifecycle history.

-- Searched by the publisher's `description:` query; copied from the definition.
ALTER TABLE am_api ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE am_api ADD COLUMN is_default_version BIGINT NOT NULL DEFAULT 0;
-- Incremented by every write of the API: the ETag, and the guard against lost updates.
ALTER TABLE am_api ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE am_api_tag (
    api_id TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    tenant TEXT NOT NULL DEFAULT 'carbon.super',
    tag    TEXT NOT NULL,
    PRIMARY KEY (api_id, tag)
);
CREATE INDEX am_api_tag_tag ON am_api_tag (tenant, tag);

CREATE TABLE am_api_lifecycle_event (
    event_id       TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL DEFAULT 'carbon.super',
    api_id         TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    previous_state TEXT,
    new_state      TEXT NOT NULL,
    username       TEXT NOT NULL,
    event_time     BIGINT NOT NULL
);
CREATE INDEX am_api_lifecycle_event_api ON am_api_lifecycle_event (api_id, event_time);
