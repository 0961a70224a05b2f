//! Our compiled artifacts against the selectors, event topics and typehashes of EigenLayer's
//! contracts (Layr-Labs/eigenlayer-contracts v1.8.1 and later). A mismatch here means the
//! runtime could not talk to EigenLayer's deployments on Ethereum and Base.

use alloy::{
    hex,
    primitives::{B256, b256, keccak256},
    sol_types::{SolCall, SolEvent},
};
use ponos_chain::contracts::{
    BN254CertificateVerifier as Bn254, ECDSACertificateVerifier as Ecdsa, KeyRegistrar, TaskMailbox,
};

fn selector(hex_str: &str) -> [u8; 4] {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

#[test]
fn task_mailbox_selectors() {
    assert_eq!(TaskMailbox::createTaskCall::SELECTOR, selector("1fb66f5d"));
    assert_eq!(
        TaskMailbox::submitResultCall::SELECTOR,
        selector("a5fabc81")
    );
    assert_eq!(
        TaskMailbox::getMessageHashCall::SELECTOR,
        selector("37eaa104")
    );
    assert_eq!(TaskMailbox::getTaskInfoCall::SELECTOR, selector("4ad52e02"));
    assert_eq!(
        TaskMailbox::getTaskStatusCall::SELECTOR,
        selector("2bf6cc79")
    );
    assert_eq!(
        TaskMailbox::getTaskResultCall::SELECTOR,
        selector("62fee037")
    );
    assert_eq!(
        TaskMailbox::setExecutorOperatorSetTaskConfigCall::SELECTOR,
        selector("f741e81a")
    );
    assert_eq!(
        TaskMailbox::registerExecutorOperatorSetCall::SELECTOR,
        selector("49acd884")
    );
    assert_eq!(TaskMailbox::refundFeeCall::SELECTOR, selector("b8694166"));
}

#[test]
fn verifier_and_registrar_selectors() {
    assert_eq!(
        Bn254::calculateCertificateDigestCall::SELECTOR,
        selector("18467434")
    );
    assert_eq!(
        Ecdsa::calculateCertificateDigestCall::SELECTOR,
        selector("18467434")
    );
    assert_eq!(Bn254::verifyCertificateCall::SELECTOR, selector("080b7150"));
    assert_eq!(
        Bn254::verifyCertificateProportionCall::SELECTOR,
        selector("017d7974")
    );
    assert_eq!(Ecdsa::verifyCertificateCall::SELECTOR, selector("80c7d3f3"));
    assert_eq!(
        Ecdsa::verifyCertificateProportionCall::SELECTOR,
        selector("c0da2420")
    );
    assert_eq!(
        Bn254::latestReferenceTimestampCall::SELECTOR,
        selector("5ddb9b5b")
    );
    assert_eq!(
        Bn254::maxOperatorTableStalenessCall::SELECTOR,
        selector("6141879e")
    );
    assert_eq!(
        Bn254::getOperatorSetOwnerCall::SELECTOR,
        selector("84818920")
    );
    assert_eq!(
        Bn254::updateOperatorTableCall::SELECTOR,
        selector("6738c40b")
    );
    assert_eq!(
        Ecdsa::updateOperatorTableCall::SELECTOR,
        selector("56d482f5")
    );
    assert_eq!(
        KeyRegistrar::registerKeyCall::SELECTOR,
        selector("d40cda16")
    );
}

#[test]
fn task_mailbox_event_topics() {
    let topics: [(B256, B256); 5] = [
        (
            TaskMailbox::TaskCreated::SIGNATURE_HASH,
            b256!("33add0b01e02278be5459fbfa3274aee699ec47f4ee7236b59e7a2c8b5000c26"),
        ),
        (
            TaskMailbox::TaskVerified::SIGNATURE_HASH,
            b256!("659f23b2e7edf490e5fd6561c5148691ed0375ed7ddd3ab1bcfcfdbec4f209a9"),
        ),
        (
            TaskMailbox::ExecutorOperatorSetRegistered::SIGNATURE_HASH,
            b256!("48b63f21a1eb9dd6880e196de6d7db3fbd0c282b74f1298dcb4cf53472298f39"),
        ),
        (
            TaskMailbox::ExecutorOperatorSetTaskConfigSet::SIGNATURE_HASH,
            b256!("7cd76abd4025a20959a1b20f7c1536e3894a0735cd8de0215dde803ddea7f2d2"),
        ),
        (
            TaskMailbox::FeeRefunded::SIGNATURE_HASH,
            b256!("e3ed40d31808582f7a92a30beacc0ec788d5091407ec6c10c1b999b3f317aea3"),
        ),
    ];
    for (ours, eigenlayer) in topics {
        assert_eq!(ours, eigenlayer);
    }
}

/// Typehashes are compile-time constants: each must appear, as a PUSH32 operand, in the
/// deployed bytecode of the contract that signs or checks with it.
#[test]
fn typehashes_are_in_the_deployed_bytecode() {
    let cases: [(&str, &[u8], B256); 5] = [
        (
            "BN254Certificate(uint32 referenceTimestamp,bytes32 messageHash)",
            &Bn254::DEPLOYED_BYTECODE,
            b256!("d9f77a423768f4b0526fa60a7c732334516a93f1d228dce50ad804ea74ced36e"),
        ),
        (
            "ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)",
            &Ecdsa::DEPLOYED_BYTECODE,
            b256!("da346acb3ce99e7c5132bf8cafb159ad8085970ebfdba78007ef0fe163063d14"),
        ),
        (
            "EIP712Domain(string name,string version,address verifyingContract)",
            &Ecdsa::DEPLOYED_BYTECODE,
            b256!("91ab3d17e3a50a9d89e63fd30b92be7f5336b03b287bb946787a83a9d62a2766"),
        ),
        (
            "ECDSAKeyRegistration(address operator,address avs,uint32 operatorSetId,address keyAddress)",
            &KeyRegistrar::DEPLOYED_BYTECODE,
            b256!("991b0a3376ce87f8ecc5d70962279ac09cdce934e8b5b9683e73c8ff087c7f81"),
        ),
        (
            "BN254KeyRegistration(address operator,address avs,uint32 operatorSetId,bytes keyData)",
            &KeyRegistrar::DEPLOYED_BYTECODE,
            b256!("da86e76deaed01641f80ff5f72c372a038fa5182697aeb967e8b1f9819d58d81"),
        ),
    ];
    for (type_string, bytecode, eigenlayer) in cases {
        assert_eq!(keccak256(type_string), eigenlayer, "{type_string}");
        let push32 = [&[0x7f_u8][..], eigenlayer.as_slice()].concat();
        assert!(
            bytecode.windows(33).any(|w| w == push32.as_slice()),
            "{type_string}: typehash not in the deployed bytecode"
        );
    }
}

#[test]
fn every_deployable_artifact_has_bytecode() {
    for (name, bytecode) in [
        ("TaskMailbox", &TaskMailbox::BYTECODE),
        ("BN254CertificateVerifier", &Bn254::BYTECODE),
        ("ECDSACertificateVerifier", &Ecdsa::BYTECODE),
        ("KeyRegistrar", &KeyRegistrar::BYTECODE),
        (
            "AllocationManager",
            &ponos_chain::contracts::AllocationManager::BYTECODE,
        ),
        (
            "OperatorTableUpdater",
            &ponos_chain::contracts::OperatorTableUpdater::BYTECODE,
        ),
        (
            "BN254TableCalculator",
            &ponos_chain::contracts::BN254TableCalculator::BYTECODE,
        ),
        (
            "ECDSATableCalculator",
            &ponos_chain::contracts::ECDSATableCalculator::BYTECODE,
        ),
        (
            "TransparentUpgradeableProxy",
            &ponos_chain::contracts::TransparentUpgradeableProxy::BYTECODE,
        ),
        ("ProxyAdmin", &ponos_chain::contracts::ProxyAdmin::BYTECODE),
    ] {
        assert!(bytecode.len() > 100, "{name} has no bytecode");
    }
}
