CREATE TABLE inventory (
    upc TEXT PRIMARY KEY,
    in_stock BIGINT NOT NULL
);
