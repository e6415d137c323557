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

/// The file named `name` in the bundle.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}
