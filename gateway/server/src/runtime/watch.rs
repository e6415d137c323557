//! Noticing that a file changed, by polling: its modification time and size first (a `stat`,
//! cheap every second), then the hash of its contents, so a touched but identical file is not
//! a change. No file-notification crate: polling works the same on every platform and on
//! network or container mounts, where notifications are unreliable.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A file and what was last seen of it.
pub struct FileWatch {
    path: PathBuf,
    /// Modification time and size at the last look; `None` if it could not be read then.
    stamp: Option<(Option<SystemTime>, u64)>,
    /// Hash of the contents last returned.
    hash: Option<u64>,
}

impl FileWatch {
    pub fn new(path: PathBuf) -> FileWatch {
        FileWatch {
            path,
            stamp: None,
            hash: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file now, and remembers it as seen.
    pub fn read(&mut self) -> io::Result<String> {
        self.stamp = stamp(&self.path).ok();
        let text = read_utf8(&self.path)?;
        self.hash = Some(hash(&text));
        Ok(text)
    }

    /// The new contents if the file changed since it was last seen; `None` if not. A file
    /// that cannot be read is reported once, until it changes again.
    pub fn poll(&mut self) -> Option<io::Result<String>> {
        let now = stamp(&self.path).ok();
        if now.is_some() && now == self.stamp {
            return None;
        }
        if now.is_none() && self.stamp.is_none() && self.hash.is_none() {
            return None;
        }
        self.stamp = now;
        match read_utf8(&self.path) {
            Ok(text) => {
                let h = hash(&text);
                if self.hash == Some(h) {
                    return None;
                }
                self.hash = Some(h);
                Some(Ok(text))
            }
            Err(e) => {
                // Forget the contents, so the file is reported again once it is back.
                self.stamp = None;
                self.hash = None;
                Some(Err(e))
            }
        }
    }
}

fn stamp(path: &Path) -> io::Result<(Option<SystemTime>, u64)> {
    let meta = std::fs::metadata(path)?;
    Ok((meta.modified().ok(), meta.len()))
}

fn read_utf8(path: &Path) -> io::Result<String> {
    String::from_utf8(std::fs::read(path)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8"))
}

fn hash(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_seen_once() {
        let dir = std::env::temp_dir().join(format!("weft-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        std::fs::write(&path, "one").unwrap();
        let mut w = FileWatch::new(path.clone());
        assert_eq!(w.read().unwrap(), "one");
        assert!(w.poll().is_none());
        std::fs::write(&path, "two!").unwrap();
        assert_eq!(w.poll().unwrap().unwrap(), "two!");
        assert!(w.poll().is_none());
        // Same contents rewritten: a new mtime, no change.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "two!").unwrap();
        assert!(w.poll().is_none());
        std::fs::remove_file(&path).unwrap();
        assert!(w.poll().unwrap().is_err());
        assert!(w.poll().is_none());
        std::fs::write(&path, "two!").unwrap();
        assert_eq!(w.poll().unwrap().unwrap(), "two!");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
