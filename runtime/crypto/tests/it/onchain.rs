//! Certificates, digests and key proofs made in Rust, checked by the contracts on a real anvil:
//! what the verifiers accept here, EigenLayer's accept on mainnet.

use alloy::{
    network::EthereumWallet,
    primitives::{Address, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use alloy_node_bindings::{Anvil, AnvilInstance};
use ponos_chain::{
    contracts::{
        BN254CertificateVerifier, ECDSACertificateVerifier, KeyRegistrar, OperatorTableUpdater,
        TaskMailbox, bn254_certificate_verifier as bn_mod, ecdsa_certificate_verifier as ec_mod,
        operator_table_updater as otu_mod,
    },
    sandbox::{StackAddresses, StackConfig, deploy_stack},
};
use ponos_crypto::{
    bn254,
    certificate::{build_bn254_certificate, build_ecdsa_certificate, meets_threshold},
    digest::{self, KeyRegistrarDomain},
    ecdsa,
    table::{Bn254Operator, Bn254OperatorTable, ecdsa_operator_infos, operator_info_leaf},
    types,
};

use ponos_chain::contracts::retype as to;

struct Chain {
    _anvil: AnvilInstance,
    provider: DynProvider,
    stack: StackAddresses,
    admin: Address,
    avs: Address,
    accounts: Vec<Address>,
    /// The (timestamp, block) every table of a test is pushed at, as a transporter pushes all
    /// sets of one L1 reference block together.
    reference: (u32, u32),
}

async fn chain() -> Chain {
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
        .expect("stack deploys");
    // Every table of a test is pushed at one L1 reference (timestamp, block), as a transporter
    // pushes all sets of one reference block together.
    let block = provider.get_block_number().await.unwrap();
    let header = provider
        .get_block_by_number(block.into())
        .await
        .unwrap()
        .unwrap()
        .header;
    Chain {
        _anvil: anvil,
        provider,
        stack,
        admin: accounts[0],
        avs: accounts[1],
        accounts,
        reference: (header.timestamp as u32, block as u32),
    }
}

impl Chain {
    fn config(&self) -> otu_mod::ICrossChainRegistryTypes::OperatorSetConfig {
        otu_mod::ICrossChainRegistryTypes::OperatorSetConfig {
            owner: self.avs,
            maxStalenessPeriod: 0,
        }
    }

    async fn push_bn254(&self, set: &types::OperatorSet, table: &Bn254OperatorTable) -> u32 {
        let (ts, block) = self.reference;
        let updater = OperatorTableUpdater::new(self.stack.operator_table_updater, &self.provider);
        updater
            .setBN254OperatorTable(to(set), ts, block, to(table.info()), self.config())
            .from(self.admin)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        ts
    }

    async fn push_ecdsa(
        &self,
        set: &types::OperatorSet,
        infos: &[types::ECDSAOperatorInfo],
    ) -> u32 {
        let (ts, block) = self.reference;
        let updater = OperatorTableUpdater::new(self.stack.operator_table_updater, &self.provider);
        let infos: Vec<otu_mod::IOperatorTableCalculatorTypes::ECDSAOperatorInfo> =
            infos.iter().map(to).collect();
        updater
            .setECDSAOperatorTable(to(set), ts, block, infos, self.config())
            .from(self.admin)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        ts
    }
}

fn bn254_keys(n: usize, salt: &str) -> Vec<bn254::SecretKey> {
    (0..n)
        .map(|i| bn254::SecretKey::from_seed(format!("{salt}/{i}").as_bytes()).unwrap())
        .collect()
}

fn bn254_table(keys: &[bn254::SecretKey]) -> Bn254OperatorTable {
    let operators = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Bn254Operator {
            key: k.public_key(),
            weights: vec![U256::from(10 + i)],
        })
        .collect();
    Bn254OperatorTable::new(operators).unwrap()
}

/// The non-signers for a run: `k` operators spread over the table, never all of them.
fn non_signers(n: usize, k: usize) -> Vec<usize> {
    (0..k)
        .map(|j| (j * 7 + 3) % n)
        .fold(Vec::new(), |mut acc, mut i| {
            while acc.contains(&i) {
                i = (i + 1) % n;
            }
            acc.push(i);
            acc
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn bn254_certificates_pass_the_verifier_for_1_4_and_16_operators() {
    let chain = chain().await;
    let verifier =
        BN254CertificateVerifier::new(chain.stack.bn254_certificate_verifier, &chain.provider);
    for (set_id, n) in [(1u32, 1usize), (4, 4), (16, 16)] {
        let set = types::OperatorSet {
            avs: chain.avs,
            id: set_id,
        };
        let keys = bn254_keys(n, "bn");
        let table = bn254_table(&keys);
        let ref_ts = chain.push_bn254(&set, &table).await;
        let onchain = verifier
            .getOperatorSetInfo(to(&set), ref_ts)
            .call()
            .await
            .unwrap();
        assert_eq!(
            onchain.operatorInfoTreeRoot,
            table.info().operatorInfoTreeRoot,
            "root of {n}"
        );

        for k in 0..n {
            let message = keccak256(format!("task {n}/{k}"));
            let digest = digest::bn254_certificate_digest(ref_ts, message);
            let absent = non_signers(n, k);
            let sigs: Vec<_> = (0..n)
                .filter(|i| !absent.contains(i))
                .map(|i| (i, keys[i].sign(digest)))
                .collect();
            let build = build_bn254_certificate(&table, ref_ts, message, &sigs).unwrap();
            let total = &table.info().totalWeights;
            let bps = (build.signed_weights[0] * U256::from(10_000) / total[0]).to::<u16>();
            assert!(meets_threshold(&build.signed_weights, total, bps));

            // verifyCertificate reverts on a bad certificate; Proportion then applies the threshold.
            let cert: bn_mod::IBN254CertificateVerifierTypes::BN254Certificate =
                to(&build.certificate);
            let signed = verifier
                .verifyCertificate(to(&set), cert.clone())
                .call()
                .await
                .unwrap();
            assert_eq!(signed, build.signed_weights, "n={n} k={k}: signed weight");
            let ok = verifier
                .verifyCertificateProportion(to(&set), cert.clone(), vec![bps])
                .call()
                .await
                .unwrap();
            assert!(ok, "n={n} k={k}: accepted at {bps} bps");
            if bps < 10_000 {
                let above = bps + 1;
                let expected = meets_threshold(&build.signed_weights, total, above);
                let got = verifier
                    .verifyCertificateProportion(to(&set), cert, vec![above])
                    .call()
                    .await
                    .unwrap();
                assert_eq!(
                    got, expected,
                    "n={n} k={k}: Rust and the verifier agree at {above} bps"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bn254_verifier_rejects_tampered_certificates() {
    let chain = chain().await;
    let verifier =
        BN254CertificateVerifier::new(chain.stack.bn254_certificate_verifier, &chain.provider);
    let set = types::OperatorSet {
        avs: chain.avs,
        id: 4,
    };
    let keys = bn254_keys(4, "tamper");
    let table = bn254_table(&keys);
    let ref_ts = chain.push_bn254(&set, &table).await;
    let message = keccak256("tamper");
    let digest = digest::bn254_certificate_digest(ref_ts, message);
    let sigs: Vec<_> = [0usize, 1, 3]
        .iter()
        .map(|&i| (i, keys[i].sign(digest)))
        .collect();
    let good = build_bn254_certificate(&table, ref_ts, message, &sigs)
        .unwrap()
        .certificate;
    let verify = |cert: types::BN254Certificate| {
        let verifier = verifier.clone();
        let set = set.clone();
        async move { verifier.verifyCertificate(to(&set), to(&cert)).call().await }
    };
    assert!(
        verify(good.clone()).await.is_ok(),
        "the untouched certificate passes"
    );

    // One flipped byte in every part that matters.
    let mut flipped = good.clone();
    flipped.signature.Y ^= U256::from(1);
    assert!(verify(flipped).await.is_err(), "flipped signature byte");
    let mut flipped = good.clone();
    flipped.messageHash.0[31] ^= 1;
    assert!(verify(flipped).await.is_err(), "flipped message byte");
    let mut flipped = good.clone();
    flipped.apk.X[1] ^= U256::from(1);
    assert!(verify(flipped).await.is_err(), "flipped apk byte");
    let mut flipped = good.clone();
    let mut proof = flipped.nonSignerWitnesses[0].operatorInfoProof.to_vec();
    proof[5] ^= 1;
    flipped.nonSignerWitnesses[0].operatorInfoProof = proof.into();
    assert!(verify(flipped).await.is_err(), "flipped proof byte");

    // Signed by 0, 1, 3 but claims 0, 1, 2 signed.
    let wrong_set = build_bn254_certificate(
        &table,
        ref_ts,
        message,
        &[(0, sigs[0].1), (1, sigs[1].1), (2, sigs[2].1)],
    )
    .unwrap()
    .certificate;
    assert!(verify(wrong_set).await.is_err(), "wrong signer set");

    let mut wrong_ts = good;
    wrong_ts.referenceTimestamp = ref_ts - 1;
    assert!(verify(wrong_ts).await.is_err(), "wrong reference timestamp");
}

#[tokio::test(flavor = "multi_thread")]
async fn ecdsa_certificates_pass_the_verifier_for_1_4_and_16_operators() {
    let chain = chain().await;
    let verifier =
        ECDSACertificateVerifier::new(chain.stack.ecdsa_certificate_verifier, &chain.provider);
    for (set_id, n) in [(1u32, 1usize), (4, 4), (16, 16)] {
        let set = types::OperatorSet {
            avs: chain.avs,
            id: set_id,
        };
        let keys: Vec<_> = (0..n)
            .map(|i| ecdsa::SecretKey::from_bytes(&[i as u8 + 1; 32]).unwrap())
            .collect();
        let infos = ecdsa_operator_infos(
            &keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k.address(), vec![U256::from(10 + i)]))
                .collect::<Vec<_>>(),
        );
        let ref_ts = chain.push_ecdsa(&set, &infos).await;
        let total = vec![infos.iter().map(|i| i.weights[0]).sum::<U256>()];

        for k in 0..n {
            let message = keccak256(format!("ecdsa task {n}/{k}"));
            let digest = digest::ecdsa_certificate_digest(
                chain.stack.ecdsa_certificate_verifier,
                ponos_chain::sandbox::STACK_VERSION,
                ref_ts,
                message,
            );
            let absent = non_signers(n, k);
            let signers: Vec<_> = (0..n).filter(|i| !absent.contains(i)).collect();
            let sigs: Vec<_> = signers
                .iter()
                .map(|&i| (keys[i].address(), keys[i].sign(digest).unwrap()))
                .collect();
            let cert = build_ecdsa_certificate(ref_ts, message, &sigs).unwrap();
            let signed = vec![signers.iter().map(|&i| infos[i].weights[0]).sum::<U256>()];
            let bps = (signed[0] * U256::from(10_000) / total[0]).to::<u16>();
            let result = verifier
                .verifyCertificateProportion(
                    to(&set),
                    to::<_, ec_mod::IECDSACertificateVerifierTypes::ECDSACertificate>(&cert),
                    vec![bps],
                )
                .call()
                .await
                .unwrap();
            assert!(result._0, "n={n} k={k}: accepted at {bps} bps");
            assert_eq!(result._1.len(), signers.len(), "every signer recovered");
            assert!(meets_threshold(&signed, &total, bps));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ecdsa_verifier_rejects_tampered_certificates() {
    let chain = chain().await;
    let verifier =
        ECDSACertificateVerifier::new(chain.stack.ecdsa_certificate_verifier, &chain.provider);
    let set = types::OperatorSet {
        avs: chain.avs,
        id: 4,
    };
    let keys: Vec<_> = (1u8..=4)
        .map(|i| ecdsa::SecretKey::from_bytes(&[i; 32]).unwrap())
        .collect();
    let infos = ecdsa_operator_infos(
        &keys
            .iter()
            .map(|k| (k.address(), vec![U256::from(1)]))
            .collect::<Vec<_>>(),
    );
    let ref_ts = chain.push_ecdsa(&set, &infos).await;
    let message = keccak256("tamper");
    let digest = digest::ecdsa_certificate_digest(
        chain.stack.ecdsa_certificate_verifier,
        "1.8.1",
        ref_ts,
        message,
    );
    let sign = |k: &ecdsa::SecretKey| (k.address(), k.sign(digest).unwrap());
    let good = build_ecdsa_certificate(
        ref_ts,
        message,
        &keys[..3].iter().map(sign).collect::<Vec<_>>(),
    )
    .unwrap();
    let verify = |cert: types::ECDSACertificate| {
        let verifier = verifier.clone();
        let set = set.clone();
        async move { verifier.verifyCertificate(to(&set), to(&cert)).call().await }
    };
    assert!(verify(good.clone()).await.is_ok());

    let mut flipped = good.clone();
    let mut sig = flipped.sig.to_vec();
    sig[70] ^= 1;
    flipped.sig = sig.into();
    assert!(verify(flipped).await.is_err(), "flipped signature byte");

    let outsider = ecdsa::SecretKey::from_bytes(&[99; 32]).unwrap();
    let with_outsider =
        build_ecdsa_certificate(ref_ts, message, &[sign(&keys[0]), sign(&outsider)]).unwrap();
    assert!(
        verify(with_outsider).await.is_err(),
        "a signer outside the table"
    );

    let mut unsorted = good.clone();
    let mut sig = unsorted.sig.to_vec();
    sig[..130].rotate_left(65);
    unsorted.sig = sig.into();
    assert!(verify(unsorted).await.is_err(), "signers out of order");

    let mut wrong_ts = good;
    wrong_ts.referenceTimestamp = ref_ts + 1;
    assert!(verify(wrong_ts).await.is_err(), "wrong reference timestamp");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rust_digest_and_encoder_equals_its_contract_twin() {
    let chain = chain().await;
    let mailbox = TaskMailbox::new(chain.stack.task_mailbox, &chain.provider);
    let bn = BN254CertificateVerifier::new(chain.stack.bn254_certificate_verifier, &chain.provider);
    let ec = ECDSACertificateVerifier::new(chain.stack.ecdsa_certificate_verifier, &chain.provider);
    let registrar = KeyRegistrar::new(chain.stack.key_registrar, &chain.provider);
    let chain_id = chain.provider.get_chain_id().await.unwrap();
    let domain = KeyRegistrarDomain {
        chain_id,
        key_registrar: chain.stack.key_registrar,
        version: ponos_chain::sandbox::STACK_VERSION,
    };

    for (i, result) in [&b""[..], b"42", &[0xab; 33], &[7; 200]].iter().enumerate() {
        let task_hash = keccak256(format!("task {i}"));
        let result = Bytes::copy_from_slice(result);
        let message = digest::message_hash(task_hash, &result);
        assert_eq!(
            mailbox
                .getMessageHash(task_hash, result)
                .call()
                .await
                .unwrap(),
            message
        );

        let ts = 1_700_000_000 + i as u32;
        assert_eq!(
            bn.calculateCertificateDigest(ts, message)
                .call()
                .await
                .unwrap(),
            digest::bn254_certificate_digest(ts, message)
        );
        let verifier = chain.stack.ecdsa_certificate_verifier;
        assert_eq!(
            ec.calculateCertificateDigestBytes(ts, message)
                .call()
                .await
                .unwrap(),
            Bytes::copy_from_slice(&digest::ecdsa_certificate_digest_bytes(
                verifier, "1.8.1", ts, message
            ))
        );
        assert_eq!(
            ec.calculateCertificateDigest(ts, message)
                .call()
                .await
                .unwrap(),
            digest::ecdsa_certificate_digest(verifier, "1.8.1", ts, message)
        );
    }

    let keys = bn254_keys(3, "leaf");
    let table = bn254_table(&keys);
    for info in table.operator_infos() {
        let onchain = bn.calculateOperatorInfoLeaf(to(info)).call().await.unwrap();
        assert_eq!(onchain, operator_info_leaf(info));
    }

    let set = types::OperatorSet {
        avs: chain.avs,
        id: 3,
    };
    let operator = chain.accounts[2];
    let public = keys[0].public_key();
    let key_data = registrar
        .encodeBN254KeyData(to(&public.g1_point()), to(&public.g2_point()))
        .call()
        .await
        .unwrap();
    assert_eq!(key_data.as_ref(), public.key_data().as_slice());
    assert_eq!(
        registrar
            .getBN254KeyRegistrationMessageHash(operator, to(&set), key_data)
            .call()
            .await
            .unwrap(),
        domain.bn254_registration_digest(operator, &set, &public.key_data())
    );
    let ecdsa_key = ecdsa::SecretKey::from_bytes(&[5; 32]).unwrap();
    assert_eq!(
        registrar
            .getECDSAKeyRegistrationMessageHash(operator, to(&set), ecdsa_key.address())
            .call()
            .await
            .unwrap(),
        domain.ecdsa_registration_digest(operator, &set, ecdsa_key.address())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn key_registrar_accepts_keys_registered_with_rust_made_proofs() {
    let chain = chain().await;
    let registrar = KeyRegistrar::new(chain.stack.key_registrar, &chain.provider);
    let domain = KeyRegistrarDomain {
        chain_id: chain.provider.get_chain_id().await.unwrap(),
        key_registrar: chain.stack.key_registrar,
        version: "1.8.1",
    };
    let bn_set = types::OperatorSet {
        avs: chain.avs,
        id: 1,
    };
    let ec_set = types::OperatorSet {
        avs: chain.avs,
        id: 2,
    };
    for (set, curve) in [(&bn_set, 2u8), (&ec_set, 1u8)] {
        registrar
            .configureOperatorSet(to(set), curve)
            .from(chain.avs)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }

    for (i, operator) in chain.accounts[2..6].iter().enumerate() {
        let bls = bn254::SecretKey::from_seed(format!("registrar/{i}").as_bytes()).unwrap();
        let key_data = bls.public_key().key_data();
        let proof = bls.proof_of_possession(&domain, *operator, &bn_set);
        let receipt = registrar
            .registerKey(
                *operator,
                to(&bn_set),
                key_data.to_vec().into(),
                proof.to_bytes().to_vec().into(),
            )
            .from(*operator)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "BN254 key of operator {i} registered");
        let (g1, _g2) = {
            let key = registrar
                .getBN254Key(to(&bn_set), *operator)
                .call()
                .await
                .unwrap();
            (key.g1Point, key.g2Point)
        };
        let g1: types::G1Point = to(&g1);
        assert_eq!(g1, bls.public_key().g1_point());

        let signing = ecdsa::SecretKey::from_bytes(&[i as u8 + 40; 32]).unwrap();
        let digest = domain.ecdsa_registration_digest(*operator, &ec_set, signing.address());
        let signature = signing.sign(digest).unwrap();
        let receipt = registrar
            .registerKey(
                *operator,
                to(&ec_set),
                signing.address().to_vec().into(),
                signature.to_vec().into(),
            )
            .from(*operator)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "ECDSA key of operator {i} registered");
        assert_eq!(
            registrar
                .getECDSAAddress(to(&ec_set), *operator)
                .call()
                .await
                .unwrap(),
            signing.address()
        );
    }

    // A proof made for another operator is refused.
    let bls = bn254::SecretKey::from_seed(b"registrar/late").unwrap();
    let key_data = bls.public_key().key_data();
    let proof = bls.sign(domain.bn254_registration_digest(chain.accounts[6], &bn_set, &key_data));
    let refused = registrar
        .registerKey(
            chain.accounts[7],
            to(&bn_set),
            key_data.to_vec().into(),
            proof.to_bytes().to_vec().into(),
        )
        .from(chain.accounts[7])
        .call()
        .await;
    assert!(refused.is_err(), "a proof bound to another operator");
}
