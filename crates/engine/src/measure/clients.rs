//! Each caller's own HTTP client (`--client per-user`, the default: the load real phones put on
//! a backend — a connection pool and cookie jar per caller), built at the caller's first request
//! from what every caller shares: one TLS configuration with the system's roots, Goose's user
//! agent, timeout and gzip setting. A caller's pool keeps at most two idle connections.

use goose::config::GooseConfiguration;
use std::sync::Arc;
use std::time::Duration;

/// Idle connections a caller keeps to a host: a voice journey has at most one request in
/// flight, and a second covers a streamed reply still draining.
pub const IDLE_PER_HOST: usize = 2;

/// What voiceswarm's requests say they come from, in both client modes.
pub const USER_AGENT: &str = concat!("voiceswarm/", env!("CARGO_PKG_VERSION"), " (goose)");

/// What every caller's client is built from.
pub struct ClientFactory {
    /// None with Goose's `--accept-invalid-certs`: each client then builds its own, unverified.
    tls: Option<Arc<rustls::ClientConfig>>,
    user_agent: String,
    gzip: bool,
    timeout: Duration,
}

impl ClientFactory {
    /// The settings Goose would give each user's client (`--timeout`, `--no-gzip`,
    /// `--accept-invalid-certs`), and the process's TLS configuration.
    pub fn new(config: &GooseConfiguration) -> Result<Self, String> {
        let seconds = match config.timeout.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => t
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| format!("--timeout {t}: expected seconds, such as 60"))?,
            None => 60.0,
        };
        let tls = match config.accept_invalid_certs {
            true => None,
            false => Some(crate::tls::client_config()?),
        };
        Ok(ClientFactory {
            tls,
            user_agent: USER_AGENT.to_string(),
            gzip: !config.no_gzip,
            timeout: Duration::from_secs_f64(seconds),
        })
    }

    /// A new caller's client.
    pub fn client(&self) -> reqwest::Result<reqwest::Client> {
        let builder = reqwest::Client::builder()
            .user_agent(&self.user_agent)
            .gzip(self.gzip)
            .timeout(self.timeout)
            .cookie_store(true)
            .pool_max_idle_per_host(IDLE_PER_HOST);
        match &self.tls {
            Some(tls) => builder.use_preconfigured_tls(rustls::ClientConfig::clone(tls)),
            None => builder.danger_accept_invalid_certs(true),
        }
        .build()
    }
}
