#![doc = include_str!("../README.md")]

pub mod docker;
mod error;
pub mod performer;
pub mod process;

pub use error::ExecutorError;
