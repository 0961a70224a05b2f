//! The keys an executor signs with, the aggregator keys it trusts, and what it reads from the
//! chain to decide whether a task is genuine.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
};

use alloy_primitives::{Address, B256, keccak256};
use ponos_crypto::{bn254, ecdsa};

/// The operator's signing key for an operator set's curve.
#[derive(Debug)]
pub enum SigningKey {
    /// A BN254 key (BLS).
    Bn254(bn254::SecretKey),
    /// An ECDSA key.
    Ecdsa(ecdsa::SecretKey),
}

impl SigningKey {
    /// Signs a 32-byte digest: 64 bytes (BN254) or 65 bytes `r ‖ s ‖ v` (ECDSA).
    pub fn sign(&self, digest: B256) -> Vec<u8> {
        match self {
            Self::Bn254(key) => key.sign(digest).to_bytes().to_vec(),
            // Signing a 32-byte prehash with a valid key does not fail.
            Self::Ecdsa(key) => key.sign(digest).map(|s| s.to_vec()).unwrap_or_default(),
        }
    }
}

/// The aggregator's public key for an AVS, as registered for its aggregator operator set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggregatorKey {
    /// An ECDSA signing-key address.
    Ecdsa(Address),
    /// A BN254 key.
    Bn254(bn254::PublicKey),
}

impl AggregatorKey {
    /// Whether `signature` signs `keccak256(message)` under this key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let digest = keccak256(message);
        match self {
            Self::Ecdsa(address) => {
                ecdsa::recover(digest, signature).is_ok_and(|signer| signer == *address)
            }
            Self::Bn254(key) => {
                bn254::Signature::from_bytes(signature).is_ok_and(|s| s.verify(digest, key))
            }
        }
    }
}

/// What the executor reads from the chain, at the task's L1 reference block.
pub trait ChainView: Send + Sync + 'static {
    /// The aggregator key of `avs` (its aggregator operator set's registered key).
    fn aggregator_key(
        &self,
        avs: Address,
        reference_block: u64,
    ) -> impl Future<Output = Result<AggregatorKey, String>> + Send;

    /// Whether `operator` is a member of the operator set `(avs, operator_set_id)`.
    fn is_member(
        &self,
        avs: Address,
        operator_set_id: u32,
        operator: Address,
        reference_block: u64,
    ) -> impl Future<Output = Result<bool, String>> + Send;
}

/// A fixed view: the devnet knows its keys and sets when it starts, and tests set them directly.
#[derive(Debug, Clone, Default)]
pub struct StaticChainView {
    aggregators: HashMap<Address, AggregatorKey>,
    members: HashSet<(Address, u32, Address)>,
}

impl StaticChainView {
    /// Trusts `key` as the aggregator of `avs`.
    pub fn with_aggregator(mut self, avs: Address, key: AggregatorKey) -> Self {
        self.aggregators.insert(avs, key);
        self
    }

    /// Records `operator` as a member of `(avs, operator_set_id)`.
    pub fn with_member(mut self, avs: Address, operator_set_id: u32, operator: Address) -> Self {
        self.members.insert((avs, operator_set_id, operator));
        self
    }
}

impl ChainView for StaticChainView {
    async fn aggregator_key(&self, avs: Address, _: u64) -> Result<AggregatorKey, String> {
        self.aggregators
            .get(&avs)
            .cloned()
            .ok_or_else(|| format!("no aggregator key is known for AVS {avs}"))
    }

    async fn is_member(
        &self,
        avs: Address,
        operator_set_id: u32,
        operator: Address,
        _: u64,
    ) -> Result<bool, String> {
        Ok(self.members.contains(&(avs, operator_set_id, operator)))
    }
}
