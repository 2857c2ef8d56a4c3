//! voiceswarm: load testing and latency validation for voice-assistant backends, on Goose.
//! This is the library the binary and the tests call; each module owns one part.

pub mod arrivals;
pub mod audio;
pub mod backend;
pub mod call;
pub mod capacity;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod export;
pub mod fixtures;
pub mod inputs;
pub mod journey;
pub mod measure;
pub mod output;
pub mod plan;
pub mod probe;
pub mod realtime;
pub mod report;
pub mod scenario;
pub mod signals;
pub mod stats;
pub mod swarm;
pub mod target;
pub mod tls;
pub mod trend;
pub mod units;
pub mod vocab;
