//! BLS12-381 keys and signatures with Ethereum's scheme (public keys in G1, 48 bytes; signatures
//! in G2, 96 bytes; proof-of-possession ciphersuite), for interoperability with Ethereum
//! validator keystores. EigenLayer's contracts verify BN254 only: these keys sign off-chain.

use std::fmt;

use blst::{
    BLST_ERROR,
    min_pk::{
        AggregateSignature, PublicKey as BlstPublicKey, SecretKey as BlstSecretKey,
        Signature as BlstSignature,
    },
};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::CryptoError;

/// The ciphersuite Ethereum uses: `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// A BLS12-381 secret key (blst zeroizes it on drop); its `Debug` shows the public key only.
pub struct SecretKey(BlstSecretKey);

impl SecretKey {
    /// A fresh random key (EIP-2333 key generation from 32 random bytes).
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut ikm = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *ikm);
        Self::from_seed(&*ikm).expect("32 bytes of key material are enough")
    }

    /// The key derived from at least 32 bytes of key material (EIP-2333 `KeyGen`).
    pub fn from_seed(ikm: &[u8]) -> Result<Self, CryptoError> {
        BlstSecretKey::key_gen(ikm, &[])
            .map(Self)
            .map_err(|_| CryptoError::InvalidSecretKey {
                curve: "BLS12-381",
                reason: "key material must be at least 32 bytes",
            })
    }

    /// The key with these 32 big-endian bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        BlstSecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidSecretKey {
                curve: "BLS12-381",
                reason: "expected 32 bytes encoding a non-zero scalar below the group order",
            })
    }

    /// The 32 big-endian bytes of the key.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// Signs a message.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message, DST, &[]))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public_key", &self.public_key())
            .finish()
    }
}

/// A BLS12-381 public key (G1, 48 bytes compressed).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(BlstPublicKey);

impl PublicKey {
    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 48] {
        self.0.compress()
    }

    /// Decodes and validates (on curve, in subgroup, not infinity) a 48-byte key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        BlstPublicKey::key_validate(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidPoint {
                what: "BLS12-381 public key",
                reason: "not a valid G1 key",
            })
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", alloy_primitives::hex::encode(self.to_bytes()))
    }
}

/// A BLS12-381 signature (G2, 96 bytes compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(BlstSignature);

impl Signature {
    /// Whether this is a signature of `message` by `key`.
    pub fn verify(&self, message: &[u8], key: &PublicKey) -> bool {
        self.0.verify(true, message, DST, &[], &key.0, true) == BLST_ERROR::BLST_SUCCESS
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.compress()
    }

    /// Decodes and validates a 96-byte signature.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        BlstSignature::sig_validate(bytes, true)
            .map(Self)
            .map_err(|_| CryptoError::InvalidSignature("not a valid BLS12-381 G2 signature"))
    }
}

/// Aggregates signatures; `None` for none.
pub fn aggregate(signatures: &[Signature]) -> Option<Signature> {
    let refs: Vec<_> = signatures.iter().map(|s| &s.0).collect();
    AggregateSignature::aggregate(&refs, false)
        .ok()
        .map(|a| Signature(a.to_signature()))
}

/// Whether `signature` aggregates signatures of the same `message` by every key in `keys`
/// (fast aggregate verify; the keys must have proven possession).
pub fn fast_aggregate_verify(signature: &Signature, message: &[u8], keys: &[PublicKey]) -> bool {
    let refs: Vec<_> = keys.iter().map(|k| &k.0).collect();
    !refs.is_empty()
        && signature.0.fast_aggregate_verify(true, message, DST, &refs) == BLST_ERROR::BLST_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_aggregate() {
        let keys: Vec<_> = (1u8..=3)
            .map(|i| SecretKey::from_seed(&[i; 32]).unwrap())
            .collect();
        let publics: Vec<_> = keys.iter().map(SecretKey::public_key).collect();
        let sigs: Vec<_> = keys.iter().map(|k| k.sign(b"block root")).collect();
        assert!(sigs[0].verify(b"block root", &publics[0]));
        assert!(!sigs[0].verify(b"other", &publics[0]));
        let agg = aggregate(&sigs).unwrap();
        assert!(fast_aggregate_verify(&agg, b"block root", &publics));
        assert!(!fast_aggregate_verify(&agg, b"block root", &publics[..2]));
        assert_eq!(Signature::from_bytes(&agg.to_bytes()).unwrap(), agg);
        assert_eq!(
            PublicKey::from_bytes(&publics[1].to_bytes()).unwrap(),
            publics[1]
        );
        assert!(SecretKey::from_seed(&[1; 31]).is_err());
        let back = SecretKey::from_bytes(&*keys[0].to_bytes()).unwrap();
        assert_eq!(back.public_key(), publics[0]);
    }

    #[test]
    fn eip2333_test_vector_public_key() {
        // EIP-2333 test case 0: seed -> master secret key 6083874454709270928345386274498605044986640685124978867557563392430687146096.
        let seed = alloy_primitives::hex::decode(
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
        )
        .unwrap();
        let key = SecretKey::from_seed(&seed).unwrap();
        let expected = alloy_primitives::U256::from_str_radix(
            "6083874454709270928345386274498605044986640685124978867557563392430687146096",
            10,
        )
        .unwrap();
        assert_eq!(
            alloy_primitives::U256::from_be_bytes(*key.to_bytes()),
            expected
        );
    }
}
