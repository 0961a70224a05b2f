//! The executor's on-chain view against the real contracts on anvil: the aggregator's key comes
//! from the KeyRegistrar for the AVS's aggregator operator set, membership from the
//! AllocationManager.

use alloy::{
    network::EthereumWallet,
    primitives::{Address, Bytes},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
    sol_types::SolValue,
};
use alloy_node_bindings::Anvil;
use ponos_chain::{
    contracts::{
        AllocationManager, KeyRegistrar, TaskAVSRegistrar, allocation_manager, task_avs_registrar,
    },
    sandbox::{StackConfig, deploy_stack},
};
use ponos_crypto::{bn254, digest::KeyRegistrarDomain, ecdsa, types};
use ponos_executor::keys::{AggregatorKey, ChainView, OnchainView};

#[tokio::test(flavor = "multi_thread")]
async fn reads_the_registered_aggregator_key_and_membership() {
    let anvil = Anvil::new()
        .try_spawn()
        .expect("anvil starts (run script/setup)");
    let signers: Vec<PrivateKeySigner> = anvil.keys().iter().map(|k| k.clone().into()).collect();
    let accounts: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
    let mut wallet = EthereumWallet::new(signers[0].clone());
    for signer in &signers[1..] {
        wallet.register_signer(signer.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url())
        .erased();
    let stack = deploy_stack(&provider, &StackConfig::new(accounts[0]))
        .await
        .unwrap();
    let (avs, aggregator, operator, stranger) =
        (accounts[1], accounts[2], accounts[3], accounts[4]);

    macro_rules! send {
        ($call:expr, $from:expr) => {
            assert!(
                $call
                    .from($from)
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap()
                    .status()
            )
        };
    }

    let manager = AllocationManager::new(stack.allocation_manager, &provider);
    let registry = KeyRegistrar::new(stack.key_registrar, &provider);
    send!(
        manager.updateAVSMetadataURI(avs, "https://avs.example".into()),
        avs
    );
    let sets = vec![
        allocation_manager::IAllocationManagerTypes::CreateSetParams {
            operatorSetId: 0,
            strategies: vec![],
        },
        allocation_manager::IAllocationManagerTypes::CreateSetParams {
            operatorSetId: 1,
            strategies: vec![],
        },
    ];
    send!(manager.createOperatorSets(avs, sets), avs);
    send!(
        registry.configureOperatorSet(KeyRegistrar::OperatorSet { avs, id: 0 }, 1),
        avs
    );
    send!(
        registry.configureOperatorSet(KeyRegistrar::OperatorSet { avs, id: 1 }, 2),
        avs
    );
    let config = task_avs_registrar::ITaskAVSRegistrarBaseTypes::AvsConfig {
        aggregatorOperatorSetId: 0,
        executorOperatorSetIds: vec![1],
    };
    let registrar = TaskAVSRegistrar::deploy(
        &provider,
        avs,
        stack.allocation_manager,
        stack.key_registrar,
        avs,
        config,
    )
    .await
    .unwrap();
    send!(manager.setAVSRegistrar(avs, *registrar.address()), avs);

    let domain = KeyRegistrarDomain {
        chain_id: provider.get_chain_id().await.unwrap(),
        key_registrar: stack.key_registrar,
        version: ponos_chain::sandbox::STACK_VERSION,
    };
    // The aggregator registers an ECDSA signing key for set 0 and joins it.
    let signing = ecdsa::SecretKey::from_bytes(&[0xa1; 32]).unwrap();
    let agg_set = types::OperatorSet { avs, id: 0 };
    let proof = signing
        .sign(domain.ecdsa_registration_digest(aggregator, &agg_set, signing.address()))
        .unwrap();
    send!(
        registry.registerKey(
            aggregator,
            KeyRegistrar::OperatorSet { avs, id: 0 },
            signing.address().to_vec().into(),
            proof.to_vec().into()
        ),
        aggregator
    );
    let join =
        |id: u32, socket: &str| allocation_manager::IAllocationManagerTypes::RegisterParams {
            avs,
            operatorSetIds: vec![id],
            data: Bytes::from(socket.to_string().abi_encode()),
        };
    send!(
        manager.registerForOperatorSets(aggregator, join(0, "")),
        aggregator
    );

    // The operator registers a BN254 key for set 1 and joins it.
    let bls = bn254::SecretKey::from_seed(b"executor operator").unwrap();
    let op_set = types::OperatorSet { avs, id: 1 };
    let pop = bls.proof_of_possession(&domain, operator, &op_set);
    send!(
        registry.registerKey(
            operator,
            KeyRegistrar::OperatorSet { avs, id: 1 },
            bls.public_key().key_data().to_vec().into(),
            pop.to_bytes().to_vec().into()
        ),
        operator
    );
    send!(
        manager.registerForOperatorSets(operator, join(1, "127.0.0.1:9090")),
        operator
    );

    let block = provider.get_block_number().await.unwrap();
    let view = OnchainView::new(
        provider.clone(),
        stack.allocation_manager,
        stack.key_registrar,
    );
    assert_eq!(
        view.aggregator_key(avs, aggregator, block).await.unwrap(),
        AggregatorKey::Ecdsa(signing.address()),
        "the key the aggregator registered"
    );
    let refused = view.aggregator_key(avs, stranger, block).await.unwrap_err();
    assert!(
        matches!(&refused, ponos_executor::keys::ViewError::Refused(reason)
            if reason.contains("not in the aggregator operator set")),
        "{refused}"
    );
    assert!(view.is_member(avs, 1, operator, block).await.unwrap());
    assert!(!view.is_member(avs, 1, stranger, block).await.unwrap());
    // Before the operator joined, it was not a member: reads are at the reference block.
    assert!(!view.is_member(avs, 1, operator, block - 1).await.unwrap());
}
