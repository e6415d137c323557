-- Stock counts replace the in_stock flag (kept for old rows; reads use stock > 0), and
-- reservations remember what each order holds, so reserving and releasing are idempotent.
ALTER TABLE inventory ADD COLUMN stock BIGINT NOT NULL DEFAULT 0;
UPDATE inventory SET stock = CASE WHEN in_stock <> 0 THEN 10 ELSE 0 END;
CREATE TABLE reservations (
    order_id TEXT NOT NULL,
    upc TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    released BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, upc)
);
