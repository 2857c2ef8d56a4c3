//! Where a run's figures go besides its folder — Prometheus (live and pushed) and CloudWatch
//! EMF — as the plan records it in run.json (passwords never written).

use serde::{Serialize, Serializer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where a run's figures go besides its folder (run.json records it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ExportPlan {
    pub prometheus_listen: Option<SocketAddr>,
    #[serde(rename = "prometheus_linger_s", serialize_with = "seconds")]
    #[schemars(with = "f64")]
    pub prometheus_linger: Duration,
    #[serde(serialize_with = "without_password")]
    #[schemars(with = "Option<String>")]
    pub prometheus_push: Option<String>,
    pub cloudwatch_emf: Option<PathBuf>,
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A push URL as run.json records it: any password replaced.
fn without_password<S: Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    url.as_deref().map(shown).serialize(s)
}

/// `url` without a password, for messages.
pub fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
