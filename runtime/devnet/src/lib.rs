//! Sets up an AVS on Ponos contract stacks the way an AVS team and EigenLayer's table
//! transporter would on real networks: operator sets (0 for the aggregator, 1 for executors),
//! keys registered with proofs, sockets, weights, operator tables pushed to every chain, and the
//! mailbox's task configuration on every chain.
//!
//! The devkit's devnet and the runtime's integration tests both use it, so what they exercise
//! is one code path.

mod local;
mod provision;
pub mod proxy;

pub use local::{ChainOptions, LocalChain, LocalExecutor};

pub use provision::{
    AGGREGATOR_SET, AVS_METADATA_URI, AvsSpec, Chain, Curve, EXECUTOR_SET, OperatorKey,
    OperatorSpec, PreparedAvs, ProvisionError, ProvisionedAvs, activate_avs, key_registration,
    mailbox_task_config, prepare_avs, provision_avs, push_tables, register_operators,
    registrar_creation_code, send_request, table_pushes, weights_call,
};
