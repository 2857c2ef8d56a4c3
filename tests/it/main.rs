//! Integration tests: one binary, one module per area. Everything runs against real parts —
//! the reference backend on real sockets, a real redis-server, real headless Chromium.

mod arrivals;
mod backend;
mod calls;
mod capacity;
mod cli;
mod distributed;
mod export;
mod faults;
mod fuzz;
mod layers;
mod newcomer;
mod probe;
mod protocols;
mod report;
mod scenario;
mod support;
mod swarm;
mod trend;
mod web;
mod webrtc;
