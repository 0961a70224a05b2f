// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {BN254} from "../src/libraries/BN254.sol";
import {Merkle} from "../src/libraries/Merkle.sol";
import {ITaskMailbox, ITaskMailboxEvents} from "../src/interfaces/ITaskMailbox.sol";
import {IBN254CertificateVerifier} from "../src/interfaces/IBN254CertificateVerifier.sol";
import {IECDSACertificateVerifier} from "../src/interfaces/IECDSACertificateVerifier.sol";
import {IBaseCertificateVerifier} from "../src/interfaces/IBaseCertificateVerifier.sol";
import {IKeyRegistrar} from "../src/interfaces/IKeyRegistrar.sol";

import {StackTest} from "./utils/Stack.sol";

/// @notice Our ABI, digests and hash-to-curve against the values EigenLayer's contracts use
/// (selectors, event topics and typehashes as published for Layr-Labs/eigenlayer-contracts
/// v1.8.1 and later). A difference here means certificates or tooling would not carry over.
contract CompatibilityTest is StackTest {
    // -- function selectors --------------------------------------------------------------------

    function test_taskMailboxSelectors() public pure {
        assertEq(bytes32(ITaskMailbox.createTask.selector), bytes32(bytes4(0x1fb66f5d)), "createTask");
        assertEq(bytes32(ITaskMailbox.submitResult.selector), bytes32(bytes4(0xa5fabc81)), "submitResult");
        assertEq(bytes32(ITaskMailbox.getMessageHash.selector), bytes32(bytes4(0x37eaa104)), "getMessageHash");
        assertEq(bytes32(ITaskMailbox.getTaskInfo.selector), bytes32(bytes4(0x4ad52e02)), "getTaskInfo");
        assertEq(bytes32(ITaskMailbox.getTaskStatus.selector), bytes32(bytes4(0x2bf6cc79)), "getTaskStatus");
        assertEq(bytes32(ITaskMailbox.getTaskResult.selector), bytes32(bytes4(0x62fee037)), "getTaskResult");
        assertEq(
            bytes32(ITaskMailbox.setExecutorOperatorSetTaskConfig.selector),
            bytes32(bytes4(0xf741e81a)),
            "setExecutorOperatorSetTaskConfig"
        );
        assertEq(
            bytes32(ITaskMailbox.registerExecutorOperatorSet.selector),
            bytes32(bytes4(0x49acd884)),
            "registerExecutorOperatorSet"
        );
        assertEq(bytes32(ITaskMailbox.refundFee.selector), bytes32(bytes4(0xb8694166)), "refundFee");
    }

    function test_verifierSelectors() public pure {
        assertEq(
            bytes32(IBN254CertificateVerifier.calculateCertificateDigest.selector),
            bytes32(bytes4(0x18467434)),
            "BN254 calculateCertificateDigest"
        );
        assertEq(
            bytes32(IECDSACertificateVerifier.calculateCertificateDigest.selector),
            bytes32(bytes4(0x18467434)),
            "ECDSA calculateCertificateDigest"
        );
        assertEq(
            bytes32(IBN254CertificateVerifier.verifyCertificate.selector),
            bytes32(bytes4(0x080b7150)),
            "BN254 verifyCertificate"
        );
        assertEq(
            bytes32(IBN254CertificateVerifier.verifyCertificateProportion.selector),
            bytes32(bytes4(0x017d7974)),
            "BN254 verifyCertificateProportion"
        );
        assertEq(
            bytes32(IECDSACertificateVerifier.verifyCertificate.selector),
            bytes32(bytes4(0x80c7d3f3)),
            "ECDSA verifyCertificate"
        );
        assertEq(
            bytes32(IECDSACertificateVerifier.verifyCertificateProportion.selector),
            bytes32(bytes4(0xc0da2420)),
            "ECDSA verifyCertificateProportion"
        );
        assertEq(
            bytes32(IBaseCertificateVerifier.latestReferenceTimestamp.selector),
            bytes32(bytes4(0x5ddb9b5b)),
            "latestReferenceTimestamp"
        );
        assertEq(
            bytes32(IBaseCertificateVerifier.maxOperatorTableStaleness.selector),
            bytes32(bytes4(0x6141879e)),
            "maxOperatorTableStaleness"
        );
        assertEq(
            bytes32(IBaseCertificateVerifier.getOperatorSetOwner.selector),
            bytes32(bytes4(0x84818920)),
            "getOperatorSetOwner"
        );
        assertEq(
            bytes32(IBN254CertificateVerifier.updateOperatorTable.selector),
            bytes32(bytes4(0x6738c40b)),
            "BN254 updateOperatorTable"
        );
        assertEq(
            bytes32(IECDSACertificateVerifier.updateOperatorTable.selector),
            bytes32(bytes4(0x56d482f5)),
            "ECDSA updateOperatorTable"
        );
        assertEq(bytes32(IKeyRegistrar.registerKey.selector), bytes32(bytes4(0xd40cda16)), "registerKey");
    }

    // -- event topics --------------------------------------------------------------------------

    function test_taskMailboxEventTopics() public pure {
        assertEq(
            ITaskMailboxEvents.TaskCreated.selector,
            0x33add0b01e02278be5459fbfa3274aee699ec47f4ee7236b59e7a2c8b5000c26,
            "TaskCreated"
        );
        assertEq(
            ITaskMailboxEvents.TaskVerified.selector,
            0x659f23b2e7edf490e5fd6561c5148691ed0375ed7ddd3ab1bcfcfdbec4f209a9,
            "TaskVerified"
        );
        assertEq(
            ITaskMailboxEvents.ExecutorOperatorSetRegistered.selector,
            0x48b63f21a1eb9dd6880e196de6d7db3fbd0c282b74f1298dcb4cf53472298f39,
            "ExecutorOperatorSetRegistered"
        );
        assertEq(
            ITaskMailboxEvents.ExecutorOperatorSetTaskConfigSet.selector,
            0x7cd76abd4025a20959a1b20f7c1536e3894a0735cd8de0215dde803ddea7f2d2,
            "ExecutorOperatorSetTaskConfigSet"
        );
        assertEq(
            ITaskMailboxEvents.FeeRefunded.selector,
            0xe3ed40d31808582f7a92a30beacc0ec788d5091407ec6c10c1b999b3f317aea3,
            "FeeRefunded"
        );
    }

    // -- typehashes and digests ----------------------------------------------------------------

    bytes32 internal constant BN254_CERTIFICATE_TYPEHASH =
        0xd9f77a423768f4b0526fa60a7c732334516a93f1d228dce50ad804ea74ced36e;
    bytes32 internal constant ECDSA_CERTIFICATE_TYPEHASH =
        0xda346acb3ce99e7c5132bf8cafb159ad8085970ebfdba78007ef0fe163063d14;
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH_NO_CHAINID =
        0x91ab3d17e3a50a9d89e63fd30b92be7f5336b03b287bb946787a83a9d62a2766;
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f;
    bytes32 internal constant EIGENLAYER = 0x71b625cfad44bac63b13dba07f2e1d6084ee04b6f8752101ece6126d584ee6ea;
    bytes32 internal constant VERSION_1 = 0xc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc6;

    function test_bn254CertificateDigest_referenceVector() public view {
        bytes32 messageHash = 0xf6529792f49abacfc666a7d8ee420c36b48b92701cdb8007cc346ef260d7549d;
        bytes32 digest = bn254Verifier.calculateCertificateDigest(1_700_000_000, messageHash);
        assertEq(digest, 0x8794170f5d0b4e758473f0e72def9d3c575ffc12a462a03bf0d9f7b3015b3028, "reference digest");
        assertEq(
            digest, keccak256(abi.encode(BN254_CERTIFICATE_TYPEHASH, uint32(1_700_000_000), messageHash)), "typehash"
        );
    }

    function test_ecdsaCertificateDigest_typehashes() public view {
        bytes32 domain =
            keccak256(abi.encode(EIP712_DOMAIN_TYPEHASH_NO_CHAINID, EIGENLAYER, VERSION_1, address(ecdsaVerifier)));
        bytes32 structHash = keccak256(abi.encode(ECDSA_CERTIFICATE_TYPEHASH, uint32(7), bytes32(uint256(9))));
        assertEq(
            ecdsaVerifier.calculateCertificateDigest(7, bytes32(uint256(9))),
            keccak256(abi.encodePacked("\x19\x01", domain, structHash)),
            "ECDSA certificate digest"
        );
    }

    function test_keyRegistrationTypehashes() public view {
        assertEq(
            keyRegistrar.ECDSA_KEY_REGISTRATION_TYPEHASH(),
            0x991b0a3376ce87f8ecc5d70962279ac09cdce934e8b5b9683e73c8ff087c7f81,
            "ECDSA key registration"
        );
        assertEq(
            keyRegistrar.BN254_KEY_REGISTRATION_TYPEHASH(),
            0xda86e76deaed01641f80ff5f72c372a038fa5182697aeb967e8b1f9819d58d81,
            "BN254 key registration"
        );
        assertEq(
            keyRegistrar.domainSeparator(),
            keccak256(abi.encode(EIP712_DOMAIN_TYPEHASH, EIGENLAYER, VERSION_1, block.chainid, address(keyRegistrar))),
            "registration domain (with chain id)"
        );
    }

    function test_leafSalts() public view {
        assertEq(bn254Verifier.OPERATOR_INFO_LEAF_SALT(), uint8(keccak256("OPERATOR_INFO_LEAF_SALT")[0]), "info salt");
        assertEq(bn254Verifier.OPERATOR_INFO_LEAF_SALT(), 0x75, "0x75");
        assertEq(bn254Verifier.OPERATOR_TABLE_LEAF_SALT(), 0x8e, "0x8e");
        assertEq(
            bn254Verifier.calculateOperatorTableLeaf("table"), keccak256(abi.encodePacked(uint8(0x8e), "table")), "table leaf"
        );
    }

    // -- hash to G1 ----------------------------------------------------------------------------

    function test_hashToG1_referenceVectors() public view {
        BN254.G1Point memory p = BN254.hashToG1(bytes32(uint256(1)));
        assertEq(p.X, 1, "1 maps to the generator x");
        assertEq(p.Y, 2, "1 maps to the generator y");

        p = BN254.hashToG1(keccak256(""));
        assertEq(p.X, 0x04410c360230a295b13d66d8d6c1a24a86fb0c0e28bafd068b78a7a8fb91af55, "keccak256('') x");
        assertEq(p.Y, 0x03d24e04de149099b8a34d87fffbf964f27c7ad7e56cb75eaa7874368ec572bc, "keccak256('') y");

        p = BN254.hashToG1(0x8794170f5d0b4e758473f0e72def9d3c575ffc12a462a03bf0d9f7b3015b3028);
        assertEq(p.X, 0x26cb7a299aa80e2213d3657a2aecec81285d26efd37f0b217898df855061359b, "digest x");
        assertEq(p.Y, 0x17d2521ac185e7e7dbbaed0bd69965fda39ecd5684e43f026b928ebf27345a11, "digest y");
    }

    // -- Merkle --------------------------------------------------------------------------------

    function test_merkle_positionalTreeWithZeroPadding() public pure {
        bytes32[] memory leaves = new bytes32[](3);
        (leaves[0], leaves[1], leaves[2]) = (keccak256("a"), keccak256("b"), keccak256("c"));
        bytes32 left = keccak256(abi.encodePacked(leaves[0], leaves[1]));
        bytes32 right = keccak256(abi.encodePacked(leaves[2], bytes32(0)));
        bytes32 root = keccak256(abi.encodePacked(left, right));
        assertEq(Merkle.merkleizeKeccak(leaves), root, "root");
        assertEq(Merkle.getProofKeccak(leaves, 2), abi.encodePacked(bytes32(0), left), "proof of leaf 2");
        assertTrue(Merkle.verifyInclusionKeccak(abi.encodePacked(bytes32(0), left), root, leaves[2], 2), "verifies");
        assertFalse(Merkle.verifyInclusionKeccak(abi.encodePacked(bytes32(0), left), root, leaves[2], 3), "wrong index");
    }
}
