#![doc = include_str!("../README.md")]

pub mod docker;
mod error;
pub mod in_process;
pub mod keys;
pub mod management;
pub mod performer;
pub mod process;
pub mod service;
pub mod supervisor;

pub use error::ExecutorError;
