//! The Ponos production binaries. `ponos-executor` is the executor every operator runs; its
//! configuration is documented in `docs/executor.example.toml`.

pub mod executor;
pub mod telemetry;
