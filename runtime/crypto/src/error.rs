//! The error type of this crate.

/// What can go wrong with keys, signatures and certificates.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A secret key is zero, or not below the curve order.
    #[error("invalid {curve} secret key: {reason}")]
    InvalidSecretKey {
        /// The curve of the key.
        curve: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Bytes that should encode a curve point do not.
    #[error("invalid {what}: {reason}")]
    InvalidPoint {
        /// What was being decoded.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A signature has the wrong length or layout.
    #[error("invalid signature: {0}")]
    InvalidSignature(&'static str),
    /// A signer index is not in the operator table.
    #[error("signer index {index} is not in the operator table of {operators} operators")]
    UnknownSigner {
        /// The index given.
        index: usize,
        /// How many operators the table has.
        operators: usize,
    },
    /// The same signer appears twice.
    #[error("signer {0} appears twice")]
    DuplicateSigner(String),
    /// Nobody signed.
    #[error("a certificate needs at least one signature")]
    NoSigners,
    /// Operators disagree on the number of stake types.
    #[error("operator {index} has {got} weights, the table has {expected} stake types")]
    WeightCountMismatch {
        /// The operator's index.
        index: usize,
        /// Its number of weights.
        got: usize,
        /// The table's number of stake types.
        expected: usize,
    },
    /// The operator table is empty.
    #[error("an operator table needs at least one operator")]
    EmptyTable,
    /// A keystore could not be read or written.
    #[error("keystore: {0}")]
    Keystore(String),
    /// The keystore password does not open the keystore.
    #[error("wrong password for this keystore (its checksum does not match)")]
    WrongPassword,
}
