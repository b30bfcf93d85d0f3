-- Task assignment (Features/Tasks): an assignee reads the task and changes its status; deleting the
-- assignee's account unassigns the task.
ALTER TABLE tasks ADD COLUMN assignee_id uuid REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX ix_tasks_assignee_id_created_at_id ON tasks (assignee_id, created_at DESC, id DESC);
