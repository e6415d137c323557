CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    author_id TEXT NOT NULL,
    product_upc TEXT NOT NULL
);
CREATE INDEX reviews_by_author ON reviews (author_id);
CREATE INDEX reviews_by_product ON reviews (product_upc);
