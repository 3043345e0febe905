-- Users managed through SCIM 2.0 and self sign-up: their profile claims (name, e-mails) as
-- JSON, and when they last changed.
ALTER TABLE um_user ADD COLUMN claims TEXT NOT NULL DEFAULT '{}';
ALTER TABLE um_user ADD COLUMN updated_time BIGINT NOT NULL DEFAULT 0;
-- A deleted user's row stays (without password or roles) so that the name is never given to
-- someone else: applications and tokens are tied to names.
ALTER TABLE um_user ADD COLUMN deleted_time BIGINT NOT NULL DEFAULT 0;
