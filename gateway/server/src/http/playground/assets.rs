//! The playground's bundle (GraphiQL, its workers, styles and font), built by `build.rs` from
//! `gateway/server/playground/` and embedded here; empty when the build had no Node.

/// One file of the bundle, served as `/playground/<name>`.
pub struct Asset {
    pub name: &'static str,
    /// Its `Content-Type`.
    pub media: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/playground_assets.rs"));

/// The file named `name` in the bundle, and its place in it.
pub fn find(name: &str) -> Option<(usize, &'static Asset)> {
    ASSETS.iter().enumerate().find(|(_, a)| a.name == name)
}

/// Every file of the bundle gzipped, in bundle order: compressed once, on the first request
/// that accepts gzip (a few hundred milliseconds for the whole bundle), not per request, so a
/// client cannot make the gateway compress 5 MB for each small request it sends.
pub fn gzipped() -> &'static [axum::body::Bytes] {
    static GZIPPED: std::sync::OnceLock<Vec<axum::body::Bytes>> = std::sync::OnceLock::new();
    GZIPPED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                use std::io::Write;
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                // Writing into a Vec cannot fail.
                let _ = encoder.write_all(asset.body);
                encoder.finish().unwrap_or_default().into()
            })
            .collect()
    })
}
