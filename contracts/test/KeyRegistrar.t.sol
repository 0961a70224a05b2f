// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../src/libraries/OperatorSetLib.sol";
import {BN254} from "../src/libraries/BN254.sol";
import {KeyRegistrar} from "../src/permissions/KeyRegistrar.sol";
import {IKeyRegistrarErrors, IKeyRegistrarTypes} from "../src/interfaces/IKeyRegistrar.sol";
import {IAllocationManagerTypes} from "../src/interfaces/IAllocationManager.sol";
import {ISignatureUtilsMixinErrors} from "../src/interfaces/ISignatureUtilsMixin.sol";

import {StackTest} from "./utils/Stack.sol";
import {BN254Keys} from "./fixtures/BN254Keys.sol";

contract KeyRegistrarTest is StackTest {
    function setUp() public override {
        super.setUp();
        vm.startPrank(avs);
        keyRegistrar.configureOperatorSet(bnSet, IKeyRegistrarTypes.CurveType.BN254);
        keyRegistrar.configureOperatorSet(ecSet, IKeyRegistrarTypes.CurveType.ECDSA);
        vm.stopPrank();
    }

    // -- configuration -------------------------------------------------------------------------

    function test_configureOperatorSet_onlyOnceAndOnlyByTheAVS() public {
        assertEq(uint256(keyRegistrar.getOperatorSetCurveType(bnSet)), 2, "BN254");
        vm.prank(avs);
        vm.expectRevert(IKeyRegistrarErrors.ConfigurationAlreadySet.selector);
        keyRegistrar.configureOperatorSet(bnSet, IKeyRegistrarTypes.CurveType.ECDSA);

        vm.prank(address(0xBEEF));
        vm.expectRevert(KeyRegistrar.InvalidPermissions.selector);
        keyRegistrar.configureOperatorSet(OperatorSet(avs, 5), IKeyRegistrarTypes.CurveType.ECDSA);

        vm.prank(avs);
        vm.expectRevert(IKeyRegistrarErrors.InvalidCurveType.selector);
        keyRegistrar.configureOperatorSet(OperatorSet(avs, 5), IKeyRegistrarTypes.CurveType.NONE);
    }

    // -- ECDSA ---------------------------------------------------------------------------------

    function test_registerECDSAKey() public {
        address operator = ecOperator(0);
        (bytes memory keyData, bytes memory sig) = _ecdsaRegistration(ecKey(0), operator, ecSet);
        vm.prank(operator);
        keyRegistrar.registerKey(operator, ecSet, keyData, sig);

        assertTrue(keyRegistrar.isRegistered(ecSet, operator), "registered");
        assertEq(keyRegistrar.getECDSAAddress(ecSet, operator), vm.addr(ecKey(0)), "address");
        assertEq(keyRegistrar.getECDSAKey(ecSet, operator), keyData, "key bytes");
        assertEq(keyRegistrar.getKeyHash(ecSet, operator), keccak256(keyData), "key hash");
        assertTrue(keyRegistrar.isKeyGloballyRegistered(keccak256(keyData)), "globally spent");
        (address found, bool ok) = keyRegistrar.getOperatorFromSigningKey(ecSet, keyData);
        assertTrue(ok, "found by key");
        assertEq(found, operator, "operator by key");
    }

    function test_registerECDSAKey_digestIsEIP712WithChainId() public view {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("EigenLayer"),
                keccak256("1"),
                block.chainid,
                address(keyRegistrar)
            )
        );
        assertEq(keyRegistrar.domainSeparator(), domain, "domain");
        address key = vm.addr(ecKey(0));
        bytes32 structHash = keccak256(
            abi.encode(keyRegistrar.ECDSA_KEY_REGISTRATION_TYPEHASH(), ecOperator(0), ecSet.avs, ecSet.id, key)
        );
        assertEq(
            keyRegistrar.getECDSAKeyRegistrationMessageHash(ecOperator(0), ecSet, key),
            keccak256(abi.encodePacked("\x19\x01", domain, structHash)),
            "digest"
        );
    }

    function test_registerECDSAKey_rejectsBadInput() public {
        address operator = ecOperator(0);
        (bytes memory keyData, bytes memory sig) = _ecdsaRegistration(ecKey(0), operator, ecSet);

        vm.startPrank(operator);
        vm.expectRevert(IKeyRegistrarErrors.InvalidKeyFormat.selector);
        keyRegistrar.registerKey(operator, ecSet, abi.encodePacked(keyData, bytes1(0)), sig);

        vm.expectRevert(IKeyRegistrarErrors.ZeroPubkey.selector);
        keyRegistrar.registerKey(operator, ecSet, abi.encodePacked(address(0)), sig);

        // Signed by another key than the one registered.
        (, bytes memory otherSig) = _ecdsaRegistration(ecKey(1), operator, ecSet);
        vm.expectRevert(ISignatureUtilsMixinErrors.InvalidSignature.selector);
        keyRegistrar.registerKey(operator, ecSet, keyData, otherSig);

        vm.expectRevert(IKeyRegistrarErrors.OperatorSetNotConfigured.selector);
        keyRegistrar.registerKey(operator, OperatorSet(avs, 77), keyData, sig);
        vm.stopPrank();

        vm.prank(address(0xBEEF));
        vm.expectRevert(KeyRegistrar.InvalidPermissions.selector);
        keyRegistrar.registerKey(operator, ecSet, keyData, sig);
    }

    function test_registerKey_keysAreGloballyUnique() public {
        address operator = ecOperator(0);
        (bytes memory keyData, bytes memory sig) = _ecdsaRegistration(ecKey(0), operator, ecSet);
        vm.prank(operator);
        keyRegistrar.registerKey(operator, ecSet, keyData, sig);

        vm.prank(operator);
        vm.expectRevert(IKeyRegistrarErrors.OperatorAlreadyRegistered.selector);
        keyRegistrar.registerKey(operator, ecSet, keyData, sig);

        // The same key for another operator, even in another set, is refused.
        OperatorSet memory otherSet = OperatorSet(avs, 3);
        vm.prank(avs);
        keyRegistrar.configureOperatorSet(otherSet, IKeyRegistrarTypes.CurveType.ECDSA);
        address other = ecOperator(1);
        (, bytes memory otherSig) = _ecdsaRegistration(ecKey(0), other, otherSet);
        vm.prank(other);
        vm.expectRevert(IKeyRegistrarErrors.KeyAlreadyRegistered.selector);
        keyRegistrar.registerKey(other, otherSet, keyData, otherSig);
    }

    // -- BN254 ---------------------------------------------------------------------------------

    function test_registerBN254Key_withProofOfPossession() public {
        address operator = bnOperator(0);
        (bytes memory keyData, bytes memory sig) = bnProofOfPossession(0, operator, bnSet);
        assertEq(keyData.length, 192, "192-byte key data");
        vm.prank(operator);
        keyRegistrar.registerKey(operator, bnSet, keyData, sig);

        (BN254.G1Point memory g1, BN254.G2Point memory g2) = keyRegistrar.getBN254Key(bnSet, operator);
        (, BN254.G1Point memory expectedG1, BN254.G2Point memory expectedG2) = BN254Keys.key(0);
        assertEq(g1.X, expectedG1.X, "g1.X");
        assertEq(g1.Y, expectedG1.Y, "g1.Y");
        assertEq(g2.X[0], expectedG2.X[0], "g2.X[0]");
        assertEq(g2.Y[1], expectedG2.Y[1], "g2.Y[1]");
        assertEq(keyRegistrar.getKeyHash(bnSet, operator), keccak256(abi.encodePacked(g1.X, g1.Y)), "hash of G1");
        (address found, bool ok) = keyRegistrar.getOperatorFromSigningKey(bnSet, abi.encode(g1.X, g1.Y));
        assertTrue(ok && found == operator, "found by G1 key");
    }

    function test_registerBN254Key_rejectsBadProofs() public {
        address operator = bnOperator(0);
        (bytes memory keyData, bytes memory sig) = bnProofOfPossession(0, operator, bnSet);
        vm.startPrank(operator);

        // A proof made for another operator.
        (, bytes memory otherSig) = bnProofOfPossession(0, bnOperator(1), bnSet);
        vm.expectRevert(ISignatureUtilsMixinErrors.InvalidSignature.selector);
        keyRegistrar.registerKey(operator, bnSet, keyData, otherSig);

        // G1 of key 0 with G2 of key 1: no single secret behind both.
        (,, BN254.G2Point memory wrongG2) = BN254Keys.key(1);
        (, BN254.G1Point memory g1,) = BN254Keys.key(0);
        bytes memory mixed = keyRegistrar.encodeBN254KeyData(g1, wrongG2);
        vm.expectRevert(ISignatureUtilsMixinErrors.InvalidSignature.selector);
        keyRegistrar.registerKey(operator, bnSet, mixed, sig);

        vm.expectRevert(ISignatureUtilsMixinErrors.InvalidSignature.selector);
        keyRegistrar.registerKey(operator, bnSet, keyData, abi.encodePacked(sig, bytes1(0)));

        vm.expectRevert(IKeyRegistrarErrors.InvalidKeyFormat.selector);
        keyRegistrar.registerKey(operator, bnSet, abi.encodePacked(keyData, bytes1(0)), sig);

        bytes memory zeroG1 = abi.encode(uint256(0), uint256(0), uint256(1), uint256(2), uint256(3), uint256(4));
        vm.expectRevert(IKeyRegistrarErrors.ZeroPubkey.selector);
        keyRegistrar.registerKey(operator, bnSet, zeroG1, sig);
        vm.stopPrank();
    }

    function test_getBN254Key_onWrongCurveReverts() public {
        vm.expectRevert(IKeyRegistrarErrors.InvalidCurveType.selector);
        keyRegistrar.getBN254Key(ecSet, bnOperator(0));
        vm.expectRevert(IKeyRegistrarErrors.InvalidCurveType.selector);
        keyRegistrar.getECDSAAddress(bnSet, bnOperator(0));
    }

    // -- deregistration ------------------------------------------------------------------------

    function test_deregisterKey_onlyWhenNotSlashable_andKeyStaysSpent() public {
        address operator = ecOperator(0);
        (bytes memory keyData, bytes memory sig) = _ecdsaRegistration(ecKey(0), operator, ecSet);
        vm.prank(operator);
        keyRegistrar.registerKey(operator, ecSet, keyData, sig);

        // A member of the set is slashable and keeps its key.
        IAllocationManagerTypes.CreateSetParams[] memory sets = new IAllocationManagerTypes.CreateSetParams[](1);
        sets[0].operatorSetId = ecSet.id;
        vm.startPrank(avs);
        allocationManager.updateAVSMetadataURI(avs, "ipfs://avs");
        allocationManager.createOperatorSets(avs, sets);
        vm.stopPrank();
        uint32[] memory ids = new uint32[](1);
        ids[0] = ecSet.id;
        vm.etch(avs, hex"00"); // the AVS address acts as its own (no-op) registrar
        vm.prank(operator);
        allocationManager.registerForOperatorSets(operator, IAllocationManagerTypes.RegisterParams(avs, ids, ""));
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IKeyRegistrarErrors.OperatorStillSlashable.selector, ecSet, operator));
        keyRegistrar.deregisterKey(operator, ecSet);

        vm.prank(operator);
        allocationManager.deregisterFromOperatorSets(IAllocationManagerTypes.DeregisterParams(operator, avs, ids));
        vm.prank(operator);
        keyRegistrar.deregisterKey(operator, ecSet);
        assertFalse(keyRegistrar.isRegistered(ecSet, operator), "deregistered");
        assertTrue(keyRegistrar.isKeyGloballyRegistered(keccak256(keyData)), "still spent");

        vm.prank(operator);
        vm.expectRevert(IKeyRegistrarErrors.KeyAlreadyRegistered.selector);
        keyRegistrar.registerKey(operator, ecSet, keyData, sig);

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IKeyRegistrarErrors.KeyNotFound.selector, ecSet, operator));
        keyRegistrar.deregisterKey(operator, ecSet);
    }

    function _ecdsaRegistration(uint256 signingKey, address operator, OperatorSet memory operatorSet)
        internal
        view
        returns (bytes memory keyData, bytes memory sig)
    {
        address key = vm.addr(signingKey);
        keyData = abi.encodePacked(key);
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(signingKey, keyRegistrar.getECDSAKeyRegistrationMessageHash(operator, operatorSet, key));
        sig = abi.encodePacked(r, s, v);
    }
}
