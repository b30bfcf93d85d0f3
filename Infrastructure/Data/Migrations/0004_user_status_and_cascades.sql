-- Accounts can be deactivated (Features/Users). Deleting a user deletes their tasks and refresh tokens with
-- them (Features/Tasks and Features/Auth own those tables and declare the cascade here).
ALTER TABLE users ADD COLUMN is_active boolean NOT NULL DEFAULT true;
-- Refresh tokens issued before this instant are refused (set when the password changes).
ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz;
CREATE INDEX ix_users_created_at_id ON users (created_at DESC, id DESC);
ALTER TABLE tasks ADD CONSTRAINT fk_tasks_owner_id FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD CONSTRAINT fk_refresh_tokens_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
