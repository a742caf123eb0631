//! Accord's HTTP server: TAXII 2.1 over the store, and the native API (`/v1/`: [`sightings`]),
//! behind API-key authentication and the one access policy in [`access`].
//!
//! Only this crate knows HTTP and the wire shapes of TAXII. Handlers never touch SQL: they
//! ask the store through [`AppState::db`], which runs the blocking call off the async
//! workers, and they never decide visibility themselves: [`access`] does.

pub mod access;
pub mod auth;
mod error;
pub mod ingest;
mod match_api;
pub mod matching;
mod media_api;
pub mod sightings;
mod taxii;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use accord_stix::Clock;
use accord_store::{ApiKey, KeyId, Store, StoreError};
use axum::Router;

pub use error::ApiError;

/// The TAXII 2.1 media type.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// The path of the TAXII discovery resource.
pub const DISCOVERY_PATH: &str = "/taxii2/";
/// The path of the one TAXII API root.
pub const API_ROOT_PATH: &str = "/exchange/";

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The largest request body accepted, in bytes (TAXII `max_content_length`).
    pub max_body_bytes: usize,
    /// Page size when the client sends no `limit`.
    pub default_page: usize,
    /// The largest page served, whatever `limit` asks.
    pub max_page: usize,
    /// The exchange's name, shown in discovery.
    pub title: String,
    /// The most objects one POST may carry.
    pub max_objects: usize,
    /// The URL clients reach the server at (e.g. `https://exchange.example`), used in
    /// discovery; without it, `http://` and the request's Host header.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body_bytes: 64 * 1024 * 1024,
            default_page: 1000,
            max_page: 10_000,
            title: "Accord".into(),
            max_objects: 100_000,
            public_url: None,
        }
    }
}

/// Shared state of the running server.
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: Arc<Config>,
    exchange_identity: Arc<str>,
    key_touches: Arc<Mutex<HashMap<KeyId, i64>>>,
    live: Arc<RwLock<matching::Live>>,
}

/// How often a key's last-used time is written, at most.
const TOUCH_EVERY_NANOS: i64 = 60 * 1_000_000_000;

impl AppState {
    /// State over a store, with a clock and settings.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Result<Self, StoreError> {
        let exchange_identity = store.exchange_identity()?.into();
        let mut live = matching::Live::default();
        let loaded = live.refresh(store.as_ref())?;
        tracing::info!(
            versions = loaded,
            indexed = live.index().stats().patterns,
            skipped = live.skipped(),
            "indicator index loaded"
        );
        Ok(AppState {
            store,
            clock,
            config: Arc::new(config),
            exchange_identity,
            key_touches: Arc::new(Mutex::new(HashMap::new())),
            live: Arc::new(RwLock::new(live)),
        })
    }

    /// Runs a blocking store call on the blocking pool.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::from)
    }

    /// Brings the indicator index up to date with the store (after a publish).
    pub(crate) async fn refresh_indicators(&self) -> Result<(), ApiError> {
        let live = self.live.clone();
        self.db(move |s| {
            let mut live = live
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            live.refresh(s).map(|_| ())
        })
        .await
    }

    /// Re-reads one indicator into the index (after a deletion).
    pub(crate) async fn reload_indicator(&self, object_id: String) -> Result<(), ApiError> {
        let live = self.live.clone();
        self.db(move |s| {
            let mut live = live
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            live.reload(s, &object_id)
        })
        .await
    }

    /// Drops expired indicators from the index, if there are any.
    pub(crate) async fn expire_indicators(&self, now: i128) {
        let due = self
            .live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .has_expired(now);
        if due {
            let live = self.live.clone();
            let _ = tokio::task::spawn_blocking(move || {
                live.write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .expire(now);
            })
            .await;
        }
    }

    /// Records, at most once a minute per key, that a key was used.
    fn note_key_use(&self, key: &ApiKey) {
        let now = self.clock.now_nanos();
        {
            let mut touches = self
                .key_touches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let last = touches
                .get(&key.id)
                .copied()
                .or(key.last_used)
                .unwrap_or(i64::MIN);
            if now.saturating_sub(last) < TOUCH_EVERY_NANOS {
                return;
            }
            touches.insert(key.id.clone(), now);
        }
        let store = self.store.clone();
        let id = key.id.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.touch_key(&id, now) {
                tracing::warn!(error = %e, "could not record key use");
            }
        });
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    taxii::routes()
        .merge(sightings::routes())
        .merge(match_api::routes())
        .merge(media_api::routes())
        .with_state(state)
}

/// Serves the application on a bound listener until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
