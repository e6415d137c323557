//! The GCRA in Redis, shared by every replica: one script per decision (`EVAL`: one round
//! trip, atomic), on Redis's own clock (`TIME`), so replicas with skewed clocks still share one
//! rate. Redis failing is the caller's to handle: the decision is then made locally.

use crate::redis_level::RedisLevel;

use super::gcra::Rate;

/// KEYS[1]: the key's TAT; ARGV: emission and tolerance in microseconds. Returns 0 when
/// admitted, else the microseconds to wait. The TAT expires once it is in the past.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next = tat + emission
local ahead = next - now
if ahead > tolerance then return ahead - tolerance end
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.floor(ahead / 1000) + 1)
return 0
";

pub struct Shared {
    /// Its failures are counted by the limiter, as fallbacks: nothing to count them in here.
    level: RedisLevel<()>,
    prefix: String,
}

fn not_counted(_: &()) {}

impl Shared {
    pub fn new(url: &str, prefix: &str) -> Option<Shared> {
        Some(Shared {
            level: RedisLevel::new(url, "rate_limit.redis", not_counted)?,
            prefix: prefix.to_owned(),
        })
    }

    /// `Some(0)` when admitted, `Some(us)` to wait, `None` when Redis did not decide.
    pub async fn decide(&self, key: &str, rate: Rate) -> Option<u64> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(SCRIPT)
            .arg(1)
            .arg(format!("{}{key}", self.prefix))
            .arg(rate.emission_us)
            .arg(rate.tolerance_us);
        self.level
            .query::<i64>(cmd, &())
            .await
            .map(|wait| wait.max(0) as u64)
    }
}
