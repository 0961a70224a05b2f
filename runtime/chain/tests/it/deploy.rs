//! The committed bytecode deploys on a real anvil, and the bindings talk to it.

use alloy::{
    primitives::{Address, B256, Bytes, aliases::U96, keccak256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
    sol_types::SolValue,
};
use alloy_node_bindings::Anvil;
use ponos_chain::{
    contracts::{
        BN254CertificateVerifier, ECDSACertificateVerifier, KeyRegistrar, OperatorTableUpdater,
        TaskMailbox,
    },
    sandbox::{StackConfig, deploy_stack},
};

#[tokio::test(flavor = "multi_thread")]
async fn stack_deploys_and_is_wired_together() {
    let anvil = Anvil::new()
        .try_spawn()
        .expect("anvil starts (run script/setup)");
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let deployer = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(anvil.endpoint_url());

    // Owned by another account than the deployer, as with a multisig.
    let admin = Address::repeat_byte(0xAD);
    let config = StackConfig {
        admin,
        ..StackConfig::new(deployer)
    };
    let stack = deploy_stack(&provider, &config)
        .await
        .expect("the stack deploys");

    let mailbox = TaskMailbox::new(stack.task_mailbox, &provider);
    assert_eq!(mailbox.owner().call().await.unwrap(), admin);
    assert_eq!(mailbox.feeSplitCollector().call().await.unwrap(), admin);
    assert_eq!(
        mailbox.BN254_CERTIFICATE_VERIFIER().call().await.unwrap(),
        stack.bn254_certificate_verifier
    );
    assert_eq!(
        mailbox.ECDSA_CERTIFICATE_VERIFIER().call().await.unwrap(),
        stack.ecdsa_certificate_verifier
    );
    assert_eq!(
        mailbox.MAX_TASK_SLA().call().await.unwrap(),
        U96::from(86_400)
    );

    let updater = OperatorTableUpdater::new(stack.operator_table_updater, &provider);
    assert_eq!(
        updater.owner().call().await.unwrap(),
        admin,
        "handed to the admin"
    );
    assert_eq!(
        updater.getCertificateVerifier(2).call().await.unwrap(),
        stack.bn254_certificate_verifier
    );
    assert_eq!(
        updater.getCertificateVerifier(1).call().await.unwrap(),
        stack.ecdsa_certificate_verifier
    );

    let bn254 = BN254CertificateVerifier::new(stack.bn254_certificate_verifier, &provider);
    assert_eq!(
        bn254.operatorTableUpdater().call().await.unwrap(),
        stack.operator_table_updater
    );
    let ecdsa = ECDSACertificateVerifier::new(stack.ecdsa_certificate_verifier, &provider);
    assert_eq!(ecdsa.version().call().await.unwrap(), "1.8.1");
    let registrar = KeyRegistrar::new(stack.key_registrar, &provider);
    assert_eq!(
        registrar.allocationManager().call().await.unwrap(),
        stack.allocation_manager
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deployed_digests_match_the_reference_vectors() {
    let anvil = Anvil::new()
        .try_spawn()
        .expect("anvil starts (run script/setup)");
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let config = StackConfig::new(signer.address());
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(anvil.endpoint_url());
    let stack = deploy_stack(&provider, &config)
        .await
        .expect("the stack deploys");

    let task_hash = keccak256("example-task");
    let result = Bytes::from_static(b"hello");
    let mailbox = TaskMailbox::new(stack.task_mailbox, &provider);
    let message_hash = mailbox
        .getMessageHash(task_hash, result.clone())
        .call()
        .await
        .unwrap();
    assert_eq!(
        message_hash,
        keccak256((task_hash, result).abi_encode_params())
    );
    assert_eq!(
        message_hash,
        "0xf6529792f49abacfc666a7d8ee420c36b48b92701cdb8007cc346ef260d7549d"
            .parse::<B256>()
            .unwrap()
    );

    let bn254 = BN254CertificateVerifier::new(stack.bn254_certificate_verifier, &provider);
    let digest = bn254
        .calculateCertificateDigest(1_700_000_000, message_hash)
        .call()
        .await
        .unwrap();
    assert_eq!(
        digest,
        "0x8794170f5d0b4e758473f0e72def9d3c575ffc12a462a03bf0d9f7b3015b3028"
            .parse::<B256>()
            .unwrap()
    );
}
