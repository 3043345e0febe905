-- What each gateway has applied, as it reports it, and the outbox position of each deployment:
-- together they say whether gateways serve a deployed revision yet.
CREATE TABLE am_gateway_status (
    node_id     TEXT PRIMARY KEY,
    labels      TEXT NOT NULL,
    epoch       TEXT NOT NULL,
    applied_seq BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
ALTER TABLE am_api_deployment ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
