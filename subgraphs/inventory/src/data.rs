//! Stock rows: deterministic demo data and the batched look-up.

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::{Bind, Db, DbError};

/// How many products inventory tracks; upcs "1" ..= "PRODUCTS", the same as `products` seeds.
pub const PRODUCTS: usize = 30;

/// Whether demo product `i` is in stock: every fourth one is sold out.
pub fn demo_in_stock(i: usize) -> bool {
    !i.is_multiple_of(4)
}

/// Seeds stock levels when the table is empty.
pub async fn seed(db: &Db) -> Result<(), DbError> {
    if !db.table_is_empty("inventory").await? {
        return Ok(());
    }
    let inserts = (1..=PRODUCTS)
        .map(|i| {
            (
                "INSERT INTO inventory (upc, in_stock) VALUES ($1, $2)".to_owned(),
                vec![
                    Bind::Text(i.to_string()),
                    Bind::Int(demo_in_stock(i).into()),
                ],
            )
        })
        .collect::<Vec<_>>();
    db.execute_batch(&inserts).await
}

/// `in_stock` for each known upc, in one query.
pub async fn stock_by_upc(db: &Db, upcs: &[String]) -> Result<HashMap<String, bool>, DbError> {
    if upcs.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT upc, in_stock FROM inventory WHERE upc IN ({})",
        placeholders(upcs.len())
    );
    let binds: Vec<Bind> = upcs.iter().cloned().map(Bind::Text).collect();
    let rows = db.fetch_all(&sql, &binds).await?;
    rows.iter()
        .map(|row| {
            let upc: String = row.try_get("upc")?;
            let in_stock: i64 = row.try_get("in_stock")?;
            Ok((upc, in_stock != 0))
        })
        .collect()
}
