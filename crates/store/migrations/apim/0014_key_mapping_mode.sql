-- How a key set came to its application (WSO2's mode): generated here, or mapped from a client
-- registered elsewhere. Mappings to another key manager's clients were always mapped; a mapped
-- resident client made before this column cannot be told apart and reads as generated.
ALTER TABLE am_key_mapping ADD COLUMN mode TEXT NOT NULL DEFAULT 'CREATED';
UPDATE am_key_mapping SET mode = 'MAPPED' WHERE key_manager <> 'Resident Key Manager';
