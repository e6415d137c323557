//! User rows: deterministic demo data and the batched look-up.

use std::collections::HashMap;

use sqlx::Row;
use weft_subgraph_kit::db::placeholders;
use weft_subgraph_kit::{Bind, Db, DbError};

use crate::schema::User;
use crate::shards::Shards;

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

/// Seeds the demo users, each into its shard, when every shard is empty.
pub async fn seed(shards: &Shards) -> Result<(), DbError> {
    for db in shards.all() {
        if !db.table_is_empty("users").await? {
            return Ok(());
        }
    }
    let mut per_shard: Vec<Vec<(String, Vec<Bind>)>> = vec![Vec::new(); shards.all().len()];
    for u in (1..=USERS).map(demo_user) {
        let id = u.id.to_string();
        per_shard[shards.index_of(&id)].push((
            "INSERT INTO users (id, name, username) VALUES ($1, $2, $3)".to_owned(),
            vec![
                Bind::Text(id),
                Bind::Text(u.name.unwrap_or_default()),
                Bind::Text(u.username.unwrap_or_default()),
            ],
        ));
    }
    for (db, inserts) in shards.all().iter().zip(per_shard) {
        db.execute_batch(&inserts).await?;
    }
    Ok(())
}

/// All users with the given ids: one query per shard that holds any of them, run together.
pub async fn users_by_id(
    shards: &Shards,
    ids: &[String],
) -> Result<HashMap<String, User>, DbError> {
    let queries = shards
        .group(ids)
        .into_iter()
        .map(|(index, ids)| users_in_shard(&shards.all()[index], ids));
    let mut users = HashMap::new();
    for found in futures::future::try_join_all(queries).await? {
        users.extend(found);
    }
    Ok(users)
}

async fn users_in_shard(db: &Db, ids: Vec<&String>) -> Result<HashMap<String, User>, DbError> {
    let sql = format!(
        "SELECT id, name, username FROM users WHERE id IN ({})",
        placeholders(ids.len())
    );
    let binds: Vec<Bind> = ids.into_iter().cloned().map(Bind::Text).collect();
    let rows = db.fetch_all(&sql, &binds).await?;
    rows.iter()
        .map(|row| {
            let user = row_to_user(row)?;
            Ok((user.id.to_string(), user))
        })
        .collect()
}

/// Every user, from every shard, ordered by numeric id.
pub async fn all_users(shards: &Shards) -> Result<Vec<User>, DbError> {
    let mut users = Vec::new();
    for db in shards.all() {
        let rows = db
            .fetch_all("SELECT id, name, username FROM users", &[])
            .await?;
        for row in &rows {
            users.push(row_to_user(row)?);
        }
    }
    users.sort_by_key(|u| (u.id.parse::<u64>().unwrap_or(u64::MAX), u.id.to_string()));
    Ok(users)
}

fn row_to_user(row: &sqlx::any::AnyRow) -> Result<User, DbError> {
    Ok(User {
        id: row.try_get::<String, _>("id")?.into(),
        name: row.try_get("name")?,
        username: row.try_get("username")?,
    })
}
