#[tokio::main]
async fn main() -> std::process::ExitCode {
    weft_subgraph_kit::cli::main::<weft_orders::Orders>().await
}
