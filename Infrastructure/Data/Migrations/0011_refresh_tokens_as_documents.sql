-- Refresh tokens are Marten documents now (Features/Auth/RefreshToken.cs, table mt_doc_refreshtoken, whose schema
-- Marten applies, including the foreign key that deletes a user's tokens with the user). No deployment held data.
DROP TABLE refresh_tokens;
