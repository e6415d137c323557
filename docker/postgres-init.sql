-- One database for the reference services; each service creates and migrates its own schema
-- in it at start (DATABASE_SCHEMA), so no service can read another's tables by accident.
CREATE DATABASE weft;
