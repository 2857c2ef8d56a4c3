//! One module per command, each holding its flags and the order in which it does its work; the
//! mechanisms they use live in the modules named after them.

pub mod capacity;
pub mod init;
pub mod probe;
pub mod report;
pub mod run;
pub mod serve;
pub mod shared;
pub mod trend;
