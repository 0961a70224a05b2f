//! Who the aggregator is towards each AVS it serves: an operator address in the AVS's
//! aggregator operator set and the key registered for it there. One identity is the default;
//! an AVS may have its own (the KeyRegistrar keeps keys unique, so one key cannot serve the
//! aggregator sets of two AVSs). Before an AVS is served, [`check`] asks L1 whether its
//! identity is what the chain holds, so an aggregator never signs tasks every executor refuses.

use std::collections::HashMap;

use alloy::{eips::BlockId, primitives::Address};
use ponos_chain::keys::{KeyReadError, RegisteredKey, aggregator_key};
use ponos_crypto::{bn254, ecdsa};

use crate::view::L1;

/// The aggregator's identity towards executors.
#[derive(Debug, Clone)]
pub struct AggregatorIdentity {
    /// The aggregator's operator address (in the AVS's aggregator set).
    pub address: Address,
    /// The key registered for the aggregator set; signs every task submission.
    pub key: AggregatorSigner,
}

/// The key an aggregator signs task submissions with, of its aggregator set's curve.
#[derive(Debug, Clone)]
pub enum AggregatorSigner {
    /// An ECDSA key: 65-byte `r ‖ s ‖ v` signatures.
    Ecdsa(ecdsa::SecretKey),
    /// A BN254 key: 64-byte signatures over the RFC 9380 hash to G1, as Hourglass's aggregator
    /// signs with a BN254 key.
    Bn254(bn254::SecretKey),
}

impl AggregatorSigner {
    /// Signs the keccak256 digest of a task submission message.
    pub fn sign(&self, digest: alloy::primitives::B256) -> Vec<u8> {
        match self {
            // Signing a 32-byte prehash with a valid key does not fail.
            Self::Ecdsa(key) => key.sign(digest).map(|s| s.to_vec()).unwrap_or_default(),
            Self::Bn254(key) => key.sign_auth(digest).to_bytes().to_vec(),
        }
    }

    /// Whether `registered` is this key.
    fn is(&self, registered: &RegisteredKey) -> bool {
        match (self, registered) {
            (Self::Ecdsa(key), RegisteredKey::Ecdsa(address)) => key.address() == *address,
            (Self::Bn254(key), RegisteredKey::Bn254(data)) => key.public_key().key_data() == *data,
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Ecdsa(key) => format!("the ECDSA key {}", key.address()),
            Self::Bn254(_) => "its BN254 key".into(),
        }
    }
}

/// The default identity and the AVSs that have their own.
#[derive(Debug, Clone)]
pub struct Identities {
    default: AggregatorIdentity,
    per_avs: HashMap<Address, AggregatorIdentity>,
}

impl Identities {
    /// `default` for every AVS but those in `per_avs`.
    pub fn new(default: AggregatorIdentity, per_avs: HashMap<Address, AggregatorIdentity>) -> Self {
        Self { default, per_avs }
    }

    /// The identity the aggregator has towards `avs`.
    pub fn for_avs(&self, avs: &Address) -> &AggregatorIdentity {
        self.per_avs.get(avs).unwrap_or(&self.default)
    }
}

impl From<AggregatorIdentity> for Identities {
    fn from(default: AggregatorIdentity) -> Self {
        Self::new(default, HashMap::new())
    }
}

/// Why an AVS is not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// L1 holds another key, or none: executors would refuse every task.
    #[error("{0}")]
    Mismatch(String),
    /// L1 could not be read.
    #[error("{0}")]
    Unreadable(String),
}

/// Whether `identity.address` is in the aggregator operator set of `avs` on L1 (at its latest
/// block) with `identity.key` registered for it.
pub async fn check(
    l1: &L1,
    identity: &AggregatorIdentity,
    avs: Address,
) -> Result<(), IdentityError> {
    let registered = aggregator_key(
        &l1.provider,
        l1.contracts.allocation_manager,
        l1.contracts.key_registrar,
        avs,
        identity.address,
        BlockId::latest(),
    )
    .await
    .map_err(|e| match e {
        KeyReadError::Refused(reason) => IdentityError::Mismatch(reason),
        node @ KeyReadError::Node { .. } => IdentityError::Unreadable(node.to_string()),
    })?;
    if identity.key.is(&registered) {
        Ok(())
    } else {
        Err(IdentityError::Mismatch(format!(
            "{} holds another key in the aggregator operator set of AVS {avs} than {}; register that key, or give [[avs]] {avs} its own signing_key",
            identity.address,
            identity.key.describe()
        )))
    }
}
