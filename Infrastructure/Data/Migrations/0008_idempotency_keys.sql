-- Idempotency keys (Infrastructure/Http/Idempotency.cs, draft-ietf-httpapi-idempotency-key-header): the outcome of
-- a POST sent with Idempotency-Key, per user and key, replayed to retries for 24 hours. status_code 0 marks a key
-- claimed by a request still in its transaction (never visible to others: the row is committed with the outcome).
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          varchar(255) NOT NULL,
    fingerprint  bytea NOT NULL,
    status_code  integer NOT NULL,
    content_type varchar(200),
    location     varchar(2000),
    etag         varchar(200),
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX ix_idempotency_keys_expires_at ON idempotency_keys (expires_at);
