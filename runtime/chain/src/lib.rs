#![doc = include_str!("../README.md")]

pub mod book;
pub mod contracts;
pub mod keys;
pub mod receipt;
pub mod redact;
pub mod sandbox;
