//! Hot reload for `weft serve`: every second, look at the config file; every interval of the
//! supergraph's source (a second for a file, `supergraph.poll_interval_ms` for a URL), ask it
//! for a new supergraph. When one changed and still loads, build a new runtime and swap it in.
//! A file that does not load, a source that does not answer or a supergraph that is refused is
//! logged and counted (`weft_supergraph_updates_total`), and the runtime in use keeps serving.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Interval, MissedTickBehavior};
use weft_config::{Config, Sources};
use weft_federation::Supergraph;

use crate::observability::log::LogHandle;
use crate::runtime::source::{self, LoadError, SupergraphSource, SupergraphVersion};
use crate::runtime::watch::FileWatch;
use crate::runtime::{Live, RuntimeError, SchemaRuntime, plan_cache};

const POLL: Duration = Duration::from_secs(1);

pub struct Reloader {
    pub live: Arc<Live>,
    pub sources: Sources,
    /// The configuration and supergraph of the runtime in use.
    pub config: Arc<Config>,
    pub supergraph: Arc<Supergraph>,
    pub source: Box<dyn SupergraphSource>,
    /// The persisted-document manifest's source, when `persisted_documents.url` names one.
    pub safelist: Option<Box<dyn SupergraphSource>>,
    pub config_file: Option<FileWatch>,
    pub log: LogHandle,
}

/// A tick every `period`, the first one after a period (what is in use was just read).
fn ticking(period: Duration) -> Interval {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

impl Reloader {
    pub async fn run(mut self) {
        let mut config_tick = ticking(POLL);
        let mut source_tick = ticking(self.source.interval());
        let mut safelist_tick = ticking(self.safelist_interval());
        // Whether the source's last poll failed: an outage is logged once, then counted.
        let mut failing = false;
        loop {
            tokio::select! {
                _ = safelist_tick.tick(), if self.safelist.is_some() => self.poll_safelist().await,
                _ = config_tick.tick() => {
                    if let Some(change) = self.config_file.as_mut().and_then(FileWatch::poll)
                        && self.config_changed(change).await
                    {
                        // A new source: asked at once, then every interval of its own.
                        source_tick = tokio::time::interval(self.source.interval());
                        source_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    }
                    safelist_tick = ticking(self.safelist_interval());
                }
                _ = source_tick.tick() => self.poll_source(&mut failing).await,
            }
        }
    }

    /// Applies a changed config file; true when it named another supergraph source.
    async fn config_changed(&mut self, change: io::Result<String>) -> bool {
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
        let mut new = match loaded {
            Ok(new) => new,
            Err(errors) => {
                for e in errors {
                    tracing::error!("{e}");
                }
                tracing::error!("{file}: not applied; the configuration in use stays");
                return false;
            }
        };
        let old = self.config.clone();
        if let Err(e) = self.remote_safelist(&mut new, &old).await {
            tracing::error!("{file}: not applied: {e}");
            return false;
        }
        if new == *old {
            return false;
        }
        let configured = match new.supergraph.source() {
            Ok(configured) => configured,
            Err(e) => {
                tracing::error!("{file}: not applied: {e}");
                return false;
            }
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
        let mut source_changed = false;
        if new.supergraph != old.supergraph {
            match source::open(&configured, new.supergraph.poll_interval()) {
                Ok(opened) => {
                    // Read right after; until it loads, the old schema serves.
                    tracing::info!("{file}: now serving the supergraph {}", opened.describe());
                    self.source = opened;
                    source_changed = true;
                }
                Err(e) => {
                    tracing::error!("{file}: not applied: {e}");
                    return false;
                }
            }
        }
        let new = Arc::new(new);
        if self.rebuild(self.supergraph.clone(), new.clone()).await {
            self.config = new;
            tracing::info!("{file}: configuration applied");
        }
        source_changed
    }

    fn safelist_interval(&self) -> Duration {
        self.safelist
            .as_ref()
            .map_or(Duration::from_secs(3600), |s| s.interval())
    }

    /// Gives `new` (a configuration just read) the manifest of its `persisted_documents.url`:
    /// the one in use when the URL is the same, else the new URL's, read now.
    async fn remote_safelist(&mut self, new: &mut Config, old: &Config) -> Result<(), String> {
        let (url, interval) = match &new.persisted_documents.url {
            Some(url) => (url.clone(), new.persisted_documents.poll_interval()),
            None => {
                self.safelist = None;
                return Ok(());
            }
        };
        if old.persisted_documents.url.as_ref() == Some(&url)
            && old.persisted_documents.poll_interval_ms == new.persisted_documents.poll_interval_ms
        {
            new.persisted_documents.documents = old.persisted_documents.documents.clone();
            return Ok(());
        }
        let mut opened = source::safelist(url.as_str(), interval).map_err(|e| e.to_string())?;
        let text = opened
            .poll()
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        *new = source::with_safelist(new, &text).map_err(|e| format!("{url}: {e}"))?;
        self.safelist = Some(opened);
        Ok(())
    }

    /// Asks the manifest's URL for a new one, and serves with it if it parses.
    async fn poll_safelist(&mut self) {
        let Some(polled) = self.safelist.as_mut() else {
            return;
        };
        let name = polled.describe().to_owned();
        let text = match polled.poll().await {
            Ok(Some(text)) => text,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("{e}; the persisted documents in use stay");
                return;
            }
        };
        match source::with_safelist(&self.config, &text) {
            Ok(new) => {
                let count = new
                    .persisted_documents
                    .documents
                    .as_ref()
                    .map_or(0, |d| d.by_id.len());
                let new = Arc::new(new);
                if self.rebuild(self.supergraph.clone(), new.clone()).await {
                    self.config = new;
                    tracing::info!(documents = count, "{name}: persisted documents reloaded");
                }
            }
            Err(e) => {
                tracing::error!("{name}: {e}; the persisted documents in use stay");
            }
        }
    }

    /// Asks the source for a new supergraph, and serves it if it loads.
    async fn poll_source(&mut self, failing: &mut bool) {
        let name = self.source.describe().to_owned();
        let metrics = self.live.current().metrics.clone();
        let text = match self.source.poll().await {
            Ok(Some(text)) => text,
            Ok(None) => {
                if std::mem::take(failing) {
                    tracing::info!("{name}: answering again");
                }
                return;
            }
            Err(e) => {
                metrics.record_supergraph_update("unreachable");
                if !std::mem::replace(failing, true) {
                    tracing::error!("{e}; still serving the previous supergraph");
                } else {
                    tracing::debug!("{e}; still serving the previous supergraph");
                }
                return;
            }
        };
        if std::mem::take(failing) {
            tracing::info!("{name}: answering again");
        }
        let version = SupergraphVersion::of(&text, &name);
        if self
            .live
            .version()
            .is_some_and(|live| live.sha256 == version.sha256)
        {
            return;
        }
        match source::load(text, name.clone()).await {
            Ok(supergraph) => {
                if self.rebuild(supergraph.clone(), self.config.clone()).await {
                    self.supergraph = supergraph;
                    tracing::info!(sha256 = %version.sha256, "{name}: supergraph reloaded");
                    self.live.set_version(version);
                    metrics.record_supergraph_update("loaded");
                } else {
                    metrics.record_supergraph_update("invalid");
                }
            }
            Err(e) => {
                metrics.record_supergraph_update("invalid");
                if let LoadError::Invalid(e) = &e {
                    for d in super::preflight::diagnostics(e.clone()) {
                        tracing::error!("{d}");
                    }
                } else {
                    tracing::error!("{name}: {e}");
                }
                tracing::error!(
                    sha256 = %version.sha256,
                    "{name}: not loaded; still serving the previous supergraph"
                );
            }
        }
    }

    /// Builds a runtime off the async threads, warms its plan cache with the most used
    /// operations of the one in use (`plan_cache::warm_up`), and swaps it in; false (logged)
    /// if it failed.
    async fn rebuild(&self, supergraph: Arc<Supergraph>, config: Arc<Config>) -> bool {
        let old = self.live.current();
        let built = tokio::task::spawn_blocking(move || {
            // Counters live on across reloads.
            let mut new = SchemaRuntime::new(supergraph, config, old.metrics.clone())?;
            // So are the subscriptions served (their limit is the process's); the new runtime
            // serves the generation the swap starts.
            new.subscriptions = old.subscriptions.clone();
            new.generation = old.subscriptions.generation() + 1;
            // The clients' counts go on (the subgraphs' start again with the new engine).
            if new.config.rate_limit == old.config.rate_limit {
                new.rate_limits = old.rate_limits.clone();
            }
            plan_cache::warm_up(&old, &new);
            Ok::<_, RuntimeError>(new)
        })
        .await;
        match built {
            Ok(Ok(runtime)) => {
                self.live.replace(runtime);
                // Subscriptions run on the runtime they started on: they end, and clients
                // subscribe again on the new one.
                self.live
                    .current()
                    .subscriptions
                    .end_all(crate::runtime::subscriptions::Ending::Reload);
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
