//! Product rows: deterministic demo data and the batched look-up.

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::events::{self, outbox};
use weft_subgraph_kit::{Bind, Db, DbError, Event, Tx};

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
        units_sold: Some(0),
    }
}

/// Demo users are "1" ..= "USERS" (owned by accounts); each shops here in a currency, with a
/// wishlist.
const USERS: usize = 40;

/// Demo users' currencies in turn: the signed-in user "1" pays in euros.
const CURRENCIES: [&str; 4] = ["EUR", "GBP", "USD", "JPY"];

/// The currency demo user `i` (1-based) sees prices in.
pub fn demo_currency(i: usize) -> &'static str {
    CURRENCIES[(i - 1) % CURRENCIES.len()]
}

/// The currency of a user products knows nothing about.
pub const DEFAULT_CURRENCY: &str = "USD";

/// The upcs on demo user `i`'s wishlist (1-based), oldest first: two or three products,
/// deterministic everywhere.
pub fn demo_wishlist(i: usize) -> Vec<String> {
    let mut upcs: Vec<String> = Vec::new();
    for n in [
        (i * 7) % PRODUCTS + 1,
        (i * 11 + 3) % PRODUCTS + 1,
        (i * 13 + 5) % PRODUCTS + 1,
    ]
    .into_iter()
    .take(2 + i % 2)
    {
        if !upcs.contains(&n.to_string()) {
            upcs.push(n.to_string());
        }
    }
    upcs
}

/// What one US dollar is in each currency `Offer.price` knows, in that currency's minor units
/// (fixed demo rates), and how many of its digits are minor units.
const RATES: [(&str, i64, u32); 4] = [
    ("USD", 100, 2),
    ("EUR", 92, 2),
    ("GBP", 79, 2),
    ("JPY", 155, 0),
];

/// A price in US cents shown in `currency` (ISO 4217; `None`: US dollars): `"EUR 12.66"`,
/// `"JPY 330"`. `None` for a currency without a rate.
pub fn format_price(cents: i32, currency: Option<&str>) -> Option<String> {
    let code = currency.unwrap_or("USD");
    let &(code, per_dollar, decimals) = RATES.iter().find(|(c, _, _)| *c == code)?;
    // Rounded half up; demo prices are positive.
    let minor = (i64::from(cents) * per_dollar + 50) / 100;
    Some(match decimals {
        0 => format!("{code} {minor}"),
        _ => format!("{code} {}.{:02}", minor / 100, minor % 100),
    })
}

/// Seeds the demo catalogue when the table is empty, with a `ProductUpdated` event per product
/// so services keeping a copy of the catalogue (reviews) start with it; and the demo
/// wishlists when theirs is.
pub async fn seed(db: &Db) -> Result<(), DbError> {
    seed_shoppers(db).await?;
    if !db.table_is_empty("products").await? {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for i in 1..=PRODUCTS {
        let p = demo_product(i);
        tx.execute(
            "INSERT INTO products (upc, name, price, weight, rank) VALUES ($1, $2, $3, $4, $5)",
            &[
                Bind::Text(p.upc.clone()),
                Bind::Text(p.name.clone().unwrap_or_default()),
                Bind::Int(p.price.unwrap_or_default().into()),
                Bind::Int(p.weight.unwrap_or_default().into()),
                Bind::Int(i as i64),
            ],
        )
        .await?;
        announce(&mut tx, &p).await?;
    }
    tx.commit().await
}

async fn seed_shoppers(db: &Db) -> Result<(), DbError> {
    if !db.table_is_empty("shoppers").await? {
        return Ok(());
    }
    let mut inserts = Vec::new();
    for i in 1..=USERS {
        inserts.push((
            "INSERT INTO shoppers (user_id, currency) VALUES ($1, $2)".to_owned(),
            vec![
                Bind::Text(i.to_string()),
                Bind::Text(demo_currency(i).to_owned()),
            ],
        ));
        for (position, upc) in demo_wishlist(i).into_iter().enumerate() {
            inserts.push((
                "INSERT INTO wishlist (user_id, upc, position) VALUES ($1, $2, $3)".to_owned(),
                vec![
                    Bind::Text(i.to_string()),
                    Bind::Text(upc),
                    Bind::Int(position as i64),
                ],
            ));
        }
    }
    db.execute_batch(&inserts).await
}

/// The currency of each of `users` that has one here, in one query.
pub async fn currencies(db: &Db, users: &[String]) -> Result<HashMap<String, String>, DbError> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT user_id, currency FROM shoppers WHERE user_id IN ({})",
        placeholders(users.len())
    );
    let binds: Vec<Bind> = users.iter().cloned().map(Bind::Text).collect();
    db.fetch_all(&sql, &binds)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("user_id")?, row.try_get("currency")?)))
        .collect()
}

/// The upcs on each of `users`' wishlists, oldest first, in one query (users with an empty
/// wishlist are absent).
pub async fn wishlists(db: &Db, users: &[String]) -> Result<HashMap<String, Vec<String>>, DbError> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT user_id, upc FROM wishlist WHERE user_id IN ({}) ORDER BY user_id, position",
        placeholders(users.len())
    );
    let binds: Vec<Bind> = users.iter().cloned().map(Bind::Text).collect();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for row in db.fetch_all(&sql, &binds).await? {
        out.entry(row.try_get("user_id")?)
            .or_default()
            .push(row.try_get("upc")?);
    }
    Ok(out)
}

/// Records a `ProductUpdated` event for `product` in the outbox of `tx`.
async fn announce(tx: &mut Tx, product: &Product) -> Result<(), DbError> {
    let payload = serde_json::json!({
        "upc": product.upc,
        "name": product.name,
        "price": product.price,
        "weight": product.weight,
    });
    outbox::append(tx, &Event::new("ProductUpdated", &product.upc, payload)).await
}

/// Renames product `upc` and announces it, in one transaction; `None` if there is no such
/// product.
pub async fn rename(db: &Db, upc: &str, name: &str) -> Result<Option<Product>, DbError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            "UPDATE products SET name = $1 WHERE upc = $2",
            &[Bind::Text(name.to_owned()), Bind::Text(upc.to_owned())],
        )
        .await?;
    if changed == 0 {
        return Ok(None);
    }
    let rows = tx
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM products WHERE upc = $1"),
            &[Bind::Text(upc.to_owned())],
        )
        .await?;
    let Some(product) = rows.first().map(row_to_product).transpose()? else {
        return Ok(None);
    };
    announce(&mut tx, &product).await?;
    let changed = events::entity_changed("Product", serde_json::json!({ "upc": upc }));
    outbox::append(&mut tx, &changed).await?;
    tx.commit().await?;
    Ok(Some(product))
}

/// What an `OrderConfirmed` event changes here: each item's units sold.
pub fn count_sold(event: &Event) -> Vec<(String, Vec<Bind>)> {
    let Some(items) = event.payload["items"].as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let upc = item["upc"].as_str()?;
            let quantity = item["quantity"].as_i64()?;
            Some((
                "UPDATE products SET units_sold = units_sold + $1 WHERE upc = $2".to_owned(),
                vec![Bind::Int(quantity), Bind::Text(upc.to_owned())],
            ))
        })
        .collect()
}

const COLUMNS: &str = "upc, name, price, weight, units_sold";

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
        units_sold: Some(narrow(row.try_get("units_sold")?)),
    })
}

/// Database integers are 64-bit; GraphQL `Int` is 32-bit. Demo values always fit.
fn narrow(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}
