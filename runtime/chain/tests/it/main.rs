//! Integration tests of the contract bindings.

mod compatibility;
mod deploy;
