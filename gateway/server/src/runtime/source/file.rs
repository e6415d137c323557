//! A supergraph file, looked at every second (`watch::FileWatch`: a `stat`, then the hash).

use std::time::Duration;

use futures::future::BoxFuture;

use super::{SourceError, SupergraphSource};
use crate::runtime::watch::FileWatch;

/// How often the file is looked at.
pub const POLL: Duration = Duration::from_secs(1);

pub struct FileSource {
    watch: FileWatch,
    name: String,
    /// Whether the file was read once: the first poll reads it whole.
    read: bool,
}

impl FileSource {
    pub fn new(path: std::path::PathBuf) -> FileSource {
        FileSource {
            name: path.display().to_string(),
            watch: FileWatch::new(path),
            read: false,
        }
    }

    /// A source over a file already read (by `preflight`): polls report changes after that.
    pub fn seen(watch: FileWatch) -> FileSource {
        FileSource {
            name: watch.path().display().to_string(),
            watch,
            read: true,
        }
    }

    fn error(&self, source: std::io::Error) -> SourceError {
        SourceError::File {
            path: self.name.clone(),
            source,
        }
    }
}

impl SupergraphSource for FileSource {
    fn describe(&self) -> &str {
        &self.name
    }

    fn interval(&self) -> Duration {
        POLL
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Option<String>, SourceError>> {
        let polled = if self.read {
            self.watch.poll().transpose()
        } else {
            self.read = true;
            self.watch.read().map(Some)
        };
        let result = polled.map_err(|e| self.error(e));
        Box::pin(async move { result })
    }
}
