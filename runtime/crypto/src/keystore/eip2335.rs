//! EIP-2335 keystores (version 4) for BLS keys: BN254 (marked `"curveType": "bn254"`, as
//! Hourglass writes them) and BLS12-381 (Ethereum validator keys).

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::{Kdf, Sealed, hex, hex_field, open, seal, uuid_v4};
use crate::{CryptoError, bls12_381, bn254};

/// The curve an EIP-2335 keystore holds a key of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Eip2335Curve {
    /// BN254, the curve EigenLayer's certificates use.
    #[serde(rename = "bn254")]
    Bn254,
    /// BLS12-381, Ethereum's validator curve (the default when a keystore names none).
    #[serde(rename = "bls381")]
    Bls12_381,
}

/// An EIP-2335 keystore, as stored in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eip2335Keystore {
    crypto: Value,
    /// A free-form description.
    #[serde(default)]
    pub description: String,
    /// The public key, hex (BN254: the G2 key in precompile order; BLS12-381: 48 bytes).
    pub pubkey: String,
    /// The derivation path, if the key was derived (empty otherwise).
    #[serde(default)]
    pub path: String,
    /// A random UUID.
    pub uuid: String,
    /// Always 4.
    pub version: u32,
    /// The curve (Hourglass' extension; absent means BLS12-381).
    #[serde(rename = "curveType", default, skip_serializing_if = "Option::is_none")]
    pub curve_type: Option<Eip2335Curve>,
}

impl Eip2335Keystore {
    /// Encrypts a BN254 key.
    pub fn encrypt_bn254<R: RngCore + CryptoRng>(
        key: &bn254::SecretKey,
        password: &str,
        kdf: &Kdf,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let pubkey = bn254_pubkey_hex(&key.public_key());
        Self::encrypt(
            &*key.to_bytes(),
            pubkey,
            Eip2335Curve::Bn254,
            password,
            kdf,
            rng,
        )
    }

    /// Encrypts a BLS12-381 key.
    pub fn encrypt_bls12_381<R: RngCore + CryptoRng>(
        key: &bls12_381::SecretKey,
        password: &str,
        kdf: &Kdf,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let pubkey = alloy_primitives::hex::encode(key.public_key().to_bytes());
        Self::encrypt(
            &*key.to_bytes(),
            pubkey,
            Eip2335Curve::Bls12_381,
            password,
            kdf,
            rng,
        )
    }

    /// Decrypts a BN254 key and checks it against the stored public key.
    pub fn decrypt_bn254(&self, password: &str) -> Result<bn254::SecretKey, CryptoError> {
        self.expect_curve(Eip2335Curve::Bn254)?;
        let key = bn254::SecretKey::from_bytes(&self.decrypt(password)?)?;
        if !self.pubkey.is_empty()
            && self.pubkey.trim_start_matches("0x") != bn254_pubkey_hex(&key.public_key())
        {
            return Err(CryptoError::Keystore(
                "the decrypted key does not match the keystore's pubkey".into(),
            ));
        }
        Ok(key)
    }

    /// Decrypts a BLS12-381 key and checks it against the stored public key.
    pub fn decrypt_bls12_381(&self, password: &str) -> Result<bls12_381::SecretKey, CryptoError> {
        self.expect_curve(Eip2335Curve::Bls12_381)?;
        let key = bls12_381::SecretKey::from_bytes(&self.decrypt(password)?)?;
        let derived = alloy_primitives::hex::encode(key.public_key().to_bytes());
        if !self.pubkey.is_empty() && self.pubkey.trim_start_matches("0x") != derived {
            return Err(CryptoError::Keystore(
                "the decrypted key does not match the keystore's pubkey".into(),
            ));
        }
        Ok(key)
    }

    /// The curve of the key inside.
    pub fn curve(&self) -> Eip2335Curve {
        self.curve_type.unwrap_or(Eip2335Curve::Bls12_381)
    }

    fn expect_curve(&self, wanted: Eip2335Curve) -> Result<(), CryptoError> {
        if self.curve() != wanted {
            return Err(CryptoError::Keystore(format!(
                "this keystore holds a {:?} key, not {wanted:?}",
                self.curve()
            )));
        }
        Ok(())
    }

    fn encrypt<R: RngCore + CryptoRng>(
        secret: &[u8],
        pubkey: String,
        curve: Eip2335Curve,
        password: &str,
        kdf: &Kdf,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let Sealed {
            salt,
            iv,
            ciphertext: cipher_message,
            checksum,
        } = seal(secret, &normalize_password(password), kdf, checksum, rng)?;
        let kdf_json = match *kdf {
            Kdf::Scrypt { n, r, p } => {
                json!({"function": "scrypt", "params": {"dklen": 32, "n": n, "r": r, "p": p, "salt": hex(salt)}, "message": ""})
            }
            Kdf::Pbkdf2 { c } => {
                json!({"function": "pbkdf2", "params": {"dklen": 32, "c": c, "prf": "hmac-sha256", "salt": hex(salt)}, "message": ""})
            }
        };
        Ok(Self {
            crypto: json!({
                "kdf": kdf_json,
                "checksum": {"function": "sha256", "params": {}, "message": hex(checksum)},
                "cipher": {"function": "aes-128-ctr", "params": {"iv": hex(iv)}, "message": hex(cipher_message)},
            }),
            description: String::new(),
            pubkey,
            path: String::new(),
            uuid: uuid_v4(rng),
            version: 4,
            curve_type: Some(curve),
        })
    }

    /// The secret bytes inside; `WrongPassword` when the checksum does not match.
    fn decrypt(&self, password: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if self.version != 4 {
            return Err(CryptoError::Keystore(format!(
                "EIP-2335 version {} (expected 4)",
                self.version
            )));
        }
        let field = |path: &[&str]| -> Result<&Value, CryptoError> {
            path.iter()
                .try_fold(&self.crypto, |v, k| v.get(k))
                .ok_or_else(|| {
                    CryptoError::Keystore(format!("missing `crypto.{}`", path.join(".")))
                })
        };
        let text = |path: &[&'static str]| -> Result<&str, CryptoError> {
            field(path)?.as_str().ok_or_else(|| {
                CryptoError::Keystore(format!("`crypto.{}` is not a string", path.join(".")))
            })
        };
        let number = |path: &[&'static str]| -> Result<u32, CryptoError> {
            field(path)?
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    CryptoError::Keystore(format!("`crypto.{}` is not a number", path.join(".")))
                })
        };

        let kdf = match text(&["kdf", "function"])? {
            "scrypt" => Kdf::Scrypt {
                n: number(&["kdf", "params", "n"])?,
                r: number(&["kdf", "params", "r"])?,
                p: number(&["kdf", "params", "p"])?,
            },
            "pbkdf2" => {
                let prf = text(&["kdf", "params", "prf"])?;
                if prf != "hmac-sha256" {
                    return Err(CryptoError::Keystore(format!(
                        "unsupported pbkdf2 prf `{prf}`"
                    )));
                }
                Kdf::Pbkdf2 {
                    c: number(&["kdf", "params", "c"])?,
                }
            }
            other => return Err(CryptoError::Keystore(format!("unsupported kdf `{other}`"))),
        };
        if number(&["kdf", "params", "dklen"])? != 32 {
            return Err(CryptoError::Keystore("dklen must be 32".into()));
        }
        if text(&["cipher", "function"])? != "aes-128-ctr" {
            return Err(CryptoError::Keystore(
                "unsupported cipher (expected aes-128-ctr)".into(),
            ));
        }
        if text(&["checksum", "function"])? != "sha256" {
            return Err(CryptoError::Keystore(
                "unsupported checksum (expected sha256)".into(),
            ));
        }
        let salt = hex_field(text(&["kdf", "params", "salt"])?, "crypto.kdf.params.salt")?;
        let iv: [u8; 16] = hex_field(
            text(&["cipher", "params", "iv"])?,
            "crypto.cipher.params.iv",
        )?
        .try_into()
        .map_err(|_| CryptoError::Keystore("the iv must be 16 bytes".into()))?;
        let cipher_message = hex_field(text(&["cipher", "message"])?, "crypto.cipher.message")?;
        let expected = hex_field(text(&["checksum", "message"])?, "crypto.checksum.message")?;

        open(
            cipher_message,
            &normalize_password(password),
            &kdf,
            &salt,
            &iv,
            &expected,
            checksum,
        )
    }
}

/// The G2 key in precompile order, 128 bytes hex: how Hourglass keystores record a BN254 key.
fn bn254_pubkey_hex(key: &bn254::PublicKey) -> String {
    let g2 = key.g2_point();
    let mut out = Vec::with_capacity(128);
    for word in [g2.X[0], g2.X[1], g2.Y[0], g2.Y[1]] {
        out.extend_from_slice(&word.to_be_bytes::<32>());
    }
    alloy_primitives::hex::encode(out)
}

/// sha256(decryption_key[16..32] ++ cipher_message).
fn checksum(key: &[u8; 32], cipher_message: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(&key[16..32]);
    hasher.update(cipher_message);
    hasher.finalize().into()
}

/// EIP-2335 password processing: NFKD, then drop the C0, C1 and Delete control codes.
fn normalize_password(password: &str) -> Zeroizing<Vec<u8>> {
    let kept: String = password
        .nfkd()
        .filter(|c| !matches!(*c as u32, 0x00..=0x1f | 0x7f..=0x9f))
        .collect();
    Zeroizing::new(kept.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scrypt test vector of EIP-2335.
    const EIP2335_SCRYPT: &str = r#"{
        "crypto": {
            "kdf": {"function": "scrypt", "params": {"dklen": 32, "n": 262144, "p": 1, "r": 8,
                "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"}, "message": ""},
            "checksum": {"function": "sha256", "params": {},
                "message": "d2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484"},
            "cipher": {"function": "aes-128-ctr", "params": {"iv": "264daa3f303d7259501c93d997d84fe6"},
                "message": "06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f"}
        },
        "description": "This is a test keystore that uses scrypt to secure the secret.",
        "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07",
        "path": "m/12381/60/3141592653/589793238",
        "uuid": "1d85ae20-35c5-4611-98e8-aa14a633906f",
        "version": 4
    }"#;

    #[test]
    fn decrypts_the_eip2335_test_vector() {
        let keystore: Eip2335Keystore = serde_json::from_str(EIP2335_SCRYPT).unwrap();
        assert_eq!(keystore.curve(), Eip2335Curve::Bls12_381);
        // The vector's password is "𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑", NFKD "testpassword🔑".
        let key = keystore.decrypt_bls12_381("\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}").unwrap();
        assert_eq!(
            alloy_primitives::hex::encode(*key.to_bytes()),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert!(matches!(
            keystore.decrypt_bls12_381("testpassword"),
            Err(CryptoError::WrongPassword)
        ));
    }

    #[test]
    fn bls12_381_round_trip() {
        let mut rng = rand::thread_rng();
        let key = bls12_381::SecretKey::random(&mut rng);
        let kdf = Kdf::Pbkdf2 { c: 1000 };
        let keystore =
            Eip2335Keystore::encrypt_bls12_381(&key, "validator", &kdf, &mut rng).unwrap();
        let json = serde_json::to_string(&keystore).unwrap();
        assert!(json.contains(r#""curveType":"bls381""#));
        let back: Eip2335Keystore = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.decrypt_bls12_381("validator").unwrap().public_key(),
            key.public_key()
        );
        assert!(matches!(
            back.decrypt_bls12_381("Validator"),
            Err(CryptoError::WrongPassword)
        ));
        assert!(back.decrypt_bn254("validator").is_err(), "curve checked");
    }

    #[test]
    fn bn254_round_trip_with_both_kdfs() {
        let mut rng = rand::thread_rng();
        let key = bn254::SecretKey::random(&mut rng);
        for kdf in [
            Kdf::Scrypt {
                n: 1 << 10,
                r: 8,
                p: 1,
            },
            Kdf::Pbkdf2 { c: 1000 },
        ] {
            let keystore = Eip2335Keystore::encrypt_bn254(&key, "hunter2", &kdf, &mut rng).unwrap();
            let json = serde_json::to_string(&keystore).unwrap();
            assert!(json.contains(r#""curveType":"bn254""#));
            let back: Eip2335Keystore = serde_json::from_str(&json).unwrap();
            assert_eq!(
                back.decrypt_bn254("hunter2").unwrap().public_key(),
                key.public_key()
            );
            let err = back.decrypt_bn254("hunter3").unwrap_err();
            assert!(matches!(err, CryptoError::WrongPassword));
            assert!(err.to_string().contains("wrong password"));
            assert!(back.decrypt_bls12_381("hunter2").is_err(), "curve checked");
        }
    }
}
