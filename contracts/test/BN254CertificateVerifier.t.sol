// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../src/libraries/OperatorSetLib.sol";
import {BN254} from "../src/libraries/BN254.sol";
import {Merkle} from "../src/libraries/Merkle.sol";
import {IBaseCertificateVerifier, IBaseCertificateVerifierErrors} from "../src/interfaces/IBaseCertificateVerifier.sol";
import {IBN254CertificateVerifierErrors, IBN254CertificateVerifierTypes} from "../src/interfaces/IBN254CertificateVerifier.sol";
import {IOperatorTableCalculatorTypes} from "../src/interfaces/IOperatorTableCalculator.sol";
import {ICrossChainRegistryTypes} from "../src/interfaces/IBaseCertificateVerifier.sol";

import {StackTest} from "./utils/Stack.sol";
import {BN254Keys} from "./fixtures/BN254Keys.sol";

contract BN254CertificateVerifierTest is StackTest {
    using BN254 for BN254.G1Point;

    bytes32 internal constant MESSAGE = keccak256("message");

    IOperatorTableCalculatorTypes.BN254OperatorInfo[] internal _infos;
    uint32 internal refTs;

    function setUp() public override {
        super.setUp();
        IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory four = bnInfos(4, 100);
        for (uint256 i = 0; i < four.length; ++i) {
            _infos.push(four[i]);
        }
        refTs = pushBN254Table(bnSet, four);
    }

    function infos() internal view returns (IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory) {
        return _infos;
    }

    // -- happy paths ---------------------------------------------------------------------------

    function test_verifyCertificate_allSigners_returnsTotalWeight() public {
        uint256[] memory signed = bn254Verifier.verifyCertificate(bnSet, bnCert(infos(), 0, refTs, MESSAGE));
        assertEq(signed.length, 1, "one stake type");
        assertEq(signed[0], 100 + 101 + 102 + 103, "every operator signed");
    }

    function test_verifyCertificate_everyNonSignerSubset() public {
        // Every subset that leaves at least one signer: 0b0000 .. 0b1110.
        for (uint256 mask = 0; mask < 15; ++mask) {
            uint256 snapshot = vm.snapshotState();
            uint256 expected;
            for (uint256 i = 0; i < 4; ++i) {
                if (mask & (1 << i) == 0) expected += 100 + i;
            }
            uint256[] memory signed = bn254Verifier.verifyCertificate(bnSet, bnCert(infos(), mask, refTs, MESSAGE));
            assertEq(signed[0], expected, "signed weight excludes exactly the non-signers");
            vm.revertToState(snapshot);
        }
    }

    function test_verifyCertificate_cachesProvenNonSigners() public {
        assertFalse(bn254Verifier.isNonsignerCached(bnSet, refTs, 2), "nothing cached yet");
        bn254Verifier.verifyCertificate(bnSet, bnCert(infos(), 1 << 2, refTs, MESSAGE));
        assertTrue(bn254Verifier.isNonsignerCached(bnSet, refTs, 2), "proven non-signer cached");
        IOperatorTableCalculatorTypes.BN254OperatorInfo memory cached =
            bn254Verifier.getNonsignerOperatorInfo(bnSet, refTs, 2);
        assertEq(cached.pubkey.X, _infos[2].pubkey.X, "cached key");

        // Once cached, the witness's proof is no longer needed.
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 1 << 2, refTs, keccak256("b"));
        cert.nonSignerWitnesses[0].operatorInfoProof = "";
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_verifyCertificateProportion_thresholds() public {
        // Operator 3 (weight 103 of 406) does not sign: 303 signed.
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 1 << 3, refTs, MESSAGE);
        assertTrue(bn254Verifier.verifyCertificateProportion(bnSet, cert, _bps(7000)), "74.6% >= 70%");
        assertFalse(bn254Verifier.verifyCertificateProportion(bnSet, cert, _bps(7500)), "74.6% < 75%");
        assertFalse(bn254Verifier.verifyCertificateProportion(bnSet, cert, _bps(10_000)), "not everyone signed");
    }

    function test_verifyCertificateNominal_thresholds() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 1 << 3, refTs, MESSAGE);
        uint256[] memory nominal = new uint256[](1);
        nominal[0] = 303;
        assertTrue(bn254Verifier.verifyCertificateNominal(bnSet, cert, nominal), "303 >= 303");
        nominal[0] = 304;
        assertFalse(bn254Verifier.verifyCertificateNominal(bnSet, cert, nominal), "303 < 304");
    }

    function test_singleOperatorSet_rootIsTheLeaf() public {
        OperatorSet memory single = OperatorSet(avs, 7);
        IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory one = bnInfos(1, 5);
        uint32 ts = pushBN254Table(single, one);
        assertEq(
            bn254Verifier.getOperatorSetInfo(single, ts).operatorInfoTreeRoot,
            bn254Verifier.calculateOperatorInfoLeaf(one[0]),
            "root of one leaf"
        );
        uint256[] memory signed = bn254Verifier.verifyCertificate(single, bnCert(one, 0, ts, MESSAGE));
        assertEq(signed[0], 5, "sole signer");
    }

    function test_tableViews() public view {
        assertEq(bn254Verifier.latestReferenceTimestamp(bnSet), refTs, "latest");
        assertTrue(bn254Verifier.isReferenceTimestampSet(bnSet, refTs), "set");
        assertEq(bn254Verifier.getOperatorCount(bnSet, refTs), 4, "count");
        assertEq(bn254Verifier.getTotalStakeWeights(bnSet, refTs)[0], 406, "total");
        assertEq(bn254Verifier.getOperatorSetOwner(bnSet), avs, "owner");
        assertEq(bn254Verifier.maxOperatorTableStaleness(bnSet), 0, "staleness");
        assertEq(address(bn254Verifier.operatorTableUpdater()), address(updater), "updater");
    }

    // -- reverts and rejections ----------------------------------------------------------------

    function test_reverts_wrongReferenceTimestamp() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 0, refTs + 1, MESSAGE);
        vm.expectRevert(IBaseCertificateVerifierErrors.ReferenceTimestampDoesNotExist.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_wrongMessageHash() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 0, refTs, MESSAGE);
        cert.messageHash = keccak256("another message");
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_badSignature() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 0, refTs, MESSAGE);
        cert.signature = cert.signature.plus(BN254.generatorG1());
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_wrongSignerSet() public {
        // Signed by operators 0-2 but claims operator 2 did not sign.
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 1 << 3, refTs, MESSAGE);
        IBN254CertificateVerifierTypes.BN254Certificate memory other = bnCert(infos(), 1 << 2, refTs, MESSAGE);
        cert.nonSignerWitnesses = other.nonSignerWitnesses;
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_badNonSignerProof() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 1 << 1, refTs, MESSAGE);
        cert.nonSignerWitnesses[0].operatorInfo.weights[0] = 1; // not the weight in the table
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_nonSignerProofOfAnotherIndex() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 1 << 1, refTs, MESSAGE);
        cert.nonSignerWitnesses[0].operatorInfoProof = Merkle.getProofKeccak(bnLeaves(infos()), 0);
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_nonSignersNotSorted() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), (1 << 1) | (1 << 2), refTs, MESSAGE);
        (cert.nonSignerWitnesses[0], cert.nonSignerWitnesses[1]) = (cert.nonSignerWitnesses[1], cert.nonSignerWitnesses[0]);
        vm.expectRevert(IBN254CertificateVerifierErrors.NonSignerIndicesNotSorted.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_duplicateNonSigner() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), (1 << 1) | (1 << 2), refTs, MESSAGE);
        cert.nonSignerWitnesses[1] = cert.nonSignerWitnesses[0];
        vm.expectRevert(IBN254CertificateVerifierErrors.NonSignerIndicesNotSorted.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_nonSignerIndexOutOfRange() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 1 << 3, refTs, MESSAGE);
        cert.nonSignerWitnesses[0].operatorIndex = 4;
        vm.expectRevert(IBN254CertificateVerifierErrors.InvalidOperatorIndex.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_stale() public {
        OperatorSet memory staleSet = OperatorSet(avs, 9);
        IOperatorTableCalculatorTypes.BN254OperatorSetInfo memory info = bnSetInfo(infos());
        vm.prank(admin);
        updater.setBN254OperatorTable(
            staleSet,
            refTs,
            uint32(block.number),
            info,
            ICrossChainRegistryTypes.OperatorSetConfig({owner: avs, maxStalenessPeriod: 60})
        );
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 0, refTs, MESSAGE);
        vm.warp(block.timestamp + 60);
        bn254Verifier.verifyCertificate(staleSet, cert); // exactly at the limit: fine
        vm.warp(block.timestamp + 1);
        vm.expectRevert(IBaseCertificateVerifierErrors.CertificateStale.selector);
        bn254Verifier.verifyCertificate(staleSet, cert);
    }

    function test_reverts_rootDisabled() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 0, refTs, MESSAGE);
        vm.prank(admin);
        updater.disableReferenceTimestamp(refTs);
        vm.expectRevert(IBaseCertificateVerifierErrors.RootDisabled.selector);
        bn254Verifier.verifyCertificate(bnSet, cert);
    }

    function test_reverts_thresholdArrayLengthMismatch() public {
        IBN254CertificateVerifierTypes.BN254Certificate memory cert = bnCert(infos(), 0, refTs, MESSAGE);
        vm.expectRevert(IBaseCertificateVerifierErrors.ArrayLengthMismatch.selector);
        bn254Verifier.verifyCertificateProportion(bnSet, cert, new uint16[](2));
    }

    function test_updateOperatorTable_onlyTableUpdater() public {
        IOperatorTableCalculatorTypes.BN254OperatorSetInfo memory info = bnSetInfo(infos());
        vm.expectRevert(IBaseCertificateVerifierErrors.OnlyTableUpdater.selector);
        bn254Verifier.updateOperatorTable(bnSet, refTs + 1, info, ownerConfig());
    }

    function test_updateOperatorTable_rejectsStaleTimestamp() public {
        IOperatorTableCalculatorTypes.BN254OperatorSetInfo memory info = bnSetInfo(infos());
        vm.prank(address(updater));
        vm.expectRevert(IBaseCertificateVerifierErrors.TableUpdateStale.selector);
        bn254Verifier.updateOperatorTable(bnSet, refTs, info, ownerConfig());
    }

    function test_trySignatureVerification_singleKey() public view {
        bytes32 digest = keccak256("digest");
        (uint256 sk, BN254.G1Point memory g1, BN254.G2Point memory g2) = _key(5);
        BN254.G1Point memory sig = BN254.hashToG1(digest).scalar_mul(sk);
        (bool a, bool b) = bn254Verifier.trySignatureVerification(digest, g1, g2, sig);
        assertTrue(a && b, "valid signature");
        (a, b) = bn254Verifier.trySignatureVerification(keccak256("other"), g1, g2, sig);
        assertFalse(a && b, "signature of another digest");
    }

    function _key(uint256 i) internal pure returns (uint256, BN254.G1Point memory, BN254.G2Point memory) {
        return BN254Keys.key(i);
    }

    function _bps(uint16 bps) internal pure returns (uint16[] memory thresholds) {
        thresholds = new uint16[](1);
        thresholds[0] = bps;
    }
}
