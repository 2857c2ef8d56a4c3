//! Audio: WAV files (what the HTTP API takes and returns), G.711 μ-law (what phone lines carry),
//! Opus (what WebRTC voice carries), and speech as 20 ms frames (resampling, the speech test, the
//! frames a caller sends).

pub mod mulaw;
pub mod opus;
pub mod speech;
mod wav;

pub use wav::*;
