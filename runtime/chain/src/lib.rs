#![doc = include_str!("../README.md")]

pub mod contracts;
pub mod sandbox;
