-- Failed logins per user, for WSO2's account locking ([identity_mgt.account_locking]): counted
-- here so every control-plane node sees them and an administrator can unlock an account.

ALTER TABLE um_user ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE um_user ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;
