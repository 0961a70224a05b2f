// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../src/libraries/OperatorSetLib.sol";
import {IBaseCertificateVerifierErrors, ICrossChainRegistryTypes} from "../src/interfaces/IBaseCertificateVerifier.sol";
import {
    IECDSACertificateVerifierErrors,
    IECDSACertificateVerifierTypes
} from "../src/interfaces/IECDSACertificateVerifier.sol";
import {ISignatureUtilsMixinErrors} from "../src/interfaces/ISignatureUtilsMixin.sol";
import {IOperatorTableCalculatorTypes} from "../src/interfaces/IOperatorTableCalculator.sol";

import {StackTest} from "./utils/Stack.sol";

contract ECDSACertificateVerifierTest is StackTest {
    bytes32 internal constant MESSAGE = keccak256("message");
    uint256 internal constant N = 4;
    uint256 internal constant ALL = (1 << N) - 1;
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    uint32 internal refTs;

    function setUp() public override {
        super.setUp();
        refTs = pushECDSATable(ecSet, ecInfos(N, 100));
    }

    // -- digest --------------------------------------------------------------------------------

    function test_digest_isEIP712WithoutChainId() public view {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,address verifyingContract)"),
                keccak256("EigenLayer"),
                keccak256("1"),
                address(ecdsaVerifier)
            )
        );
        assertEq(ecdsaVerifier.domainSeparator(), domain, "domain: name, major version, verifier; no chain id");
        bytes32 structHash = keccak256(
            abi.encode(keccak256("ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)"), refTs, MESSAGE)
        );
        bytes memory digestBytes = ecdsaVerifier.calculateCertificateDigestBytes(refTs, MESSAGE);
        assertEq(digestBytes, abi.encodePacked("\x19\x01", domain, structHash), "66 digest bytes");
        assertEq(ecdsaVerifier.calculateCertificateDigest(refTs, MESSAGE), keccak256(digestBytes), "digest");
        assertEq(ecdsaVerifier.version(), "1.8.1", "version");
    }

    // -- happy paths ---------------------------------------------------------------------------

    function test_verifyCertificate_everySignerSubset() public view {
        for (uint256 mask = 1; mask <= ALL; ++mask) {
            uint256 expected;
            for (uint256 i = 0; i < N; ++i) {
                if (mask & (1 << i) != 0) expected += 100 + i;
            }
            (uint256[] memory signed, address[] memory signers) =
                ecdsaVerifier.verifyCertificate(ecSet, ecCert(N, mask, refTs, MESSAGE));
            assertEq(signed[0], expected, "signed weight is the signers' weight");
            for (uint256 i = 1; i < signers.length; ++i) {
                assertTrue(signers[i - 1] < signers[i], "signers ascending");
            }
        }
    }

    function test_verifyCertificateProportion_thresholds() public view {
        // Signers 0..2: 303 of 406.
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x7, refTs, MESSAGE);
        (bool ok, address[] memory signers) = ecdsaVerifier.verifyCertificateProportion(ecSet, cert, _bps(7000));
        assertTrue(ok, "74.6% >= 70%");
        assertEq(signers.length, 3, "three signers");
        (ok,) = ecdsaVerifier.verifyCertificateProportion(ecSet, cert, _bps(7500));
        assertFalse(ok, "74.6% < 75%");
    }

    function test_verifyCertificateNominal_thresholds() public view {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x7, refTs, MESSAGE);
        uint256[] memory nominal = new uint256[](1);
        nominal[0] = 303;
        (bool ok,) = ecdsaVerifier.verifyCertificateNominal(ecSet, cert, nominal);
        assertTrue(ok, "303 >= 303");
        nominal[0] = 304;
        (ok,) = ecdsaVerifier.verifyCertificateNominal(ecSet, cert, nominal);
        assertFalse(ok, "303 < 304");
    }

    function test_tableViews() public {
        assertEq(ecdsaVerifier.getOperatorCount(ecSet, refTs), N, "count");
        assertEq(ecdsaVerifier.getTotalStakeWeights(ecSet, refTs)[0], 406, "total");
        IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos = ecdsaVerifier.getOperatorInfos(ecSet, refTs);
        assertEq(infos.length, N, "infos");
        assertEq(infos[2].pubkey, vm.addr(ecKey(2)), "info order");
        assertEq(ecdsaVerifier.getOperatorInfo(ecSet, refTs, 3).weights[0], 103, "info");
        vm.expectRevert(IECDSACertificateVerifierErrors.IndexOutOfBounds.selector);
        ecdsaVerifier.getOperatorInfo(ecSet, refTs, N);
    }

    function test_getTotalStakeWeights_emptyTableReverts() public {
        vm.expectRevert(IECDSACertificateVerifierErrors.OperatorCountZero.selector);
        ecdsaVerifier.getTotalStakeWeights(ecSet, refTs + 1);
    }

    // -- reverts -------------------------------------------------------------------------------

    function test_reverts_wrongReferenceTimestamp() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, ALL, refTs - 1, MESSAGE);
        vm.expectRevert(IBaseCertificateVerifierErrors.ReferenceTimestampDoesNotExist.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_wrongMessageHash() public {
        // A signature over another message recovers to an address outside the table.
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x1, refTs, MESSAGE);
        cert.messageHash = keccak256("another message");
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_unknownSigner() public {
        bytes32 digest = ecdsaVerifier.calculateCertificateDigest(refTs, MESSAGE);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(0xBAD, digest);
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert =
            IECDSACertificateVerifierTypes.ECDSACertificate(refTs, MESSAGE, abi.encodePacked(r, s, v));
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_unsortedSigners() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x3, refTs, MESSAGE);
        bytes memory swapped = new bytes(130);
        for (uint256 b = 0; b < 65; ++b) {
            swapped[b] = cert.sig[65 + b];
            swapped[65 + b] = cert.sig[b];
        }
        cert.sig = swapped;
        vm.expectRevert(IECDSACertificateVerifierErrors.SignersNotOrdered.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_duplicateSigner() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x1, refTs, MESSAGE);
        cert.sig = abi.encodePacked(cert.sig, cert.sig);
        vm.expectRevert(IECDSACertificateVerifierErrors.SignersNotOrdered.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_signatureLength() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x1, refTs, MESSAGE);
        cert.sig = abi.encodePacked(cert.sig, bytes1(0x00));
        vm.expectRevert(IECDSACertificateVerifierErrors.InvalidSignatureLength.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
        cert.sig = "";
        vm.expectRevert(IECDSACertificateVerifierErrors.InvalidSignatureLength.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_badSignature() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x1, refTs, MESSAGE);
        cert.sig[64] = bytes1(uint8(29)); // v must be 27 or 28
        vm.expectRevert(ISignatureUtilsMixinErrors.InvalidSignature.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_highS() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, 0x1, refTs, MESSAGE);
        (bytes32 r, bytes32 s, uint8 v) = _split(cert.sig);
        // The same signature with s' = n - s and the other v: valid for ecrecover, malleable.
        cert.sig = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(ISignatureUtilsMixinErrors.InvalidSignature.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_stale() public {
        OperatorSet memory staleSet = OperatorSet(avs, 9);
        IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos = ecInfos(N, 100);
        vm.prank(admin);
        updater.setECDSAOperatorTable(
            staleSet, refTs, uint32(block.number), infos, ICrossChainRegistryTypes.OperatorSetConfig(avs, 60)
        );
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, ALL, refTs, MESSAGE);
        vm.warp(block.timestamp + 61);
        vm.expectRevert(IBaseCertificateVerifierErrors.CertificateStale.selector);
        ecdsaVerifier.verifyCertificate(staleSet, cert);
    }

    function test_reverts_rootDisabled() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, ALL, refTs, MESSAGE);
        vm.prank(admin);
        updater.disableReferenceTimestamp(refTs);
        vm.expectRevert(IBaseCertificateVerifierErrors.RootDisabled.selector);
        ecdsaVerifier.verifyCertificate(ecSet, cert);
    }

    function test_reverts_thresholdArrayLengthMismatch() public {
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert = ecCert(N, ALL, refTs, MESSAGE);
        vm.expectRevert(IBaseCertificateVerifierErrors.ArrayLengthMismatch.selector);
        ecdsaVerifier.verifyCertificateProportion(ecSet, cert, new uint16[](0));
    }

    function test_updateOperatorTable_onlyTableUpdater() public {
        IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos = ecInfos(N, 1);
        vm.expectRevert(IBaseCertificateVerifierErrors.OnlyTableUpdater.selector);
        ecdsaVerifier.updateOperatorTable(ecSet, refTs + 1, infos, ownerConfig());
        vm.prank(address(updater));
        vm.expectRevert(IBaseCertificateVerifierErrors.TableUpdateStale.selector);
        ecdsaVerifier.updateOperatorTable(ecSet, refTs, infos, ownerConfig());
    }

    function _split(bytes memory sig) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        assembly ("memory-safe") {
            r := mload(add(sig, 0x20))
            s := mload(add(sig, 0x40))
            v := byte(0, mload(add(sig, 0x60)))
        }
    }

    function _bps(uint16 bps) internal pure returns (uint16[] memory thresholds) {
        thresholds = new uint16[](1);
        thresholds[0] = bps;
    }
}
