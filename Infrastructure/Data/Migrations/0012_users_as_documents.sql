-- Users are Marten documents now (Features/Users/User.cs, table mt_doc_user). Marten's schema step runs before the
-- SQL migrations, so the table exists here; the tables still on SQL keep their foreign keys, now to the document
-- table, with the same actions. No deployment held data when users moved.
ALTER TABLE tasks DROP CONSTRAINT fk_tasks_owner_id;
ALTER TABLE tasks DROP CONSTRAINT tasks_assignee_id_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_user_id_fkey;
DROP TABLE users;
ALTER TABLE tasks ADD CONSTRAINT fk_tasks_owner_id FOREIGN KEY (owner_id) REFERENCES mt_doc_user (id) ON DELETE CASCADE;
ALTER TABLE tasks ADD CONSTRAINT fk_tasks_assignee_id FOREIGN KEY (assignee_id) REFERENCES mt_doc_user (id) ON DELETE SET NULL;
ALTER TABLE idempotency_keys ADD CONSTRAINT fk_idempotency_keys_user_id FOREIGN KEY (user_id) REFERENCES mt_doc_user (id) ON DELETE CASCADE;
