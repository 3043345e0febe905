-- API documents. A file's bytes are kept base64-encoded in `file_content` (portable text).
CREATE TABLE am_api_document (
    document_id       TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL DEFAULT 'carbon.super',
    api_id            TEXT NOT NULL REFERENCES am_api (api_id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    doc_type          TEXT NOT NULL,
    other_type_name   TEXT,
    summary           TEXT NOT NULL,
    source_type       TEXT NOT NULL,
    source_url        TEXT,
    visibility        TEXT NOT NULL,
    inline_content    TEXT,
    file_name         TEXT,
    file_content_type TEXT,
    file_content      TEXT,
    created_time      BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    updated_time      BIGINT NOT NULL,
    updated_by        TEXT NOT NULL,
    UNIQUE (api_id, name)
);
