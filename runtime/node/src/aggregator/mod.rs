//! The `ponos-aggregator` binary: configuration, wiring, and the run loop.

pub mod config;
mod run;

pub use config::AggregatorFileConfig;
pub use run::run;
