-- What products keeps about the people shopping (users are accounts' entities: only their ids
-- live here): the currency each sees prices in, and the products each saved for later.
CREATE TABLE shoppers (
    user_id TEXT PRIMARY KEY,
    currency TEXT NOT NULL
);
CREATE TABLE wishlist (
    user_id TEXT NOT NULL,
    upc TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (user_id, upc)
);
