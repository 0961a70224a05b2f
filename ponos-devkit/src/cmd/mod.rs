//! Subcommands of `ponos`, one module each.

pub(crate) mod doctor;

use clap::Subcommand;

/// The subcommands of `ponos`.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check the tools Ponos needs and print how to fix what is missing.
    Doctor(doctor::DoctorArgs),
}

impl Command {
    /// Runs the subcommand and returns the process exit code.
    pub(crate) async fn run(self) -> eyre::Result<i32> {
        match self {
            Self::Doctor(args) => args.run().await,
        }
    }
}
