//! ECDSA (secp256k1) keys and the 65-byte `r ++ s ++ v` signatures EigenLayer's ECDSA verifier
//! and KeyRegistrar accept: plain signatures over a 32-byte digest (no message prefix), low s,
//! v = 27 or 28.

use std::fmt;

use alloy_primitives::{Address, B256, keccak256};
use k256::ecdsa::{RecoveryId, Signature as K256Signature, SigningKey, VerifyingKey};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::CryptoError;

/// An ECDSA secret key. Zeroized on drop (by k256); its `Debug` shows the address only.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh random key.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self(SigningKey::random(rng))
    }

    /// The key with these 32 big-endian bytes; fails unless 0 < key < n.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        SigningKey::from_slice(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidSecretKey {
                curve: "secp256k1",
                reason: "expected 32 bytes encoding a scalar in [1, n)",
            })
    }

    /// The 32 big-endian bytes of the key.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes().into())
    }

    /// The Ethereum address of the key.
    pub fn address(&self) -> Address {
        address_of(self.0.verifying_key())
    }

    /// Signs a 32-byte digest: 65 bytes `r ++ s ++ v`, s low, v = 27 or 28.
    pub fn sign(&self, digest: B256) -> Result<[u8; 65], CryptoError> {
        let (signature, recovery) = self
            .0
            .sign_prehash_recoverable(digest.as_slice())
            .map_err(|_| CryptoError::InvalidSignature("secp256k1 signing failed"))?;
        // k256 signs with low s already; normalising again keeps the guarantee explicit.
        let (signature, recovery) = match signature.normalize_s() {
            Some(normalized) => (
                normalized,
                RecoveryId::new(!recovery.is_y_odd(), recovery.is_x_reduced()),
            ),
            None => (signature, recovery),
        };
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&signature.to_bytes());
        out[64] = 27 + recovery.to_byte();
        Ok(out)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("address", &self.address())
            .finish()
    }
}

/// The signer of a 65-byte signature over `digest`, with the same rules as the contracts:
/// v must be 27 or 28 and s must be low.
pub fn recover(digest: B256, signature: &[u8]) -> Result<Address, CryptoError> {
    let bytes: &[u8; 65] = signature
        .try_into()
        .map_err(|_| CryptoError::InvalidSignature("an ECDSA signature is 65 bytes"))?;
    let v = bytes[64];
    if v != 27 && v != 28 {
        return Err(CryptoError::InvalidSignature("v must be 27 or 28"));
    }
    let sig = K256Signature::from_slice(&bytes[..64])
        .map_err(|_| CryptoError::InvalidSignature("r or s is out of range"))?;
    if sig.normalize_s().is_some() {
        return Err(CryptoError::InvalidSignature(
            "s is in the upper half of the curve order",
        ));
    }
    let recovery =
        RecoveryId::from_byte(v - 27).ok_or(CryptoError::InvalidSignature("bad recovery id"))?;
    let key = VerifyingKey::recover_from_prehash(digest.as_slice(), &sig, recovery)
        .map_err(|_| CryptoError::InvalidSignature("no key recovers from this signature"))?;
    Ok(address_of(&key))
}

/// The Ethereum address of a public key: the last 20 bytes of keccak256(x ++ y).
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    Address::from_slice(&keccak256(&point.as_bytes()[1..])[12..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_recover_with_ethereum_rules() {
        let key = SecretKey::from_bytes(&[7u8; 32]).unwrap();
        let digest = keccak256("digest");
        let sig = key.sign(digest).unwrap();
        assert!(sig[64] == 27 || sig[64] == 28);
        assert_eq!(recover(digest, &sig).unwrap(), key.address());

        let mut bad_v = sig;
        bad_v[64] = 1;
        assert!(recover(digest, &bad_v).is_err());
        assert!(recover(digest, &sig[..64]).is_err());
        assert_ne!(recover(keccak256("other"), &sig).unwrap(), key.address());
    }

    #[test]
    fn known_address() {
        // anvil's first account.
        let key = SecretKey::from_bytes(
            &alloy_primitives::hex::decode(
                "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            key.address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse::<Address>()
                .unwrap()
        );
        assert!(format!("{key:?}").to_lowercase().contains("0xf39fd6e5"));
    }
}
