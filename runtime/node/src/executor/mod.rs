//! The `ponos-executor` binary: configuration, wiring, and the run loop.

pub mod config;
mod metrics;
mod run;

pub use config::ExecutorConfig;
pub use run::run;
