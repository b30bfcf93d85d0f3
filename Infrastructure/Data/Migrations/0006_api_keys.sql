-- API keys (Features/ApiKeys): only a SHA-256 hash of each key is stored; the prefix identifies a key in lists.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        varchar(100) NOT NULL,
    scopes      text[] NOT NULL,
    key_hash    bytea NOT NULL,
    prefix      varchar(12) NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX ux_api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX ix_api_keys_owner_id ON api_keys (owner_id);
