//! A stand-in payment provider: `tok_ok` is authorized, `tok_decline` (and any other token) is
//! declined. A real provider would take the order id as its idempotency key; here the answer
//! depends only on the token, so authorizing twice gives the same answer.

/// Authorizes the order's payment; the authorization id, or why it was declined.
pub fn authorize(order_id: &str, token: &str) -> Result<String, String> {
    match token {
        "tok_ok" => Ok(format!("auth_{order_id}")),
        "tok_decline" => Err("payment declined".to_owned()),
        _ => Err(format!("payment declined: unknown payment token `{token}`")),
    }
}
