-- Units sold, counted from OrderConfirmed events (an idempotent consumer: see weft_inbox).
ALTER TABLE products ADD COLUMN units_sold BIGINT NOT NULL DEFAULT 0;
