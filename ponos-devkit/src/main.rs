//! `ponos`: the Ponos devkit command line.

mod cmd;

use clap::Parser;
use cmd::Command;

/// Ponos: build, run and ship EigenLayer AVSs.
///
/// Ponos scaffolds an AVS, compiles its contracts and performer, runs a complete local devnet
/// (anvil chains, the TaskMailbox contract stack, an aggregator and executors) and deploys it to
/// Ethereum and Base.
#[derive(Debug, Parser)]
#[command(
    after_help = "Examples:\n  ponos doctor                    # anvil, forge, cast, solc and Docker ready?\n  ponos new my-avs && cd my-avs   # a performer, contracts, tests, ponos.toml\n  ponos build                     # contracts, the performer binary, its image\n  ponos devnet up --detach        # chains, contracts, operators, aggregator\n  ponos task create --text 7      # the verified result: 49"
)]
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

fn main() {
    let cli = Cli::parse();
    if !cli.command.serves() {
        // Output piped into `head` and the like ends quietly when the reader goes away, as for
        // any Unix tool, instead of failing on the closed pipe. Not for a devnet: a socket a
        // peer closed (Docker's, a client's) would kill it.
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let code = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(eyre::Report::from)
        .and_then(|runtime| runtime.block_on(cli.command.run()))
        .unwrap_or_else(|error| {
            // One line, whatever went wrong: the error and its causes.
            eprintln!("error: {error:#}");
            1
        });
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
