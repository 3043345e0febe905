-- An API's thumbnail image (base64), shown in the portals.
ALTER TABLE am_api ADD COLUMN thumbnail_type TEXT;
ALTER TABLE am_api ADD COLUMN thumbnail TEXT;
