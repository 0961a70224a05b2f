//! Subcommands of `ponos`, one module each.

pub(crate) mod build;
pub(crate) mod deploy;
pub(crate) mod devnet;
pub(crate) mod doctor;
pub(crate) mod keys;
pub(crate) mod new;
pub(crate) mod task;

use clap::Subcommand;

/// The subcommands of `ponos`. Each one's help (its first line in `ponos --help`, the rest
/// in `ponos <command> --help`) is the doc comment of its arguments' struct.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    New(new::NewArgs),
    Build(build::BuildArgs),
    Doctor(doctor::DoctorArgs),
    Devnet(devnet::DevnetArgs),
    Task(task::TaskArgs),
    Keys(keys::KeysArgs),
    Deploy(deploy::DeployArgs),
}

impl Command {
    /// Whether the command runs servers (a devnet) for as long as it lives. Such a process must
    /// outlive a peer that closes a socket under it (Docker's API socket, a gRPC client), so it
    /// keeps Rust's default of ignoring SIGPIPE and sees a closed socket as an error.
    pub(crate) const fn serves(&self) -> bool {
        matches!(self, Self::Devnet(args) if args.serves())
    }

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
