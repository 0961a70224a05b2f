//! Subcommands of `ponos`, one module each.

pub(crate) mod build;
pub(crate) mod deploy;
pub(crate) mod devnet;
pub(crate) mod doctor;
pub(crate) mod keys;
pub(crate) mod new;
pub(crate) mod task;

use clap::Subcommand;

/// The subcommands of `ponos`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new AVS project (performer, contracts, tests, ponos.toml).
    New(new::NewArgs),
    /// Compile the project's contracts, its performer binary and the performer's image.
    Build(build::BuildArgs),
    /// Check the tools Ponos needs and print how to fix what is missing.
    Doctor(doctor::DoctorArgs),
    /// Run a local devnet (anvil L1 and L2, the contract stack, aggregator, executors).
    Devnet(devnet::DevnetArgs),
    /// Create tasks on the devnet and show their verified results.
    Task(task::TaskArgs),
    /// Create, import, export and list keystores (BN254, ECDSA, BLS12-381).
    Keys(keys::KeysArgs),
    /// Deploy the AVS to Ethereum, Base, Sepolia, Base Sepolia, or a sandbox chain.
    Deploy(deploy::DeployArgs),
}

impl Command {
    /// Runs the subcommand and returns the process exit code.
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self {
            Self::New(args) => args.run().await,
            Self::Build(args) => args.run().await,
            Self::Doctor(args) => args.run().await,
            Self::Devnet(args) => args.run().await,
            Self::Task(args) => args.run().await,
            Self::Keys(args) => args.run().await,
            Self::Deploy(args) => args.run().await,
        }
    }
}
