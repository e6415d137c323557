//! Bundles the playground (GraphiQL with Weft's plugins, `playground/`) so the binary can
//! embed it (docs/playground.md). `npm ci` runs only when `package.json` or the lockfile
//! changed since the last install, esbuild only when an input of the bundle changed; the
//! bundle is cached under the target directory by a hash of its inputs, so `cargo clippy`,
//! test builds and other profiles reuse it. Without Node >= 20, or when npm or esbuild fails,
//! the build still succeeds: a `cargo:warning` says why, and the binary serves a page saying
//! how to get the IDE. `WEFT_SKIP_PLAYGROUND_BUNDLE=1` skips the bundle on purpose.
//!
//! Writes `$OUT_DIR/playground_assets.rs`, included by `src/http/playground/assets.rs`.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest Node the bundle step is known to work with (esbuild and GraphiQL 5 need 18+;
/// 20 is the oldest maintained line).
const MIN_NODE_MAJOR: u32 = 20;
const SKIP_VAR: &str = "WEFT_SKIP_PLAYGROUND_BUNDLE";
/// A directory holding a bundle built elsewhere (`node build.mjs <dir>`, the Dockerfile's Node
/// stage): embedded as it is, without Node here.
const PREBUILT_VAR: &str = "WEFT_PLAYGROUND_BUNDLE_DIR";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let package = manifest.join("playground");
    for input in ["package.json", "package-lock.json", "build.mjs", "src"] {
        println!("cargo:rerun-if-changed={}", package.join(input).display());
    }
    println!("cargo:rerun-if-env-changed={SKIP_VAR}");
    println!("cargo:rerun-if-env-changed={PREBUILT_VAR}");

    let prebuilt = std::env::var_os(PREBUILT_VAR).filter(|v| !v.is_empty());
    let outcome = if std::env::var_os(SKIP_VAR).is_some_and(|v| v != "0" && !v.is_empty()) {
        Err(Unbundled::skipped())
    } else if let Some(dir) = prebuilt {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        files_under(&dir)
            .and_then(|files| hash_files(&files))
            .and_then(|hash| embed(&dir, &out_dir, hash))
    } else {
        bundle(&package, &out_dir)
    };
    let generated = match outcome {
        Ok(bundle) => generated_source(&bundle),
        Err(why) => {
            for line in why.message.lines() {
                println!("cargo:warning={line}");
            }
            if why.watch_path {
                watch_path_for_node();
            }
            unbundled_source(&why.message)
        }
    };
    if let Err(e) = fs::write(out_dir.join("playground_assets.rs"), generated) {
        // Without this file the crate cannot compile; say why in the build's own words.
        println!("cargo:warning=could not write the playground's asset list: {e}");
        std::process::exit(1);
    }
}

/// Why the binary has no IDE: a message for the build log and the fallback page.
struct Unbundled {
    message: String,
    /// Node was not found: rerun when a directory on `PATH` changes (Node installed).
    watch_path: bool,
}

impl Unbundled {
    fn skipped() -> Unbundled {
        Unbundled {
            message: format!(
                "the playground bundle was skipped ({SKIP_VAR} is set): the binary serves a \
                 page saying how to get the IDE"
            ),
            watch_path: false,
        }
    }

    fn failed(message: String) -> Unbundled {
        Unbundled {
            message: format!(
                "{message}\nthe playground (GraphiQL) is not bundled: the binary serves a page \
                 saying how to get it. Fix the above, then `touch \
                 gateway/server/playground/package.json` and build again."
            ),
            watch_path: false,
        }
    }
}

/// The bundle's files, copied into `OUT_DIR`, and the hash of its inputs (the assets' ETag).
struct Bundle {
    dir: PathBuf,
    files: Vec<String>,
    hash: u64,
}

fn bundle(package: &Path, out_dir: &Path) -> Result<Bundle, Unbundled> {
    let node = node_version()?;
    if node < MIN_NODE_MAJOR {
        return Err(Unbundled {
            message: format!(
                "Node.js {node} is too old for the playground bundle: install Node.js >= \
                 {MIN_NODE_MAJOR} and build again"
            ),
            watch_path: true,
        });
    }
    let cache = cache_dir(out_dir);
    fs::create_dir_all(&cache).map_err(|e| io_failure(&cache, &e))?;
    // One bundle step at a time (`cargo build` and `cargo clippy` may run together).
    let lock_path = cache.join(".lock");
    let lock = fs::File::create(&lock_path).map_err(|e| io_failure(&lock_path, &e))?;
    lock.lock().map_err(|e| io_failure(&lock_path, &e))?;

    let install_hash = hash_files(&[
        package.join("package.json"),
        package.join("package-lock.json"),
    ])?;
    let stamp = package.join("node_modules").join(".weft-install-hash");
    if fs::read_to_string(&stamp).ok().as_deref() != Some(&install_hash.to_string()) {
        run(
            Command::new(npm())
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(package),
            "npm ci",
        )?;
        fs::write(&stamp, install_hash.to_string()).map_err(|e| io_failure(&stamp, &e))?;
    }

    let mut inputs = vec![
        package.join("package.json"),
        package.join("package-lock.json"),
        package.join("build.mjs"),
    ];
    inputs.extend(files_under(&package.join("src"))?);
    let hash = hash_files(&inputs)?;
    let built = cache.join(format!("bundle-{hash:016x}"));
    if !built.join(".complete").exists() {
        let _ = fs::remove_dir_all(&built);
        run(
            Command::new("node")
                .arg("build.mjs")
                .arg(&built)
                .current_dir(package),
            "the esbuild step (node build.mjs)",
        )?;
        let marker = built.join(".complete");
        fs::write(&marker, "").map_err(|e| io_failure(&marker, &e))?;
        remove_other_bundles(&cache, &built);
    }

    embed(&built, out_dir, hash)
}

/// The bundle in `built`, copied into `OUT_DIR` (so what the crate embeds cannot change under
/// it) and listed.
fn embed(built: &Path, out_dir: &Path, hash: u64) -> Result<Bundle, Unbundled> {
    let dir = out_dir.join("playground");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| io_failure(&dir, &e))?;
    let mut files = Vec::new();
    for path in files_under(built)? {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        fs::copy(&path, dir.join(name)).map_err(|e| io_failure(&path, &e))?;
        files.push(name.to_owned());
    }
    files.sort();
    if !files.iter().any(|f| f == "index.js") {
        return Err(Unbundled::failed(format!(
            "the esbuild step wrote no index.js in {}",
            built.display()
        )));
    }
    Ok(Bundle { dir, files, hash })
}

/// Node's major version; an error saying how to get Node when there is none.
fn node_version() -> Result<u32, Unbundled> {
    let missing = |detail: String| Unbundled {
        message: format!(
            "Node.js was not found ({detail}): the playground (GraphiQL) is not bundled and the \
             binary serves a page saying how to get it. Install Node.js >= {MIN_NODE_MAJOR} \
             (https://nodejs.org/) and build again."
        ),
        watch_path: true,
    };
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| missing(format!("`node --version`: {e}")))?;
    if !out.status.success() {
        return Err(missing(format!(
            "`node --version` exited with {}",
            out.status
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .ok_or_else(|| missing(format!("`node --version` said {:?}", text.trim())))
}

/// `npm` (`npm.cmd` on Windows, where `npm` is a batch file `Command` cannot start alone).
fn npm() -> &'static str {
    if cfg!(windows) { "npm.cmd" } else { "npm" }
}

fn run(command: &mut Command, what: &str) -> Result<(), Unbundled> {
    let out = command
        .output()
        .map_err(|e| Unbundled::failed(format!("{what} could not start: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    // The end of its output: where npm and esbuild say what went wrong.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(Unbundled::failed(format!(
        "{what} failed ({}):\n{}",
        out.status,
        tail.join("\n")
    )))
}

/// Rerun this script when a directory on `PATH` changes (Node installed there), so "install
/// Node and build again" is all it takes; only when Node was not found.
fn watch_path_for_node() {
    println!("cargo:rerun-if-env-changed=PATH");
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.is_absolute() && dir.is_dir() {
                println!("cargo:rerun-if-changed={}", dir.display());
            }
        }
    }
}

/// `<target>/weft-playground`: shared by every profile and by clippy (whose `OUT_DIR`s
/// differ). `OUT_DIR` is `<target>[/<triple>]/<profile>/build/<crate>-<hash>/out`; the target
/// directory is the ancestor holding Cargo's `CACHEDIR.TAG`.
fn cache_dir(out_dir: &Path) -> PathBuf {
    let target = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .or_else(|| out_dir.ancestors().nth(4))
        .unwrap_or(out_dir);
    target.join("weft-playground")
}

fn remove_other_bundles(cache: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = path != keep
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("bundle-"));
        if stale {
            let _ = fs::remove_dir_all(path);
        }
    }
}

/// Every file under `dir`, sorted (so the hash does not depend on the directory's order).
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, Unbundled> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| io_failure(&dir, &e))?;
        for entry in entries {
            let path = entry.map_err(|e| io_failure(&dir, &e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A hash of the files' names and contents: the cache key. Not cryptographic; a collision
/// would only keep a stale bundle, and the standard library's hasher needs no dependency.
fn hash_files(files: &[PathBuf]) -> Result<u64, Unbundled> {
    let mut hasher = DefaultHasher::new();
    for file in files {
        let bytes = fs::read(file).map_err(|e| io_failure(file, &e))?;
        hasher.write(
            file.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        hasher.write_usize(bytes.len());
        hasher.write(&bytes);
    }
    Ok(hasher.finish())
}

fn io_failure(path: &Path, e: &std::io::Error) -> Unbundled {
    Unbundled::failed(format!("{}: {e}", path.display()))
}

fn media_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("ttf") => "font/ttf",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn generated_source(bundle: &Bundle) -> String {
    let mut s = String::new();
    s.push_str("/// The bundle's files (written by build.rs).\npub static ASSETS: &[Asset] = &[\n");
    for name in &bundle.files {
        let path = bundle.dir.join(name);
        s.push_str(&format!(
            "    Asset {{ name: {name:?}, media: {media:?}, body: include_bytes!({path:?}) }},\n",
            media = media_type(name),
            path = path.display().to_string(),
        ));
    }
    s.push_str("];\n");
    s.push_str(&format!(
        "/// The hash of the bundle's inputs, as the assets' `ETag`.\npub const VERSION: &str = \"{:016x}\";\n",
        bundle.hash
    ));
    s.push_str("/// Why there is no bundle (`None`: there is one).\npub const UNBUNDLED: Option<&str> = None;\n");
    s
}

fn unbundled_source(why: &str) -> String {
    format!(
        "/// No bundle (see UNBUNDLED).\npub static ASSETS: &[Asset] = &[];\n\
         pub const VERSION: &str = \"none\";\n\
         /// Why there is no bundle.\npub const UNBUNDLED: Option<&str> = Some({why:?});\n"
    )
}
