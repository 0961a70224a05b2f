//! The Ponos devkit as a library: the devnet the `ponos` command runs, and the harness AVS
//! authors use in their own tests (start a devnet inside a test, create a task, await its
//! verified result).

pub mod deploy;
pub mod devnet;
pub mod private;
pub mod project;
