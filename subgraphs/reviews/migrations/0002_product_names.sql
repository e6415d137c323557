-- A local read copy of product names, owned by products and kept up to date by
-- ProductUpdated events, so a review can show its product's name without a call to products.
CREATE TABLE product_names (
    upc TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
