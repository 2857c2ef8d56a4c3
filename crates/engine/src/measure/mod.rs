//! What a transaction measures beyond Goose: full response time with the body, time to first
//! byte (first token, first audio), every `Server-Timing` stage, cache hits, failures by kind.

pub mod body;
pub mod clients;
pub mod server_timing;
pub mod session;
pub mod step;
