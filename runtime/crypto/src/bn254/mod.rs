//! BN254 BLS signatures: signatures in G1, public keys in G1 (operator tables) and G2
//! (certificates and key registration). What a signature signs decides how it is hashed to G1
//! ([`Signed`]): certificate digests as EigenLayer's contracts hash them, off-chain auth messages
//! as Hourglass does (RFC 9380).

mod hash;

use std::fmt;

pub use hash::{AUTH_DST, auth_hash_to_g1, certificate_hash_to_g1, encode_to_curve, hash_to_curve};

use alloy_primitives::{B256, U256, keccak256};
use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Projective, G2Projective};
pub use ark_bn254::{G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, pairing::Pairing};
use ark_ff::{BigInteger, BigInteger256, PrimeField, UniformRand, Zero};
use rand::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::{
    CryptoError,
    types::{G1Point, G2Point},
};

/// A BN254 secret key: a non-zero scalar below the group order. Zeroized on drop; its `Debug`
/// shows the public key only.
#[derive(Clone)]
pub struct SecretKey(Fr);

impl SecretKey {
    /// A fresh random key.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        loop {
            let scalar = Fr::rand(rng);
            if !scalar.is_zero() {
                return Self(scalar);
            }
        }
    }

    /// The key deterministically derived from `seed` (at least 16 bytes of entropy advised):
    /// 64 bytes of keccak256 output reduced mod r, so the result is uniform.
    pub fn from_seed(seed: &[u8]) -> Result<Self, CryptoError> {
        if seed.is_empty() {
            return Err(CryptoError::InvalidSecretKey {
                curve: "BN254",
                reason: "the seed is empty",
            });
        }
        let mut wide = Zeroizing::new([0u8; 64]);
        let mut input = Zeroizing::new([b"ponos/bn254/seed/0".as_slice(), seed].concat());
        wide[..32].copy_from_slice(keccak256(&*input).as_slice());
        input[17] = b'1';
        wide[32..].copy_from_slice(keccak256(&*input).as_slice());
        let scalar = Fr::from_be_bytes_mod_order(&*wide);
        if scalar.is_zero() {
            return Err(CryptoError::InvalidSecretKey {
                curve: "BN254",
                reason: "the seed maps to zero",
            });
        }
        Ok(Self(scalar))
    }

    /// The key with these 32 big-endian bytes; fails unless 0 < key < r.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let invalid = |reason| CryptoError::InvalidSecretKey {
            curve: "BN254",
            reason,
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| invalid("expected 32 bytes"))?;
        let value = U256::from_be_bytes(bytes);
        if value.is_zero() {
            return Err(invalid("the key is zero"));
        }
        if value >= U256::from_limbs(Fr::MODULUS.0) {
            return Err(invalid("the key is not below the group order"));
        }
        Ok(Self(Fr::from_be_bytes_mod_order(&bytes)))
    }

    /// The 32 big-endian bytes of the key.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.0.into_bigint().to_bytes_be());
        out
    }

    /// The public key, in G1 and G2.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            g1: (G1Projective::generator() * self.0).into_affine(),
            g2: (G2Projective::generator() * self.0).into_affine(),
        }
    }

    /// The KeyRegistrar's proof of possession: a signature of the BN254 registration digest
    /// binding this key to `operator` and `operator_set`. Pass `public_key().key_data()` and
    /// `proof.to_bytes()` to `registerKey`.
    pub fn proof_of_possession(
        &self,
        domain: &crate::digest::KeyRegistrarDomain<'_>,
        operator: alloy_primitives::Address,
        operator_set: &crate::types::OperatorSet,
    ) -> Signature {
        let key_data = self.public_key().key_data();
        self.sign(domain.bn254_registration_digest(operator, operator_set, &key_data))
    }

    /// Signs a certificate digest (a result signature, a proof of possession):
    /// `sk * certificate_hash_to_g1(digest)`, as EigenLayer's contracts check it.
    pub fn sign(&self, digest: B256) -> Signature {
        self.sign_signed(Signed::Certificate(digest))
    }

    /// Signs the keccak256 digest of an off-chain message (an answer's auth signature, a task
    /// submission, a management token) the way Hourglass does:
    /// `sk * auth_hash_to_g1(digest)`.
    pub fn sign_auth(&self, digest: B256) -> Signature {
        self.sign_signed(Signed::Auth(digest))
    }

    /// Signs `what`, hashed as its kind requires.
    pub fn sign_signed(&self, what: Signed) -> Signature {
        Signature((what.to_g1() * self.0).into_affine())
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public_key_g1", &self.public_key().g1_point())
            .finish()
    }
}

/// A BN254 public key in both groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    /// The key in G1, as operator tables hold it.
    pub g1: G1Affine,
    /// The key in G2, as certificates and key registration use it.
    pub g2: G2Affine,
}

impl PublicKey {
    /// The G1 key as the contracts' `G1Point`.
    pub fn g1_point(&self) -> G1Point {
        g1_to_point(&self.g1)
    }

    /// The G2 key as the contracts' `G2Point` (precompile order).
    pub fn g2_point(&self) -> G2Point {
        g2_to_point(&self.g2)
    }

    /// `KeyRegistrar.encodeBN254KeyData`: `g1.X, g1.Y, g2.X[0], g2.X[1], g2.Y[0], g2.Y[1]`, 192 bytes.
    pub fn key_data(&self) -> [u8; 192] {
        let (g1, g2) = (self.g1_point(), self.g2_point());
        let words = [g1.X, g1.Y, g2.X[0], g2.X[1], g2.Y[0], g2.Y[1]];
        let mut out = [0u8; 192];
        for (chunk, word) in out.chunks_exact_mut(32).zip(words) {
            chunk.copy_from_slice(&word.to_be_bytes::<32>());
        }
        out
    }

    /// Decodes 192-byte key data, checking both points are on their curves and in their groups.
    pub fn from_key_data(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes: &[u8; 192] = bytes.try_into().map_err(|_| CryptoError::InvalidPoint {
            what: "BN254 key data",
            reason: "expected 192 bytes",
        })?;
        let word = |i: usize| U256::from_be_slice(&bytes[32 * i..32 * (i + 1)]);
        let g1 = g1_from_point(&G1Point {
            X: word(0),
            Y: word(1),
        })?;
        let g2 = g2_from_point(&G2Point {
            X: [word(2), word(3)],
            Y: [word(4), word(5)],
        })?;
        let key = Self { g1, g2 };
        if !key.halves_match() {
            return Err(CryptoError::InvalidPoint {
                what: "BN254 key data",
                reason: "the G1 and G2 keys do not share a secret",
            });
        }
        Ok(key)
    }

    /// Whether the G1 and G2 halves come from the same secret: e(g1, G2) == e(G1, g2).
    pub fn halves_match(&self) -> bool {
        Bn254::multi_pairing(
            [self.g1, -G1Affine::generator()],
            [G2Affine::generator(), self.g2],
        )
        .is_zero()
    }
}

/// What a BN254 signature signs: a 32-byte digest and the hash to G1 its verifier uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signed {
    /// A certificate digest, hashed with EigenLayer's try-and-increment
    /// ([`certificate_hash_to_g1`]).
    Certificate(B256),
    /// The keccak256 digest of an off-chain message, hashed with RFC 9380
    /// ([`auth_hash_to_g1`]).
    Auth(B256),
}

impl Signed {
    /// The point of G1 a signature of this is a multiple of.
    pub fn to_g1(&self) -> G1Affine {
        match self {
            Self::Certificate(digest) => certificate_hash_to_g1(*digest),
            Self::Auth(digest) => auth_hash_to_g1(*digest),
        }
    }
}

/// A BN254 signature (a G1 point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub G1Affine);

impl Signature {
    /// Whether this is a signature of the certificate digest `digest` by `key`:
    /// e(sig, G2) == e(H(digest), key.g2).
    pub fn verify(&self, digest: B256, key: &PublicKey) -> bool {
        verify_with_g2(&self.0, digest, &key.g2)
    }

    /// Whether this is an auth signature (see [`SecretKey::sign_auth`]) of `digest` by `key`.
    pub fn verify_auth(&self, digest: B256, key: &PublicKey) -> bool {
        verify_point(&self.0, &auth_hash_to_g1(digest), &key.g2)
    }

    /// The signature as the contracts' `G1Point`.
    pub fn to_point(&self) -> G1Point {
        g1_to_point(&self.0)
    }

    /// 64 bytes: X and Y, big-endian (the KeyRegistrar's proof-of-possession encoding).
    pub fn to_bytes(&self) -> [u8; 64] {
        let point = self.to_point();
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&point.X.to_be_bytes::<32>());
        out[32..].copy_from_slice(&point.Y.to_be_bytes::<32>());
        out
    }

    /// Decodes 64 bytes, checking the point is on the curve.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 64 {
            return Err(CryptoError::InvalidSignature(
                "a BN254 signature is 64 bytes",
            ));
        }
        let point = G1Point {
            X: U256::from_be_slice(&bytes[..32]),
            Y: U256::from_be_slice(&bytes[32..]),
        };
        Ok(Self(g1_from_point(&point)?))
    }
}

/// Sums signatures.
pub fn aggregate_signatures<'a>(signatures: impl IntoIterator<Item = &'a Signature>) -> Signature {
    let sum: G1Projective = signatures.into_iter().map(|s| s.0).sum();
    Signature(sum.into_affine())
}

/// Sums G2 keys.
pub fn aggregate_g2<'a>(keys: impl IntoIterator<Item = &'a G2Affine>) -> G2Affine {
    let sum: G2Projective = keys.into_iter().copied().sum();
    sum.into_affine()
}

/// Sums G1 keys.
pub fn aggregate_g1<'a>(keys: impl IntoIterator<Item = &'a G1Affine>) -> G1Affine {
    let sum: G1Projective = keys.into_iter().copied().sum();
    sum.into_affine()
}

/// Whether `signature` is a signature of `digest` under the G2 key `apk`: one two-pair pairing.
pub fn verify_with_g2(signature: &G1Affine, digest: B256, apk: &G2Affine) -> bool {
    verify_point(signature, &certificate_hash_to_g1(digest), apk)
}

/// Whether `signature` is `sk * h` for the secret of the G2 key `apk`.
fn verify_point(signature: &G1Affine, h: &G1Affine, apk: &G2Affine) -> bool {
    if apk.is_zero() {
        return false;
    }
    Bn254::multi_pairing([*signature, -*h], [G2Affine::generator(), *apk]).is_zero()
}

/// Checks many signatures of the same digest (the responses to one task) at once, returning
/// which are valid. One randomised batch check (two multi-scalar multiplications and one
/// pairing) clears an honest batch; only when it fails is each signature checked on its own,
/// in parallel. Each item is a signature and the signer's G2 key.
pub fn verify_each(digest: B256, items: &[(Signature, G2Affine)]) -> Vec<bool> {
    if items.is_empty() {
        return Vec::new();
    }
    if verify_batch(digest, items) {
        return vec![true; items.len()];
    }
    use rayon::prelude::*;
    items
        .par_iter()
        .map(|(sig, key)| verify_with_g2(&sig.0, digest, key))
        .collect()
}

/// `n` 128-bit weights for a randomised batch check, drawn (Fiat-Shamir) from `transcript`, a
/// hash of every input: no one who chose the inputs can choose the weights.
fn batch_scalars(transcript: &[u8], n: usize) -> Vec<Fr> {
    let seed = keccak256(transcript);
    (0..n)
        .map(|i| {
            let r = keccak256([seed.as_slice(), &(i as u64).to_be_bytes()].concat());
            Fr::from_be_bytes_mod_order(&r[..16])
        })
        .collect()
}

/// Whether every signature in `items` is valid for `digest`, by a random linear combination:
/// e(sum r_i sig_i, G2) == e(H(digest), sum r_i key_i) with 128-bit r_i drawn (Fiat-Shamir)
/// from a hash of all the inputs, so no invalid set passes except with negligible probability.
pub fn verify_batch(digest: B256, items: &[(Signature, G2Affine)]) -> bool {
    use ark_ec::VariableBaseMSM;
    if items.is_empty() || items.iter().any(|(_, key)| key.is_zero()) {
        return false;
    }
    let mut transcript = Vec::with_capacity(32 + items.len() * 64);
    transcript.extend_from_slice(digest.as_slice());
    for (sig, _) in items {
        transcript.extend_from_slice(&sig.to_bytes());
    }
    for (_, key) in items {
        let point = g2_to_point(key);
        for word in point.X.iter().chain(&point.Y) {
            transcript.extend_from_slice(&word.to_be_bytes::<32>());
        }
    }
    let scalars = batch_scalars(&transcript, items.len());
    let sigs: Vec<G1Affine> = items.iter().map(|(sig, _)| sig.0).collect();
    let keys: Vec<G2Affine> = items.iter().map(|(_, key)| *key).collect();
    let (Ok(sig_sum), Ok(key_sum)) = (
        G1Projective::msm(&sigs, &scalars),
        G2Projective::msm(&keys, &scalars),
    ) else {
        return false;
    };
    let h = certificate_hash_to_g1(digest);
    Bn254::multi_pairing(
        [sig_sum.into_affine(), -h],
        [G2Affine::generator(), key_sum.into_affine()],
    )
    .is_zero()
}

/// Whether every item (a signature, what it signs, the signer's G2 key) is valid, in one
/// randomised check: e(sum r_i sig_i, G2) == prod over messages m of e(H(m), sum r_i key_i),
/// with 128-bit r_i drawn (Fiat-Shamir) from a hash of all the inputs. Items may sign different
/// messages under either hash (an answer's result and auth signatures); each distinct message
/// costs one hash and one Miller loop and the whole check one final exponentiation, instead of
/// a full pairing per signature.
pub fn verify_many(items: &[(Signature, Signed, G2Affine)]) -> bool {
    use ark_ec::VariableBaseMSM;
    if items.is_empty() || items.iter().any(|(_, _, key)| key.is_zero()) {
        return false;
    }
    let mut transcript = Vec::with_capacity(items.len() * 224);
    for (sig, signed, key) in items {
        let (tag, digest) = match signed {
            Signed::Certificate(digest) => (0u8, digest),
            Signed::Auth(digest) => (1u8, digest),
        };
        transcript.push(tag);
        transcript.extend_from_slice(digest.as_slice());
        transcript.extend_from_slice(&sig.to_bytes());
        let point = g2_to_point(key);
        for word in point.X.iter().chain(&point.Y) {
            transcript.extend_from_slice(&word.to_be_bytes::<32>());
        }
    }
    let scalars = batch_scalars(&transcript, items.len());
    let sigs: Vec<G1Affine> = items.iter().map(|(sig, _, _)| sig.0).collect();
    let Ok(sig_sum) = G1Projective::msm(&sigs, &scalars) else {
        return false;
    };
    let mut by_message: Vec<(Signed, Vec<usize>)> = Vec::new();
    for (i, (_, signed, _)) in items.iter().enumerate() {
        match by_message.iter_mut().find(|(m, _)| m == signed) {
            Some((_, members)) => members.push(i),
            None => by_message.push((*signed, vec![i])),
        }
    }
    let mut g1 = vec![sig_sum.into_affine()];
    let mut g2 = vec![G2Affine::generator()];
    for (signed, members) in by_message {
        let h = signed.to_g1();
        if let [only] = members.as_slice() {
            // One signer: scale the (cheaper) G1 side.
            g1.push((-(h * scalars[*only])).into_affine());
            g2.push(items[*only].2);
        } else {
            let keys: Vec<G2Affine> = members.iter().map(|i| items[*i].2).collect();
            let weights: Vec<Fr> = members.iter().map(|i| scalars[*i]).collect();
            let Ok(key_sum) = G2Projective::msm(&keys, &weights) else {
                return false;
            };
            g1.push(-h);
            g2.push(key_sum.into_affine());
        }
    }
    Bn254::multi_pairing(g1, g2).is_zero()
}

/// The check `BN254SignatureVerifier.verifySignature` makes on chain, with the same challenge:
/// gamma = keccak256(digest, apk, apkG2, sigma) mod r and
/// e(sigma + gamma * apk, -G2) * e(H + gamma * G1, apkG2) == 1.
/// Use it to check a certificate exactly as the verifier will before submitting it.
pub fn verify_like_contract(
    digest: B256,
    signature: &G1Affine,
    apk: &G1Affine,
    apk_g2: &G2Affine,
) -> bool {
    let (sig, a1, a2) = (
        g1_to_point(signature),
        g1_to_point(apk),
        g2_to_point(apk_g2),
    );
    let words = [a1.X, a1.Y, a2.X[0], a2.X[1], a2.Y[0], a2.Y[1], sig.X, sig.Y];
    let mut input = Vec::with_capacity(32 * 9);
    input.extend_from_slice(digest.as_slice());
    for word in words {
        input.extend_from_slice(&word.to_be_bytes::<32>());
    }
    let gamma = Fr::from_be_bytes_mod_order(keccak256(&input).as_slice());
    let left = (*signature + *apk * gamma).into_affine();
    let right = (certificate_hash_to_g1(digest) + G1Affine::generator() * gamma).into_affine();
    Bn254::multi_pairing([left, right], [-G2Affine::generator(), *apk_g2]).is_zero()
}

fn fq_to_u256(value: &Fq) -> U256 {
    U256::from_limbs(value.into_bigint().0)
}

fn u256_to_fq(value: U256, what: &'static str) -> Result<Fq, CryptoError> {
    if value >= U256::from_limbs(Fq::MODULUS.0) {
        return Err(CryptoError::InvalidPoint {
            what,
            reason: "a coordinate is not below the field modulus",
        });
    }
    Ok(Fq::from_bigint(BigInteger256::new(value.into_limbs())).unwrap_or_default())
}

/// A G1 point as the contracts' `G1Point`; the point at infinity is (0, 0).
pub fn g1_to_point(point: &G1Affine) -> G1Point {
    match point.xy() {
        Some((x, y)) => G1Point {
            X: fq_to_u256(&x),
            Y: fq_to_u256(&y),
        },
        None => G1Point::default(),
    }
}

/// A contracts' `G1Point` as a G1 point, checked to be on the curve; (0, 0) is infinity.
pub fn g1_from_point(point: &G1Point) -> Result<G1Affine, CryptoError> {
    if point.X.is_zero() && point.Y.is_zero() {
        return Ok(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(
        u256_to_fq(point.X, "G1 point")?,
        u256_to_fq(point.Y, "G1 point")?,
    );
    if !p.is_on_curve() {
        return Err(CryptoError::InvalidPoint {
            what: "G1 point",
            reason: "not on the curve",
        });
    }
    Ok(p)
}

/// A G2 point as the contracts' `G2Point` (`[c1, c0]` per coordinate); infinity is all zeros.
pub fn g2_to_point(point: &G2Affine) -> G2Point {
    match point.xy() {
        Some((x, y)) => G2Point {
            X: [fq_to_u256(&x.c1), fq_to_u256(&x.c0)],
            Y: [fq_to_u256(&y.c1), fq_to_u256(&y.c0)],
        },
        None => G2Point::default(),
    }
}

/// A contracts' `G2Point` as a G2 point, checked to be on the twist and in the prime-order subgroup.
pub fn g2_from_point(point: &G2Point) -> Result<G2Affine, CryptoError> {
    if point.X.iter().chain(&point.Y).all(|w| w.is_zero()) {
        return Ok(G2Affine::zero());
    }
    let what = "G2 point";
    let x = Fq2::new(u256_to_fq(point.X[1], what)?, u256_to_fq(point.X[0], what)?);
    let y = Fq2::new(u256_to_fq(point.Y[1], what)?, u256_to_fq(point.Y[0], what)?);
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(CryptoError::InvalidPoint {
            what,
            reason: "not on the curve",
        });
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(CryptoError::InvalidPoint {
            what,
            reason: "not in the prime-order subgroup",
        });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_digests_verify_together_and_one_bad_item_fails_them() {
        let keys: Vec<SecretKey> = (0..3)
            .map(|i| SecretKey::from_seed(&[i + 1; 8]).unwrap())
            .collect();
        let shared = keccak256("result");
        let mut items = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let shared = Signed::Certificate(shared);
            items.push((key.sign_signed(shared), shared, key.public_key().g2));
            let own = Signed::Auth(keccak256([b"auth".as_slice(), &[i as u8]].concat()));
            items.push((key.sign_signed(own), own, key.public_key().g2));
        }
        assert!(verify_many(&items));
        let mut swapped = items.clone();
        swapped[1].0 = items[3].0;
        assert!(!verify_many(&swapped), "a signature of another digest");
        let mut wrong_key = items.clone();
        wrong_key[0].2 = keys[1].public_key().g2;
        assert!(!verify_many(&wrong_key), "a signature under another key");
        let mut other_hash = items.clone();
        if let Signed::Auth(digest) = other_hash[1].1 {
            other_hash[1].1 = Signed::Certificate(digest);
        }
        assert!(
            !verify_many(&other_hash),
            "an auth signature checked as a certificate one"
        );
        assert!(!verify_many(&[]));
    }

    fn hex_u256(s: &str) -> U256 {
        s.parse().unwrap()
    }

    /// crypto-libs `SignMessage(data)`: `bn254.PrivateKey.Sign(keccak256(data))`, i.e.
    /// `sk * HashToG1(keccak256(data), AUTH_DST)` with gnark's hash (pinned by the vectors in
    /// `hash.rs`), sent as gnark's `G1Affine.Marshal()`: X then Y, 32 big-endian bytes each.
    #[test]
    fn auth_signatures_are_made_as_crypto_libs_makes_them() {
        let key = SecretKey::from_bytes(&[0x2a; 32]).unwrap();
        // An answer's auth message: taskId ‖ avs ‖ operator ‖ operatorSetId ‖ keccak(resultSig).
        let message = [
            keccak256("task").as_slice(),
            &[0u8; 12],
            &[0x11; 20],
            &[0u8; 12],
            &[0x22; 20],
            &U256::from(1).to_be_bytes::<32>(),
            keccak256([0x33u8; 64]).as_slice(),
        ]
        .concat();
        let digest = keccak256(&message);
        let signature = key.sign_auth(digest);
        let h = auth_hash_to_g1(digest);
        assert_eq!(signature.0, (h * key.0).into_affine());
        let bytes = signature.to_bytes();
        let (x, y) = (g1_to_point(&signature.0).X, g1_to_point(&signature.0).Y);
        assert_eq!(bytes[..32], x.to_be_bytes::<32>());
        assert_eq!(bytes[32..], y.to_be_bytes::<32>());
        assert_eq!(
            alloy_primitives::hex::encode(bytes),
            AUTH_SIGNATURE_VECTOR,
            "the auth signature of the fixed key and message"
        );
        let public = key.public_key();
        assert!(signature.verify_auth(digest, &public));
        assert!(
            !signature.verify(digest, &public),
            "not a certificate signature"
        );
        assert!(!key.sign(digest).verify_auth(digest, &public));
    }

    /// The signature above, as computed when the RFC 9380 hash was checked against
    /// gnark-crypto's vectors; it pins key handling, hashing and encoding together.
    const AUTH_SIGNATURE_VECTOR: &str = "0571974975ba00541fe495be90c43a3d6036c9f80c668662b33b6662571030ee25c14ddbb389f4d12af006bd12c32e59791bc07e8b932749aa76a1543ac3ee01";

    #[test]
    fn generator_g2_in_precompile_order() {
        let g2 = g2_to_point(&G2Affine::generator());
        assert_eq!(
            g2.X[0],
            hex_u256(
                "11559732032986387107991004021392285783925812861821192530917403151452391805634"
            )
        );
        assert_eq!(
            g2.X[1],
            hex_u256(
                "10857046999023057135944570762232829481370756359578518086990519993285655852781"
            )
        );
        assert_eq!(g2_from_point(&g2).unwrap(), G2Affine::generator());
    }

    #[test]
    fn sign_verify_and_aggregate() {
        let keys: Vec<_> = (0u8..4)
            .map(|i| SecretKey::from_seed(&[i; 32]).unwrap())
            .collect();
        let digest = keccak256("digest");
        let sigs: Vec<_> = keys.iter().map(|k| k.sign(digest)).collect();
        for (key, sig) in keys.iter().zip(&sigs) {
            assert!(sig.verify(digest, &key.public_key()));
            assert!(!sig.verify(keccak256("other"), &key.public_key()));
        }
        let publics: Vec<_> = keys.iter().map(SecretKey::public_key).collect();
        let agg = aggregate_signatures(&sigs);
        let apk2 = aggregate_g2(publics.iter().map(|p| &p.g2));
        let apk1 = aggregate_g1(publics.iter().map(|p| &p.g1));
        assert!(verify_with_g2(&agg.0, digest, &apk2));
        assert!(verify_like_contract(digest, &agg.0, &apk1, &apk2));
        let three = aggregate_g2(publics[..3].iter().map(|p| &p.g2));
        assert!(
            !verify_with_g2(&agg.0, digest, &three),
            "missing a signer's key"
        );
    }

    #[test]
    fn verify_each_finds_the_bad_signatures() {
        let keys: Vec<_> = (0u8..8)
            .map(|i| SecretKey::from_seed(&[i + 1; 32]).unwrap())
            .collect();
        let digest = keccak256("batch");
        let mut items: Vec<_> = keys
            .iter()
            .map(|k| (k.sign(digest), k.public_key().g2))
            .collect();
        assert!(verify_batch(digest, &items));
        assert_eq!(verify_each(digest, &items), vec![true; 8]);
        items[3].0 = keys[3].sign(keccak256("other"));
        items[6].1 = keys[0].public_key().g2;
        assert!(!verify_batch(digest, &items));
        let expected: Vec<_> = (0..8).map(|i| i != 3 && i != 6).collect();
        assert_eq!(verify_each(digest, &items), expected);
        assert!(verify_each(digest, &[]).is_empty());
    }

    #[test]
    fn key_data_round_trips_and_checks_the_halves() {
        let key = SecretKey::from_seed(b"key data").unwrap().public_key();
        let data = key.key_data();
        assert_eq!(PublicKey::from_key_data(&data).unwrap(), key);
        let other = SecretKey::from_seed(b"other").unwrap().public_key();
        let mut mixed = data;
        mixed[64..].copy_from_slice(&other.key_data()[64..]);
        assert!(PublicKey::from_key_data(&mixed).is_err());
        assert!(PublicKey::from_key_data(&data[..191]).is_err());
    }

    #[test]
    fn secret_key_bytes_are_checked() {
        let key = SecretKey::from_seed(b"bytes").unwrap();
        let back = SecretKey::from_bytes(&*key.to_bytes()).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert!(SecretKey::from_bytes(&[0u8; 32]).is_err());
        assert!(SecretKey::from_bytes(&[0xff; 32]).is_err());
        assert!(SecretKey::from_bytes(&[1u8; 31]).is_err());
        assert!(SecretKey::from_seed(b"").is_err());
        let printed = format!("{key:?}");
        assert!(!printed.contains(&alloy_primitives::hex::encode(*key.to_bytes())));
    }

    #[test]
    fn signature_bytes_round_trip_and_reject_off_curve_points() {
        let sig = SecretKey::from_seed(b"sig").unwrap().sign(B256::ZERO);
        assert_eq!(Signature::from_bytes(&sig.to_bytes()).unwrap(), sig);
        let mut bad = sig.to_bytes();
        bad[63] ^= 1;
        assert!(Signature::from_bytes(&bad).is_err());
    }
}
