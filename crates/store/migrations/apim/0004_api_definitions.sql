-- API definitions (OpenAPI / Swagger documents, as JSON) of APIs and of their revisions.
ALTER TABLE am_api ADD COLUMN openapi TEXT;
ALTER TABLE am_api_revision ADD COLUMN openapi TEXT;
