//! What `weft serve` checks between reading its configuration and serving, without starting
//! anything: the supergraph (named, readable, valid, executable) and the JWKS files of
//! `auth.jwks`. `weft serve` runs these before it serves; `weft config check` runs them too, so
//! a file it passes is one `serve` accepts. Problems are configuration errors, placed at the
//! key of the config file that names the file at fault.

use std::path::Path;
use std::sync::Arc;

use weft_config::{Config, ConfigError};
use weft_federation::Supergraph;

use super::auth::keys::{self, Source};
use super::watch::FileWatch;

/// The supergraph to serve, read and checked; `file` watches it for changes.
pub struct Loaded {
    pub name: String,
    pub file: FileWatch,
    pub supergraph: Arc<Supergraph>,
}

/// Reads and checks the supergraph `config` names. `file` is the config file (path and text)
/// errors are placed in.
pub fn supergraph(
    config: &Config,
    file: Option<(&Path, &str)>,
) -> Result<Loaded, Vec<ConfigError>> {
    let Some(path) = config.supergraph.path.clone() else {
        return Err(vec![ConfigError {
            hint: Some(
                "pass --supergraph FILE, or set `supergraph.path` in the --config file (or \
                 WEFT_SUPERGRAPH_PATH)"
                    .into(),
            ),
            ..ConfigError::at_key(file, "supergraph", "no supergraph to serve")
        }]);
    };
    let name = path.display().to_string();
    let mut watch = FileWatch::new(path);
    let sdl = watch.read().map_err(|e| {
        vec![ConfigError {
            hint: Some(
                "`supergraph.path` (or --supergraph) names a supergraph .graphql file".into(),
            ),
            ..ConfigError::at_key(file, "supergraph.path", format!("{name}: {e}"))
        }]
    })?;
    // A supergraph needing features Weft does not execute is refused like a malformed one.
    match Supergraph::parse(&sdl, &name).and_then(|s| s.check_executable(&name).map(|()| s)) {
        Ok(s) => Ok(Loaded {
            name,
            file: watch,
            supergraph: Arc::new(s),
        }),
        Err(e) => Err(e
            .diagnostics
            .into_iter()
            .map(|d| ConfigError {
                origin: e.source_name.clone(),
                location: Some(d.location.unwrap_or((1, 1))),
                message: d.message,
                hint: d.hint,
            })
            .collect()),
    }
}

/// Reads each JWKS file of `auth.jwks` as the key store will (URLs are fetched once serving).
pub fn jwks_files(config: &Config, file: Option<(&Path, &str)>) -> Vec<ConfigError> {
    config
        .auth
        .jwks
        .iter()
        .filter_map(|source| match Source::of(source) {
            Source::File(path) => keys::read_file(&path).err(),
            Source::Url(_) => None,
        })
        .map(|e| ConfigError {
            hint: Some("`auth.jwks` lists JWKS files (a JSON `{\"keys\": [...]}`) and URLs".into()),
            ..ConfigError::at_key(file, "auth.jwks", e.to_string())
        })
        .collect()
}
