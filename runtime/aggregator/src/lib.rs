//! The Ponos aggregator.
//!
//! One [`watcher`] per chain finds `TaskCreated` events (range `eth_getLogs`, confirmations,
//! reorg detection); the [`view`] reads each task's operator set once per reference timestamp
//! (members, sockets, keys, weights, in the verifier's index order); a [`session`] per task fans
//! out to the executors over pooled gRPC connections, checks every answer and groups them by
//! result until the stake threshold is met; the [`sender`] lands the certificate with its own
//! nonce tracking and fee bumping. The [`Aggregator`] ties them together, runs sessions
//! concurrently and records every step in the store, so a restart resumes open tasks.

pub mod aggregator;
pub mod chain;
pub mod error;
pub mod identity;
pub mod leadership;
pub mod management;
pub mod metrics;
pub mod pool;
pub mod retry;
pub mod sender;
pub mod session;
pub mod updates;
pub mod view;
pub mod watcher;

pub use aggregator::{Aggregator, AggregatorConfig, AggregatorHandle};
pub use chain::{ChainConfig, TaskChain};
pub use error::AggregatorError;
pub use leadership::Leadership;
pub use updates::TaskUpdate;
