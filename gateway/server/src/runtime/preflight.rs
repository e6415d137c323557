//! What `weft serve` checks between reading its configuration and serving, without starting
//! anything: the supergraph (named, readable, valid, executable) and the JWKS files of
//! `auth.jwks`. `weft serve` runs these before it serves; `weft config check` runs them too, so
//! a file it passes is one `serve` accepts. Problems are configuration errors, placed at the
//! key of the config file that names the file at fault.

use std::path::Path;
use std::sync::Arc;

use weft_config::{Config, ConfigError};
use weft_federation::Supergraph;

use weft_config::model::{SourceChoiceError, SupergraphSource};

use super::auth::keys::{self, Source};
use super::source::file::FileSource;
use super::source::{self, SupergraphVersion};
use super::watch::FileWatch;

/// The supergraph to serve: its source, and for a file the supergraph read and checked.
pub struct Loaded {
    pub name: String,
    pub source: Box<dyn source::SupergraphSource>,
    /// `None` for a URL: fetched once serving (`weft config check` does not fetch it).
    pub supergraph: Option<(Arc<Supergraph>, SupergraphVersion)>,
}

/// Reads and checks the supergraph `config` names. `file` is the config file (path and text)
/// errors are placed in.
pub fn supergraph(
    config: &Config,
    file: Option<(&Path, &str)>,
) -> Result<Loaded, Vec<ConfigError>> {
    let path = match config.supergraph.source() {
        Ok(SupergraphSource::File(path)) => path,
        Ok(remote) => {
            let source = source::open(&remote, config.supergraph.poll_interval())
                .map_err(|e| vec![ConfigError::at_key(file, "supergraph", e.to_string())])?;
            return Ok(Loaded {
                name: source.describe().to_owned(),
                source,
                supergraph: None,
            });
        }
        Err(SourceChoiceError::None) => {
            return Err(vec![ConfigError {
                hint: Some(
                    "pass --supergraph FILE or URL, or set `supergraph.path` (or `url`, or \
                     `hive`) in the --config file (or WEFT_SUPERGRAPH_PATH)"
                        .into(),
                ),
                ..ConfigError::at_key(file, "supergraph", "no supergraph to serve")
            }]);
        }
        Err(e) => return Err(vec![ConfigError::at_key(file, "supergraph", e.to_string())]),
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
            supergraph: Some((Arc::new(s), SupergraphVersion::of(&sdl, &name))),
            name,
            source: Box::new(FileSource::seen(watch)),
        }),
        Err(e) => Err(diagnostics(e)),
    }
}

/// A supergraph's problems as configuration errors, each at its line in the supergraph.
pub fn diagnostics(e: weft_federation::SupergraphError) -> Vec<ConfigError> {
    e.diagnostics
        .into_iter()
        .map(|d| ConfigError {
            origin: e.source_name.clone(),
            location: Some(d.location.unwrap_or((1, 1))),
            message: d.message,
            hint: d.hint,
        })
        .collect()
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
