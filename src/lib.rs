//! voiceswarm: load testing and latency validation for voice-assistant backends, on Goose.
//! The top layer: the command line and one module per command, composing the model, the
//! engine, the results and the reference backend (see ARCHITECTURE.md).

pub mod capacity;
pub mod cli;
pub mod commands;
pub mod sut;
