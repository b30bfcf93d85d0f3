-- Users (Features/Users). Emails are stored trimmed and lower-cased, so a plain unique index is case-insensitive in effect.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         varchar(254) NOT NULL,
    display_name  varchar(100) NOT NULL,
    password_hash text NOT NULL,
    role          varchar(16) NOT NULL CONSTRAINT ck_users_role CHECK (role IN ('admin', 'user', 'guest')),
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_users_email ON users (email);

-- Tasks (Features/Tasks). Lists are newest first by keyset on (created_at, id), per owner or across all for admins.
CREATE TABLE tasks (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL,
    title       varchar(200) NOT NULL,
    description varchar(4000),
    status      varchar(16) NOT NULL CONSTRAINT ck_tasks_status CHECK (status IN ('todo', 'in_progress', 'done')),
    due_at      timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX ix_tasks_owner_id_created_at_id ON tasks (owner_id, created_at DESC, id DESC);
CREATE INDEX ix_tasks_created_at_id ON tasks (created_at DESC, id DESC);
