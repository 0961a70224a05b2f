#![doc = include_str!("../README.md")]

pub mod bls12_381;
pub mod bn254;
pub mod certificate;
pub mod challenge;
pub mod digest;
pub mod ecdsa;
mod error;
pub mod keystore;
pub mod merkle;
pub mod table;
pub mod types;

pub use error::CryptoError;
