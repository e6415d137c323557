//! The gateway's use of the executor: run a plan, then shape the merged data into the
//! client's response.

use std::collections::HashMap;
use std::time::Duration;

use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use serde_json::{Map, Value};
use weft_engine::SubgraphClient;
use weft_federation::operation::Operation;
use weft_federation::plan::model::QueryPlan;

use super::exec::Executor;
use super::shape::shape;

pub struct Engine {
    executor: Executor,
}

impl Engine {
    pub fn new(urls: HashMap<String, String>, timeout: Duration) -> Result<Engine, String> {
        let client = SubgraphClient::new(timeout).map_err(|e| e.to_string())?;
        Ok(Engine {
            executor: Executor::new(client, urls),
        })
    }

    /// Executes `plan` and shapes the result: `(data, errors)`.
    pub async fn run(
        &self,
        plan: &QueryPlan,
        operation: &Operation,
        variables: &Map<String, Value>,
        api: &Valid<Schema>,
    ) -> (Value, Vec<Value>) {
        let output = self.executor.execute(plan, variables).await;
        let mut errors = output.errors;
        let data = shape(operation, &output.data, variables, api, &mut errors);
        (data, errors)
    }
}
