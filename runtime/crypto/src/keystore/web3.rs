//! Web3 Secret Storage (version 3) keystores for ECDSA keys, as geth and foundry write them.

use alloy_primitives::{Address, keccak256};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use super::{Kdf, Sealed, hex, hex_field, open, seal, uuid_v4};
use crate::{CryptoError, ecdsa};

/// A v3 keystore, as stored in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Web3Keystore {
    /// Always 3.
    pub version: u32,
    /// A random UUID.
    pub id: String,
    /// The key's address, hex without `0x` (optional in the format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The encrypted key.
    #[serde(alias = "Crypto")]
    pub crypto: Web3Crypto,
}

/// The `crypto` section of a v3 keystore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Web3Crypto {
    /// `aes-128-ctr`.
    pub cipher: String,
    /// The encrypted key, hex.
    pub ciphertext: String,
    /// The cipher's parameters.
    pub cipherparams: CipherParams,
    /// `scrypt` or `pbkdf2`.
    pub kdf: String,
    /// The KDF's parameters.
    pub kdfparams: KdfParams,
    /// keccak256(derived[16..32] ++ ciphertext), hex.
    pub mac: String,
}

/// AES-CTR parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CipherParams {
    /// The 16-byte IV, hex.
    pub iv: String,
}

/// KDF parameters (the fields of scrypt and pbkdf2 together; unused ones are absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Derived key length; 32.
    pub dklen: u32,
    /// The salt, hex.
    pub salt: String,
    /// scrypt cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// scrypt block size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<u32>,
    /// scrypt parallelism.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<u32>,
    /// pbkdf2 iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<u32>,
    /// pbkdf2 PRF; `hmac-sha256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prf: Option<String>,
}

impl Web3Keystore {
    /// Encrypts an ECDSA key.
    pub fn encrypt<R: RngCore + CryptoRng>(
        key: &ecdsa::SecretKey,
        password: &str,
        kdf: &Kdf,
        rng: &mut R,
    ) -> Result<Self, CryptoError> {
        let Sealed {
            salt,
            iv,
            ciphertext,
            checksum,
        } = seal(&*key.to_bytes(), password.as_bytes(), kdf, mac, rng)?;
        let (name, kdfparams) = match *kdf {
            Kdf::Scrypt { n, r, p } => (
                "scrypt",
                KdfParams {
                    dklen: 32,
                    salt: hex(salt),
                    n: Some(n),
                    r: Some(r),
                    p: Some(p),
                    c: None,
                    prf: None,
                },
            ),
            Kdf::Pbkdf2 { c } => (
                "pbkdf2",
                KdfParams {
                    dklen: 32,
                    salt: hex(salt),
                    n: None,
                    r: None,
                    p: None,
                    c: Some(c),
                    prf: Some("hmac-sha256".into()),
                },
            ),
        };
        Ok(Self {
            version: 3,
            id: uuid_v4(rng),
            address: Some(hex(key.address())),
            crypto: Web3Crypto {
                cipher: "aes-128-ctr".into(),
                mac: hex(checksum),
                ciphertext: hex(ciphertext),
                cipherparams: CipherParams { iv: hex(iv) },
                kdf: name.into(),
                kdfparams,
            },
        })
    }

    /// Decrypts the key; `WrongPassword` when the MAC does not match.
    pub fn decrypt(&self, password: &str) -> Result<ecdsa::SecretKey, CryptoError> {
        if self.version != 3 {
            return Err(CryptoError::Keystore(format!(
                "Web3 keystore version {} (expected 3)",
                self.version
            )));
        }
        let crypto = &self.crypto;
        if crypto.cipher != "aes-128-ctr" {
            return Err(CryptoError::Keystore(format!(
                "unsupported cipher `{}`",
                crypto.cipher
            )));
        }
        let params = &crypto.kdfparams;
        let missing =
            |name: &str| CryptoError::Keystore(format!("missing `crypto.kdfparams.{name}`"));
        let kdf = match crypto.kdf.as_str() {
            "scrypt" => Kdf::Scrypt {
                n: params.n.ok_or_else(|| missing("n"))?,
                r: params.r.ok_or_else(|| missing("r"))?,
                p: params.p.ok_or_else(|| missing("p"))?,
            },
            "pbkdf2" => {
                if params.prf.as_deref().unwrap_or("hmac-sha256") != "hmac-sha256" {
                    return Err(CryptoError::Keystore("unsupported pbkdf2 prf".into()));
                }
                Kdf::Pbkdf2 {
                    c: params.c.ok_or_else(|| missing("c"))?,
                }
            }
            other => return Err(CryptoError::Keystore(format!("unsupported kdf `{other}`"))),
        };
        if params.dklen != 32 {
            return Err(CryptoError::Keystore("dklen must be 32".into()));
        }
        let salt = hex_field(&params.salt, "crypto.kdfparams.salt")?;
        let iv: [u8; 16] = hex_field(&crypto.cipherparams.iv, "crypto.cipherparams.iv")?
            .try_into()
            .map_err(|_| CryptoError::Keystore("the iv must be 16 bytes".into()))?;
        let ciphertext = hex_field(&crypto.ciphertext, "crypto.ciphertext")?;
        let expected = hex_field(&crypto.mac, "crypto.mac")?;

        let secret = open(
            ciphertext,
            password.as_bytes(),
            &kdf,
            &salt,
            &iv,
            &expected,
            mac,
        )?;
        let key = ecdsa::SecretKey::from_bytes(&secret)?;
        if let Some(address) = &self.address {
            let stored: Address = address.parse().map_err(|_| {
                CryptoError::Keystore(format!("`address` {address} is not an address"))
            })?;
            if stored != key.address() {
                return Err(CryptoError::Keystore(
                    "the decrypted key does not match the keystore's address".into(),
                ));
            }
        }
        Ok(key)
    }
}

/// keccak256(derived_key[16..32] ++ ciphertext).
fn mac(derived: &[u8; 32], ciphertext: &[u8]) -> [u8; 32] {
    keccak256([&derived[16..32], ciphertext].concat()).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PBKDF2 test vector of the Web3 Secret Storage definition (password "testpassword").
    const WEB3_PBKDF2: &str = r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": "6087dab2f9fdbbfaddc31a909735c1e6"},
            "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
            "kdf": "pbkdf2",
            "kdfparams": {"c": 262144, "dklen": 32, "prf": "hmac-sha256",
                "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},
            "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#;

    #[test]
    fn decrypts_the_specification_vector() {
        let keystore: Web3Keystore = serde_json::from_str(WEB3_PBKDF2).unwrap();
        let key = keystore.decrypt("testpassword").unwrap();
        assert_eq!(
            alloy_primitives::hex::encode(*key.to_bytes()),
            "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
        );
        assert!(matches!(
            keystore.decrypt("wrong"),
            Err(CryptoError::WrongPassword)
        ));
    }

    #[test]
    fn round_trip_with_both_kdfs() {
        let mut rng = rand::thread_rng();
        let key = ecdsa::SecretKey::random(&mut rng);
        for kdf in [
            Kdf::Scrypt {
                n: 1 << 10,
                r: 8,
                p: 1,
            },
            Kdf::Pbkdf2 { c: 1000 },
        ] {
            let keystore = Web3Keystore::encrypt(&key, "pw", &kdf, &mut rng).unwrap();
            let back: Web3Keystore =
                serde_json::from_str(&serde_json::to_string(&keystore).unwrap()).unwrap();
            assert_eq!(back.decrypt("pw").unwrap().address(), key.address());
            assert!(matches!(
                back.decrypt("pW"),
                Err(CryptoError::WrongPassword)
            ));
        }
    }
}
