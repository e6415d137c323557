//! Hot reload for `weft serve`: every second, look at the supergraph file and the config file;
//! when one changed and still loads, build a new runtime and swap it in. A file that does not
//! load is logged and the runtime in use keeps serving.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use weft_config::{Config, Sources};
use weft_federation::Supergraph;

use crate::observability::log::LogHandle;
use crate::runtime::watch::FileWatch;
use crate::runtime::{Live, RuntimeError, SchemaRuntime, plan_cache};

const POLL: Duration = Duration::from_secs(1);

pub struct Reloader {
    pub live: Arc<Live>,
    pub sources: Sources,
    /// The configuration and supergraph of the runtime in use.
    pub config: Arc<Config>,
    pub supergraph: Arc<Supergraph>,
    pub supergraph_file: FileWatch,
    pub config_file: Option<FileWatch>,
    pub log: LogHandle,
}

impl Reloader {
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tick.tick().await; // The first tick is immediate; the files were just read.
        loop {
            tick.tick().await;
            if let Some(change) = self.config_file.as_mut().and_then(FileWatch::poll) {
                self.config_changed(change).await;
            }
            if let Some(change) = self.supergraph_file.poll() {
                self.supergraph_changed(change).await;
            }
        }
    }

    async fn config_changed(&mut self, change: io::Result<String>) {
        let file = self
            .config_file
            .as_ref()
            .map(|f| f.path().display().to_string())
            .unwrap_or_default();
        let loaded = change
            .map_err(|e| vec![format!("{file}: {e}")])
            .and_then(|text| {
                self.sources
                    .load_text(Some(&text))
                    .map_err(|errs| errs.iter().map(ToString::to_string).collect())
            });
        let new = match loaded {
            Ok(new) => new,
            Err(errors) => {
                for e in errors {
                    tracing::error!("{e}");
                }
                tracing::error!("{file}: not applied; the configuration in use stays");
                return;
            }
        };
        let old = self.config.clone();
        if new == *old {
            return;
        }
        let Some(path) = new.supergraph.path.clone() else {
            tracing::error!("{file}: not applied: no `supergraph.path` any more");
            return;
        };
        if new.listen != old.listen {
            tracing::warn!(
                "{file}: `listen` changed to {}: restart weft serve to apply it (still on {})",
                new.listen,
                old.listen
            );
        }
        if new.log.format != old.log.format {
            tracing::warn!("{file}: `log.format` changed: restart weft serve to apply it");
        }
        if new.telemetry != old.telemetry {
            tracing::warn!("{file}: `telemetry` changed: restart weft serve to apply it");
        }
        if new.server.work_runtime != old.server.work_runtime {
            tracing::warn!("{file}: `server.work_runtime` changed: restart weft serve to apply it");
        }
        if new.log.level != old.log.level {
            self.log.set_level(&new.log);
        }
        if new.supergraph.path != old.supergraph.path {
            // Read on this same tick, right after; until it loads, the old schema serves.
            tracing::info!("{file}: now serving the supergraph {}", path.display());
            self.supergraph_file = FileWatch::new(path);
        }
        let new = Arc::new(new);
        if self.rebuild(self.supergraph.clone(), new.clone()).await {
            self.config = new;
            tracing::info!("{file}: configuration applied");
        }
    }

    async fn supergraph_changed(&mut self, change: io::Result<String>) {
        let name = self.supergraph_file.path().display().to_string();
        let text = match change {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("{name}: {e}; still serving the previous supergraph");
                return;
            }
        };
        let label = name.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            // Refused like a malformed one: needs features Weft does not execute.
            Supergraph::parse(&text, &label)
                .and_then(|s| s.check_executable(&label).map(|()| Arc::new(s)))
        })
        .await;
        match parsed {
            Ok(Ok(supergraph)) => {
                if self.rebuild(supergraph.clone(), self.config.clone()).await {
                    self.supergraph = supergraph;
                    tracing::info!("{name}: supergraph reloaded");
                }
            }
            Ok(Err(e)) => {
                tracing::error!("{e}");
                tracing::error!("{name}: not loaded; still serving the previous supergraph");
            }
            Err(e) => tracing::error!("{name}: loading failed: {e}"),
        }
    }

    /// Builds a runtime off the async threads, warms its plan cache with the most used
    /// operations of the one in use (`plan_cache::warm_up`), and swaps it in; false (logged)
    /// if it failed.
    async fn rebuild(&self, supergraph: Arc<Supergraph>, config: Arc<Config>) -> bool {
        let old = self.live.current();
        let built = tokio::task::spawn_blocking(move || {
            // Counters live on across reloads.
            let new = SchemaRuntime::new(supergraph, config, old.metrics.clone())?;
            plan_cache::warm_up(&old, &new);
            Ok::<_, RuntimeError>(new)
        })
        .await;
        match built {
            Ok(Ok(runtime)) => {
                self.live.replace(runtime);
                true
            }
            Ok(Err(e)) => {
                tracing::error!("cannot build the new runtime: {e}; the one in use stays");
                false
            }
            Err(e) => {
                tracing::error!("cannot build the new runtime: {e}; the one in use stays");
                false
            }
        }
    }
}
