CREATE TABLE products (
    upc TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    price BIGINT NOT NULL,
    weight BIGINT NOT NULL,
    rank BIGINT NOT NULL
);
