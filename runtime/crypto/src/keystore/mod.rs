//! Keys at rest: EIP-2335 keystores for BN254 keys (with the `curveType` field Hourglass
//! keystores carry) and BLS12-381 keys, and Web3 Secret Storage (v3) for ECDSA keys. Both use a
//! password-derived key (scrypt or PBKDF2-HMAC-SHA256) and AES-128-CTR; a checksum over the
//! derived key and ciphertext tells a wrong password from a corrupt file.

mod eip2335;
mod kdf;
mod web3;

pub use eip2335::{Eip2335Curve, Eip2335Keystore};
pub use kdf::Kdf;
pub use web3::Web3Keystore;

use aes::cipher::{KeyIvInit, StreamCipher};
use rand::{CryptoRng, RngCore};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// AES-128-CTR in place (encryption and decryption are the same operation).
fn aes_128_ctr(key: &[u8], iv: &[u8; 16], data: &mut [u8]) {
    let mut cipher = Aes128Ctr::new(key[..16].into(), iv.into());
    cipher.apply_keystream(data);
}

/// The MAC a format keeps over the derived key and the ciphertext.
type Checksum = fn(&[u8; 32], &[u8]) -> [u8; 32];

/// What encryption produced: the random salt and IV, the ciphertext and its checksum.
struct Sealed {
    salt: [u8; 32],
    iv: [u8; 16],
    ciphertext: Vec<u8>,
    checksum: [u8; 32],
}

/// Encrypts `secret` under a key derived from `password` with fresh salt and IV.
fn seal<R: RngCore + CryptoRng>(
    secret: &[u8],
    password: &[u8],
    kdf: &Kdf,
    checksum: Checksum,
    rng: &mut R,
) -> Result<Sealed, crate::CryptoError> {
    let mut salt = [0u8; 32];
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut iv);
    let key = kdf.derive(password, &salt)?;
    let mut ciphertext = secret.to_vec();
    aes_128_ctr(&key[..16], &iv, &mut ciphertext);
    let checksum = checksum(&key, &ciphertext);
    Ok(Sealed {
        salt,
        iv,
        ciphertext,
        checksum,
    })
}

/// Decrypts `ciphertext`; `WrongPassword` when the checksum over the derived key does not match.
fn open(
    ciphertext: Vec<u8>,
    password: &[u8],
    kdf: &Kdf,
    salt: &[u8],
    iv: &[u8; 16],
    expected: &[u8],
    checksum: Checksum,
) -> Result<zeroize::Zeroizing<Vec<u8>>, crate::CryptoError> {
    let key = kdf.derive(password, salt)?;
    if checksum(&key, &ciphertext).as_slice() != expected {
        return Err(crate::CryptoError::WrongPassword);
    }
    let mut secret = zeroize::Zeroizing::new(ciphertext);
    aes_128_ctr(&key[..16], iv, &mut secret);
    Ok(secret)
}

/// A random RFC 4122 version-4 UUID.
fn uuid_v4<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = alloy_primitives::hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Lowercase hex without `0x`, as keystores write it.
fn hex(bytes: impl AsRef<[u8]>) -> String {
    alloy_primitives::hex::encode(bytes)
}

fn hex_field(value: &str, field: &'static str) -> Result<Vec<u8>, crate::CryptoError> {
    alloy_primitives::hex::decode(value)
        .map_err(|_| crate::CryptoError::Keystore(format!("`{field}` is not hex")))
}
