-- The shared database: users and roles (and, later, documents and other registry data).

CREATE TABLE um_user (
    user_id       TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL DEFAULT 'carbon.super',
    username      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_time  BIGINT NOT NULL,
    UNIQUE (tenant, username)
);

CREATE TABLE um_role (
    tenant    TEXT NOT NULL DEFAULT 'carbon.super',
    role_name TEXT NOT NULL,
    PRIMARY KEY (tenant, role_name)
);

CREATE TABLE um_user_role (
    user_id   TEXT NOT NULL REFERENCES um_user (user_id) ON DELETE CASCADE,
    role_name TEXT NOT NULL,
    PRIMARY KEY (user_id, role_name)
);

INSERT INTO um_role (role_name) VALUES ('admin'), ('creator'), ('publisher'), ('subscriber');
