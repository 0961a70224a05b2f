//! The aggregator end to end on two real anvil chains with real executors over gRPC.

mod harness;
mod identity;
mod pipeline;
