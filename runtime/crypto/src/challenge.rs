//! Single-use challenge tokens for management calls. A server hands out a random token; the
//! caller signs [`management_digest`](crate::digest::management_digest) over the token, the
//! method and the request with its management key (ECDSA); the server checks the signer and
//! burns the token. Tokens expire after [`TOKEN_TTL`].

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, hex};

use crate::{digest::management_digest, ecdsa};

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
}

/// Issued tokens, checked against one management address.
#[derive(Debug)]
pub struct ChallengeTokens {
    admin: Address,
    issued: Mutex<HashMap<String, Instant>>,
}

impl ChallengeTokens {
    /// Tokens whose calls must be signed by the key of `admin`.
    pub fn new(admin: Address) -> Self {
        Self {
            admin,
            issued: Mutex::default(),
        }
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
        let digest = management_digest(token, method, fields);
        match ecdsa::recover(digest, signature) {
            Ok(signer) if signer == self.admin => Ok(()),
            Ok(signer) => Err(ChallengeError::WrongSigner {
                signer,
                expected: self.admin,
            }),
            Err(error) => Err(ChallengeError::BadSignature(error.to_string())),
        }
    }
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
