//! `ponos`: the Ponos devkit command line.

mod cmd;

use clap::Parser;
use cmd::Command;

/// Ponos: build, run and ship EigenLayer AVSs.
///
/// Ponos scaffolds an AVS, compiles its contracts and performer, runs a complete local devnet
/// (anvil chains, the TaskMailbox contract stack, an aggregator and executors) and deploys it to
/// Ethereum and Base.
///
/// Examples:
///   ponos doctor          check that anvil, forge, cast, solc and Docker are ready
///   ponos doctor --json   the same, as one JSON document for scripts
#[derive(Debug, Parser)]
#[command(
    name = "ponos",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> eyre::Result<()> {
    // Output piped into `head` and the like ends quietly when the reader goes away, as for
    // any Unix tool, instead of failing on the closed pipe.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let code = runtime.block_on(cli.command.run())?;
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
