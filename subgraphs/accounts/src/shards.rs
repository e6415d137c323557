//! Users partitioned across shards by a stable hash of their id. Every shard is a database of
//! its own (a SQLite file, or a PostgreSQL schema) with the same tables; a user lives in
//! exactly one, found without a directory: `shard = fnv1a(id) % shard count`.

use std::collections::BTreeMap;

use sqlx::Row;
use weft_subgraph_kit::{Bind, Db, DbError};

/// The shards of the accounts database (one shard: not partitioned).
#[derive(Clone, Debug)]
pub struct Shards(pub(crate) Vec<Db>);

impl Shards {
    /// `dbs` in shard order; never empty (an empty list would have nowhere to put users).
    pub fn new(dbs: Vec<Db>) -> Option<Shards> {
        (!dbs.is_empty()).then_some(Shards(dbs))
    }

    pub fn all(&self) -> &[Db] {
        &self.0
    }

    /// The shard index holding user `id`.
    pub fn index_of(&self, id: &str) -> usize {
        shard_of(id, self.0.len())
    }

    /// `ids` grouped by the shard holding them, so a batch runs one query per shard.
    pub fn group<'a>(&self, ids: &'a [String]) -> BTreeMap<usize, Vec<&'a String>> {
        let mut groups: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
        for id in ids {
            groups.entry(self.index_of(id)).or_default().push(id);
        }
        groups
    }
}

/// Shard of `id` among `count`: FNV-1a (64-bit) of its bytes, modulo `count`. Stable across
/// processes, versions and machines, unlike `std`'s randomly seeded hasher.
pub fn shard_of(id: &str, count: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    usize::try_from(hash % count.max(1) as u64).unwrap_or(0)
}

/// Copies every user into its shard of a new layout `to` (other databases, any shard count);
/// the old layout is left as it was, so switching back stays possible until it is dropped.
/// Running it again after an interruption is safe: users already copied are kept. Run it with
/// writes stopped (see docs/patterns/sharding.md); returns how many users the new layout holds.
pub async fn reshard(from: &Shards, to: &Shards) -> Result<usize, DbError> {
    for old in from.all() {
        let rows = old
            .fetch_all("SELECT id, name, username FROM users", &[])
            .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            to.all()[to.index_of(&id)]
                .execute(
                    "INSERT INTO users (id, name, username) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO NOTHING",
                    &[
                        Bind::Text(id.clone()),
                        Bind::Text(row.try_get("name")?),
                        Bind::Text(row.try_get("username")?),
                    ],
                )
                .await?;
        }
    }
    let mut total = 0;
    for shard in to.all() {
        let rows = shard.fetch_all("SELECT COUNT(*) FROM users", &[]).await?;
        let count: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        total += usize::try_from(count).unwrap_or(0);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable_and_spreads() {
        // Pinned: changing the hash would strand every stored user.
        assert_eq!(shard_of("1", 4), shard_of("1", 4));
        assert_eq!(
            (shard_of("1", 3), shard_of("2", 3), shard_of("3", 3)),
            (
                (0xaf63_ac4c_8601_9afc_u64 % 3) as usize,
                (0xaf63_af4c_8601_a015_u64 % 3) as usize,
                (0xaf63_ae4c_8601_9e62_u64 % 3) as usize
            )
        );
        let mut counts = [0; 3];
        for i in 1..=40 {
            counts[shard_of(&i.to_string(), 3)] += 1;
        }
        assert!(counts.iter().all(|&c| c >= 5), "{counts:?}");
    }

    #[tokio::test]
    async fn resharding_puts_every_user_in_its_new_shard() {
        use weft_subgraph_kit::subgraph::open_shards;
        let old = open_shards::<crate::Accounts>(None, None, 2).await.unwrap();
        crate::data::seed(&Shards(old.clone())).await.unwrap();
        let new = Shards(open_shards::<crate::Accounts>(None, None, 3).await.unwrap());
        let old = Shards(old);
        assert_eq!(reshard(&old, &new).await.unwrap(), crate::USERS);
        // Again, as after an interruption: nothing is duplicated.
        assert_eq!(reshard(&old, &new).await.unwrap(), crate::USERS);
        let ids: Vec<String> = (1..=crate::USERS).map(|i| i.to_string()).collect();
        let found = crate::data::users_by_id(&new, &ids).await.unwrap();
        assert_eq!(found.len(), crate::USERS);
        for (index, shard) in new.all().iter().enumerate() {
            for row in shard.fetch_all("SELECT id FROM users", &[]).await.unwrap() {
                let id: String = row.try_get("id").unwrap();
                assert_eq!(shard_of(&id, 3), index);
            }
        }
    }
}
