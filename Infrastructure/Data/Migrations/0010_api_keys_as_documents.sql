-- API keys are Marten documents now (Features/ApiKeys/ApiKey.cs, table mt_doc_apikey, whose schema Marten applies,
-- including the foreign key that deletes a user's keys with the user). No deployment held data when they moved.
DROP TABLE api_keys;
