//! Review rows: deterministic demo data and batched look-ups by id, author and product.

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::events::{self, outbox};
use weft_subgraph_kit::{Bind, Db, DbError, Event};

/// How many demo reviews are seeded; ids "1" ..= "REVIEWS".
pub const REVIEWS: usize = 300;
/// Authors are demo users "1" ..= "USERS" (owned by accounts).
const USERS: usize = 40;
/// Products are demo products "1" ..= "PRODUCTS" (owned by products).
const PRODUCTS: usize = 30;

const OPENINGS: [&str; 6] = [
    "Love it",
    "Too expensive",
    "Could be better",
    "Sturdy",
    "Would buy again",
    "Meh",
];
const CLOSINGS: [&str; 5] = [
    "five stars.",
    "arrived late.",
    "my cat approves.",
    "looks great.",
    "as described.",
];

/// One stored review (author and product are ids of entities other subgraphs own).
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewRow {
    pub id: String,
    pub body: String,
    pub author_id: String,
    pub product_upc: String,
}

/// The demo review with numeric id `i` (1-based), deterministic everywhere.
pub fn demo_review(i: usize) -> ReviewRow {
    ReviewRow {
        id: i.to_string(),
        body: format!(
            "{}, {}",
            OPENINGS[i % OPENINGS.len()],
            CLOSINGS[(i / OPENINGS.len()) % CLOSINGS.len()]
        ),
        author_id: ((i * 7) % USERS + 1).to_string(),
        product_upc: ((i * 11) % PRODUCTS + 1).to_string(),
    }
}

/// Seeds the demo reviews when the table is empty.
pub async fn seed(db: &Db) -> Result<(), DbError> {
    if !db.table_is_empty("reviews").await? {
        return Ok(());
    }
    let inserts = (1..=REVIEWS)
        .map(|i| {
            let r = demo_review(i);
            (
                "INSERT INTO reviews (id, body, author_id, product_upc) VALUES ($1, $2, $3, $4)"
                    .to_owned(),
                vec![
                    Bind::Text(r.id),
                    Bind::Text(r.body),
                    Bind::Text(r.author_id),
                    Bind::Text(r.product_upc),
                ],
            )
        })
        .collect::<Vec<_>>();
    db.execute_batch(&inserts).await
}

/// Which column a batched look-up matches on.
#[derive(Clone, Copy, Debug)]
pub enum By {
    Id,
    Author,
    Product,
}

impl By {
    fn column(self) -> &'static str {
        match self {
            By::Id => "id",
            By::Author => "author_id",
            By::Product => "product_upc",
        }
    }
}

/// Reviews whose `by` column is one of `keys`, grouped by that key, in id order, in one query.
pub async fn reviews_by(
    db: &Db,
    by: By,
    keys: &[String],
) -> Result<HashMap<String, Vec<ReviewRow>>, DbError> {
    let mut grouped: HashMap<String, Vec<ReviewRow>> = HashMap::new();
    if keys.is_empty() {
        return Ok(grouped);
    }
    let sql = format!(
        "SELECT id, body, author_id, product_upc FROM reviews WHERE {} IN ({}) \
         ORDER BY CAST(id AS INTEGER)",
        by.column(),
        placeholders(keys.len())
    );
    let binds: Vec<Bind> = keys.iter().cloned().map(Bind::Text).collect();
    for row in db.fetch_all(&sql, &binds).await? {
        let review = ReviewRow {
            id: row.try_get("id")?,
            body: row.try_get("body")?,
            author_id: row.try_get("author_id")?,
            product_upc: row.try_get("product_upc")?,
        };
        let key = match by {
            By::Id => review.id.clone(),
            By::Author => review.author_id.clone(),
            By::Product => review.product_upc.clone(),
        };
        grouped.entry(key).or_default().push(review);
    }
    Ok(grouped)
}

/// What a `ProductUpdated` event changes here: the local copy of the product's name. An event
/// older than the copy changes nothing, so a late redelivery cannot undo a newer rename.
pub fn copy_product_name(event: &Event) -> Vec<(String, Vec<Bind>)> {
    let (Some(upc), Some(name)) = (
        event.payload["upc"].as_str(),
        event.payload["name"].as_str(),
    ) else {
        return Vec::new();
    };
    // Every review of the product shows the name: cached reviews are stale. Reviews are not
    // keyed by product, so the whole type is announced.
    let changed = events::entity_changed("Review", serde_json::Value::Null);
    vec![
        outbox::insert(&changed),
        (
            "INSERT INTO product_names (upc, name, updated_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (upc) DO UPDATE SET name = excluded.name, updated_ms = excluded.updated_ms \
         WHERE excluded.updated_ms >= product_names.updated_ms"
                .to_owned(),
            vec![
                Bind::Text(upc.to_owned()),
                Bind::Text(name.to_owned()),
                Bind::Int(event.occurred_ms),
            ],
        ),
    ]
}

/// The local copies of the names of `upcs`, in one query.
pub async fn product_names(db: &Db, upcs: &[String]) -> Result<HashMap<String, String>, DbError> {
    if upcs.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT upc, name FROM product_names WHERE upc IN ({})",
        placeholders(upcs.len())
    );
    let binds: Vec<Bind> = upcs.iter().cloned().map(Bind::Text).collect();
    db.fetch_all(&sql, &binds)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("upc")?, row.try_get("name")?)))
        .collect()
}
