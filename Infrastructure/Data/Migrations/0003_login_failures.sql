-- Failed logins (Features/Auth), by normalized email whether or not an account has it, so a lockout
-- answers the same for known and unknown emails. Rows older than the window are deleted as failures come in.
CREATE TABLE login_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      varchar(254) NOT NULL,
    failed_at  timestamptz NOT NULL
);
CREATE INDEX ix_login_failures_email_failed_at ON login_failures (email, failed_at);
CREATE INDEX ix_login_failures_failed_at ON login_failures (failed_at);
