//! voiceswarm's engine: what runs a load — the fine clock, measurement of each step, phone
//! calls, open arrivals, the swarm on Goose and the component probe. It records into the
//! model's recorder and hands each finished run to the layer above; it writes no files.

pub mod arrivals;
pub mod call;
pub mod clock;
pub mod journey;
pub mod measure;
pub mod probe;
pub mod signals;
pub mod swarm;
pub mod tls;
