//! The keys an executor signs with, the aggregator keys it trusts, and what it reads from the
//! chain to decide whether a task is genuine.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::{Arc, Mutex},
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
    /// Signs a certificate digest (the result signature): 64 bytes (BN254, EigenLayer's hash to
    /// G1) or 65 bytes `r ‖ s ‖ v` (ECDSA).
    pub fn sign(&self, digest: B256) -> Vec<u8> {
        match self {
            Self::Bn254(key) => key.sign(digest).to_bytes().to_vec(),
            Self::Ecdsa(key) => sign_ecdsa(key, digest),
        }
    }

    /// Signs the keccak256 digest of an off-chain message (the auth signature) as Hourglass's
    /// signer does: BN254 with the RFC 9380 hash to G1, ECDSA as for [`Self::sign`].
    pub fn sign_auth(&self, digest: B256) -> Vec<u8> {
        match self {
            Self::Bn254(key) => key.sign_auth(digest).to_bytes().to_vec(),
            Self::Ecdsa(key) => sign_ecdsa(key, digest),
        }
    }
}

fn sign_ecdsa(key: &ecdsa::SecretKey, digest: B256) -> Vec<u8> {
    // Signing a 32-byte prehash with a valid key does not fail.
    key.sign(digest).map(|s| s.to_vec()).unwrap_or_default()
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
    /// Whether `signature` signs `keccak256(message)` under this key, as Hourglass's aggregator
    /// signs a task submission (BN254: the RFC 9380 hash to G1).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let digest = keccak256(message);
        match self {
            Self::Ecdsa(address) => {
                ecdsa::recover(digest, signature).is_ok_and(|signer| signer == *address)
            }
            Self::Bn254(key) => {
                bn254::Signature::from_bytes(signature).is_ok_and(|s| s.verify_auth(digest, key))
            }
        }
    }
}

/// Why a chain read gave no answer: the node could not be read (logged by the executor, never
/// shown to the caller: node errors can quote the RPC URL and its API key), or the chain
/// answered and the answer refuses the request.
pub use ponos_chain::keys::KeyReadError as ViewError;

/// What the executor reads from the chain, at the task's L1 reference block.
pub trait ChainView: Send + Sync + 'static {
    /// The key `aggregator` registered for the aggregator operator set of `avs`; an error when
    /// it is not a member of that set.
    fn aggregator_key(
        &self,
        avs: Address,
        aggregator: Address,
        reference_block: u64,
    ) -> impl Future<Output = Result<AggregatorKey, ViewError>> + Send;

    /// Whether `operator` is a member of the operator set `(avs, operator_set_id)`.
    fn is_member(
        &self,
        avs: Address,
        operator_set_id: u32,
        operator: Address,
        reference_block: u64,
    ) -> impl Future<Output = Result<bool, ViewError>> + Send;
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
    async fn aggregator_key(
        &self,
        avs: Address,
        _: Address,
        _: u64,
    ) -> Result<AggregatorKey, ViewError> {
        self.aggregators
            .get(&avs)
            .cloned()
            .ok_or_else(|| ViewError::Refused(format!("no aggregator key is known for AVS {avs}")))
    }

    async fn is_member(
        &self,
        avs: Address,
        operator_set_id: u32,
        operator: Address,
        _: u64,
    ) -> Result<bool, ViewError> {
        Ok(self.members.contains(&(avs, operator_set_id, operator)))
    }
}

/// Reads the aggregator's key and operator-set membership from EigenLayer's contracts (or the
/// sandbox) on L1, at the task's reference block: the AVS's registrar gives the aggregator
/// operator set, the AllocationManager membership, the KeyRegistrar the curve and the key.
///
/// What it reads at a given block cannot change (short of a reorg that deep), so answers are
/// cached: a stream of tasks at one reference block costs one round of reads.
#[derive(Debug, Clone)]
pub struct OnchainView<P> {
    provider: P,
    allocation_manager: Address,
    key_registrar: Address,
    aggregator_keys: Cache<(Address, Address, u64), AggregatorKey>,
    memberships: Cache<(Address, u32, Address, u64), bool>,
}

/// Answers read at a block, shared by the clones of a view.
type Cache<K, V> = Arc<Mutex<HashMap<K, V>>>;

/// Cached answers kept per view before the cache starts over.
const CACHE_LIMIT: usize = 4_096;

fn remember<K: std::hash::Hash + Eq, V>(cache: &Mutex<HashMap<K, V>>, key: K, value: V) {
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.insert(key, value);
}

impl<P> OnchainView<P> {
    /// A view over `provider` (an L1 RPC) with the given core contract addresses.
    pub fn new(provider: P, allocation_manager: Address, key_registrar: Address) -> Self {
        Self {
            provider,
            allocation_manager,
            key_registrar,
            aggregator_keys: Arc::default(),
            memberships: Arc::default(),
        }
    }
}

impl<P> ChainView for OnchainView<P>
where
    P: alloy::providers::Provider + Clone + Send + Sync + 'static,
{
    async fn aggregator_key(
        &self,
        avs: Address,
        aggregator: Address,
        block: u64,
    ) -> Result<AggregatorKey, ViewError> {
        let key = (avs, aggregator, block);
        let cached = self
            .aggregator_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(found) = cached {
            return Ok(found);
        }
        let found = self.read_aggregator_key(avs, aggregator, block).await?;
        remember(&self.aggregator_keys, key, found.clone());
        Ok(found)
    }

    async fn is_member(
        &self,
        avs: Address,
        operator_set_id: u32,
        operator: Address,
        block: u64,
    ) -> Result<bool, ViewError> {
        let key = (avs, operator_set_id, operator, block);
        let cached = self
            .memberships
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied();
        if let Some(member) = cached {
            return Ok(member);
        }
        let member = self
            .read_membership(avs, operator_set_id, operator, block)
            .await?;
        remember(&self.memberships, key, member);
        Ok(member)
    }
}

impl<P> OnchainView<P>
where
    P: alloy::providers::Provider + Clone + Send + Sync + 'static,
{
    async fn read_aggregator_key(
        &self,
        avs: Address,
        aggregator: Address,
        block: u64,
    ) -> Result<AggregatorKey, ViewError> {
        use ponos_chain::keys::RegisteredKey;
        let key = ponos_chain::keys::aggregator_key(
            &self.provider,
            self.allocation_manager,
            self.key_registrar,
            avs,
            aggregator,
            alloy::eips::BlockId::number(block),
        )
        .await?;
        match key {
            RegisteredKey::Ecdsa(address) => Ok(AggregatorKey::Ecdsa(address)),
            RegisteredKey::Bn254(data) => bn254::PublicKey::from_key_data(&data)
                .map(AggregatorKey::Bn254)
                .map_err(|e| ViewError::Refused(format!("the registered BN254 key: {e}"))),
        }
    }

    async fn read_membership(
        &self,
        avs: Address,
        operator_set_id: u32,
        operator: Address,
        block: u64,
    ) -> Result<bool, ViewError> {
        use ponos_chain::contracts::AllocationManager;
        let manager = AllocationManager::new(self.allocation_manager, &self.provider);
        manager
            .isMemberOfOperatorSet(
                operator,
                AllocationManager::OperatorSet {
                    avs,
                    id: operator_set_id,
                },
            )
            .block(alloy::eips::BlockId::number(block))
            .call()
            .await
            .map_err(ViewError::node("isMemberOfOperatorSet"))
    }
}
