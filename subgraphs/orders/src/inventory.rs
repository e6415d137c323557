//! The saga's calls to the inventory service: GraphQL mutations over HTTP, straight to the
//! inventory subgraph (not through the gateway, where they are `@inaccessible`).

use serde_json::{Value, json};

use crate::order::Item;

/// A call to inventory that did not get an answer (the saga retries or compensates later).
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("no inventory service configured (peer `inventory`)")]
    NotConfigured,
    #[error("inventory did not answer: {0}")]
    Http(#[from] reqwest::Error),
    #[error("inventory answered with errors: {0}")]
    GraphQL(Value),
}

/// The inventory subgraph's GraphQL endpoint.
#[derive(Debug, Clone)]
pub struct Inventory {
    url: Option<String>,
    client: reqwest::Client,
}

impl Inventory {
    pub fn new(url: Option<String>) -> Inventory {
        Inventory {
            url,
            client: reqwest::Client::new(),
        }
    }

    /// Reserves `items` for `order_id`: `Ok(None)` when reserved, `Ok(Some(reason))` when
    /// refused (e.g. not enough stock).
    pub async fn reserve(
        &self,
        order_id: &str,
        items: &[Item],
    ) -> Result<Option<String>, InventoryError> {
        let items: Vec<Value> = items
            .iter()
            .map(|i| json!({ "upc": i.upc, "quantity": i.quantity }))
            .collect();
        let data = self
            .call(
                "mutation($id: ID!, $items: [StockItemInput!]!) { reserveStock(orderId: $id, items: $items) { reserved reason } }",
                json!({ "id": order_id, "items": items }),
            )
            .await?;
        let result = &data["reserveStock"];
        if result["reserved"].as_bool() == Some(true) {
            Ok(None)
        } else {
            Ok(Some(
                result["reason"]
                    .as_str()
                    .unwrap_or("stock not reserved")
                    .to_owned(),
            ))
        }
    }

    /// Releases whatever `order_id` holds (nothing, if it holds nothing).
    pub async fn release(&self, order_id: &str) -> Result<(), InventoryError> {
        self.call(
            "mutation($id: ID!) { releaseStock(orderId: $id) }",
            json!({ "id": order_id }),
        )
        .await?;
        Ok(())
    }

    async fn call(&self, query: &str, variables: Value) -> Result<Value, InventoryError> {
        let url = self.url.as_deref().ok_or(InventoryError::NotConfigured)?;
        let body: Value = self
            .client
            .post(url)
            .timeout(std::time::Duration::from_secs(10))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if let Some(errors) = body.get("errors") {
            return Err(InventoryError::GraphQL(errors.clone()));
        }
        Ok(body["data"].clone())
    }
}
