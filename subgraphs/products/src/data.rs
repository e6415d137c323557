//! Product rows: deterministic demo data and the batched look-up.

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::{Bind, Db, DbError};

use crate::schema::Product;

/// How many demo products are seeded; upcs are "1" ..= "PRODUCTS".
pub const PRODUCTS: usize = 30;

const ADJECTIVES: [&str; 6] = ["Table", "Couch", "Chair", "Lamp", "Desk", "Shelf"];
const MATERIALS: [&str; 5] = ["Oak", "Steel", "Walnut", "Glass", "Bamboo"];

/// The demo product with numeric upc `i` (1-based), deterministic everywhere.
pub fn demo_product(i: usize) -> Product {
    let kind = ADJECTIVES[(i - 1) % ADJECTIVES.len()];
    let material = MATERIALS[(i - 1) / ADJECTIVES.len() % MATERIALS.len()];
    Product {
        upc: i.to_string(),
        name: Some(format!("{material} {kind}")),
        // Some products cost more than 1000 so inventory's free-shipping rule shows up.
        price: Some((100 + (i * 397) % 1900) as i32),
        weight: Some((1 + (i * 37) % 100) as i32),
    }
}

/// Seeds the demo catalogue when the table is empty.
pub async fn seed(db: &Db) -> Result<(), DbError> {
    if !db.table_is_empty("products").await? {
        return Ok(());
    }
    let inserts = (1..=PRODUCTS)
        .map(|i| {
            let p = demo_product(i);
            (
                "INSERT INTO products (upc, name, price, weight, rank) VALUES ($1, $2, $3, $4, $5)"
                    .to_owned(),
                vec![
                    Bind::Text(p.upc),
                    Bind::Text(p.name.unwrap_or_default()),
                    Bind::Int(p.price.unwrap_or_default().into()),
                    Bind::Int(p.weight.unwrap_or_default().into()),
                    Bind::Int(i as i64),
                ],
            )
        })
        .collect::<Vec<_>>();
    db.execute_batch(&inserts).await
}

const COLUMNS: &str = "upc, name, price, weight";

/// All products with the given upcs, in one query.
pub async fn products_by_upc(
    db: &Db,
    upcs: &[String],
) -> Result<HashMap<String, Product>, DbError> {
    if upcs.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE upc IN ({})",
        placeholders(upcs.len())
    );
    let binds: Vec<Bind> = upcs.iter().cloned().map(Bind::Text).collect();
    let rows = db.fetch_all(&sql, &binds).await?;
    rows.iter()
        .map(|row| {
            let product = row_to_product(row)?;
            Ok((product.upc.clone(), product))
        })
        .collect()
}

/// The first `first` products by rank.
pub async fn top_products(db: &Db, first: i64) -> Result<Vec<Product>, DbError> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM products ORDER BY rank LIMIT $1"),
            &[Bind::Int(first.max(0))],
        )
        .await?;
    rows.iter().map(row_to_product).collect()
}

fn row_to_product(row: &sqlx::any::AnyRow) -> Result<Product, DbError> {
    Ok(Product {
        upc: row.try_get("upc")?,
        name: row.try_get("name")?,
        price: Some(narrow(row.try_get("price")?)),
        weight: Some(narrow(row.try_get("weight")?)),
    })
}

/// Database integers are 64-bit; GraphQL `Int` is 32-bit. Demo values always fit.
fn narrow(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}
