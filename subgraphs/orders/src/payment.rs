//! A stand-in payment provider: `tok_ok` is authorized, `tok_decline` (and any other token) is
//! declined; `tok_slow_<ms>` is authorized after `ms` milliseconds (at most 10 s), a slow
//! provider, so that a saga can be watched while it runs. A real provider would take the order
//! id as its idempotency key; here the answer depends only on the token, so authorizing twice
//! gives the same answer.

use std::time::Duration;

/// The longest a `tok_slow_<ms>` authorization takes.
const MAX_SLOW: Duration = Duration::from_secs(10);

/// Authorizes the order's payment; the authorization id, or why it was declined.
pub async fn authorize(order_id: &str, token: &str) -> Result<String, String> {
    if let Some(ms) = token
        .strip_prefix("tok_slow_")
        .and_then(|ms| ms.parse::<u64>().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms).min(MAX_SLOW)).await;
        return Ok(format!("auth_{order_id}"));
    }
    match token {
        "tok_ok" => Ok(format!("auth_{order_id}")),
        "tok_decline" => Err("payment declined".to_owned()),
        _ => Err(format!("payment declined: unknown payment token `{token}`")),
    }
}
