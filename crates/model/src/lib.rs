//! voiceswarm's model: the values every other layer shares — units, vocabulary, the built-in
//! inputs, audio and wire codecs, scenarios, targets, the run plan, statistics and verdicts.
//! Pure values and functions: no sockets, no Goose, nothing that runs a load.

pub mod arrival;
pub mod audio;
pub mod files;
pub mod fixtures;
pub mod inputs;
pub mod labels;
pub mod plan;
pub mod protocol;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod turns;
pub mod units;
pub mod vocab;
