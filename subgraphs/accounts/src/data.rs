//! User rows: deterministic demo data and the batched look-up.

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::{Bind, Db, DbError};

use crate::schema::User;

/// How many demo users are seeded; ids are "1" ..= "USERS".
pub const USERS: usize = 40;

const FIRST: [&str; 10] = [
    "Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "John",
];
const LAST: [&str; 8] = [
    "Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson",
];

/// The demo user with numeric id `i` (1-based): same input, same user, on every machine.
pub fn demo_user(i: usize) -> User {
    let first = FIRST[(i - 1) % FIRST.len()];
    let last = LAST[(i * 3) % LAST.len()];
    User {
        id: i.to_string().into(),
        name: Some(format!("{first} {last}")),
        username: Some(format!("@{}{}", first.to_lowercase(), i)),
    }
}

/// Seeds the demo users when the table is empty.
pub async fn seed(db: &Db) -> Result<(), DbError> {
    if !db.table_is_empty("users").await? {
        return Ok(());
    }
    let inserts = (1..=USERS)
        .map(demo_user)
        .map(|u| {
            (
                "INSERT INTO users (id, name, username) VALUES ($1, $2, $3)".to_owned(),
                vec![
                    Bind::Text(u.id.to_string()),
                    Bind::Text(u.name.unwrap_or_default()),
                    Bind::Text(u.username.unwrap_or_default()),
                ],
            )
        })
        .collect::<Vec<_>>();
    db.execute_batch(&inserts).await
}

/// All users with the given ids, in one query.
pub async fn users_by_id(db: &Db, ids: &[String]) -> Result<HashMap<String, User>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, name, username FROM users WHERE id IN ({})",
        placeholders(ids.len())
    );
    let binds: Vec<Bind> = ids.iter().cloned().map(Bind::Text).collect();
    let rows = db.fetch_all(&sql, &binds).await?;
    rows.iter()
        .map(|row| {
            let user = row_to_user(row)?;
            Ok((user.id.to_string(), user))
        })
        .collect()
}

/// Every user, ordered by numeric id.
pub async fn all_users(db: &Db) -> Result<Vec<User>, DbError> {
    let rows = db
        .fetch_all(
            "SELECT id, name, username FROM users ORDER BY CAST(id AS INTEGER)",
            &[],
        )
        .await?;
    rows.iter().map(row_to_user).collect()
}

fn row_to_user(row: &sqlx::any::AnyRow) -> Result<User, DbError> {
    Ok(User {
        id: row.try_get::<String, _>("id")?.into(),
        name: row.try_get("name")?,
        username: row.try_get("username")?,
    })
}
