//! Single-use challenge tokens for management calls. A server hands out a random token, the
//! caller signs it, the server checks the signer and burns the token. Tokens expire after
//! [`TOKEN_TTL`]. How the token is signed is the server's [`ManagementAuth`]:
//!
//! - [`ManagementAuth::Ponos`]: [`management_digest`](crate::digest::management_digest) over
//!   the token, the method and the request, signed with the management key (ECDSA), so a
//!   signature cannot be replayed or moved to another call.
//! - [`ManagementAuth::Hourglass`]: what Hourglass's hgctl sends: `SignMessage(keccak256(token))`
//!   (keccak256 once more, then ECDSA, or BN254 with the RFC 9380 hash) by a key the server
//!   knows, over the token alone.
//! - [`ManagementAuth::None`]: no signature at all, for a management address only local users
//!   reach.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, hex};

use alloy_primitives::keccak256;

use crate::{bn254, digest::management_digest, ecdsa};

/// How long a challenge token stays valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(300);

/// The most tokens outstanding at once: anyone may ask for a token, so the oldest is dropped
/// when a new one would exceed this, and memory stays bounded however often it is asked.
pub const MAX_OUTSTANDING: usize = 1024;

/// Why a management call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// The call carries no signature.
    #[error("this call needs `auth`: get a token with GetChallengeToken and sign it")]
    Missing,
    /// The token expired.
    #[error("the challenge token expired; get a new one")]
    Expired,
    /// The token was never issued or was used already.
    #[error("unknown or already used challenge token")]
    Unknown,
    /// The signature is malformed.
    #[error("bad management signature: {0}")]
    BadSignature(String),
    /// Someone else signed.
    #[error("signed by {signer}; the management key is {expected}")]
    WrongSigner {
        /// Who signed.
        signer: Address,
        /// Who may sign.
        expected: Address,
    },
    /// A Hourglass-style signature by a key this server does not accept.
    #[error("signed by {0}, which is not a management key of this server")]
    NotAManager(String),
}

/// Who may call a management service, and how calls are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagementAuth {
    /// Ponos's scheme: every call signed over the token, the method and the request by the
    /// ECDSA key of `admin`.
    Ponos {
        /// The address of the management key.
        admin: Address,
    },
    /// Hourglass's scheme: the token alone, signed with `SignMessage(keccak256(token))` by one
    /// of `signers` (Hourglass's own servers accept only their own signing key).
    Hourglass {
        /// The keys whose signatures are accepted.
        signers: Vec<ManagementSigner>,
    },
    /// No signature: every call is accepted.
    None,
}

/// A key accepted under [`ManagementAuth::Hourglass`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagementSigner {
    /// An ECDSA key, by its address.
    Ecdsa(Address),
    /// A BN254 key.
    Bn254(bn254::PublicKey),
}

/// What Hourglass's clients sign for `token`: `keccak256(keccak256(token))` (`SignMessage`
/// hashes the already hashed token once more).
pub fn hourglass_token_digest(token: &str) -> alloy_primitives::B256 {
    keccak256(keccak256(token.as_bytes()))
}

/// Issued tokens, checked under one [`ManagementAuth`].
#[derive(Debug)]
pub struct ChallengeTokens {
    auth: ManagementAuth,
    issued: Mutex<HashMap<String, Instant>>,
}

impl ChallengeTokens {
    /// Tokens whose calls must be signed (Ponos's scheme) by the key of `admin`.
    pub fn new(admin: Address) -> Self {
        Self::with_auth(ManagementAuth::Ponos { admin })
    }

    /// Tokens checked under `auth`.
    pub fn with_auth(auth: ManagementAuth) -> Self {
        Self {
            auth,
            issued: Mutex::default(),
        }
    }

    /// Whether calls need a signed token at all (not under [`ManagementAuth::None`]).
    pub fn required(&self) -> bool {
        self.auth != ManagementAuth::None
    }

    /// A fresh token and its expiry (unix seconds).
    pub fn issue(&self) -> (String, i64) {
        let token = hex::encode(rand::random::<[u8; 32]>());
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued.retain(|_, at| at.elapsed() <= TOKEN_TTL);
        while issued.len() >= MAX_OUTSTANDING {
            let oldest = issued
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(token, _)| token.clone());
            match oldest {
                Some(oldest) => issued.remove(&oldest),
                None => break,
            };
        }
        issued.insert(token.clone(), Instant::now());
        let expires_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + TOKEN_TTL;
        (token, expires_at.as_secs() as i64)
    }

    /// Checks a call to `method` over `fields` signed with `token`; the token is used up.
    pub fn check(
        &self,
        token: &str,
        signature: &[u8],
        method: &str,
        fields: &[&[u8]],
    ) -> Result<(), ChallengeError> {
        if !self.required() {
            return Ok(());
        }
        let issued = self
            .issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
        match issued {
            Some(at) if at.elapsed() <= TOKEN_TTL => {}
            Some(_) => return Err(ChallengeError::Expired),
            None => return Err(ChallengeError::Unknown),
        }
        match &self.auth {
            ManagementAuth::None => Ok(()),
            ManagementAuth::Ponos { admin } => {
                let digest = management_digest(token, method, fields);
                match ecdsa::recover(digest, signature) {
                    Ok(signer) if signer == *admin => Ok(()),
                    Ok(signer) => Err(ChallengeError::WrongSigner {
                        signer,
                        expected: *admin,
                    }),
                    Err(error) => Err(ChallengeError::BadSignature(error.to_string())),
                }
            }
            ManagementAuth::Hourglass { signers } => {
                check_hourglass(signers, hourglass_token_digest(token), signature)
            }
        }
    }
}

/// A 65-byte ECDSA or a 64-byte BN254 signature of `digest` by one of `signers`.
fn check_hourglass(
    signers: &[ManagementSigner],
    digest: alloy_primitives::B256,
    signature: &[u8],
) -> Result<(), ChallengeError> {
    match signature.len() {
        65 => {
            let signer = ecdsa::recover(digest, signature)
                .map_err(|e| ChallengeError::BadSignature(e.to_string()))?;
            if signers.contains(&ManagementSigner::Ecdsa(signer)) {
                Ok(())
            } else {
                Err(ChallengeError::NotAManager(signer.to_string()))
            }
        }
        64 => {
            let signature = bn254::Signature::from_bytes(signature)
                .map_err(|e| ChallengeError::BadSignature(e.to_string()))?;
            let signed = signers.iter().any(|s| match s {
                ManagementSigner::Bn254(key) => signature.verify_auth(digest, key),
                ManagementSigner::Ecdsa(_) => false,
            });
            if signed {
                Ok(())
            } else {
                Err(ChallengeError::NotAManager("a BN254 key".into()))
            }
        }
        n => Err(ChallengeError::BadSignature(format!(
            "{n} bytes; expected a 65-byte ECDSA or a 64-byte BN254 signature"
        ))),
    }
}

/// Signs `token` as Hourglass's clients do (hgctl): ECDSA over
/// [`hourglass_token_digest`].
pub fn sign_hourglass_token(key: &ecdsa::SecretKey, token: &str) -> Vec<u8> {
    key.sign(hourglass_token_digest(token))
        .map(|s| s.to_vec())
        .unwrap_or_default()
}

/// Signs a management call: what a client sends with `token` for `method` over `fields`.
pub fn sign_call(key: &ecdsa::SecretKey, token: &str, method: &str, fields: &[&[u8]]) -> Vec<u8> {
    key.sign(management_digest(token, method, fields))
        .map(|s| s.to_vec())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {

    #[test]
    fn outstanding_tokens_are_bounded_and_the_oldest_goes_first() {
        let tokens = ChallengeTokens::new(Address::ZERO);
        let (first, _) = tokens.issue();
        for _ in 0..MAX_OUTSTANDING + 10 {
            tokens.issue();
        }
        let issued = tokens.issued.lock().unwrap();
        assert_eq!(issued.len(), MAX_OUTSTANDING);
        assert!(!issued.contains_key(&first), "the oldest was dropped");
    }

    use super::*;

    #[test]
    fn hourglass_tokens_are_signed_over_the_token_alone_by_a_known_key() {
        let operator = ecdsa::SecretKey::from_bytes(&[7; 32]).unwrap();
        let bls = bn254::SecretKey::from_seed(b"operator bls").unwrap();
        let stranger = ecdsa::SecretKey::from_bytes(&[8; 32]).unwrap();
        let tokens = ChallengeTokens::with_auth(ManagementAuth::Hourglass {
            signers: vec![
                ManagementSigner::Ecdsa(operator.address()),
                ManagementSigner::Bn254(bls.public_key()),
            ],
        });
        let (token, _) = tokens.issue();
        let sig = sign_hourglass_token(&operator, &token);
        assert_eq!(tokens.check(&token, &sig, "ListPerformers", &[]), Ok(()));
        assert_eq!(
            tokens.check(&token, &sig, "ListPerformers", &[]),
            Err(ChallengeError::Unknown),
            "used up"
        );
        let (token, _) = tokens.issue();
        let sig = bls
            .sign_auth(hourglass_token_digest(&token))
            .to_bytes()
            .to_vec();
        assert_eq!(
            tokens.check(&token, &sig, "RemovePerformer", &[b"x"]),
            Ok(())
        );
        let (token, _) = tokens.issue();
        let sig = sign_hourglass_token(&stranger, &token);
        assert!(matches!(
            tokens.check(&token, &sig, "ListPerformers", &[]),
            Err(ChallengeError::NotAManager(_))
        ));
        let (token, _) = tokens.issue();
        let ponos_style = sign_call(&operator, &token, "ListPerformers", &[]);
        assert!(
            tokens
                .check(&token, &ponos_style, "ListPerformers", &[])
                .is_err(),
            "Ponos's digest is not Hourglass's"
        );
        assert_eq!(
            tokens.check("never issued", &sig, "ListPerformers", &[]),
            Err(ChallengeError::Unknown)
        );
    }

    #[test]
    fn without_auth_nothing_is_checked() {
        let tokens = ChallengeTokens::with_auth(ManagementAuth::None);
        assert!(!tokens.required());
        assert_eq!(tokens.check("anything", &[], "ListPerformers", &[]), Ok(()));
        assert!(ChallengeTokens::new(Address::ZERO).required());
    }

    #[test]
    fn tokens_are_single_use_and_bound_to_the_call() {
        let admin = ecdsa::SecretKey::from_bytes(&[7; 32]).unwrap();
        let other = ecdsa::SecretKey::from_bytes(&[8; 32]).unwrap();
        let tokens = ChallengeTokens::new(admin.address());

        let (token, _) = tokens.issue();
        let sig = sign_call(&admin, &token, "RegisterAvs", &[b"0xabc"]);
        assert_eq!(
            tokens.check(&token, &sig, "RegisterAvs", &[b"0xabc"]),
            Ok(())
        );
        assert_eq!(
            tokens.check(&token, &sig, "RegisterAvs", &[b"0xabc"]),
            Err(ChallengeError::Unknown),
            "used up"
        );

        let (token, _) = tokens.issue();
        let sig = sign_call(&admin, &token, "RegisterAvs", &[b"0xabc"]);
        assert!(
            matches!(
                tokens.check(&token, &sig, "DeRegisterAvs", &[b"0xabc"]),
                Err(ChallengeError::WrongSigner { .. })
            ),
            "another method recovers another signer"
        );

        let (token, _) = tokens.issue();
        let sig = sign_call(&other, &token, "RegisterAvs", &[b"0xabc"]);
        assert!(matches!(
            tokens.check(&token, &sig, "RegisterAvs", &[b"0xabc"]),
            Err(ChallengeError::WrongSigner { signer, .. }) if signer == other.address()
        ));
    }
}
