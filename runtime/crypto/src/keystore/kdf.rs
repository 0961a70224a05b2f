//! Password-based key derivation for keystores.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::CryptoError;

/// The key-derivation function of a keystore and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kdf {
    /// scrypt with cost `n` (a power of two), block size `r` and parallelism `p`.
    Scrypt {
        /// CPU/memory cost.
        n: u32,
        /// Block size.
        r: u32,
        /// Parallelism.
        p: u32,
    },
    /// PBKDF2-HMAC-SHA256 with `c` iterations.
    Pbkdf2 {
        /// Iterations.
        c: u32,
    },
}

impl Kdf {
    /// scrypt with n = 2^18, r = 8, p = 1: the EIP-2335 and geth default, about a second.
    pub const fn scrypt() -> Self {
        Self::Scrypt {
            n: 1 << 18,
            r: 8,
            p: 1,
        }
    }

    /// PBKDF2 with 2^18 iterations, the EIP-2335 example's cost.
    pub const fn pbkdf2() -> Self {
        Self::Pbkdf2 { c: 1 << 18 }
    }

    /// Derives the 32-byte decryption key.
    pub(super) fn derive(
        &self,
        password: &[u8],
        salt: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        match *self {
            Self::Scrypt { n, r, p } => {
                if !n.is_power_of_two() || n < 2 {
                    return Err(CryptoError::Keystore(format!(
                        "scrypt n = {n} is not a power of two"
                    )));
                }
                let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, 32).map_err(|_| {
                    CryptoError::Keystore(format!(
                        "scrypt parameters n = {n}, r = {r}, p = {p} are outside RFC 7914's limits (n < 2^(16r))"
                    ))
                })?;
                scrypt::scrypt(password, salt, &params, &mut *key)
                    .map_err(|e| CryptoError::Keystore(format!("scrypt: {e}")))?;
            }
            Self::Pbkdf2 { c } => {
                if c == 0 {
                    return Err(CryptoError::Keystore(
                        "pbkdf2 needs at least one iteration".into(),
                    ));
                }
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, c, &mut *key);
            }
        }
        Ok(key)
    }
}
