-- Task list queries (Features/Tasks/ListTasks): the orders by deadline and by title, and the search `q`.
-- Every order breaks ties by id in the same direction, so each index ends with id and serves both directions.

-- sort=dueAt: a task without a deadline sorts as if due at 'infinity' (last ascending, first descending).
-- The expression must stay the one ListTasks sends: COALESCE(due_at, 'infinity').
CREATE INDEX ix_tasks_due_sort_id ON tasks ((COALESCE(due_at, 'infinity'::timestamptz)), id);

-- sort=title (the database's collation).
CREATE INDEX ix_tasks_title_id ON tasks (title, id);

-- q: case-insensitive substring search (ILIKE '%q%') on title or description, through trigram GIN indexes.
-- pg_trgm is a trusted extension (PostgreSQL 13+), so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX ix_tasks_title_trgm ON tasks USING gin (title gin_trgm_ops);
CREATE INDEX ix_tasks_description_trgm ON tasks USING gin (description gin_trgm_ops);

-- A user's list merges the tasks they own with those assigned to them (TaskItemAccess.VisibleInListTo): each
-- order needs an owner and an assignee index so both halves come out already sorted.
CREATE INDEX ix_tasks_owner_id_due_sort_id ON tasks (owner_id, (COALESCE(due_at, 'infinity'::timestamptz)), id);
CREATE INDEX ix_tasks_owner_id_title_id ON tasks (owner_id, title, id);
CREATE INDEX ix_tasks_assignee_id_due_sort_id ON tasks (assignee_id, (COALESCE(due_at, 'infinity'::timestamptz)), id);
CREATE INDEX ix_tasks_assignee_id_title_id ON tasks (assignee_id, title, id);
