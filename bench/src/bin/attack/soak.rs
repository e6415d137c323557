pub struct Options {
    pub minutes: f64,
    pub attack_share: f64,
    pub concurrency: Option<usize>,
    pub calibrate: bool,
    pub timeout: std::time::Duration,
    pub kill_kib: u64,
}
pub async fn run(
    _w: &std::path::Path,
    _s: &crate::gateway::Subgraphs,
    _k: &std::path::Path,
    _o: &Options,
) -> Result<bool, String> {
    Ok(true)
}
