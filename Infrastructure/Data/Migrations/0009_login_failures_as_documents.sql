-- Failed logins are Marten documents now (Features/Auth/LoginFailure.cs, table mt_doc_loginfailure, whose schema
-- Marten applies). No deployment held data when they moved, so the old table goes without a copy.
DROP TABLE login_failures;
