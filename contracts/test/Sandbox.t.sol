// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet, OperatorSetLib} from "../src/libraries/OperatorSetLib.sol";
import {BN254} from "../src/libraries/BN254.sol";
import {Merkle} from "../src/libraries/Merkle.sol";
import {IAllocationManagerErrors, IAllocationManagerTypes} from "../src/interfaces/IAllocationManager.sol";
import {IAVSRegistrar} from "../src/interfaces/IAVSRegistrar.sol";
import {IKeyRegistrarTypes} from "../src/interfaces/IKeyRegistrar.sol";
import {ITaskMailboxTypes} from "../src/interfaces/ITaskMailbox.sol";
import {ITaskAVSRegistrarBaseErrors, ITaskAVSRegistrarBaseTypes} from "../src/interfaces/ITaskAVSRegistrarBase.sol";
import {IOperatorTableCalculatorTypes} from "../src/interfaces/IOperatorTableCalculator.sol";
import {IBN254CertificateVerifierTypes} from "../src/interfaces/IBN254CertificateVerifier.sol";
import {IECDSACertificateVerifierTypes} from "../src/interfaces/IECDSACertificateVerifier.sol";
import {OperatorTableUpdater} from "../src/multichain/OperatorTableUpdater.sol";
import {BN254TableCalculator} from "../src/tables/BN254TableCalculator.sol";
import {ECDSATableCalculator} from "../src/tables/ECDSATableCalculator.sol";
import {OperatorTableCalculatorBase} from "../src/tables/OperatorTableCalculatorBase.sol";

import {StackTest} from "./utils/Stack.sol";
import {TestAVSRegistrar} from "./utils/Mocks.sol";
import {G2} from "./utils/G2.sol";
import {BN254Keys} from "./fixtures/BN254Keys.sol";

/// @notice The sandbox end to end, as the devnet drives it: operator sets, keys, registration
/// with sockets, weights, table calculation, table push, mailbox config, task, certificate.
contract SandboxTest is StackTest {
    using OperatorSetLib for OperatorSet;
    using BN254 for BN254.G1Point;

    uint32 internal constant AGGREGATOR_SET = 0;
    TestAVSRegistrar internal registrar;
    BN254TableCalculator internal bnCalculator;
    ECDSATableCalculator internal ecCalculator;

    function setUp() public override {
        super.setUp();
        bnCalculator = new BN254TableCalculator(allocationManager, keyRegistrar, admin);
        ecCalculator = new ECDSATableCalculator(allocationManager, keyRegistrar, admin);
        uint32[] memory executors = new uint32[](2);
        (executors[0], executors[1]) = (bnSet.id, ecSet.id);
        registrar = new TestAVSRegistrar(
            avs, allocationManager, keyRegistrar, avs, ITaskAVSRegistrarBaseTypes.AvsConfig(AGGREGATOR_SET, executors)
        );

        IAllocationManagerTypes.CreateSetParams[] memory sets = new IAllocationManagerTypes.CreateSetParams[](3);
        sets[0].operatorSetId = AGGREGATOR_SET;
        sets[1].operatorSetId = bnSet.id;
        sets[2].operatorSetId = ecSet.id;
        vm.startPrank(avs);
        allocationManager.updateAVSMetadataURI(avs, "https://avs.example/metadata.json");
        allocationManager.createOperatorSets(avs, sets);
        allocationManager.setAVSRegistrar(avs, registrar);
        keyRegistrar.configureOperatorSet(OperatorSet(avs, AGGREGATOR_SET), IKeyRegistrarTypes.CurveType.ECDSA);
        keyRegistrar.configureOperatorSet(bnSet, IKeyRegistrarTypes.CurveType.BN254);
        keyRegistrar.configureOperatorSet(ecSet, IKeyRegistrarTypes.CurveType.ECDSA);
        vm.stopPrank();
    }

    function _joinBN254(uint256 i, uint256 weight) internal {
        address operator = bnOperator(i);
        (bytes memory keyData, bytes memory sig) = bnProofOfPossession(i, operator, bnSet);
        vm.prank(operator);
        keyRegistrar.registerKey(operator, bnSet, keyData, sig);
        _join(operator, bnSet.id, string.concat("127.0.0.1:", vm.toString(9000 + i)));
        _weigh(bnCalculator, bnSet, operator, weight);
    }

    function _joinECDSA(uint256 i, uint256 weight) internal {
        address operator = ecOperator(i);
        address key = vm.addr(ecKey(i));
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(ecKey(i), keyRegistrar.getECDSAKeyRegistrationMessageHash(operator, ecSet, key));
        vm.prank(operator);
        keyRegistrar.registerKey(operator, ecSet, abi.encodePacked(key), abi.encodePacked(r, s, v));
        _join(operator, ecSet.id, "127.0.0.1:9100");
        _weigh(ecCalculator, ecSet, operator, weight);
    }

    function _join(address operator, uint32 setId, string memory socket) internal {
        uint32[] memory ids = new uint32[](1);
        ids[0] = setId;
        vm.prank(operator);
        allocationManager.registerForOperatorSets(
            operator, IAllocationManagerTypes.RegisterParams(avs, ids, abi.encode(socket))
        );
    }

    function _weigh(BN254TableCalculator calculator, OperatorSet memory operatorSet, address operator, uint256 weight)
        internal
    {
        _weighAny(address(calculator), operatorSet, operator, weight);
    }

    function _weigh(ECDSATableCalculator calculator, OperatorSet memory operatorSet, address operator, uint256 weight)
        internal
    {
        _weighAny(address(calculator), operatorSet, operator, weight);
    }

    function _weighAny(address calculator, OperatorSet memory operatorSet, address operator, uint256 weight) internal {
        address[] memory operators = new address[](1);
        uint256[] memory weights = new uint256[](1);
        (operators[0], weights[0]) = (operator, weight);
        vm.prank(admin);
        BN254TableCalculator(calculator).setOperatorWeights(operatorSet, operators, weights);
    }

    // -- the whole flow ------------------------------------------------------------------------

    function test_bn254Flow_fromRegistrationToVerifiedTask() public {
        for (uint256 i = 0; i < 4; ++i) {
            _joinBN254(i, 10 * (i + 1));
        }
        assertEq(registrar.getOperatorSocket(bnOperator(2)), "127.0.0.1:9002", "socket stored");
        assertEq(allocationManager.getMembers(bnSet).length, 4, "members");

        // The transporter computes the table on L1 and pushes it.
        IOperatorTableCalculatorTypes.BN254OperatorSetInfo memory info = bnCalculator.calculateOperatorTable(bnSet);
        assertEq(info.numOperators, 4, "operators in table");
        assertEq(info.totalWeights[0], 100, "total weight");
        assertEq(
            bnCalculator.calculateOperatorTableBytes(bnSet), abi.encode(info), "table bytes = abi.encode(info)"
        );
        uint32 refTs = uint32(block.timestamp);
        vm.prank(admin);
        updater.setBN254OperatorTable(bnSet, refTs, uint32(block.number), info, ownerConfig());
        configure(bnSet, taskConfig(IKeyRegistrarTypes.CurveType.BN254, 6000));

        bytes32 taskHash = createTask(bnSet, "payload");
        vm.warp(block.timestamp + 1);

        // Operator 3 (weight 40 of 100) is offline.
        IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos = bnCalculator.getOperatorInfos(bnSet);
        IBN254CertificateVerifierTypes.BN254Certificate memory cert =
            bnCert(infos, 1 << 3, refTs, mailbox.getMessageHash(taskHash, "result"));
        vm.prank(aggregator);
        mailbox.submitResult(taskHash, abi.encode(cert), "result");
        assertEq(mailbox.getTaskResult(taskHash), "result", "verified");
    }

    function test_ecdsaFlow_fromRegistrationToVerifiedTask() public {
        for (uint256 i = 0; i < 3; ++i) {
            _joinECDSA(i, 1);
        }
        IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos = ecCalculator.calculateOperatorTable(ecSet);
        assertEq(infos.length, 3, "operators in table");
        assertEq(infos[1].pubkey, vm.addr(ecKey(1)), "signing key, not operator address");
        uint32 refTs = uint32(block.timestamp);
        vm.prank(admin);
        updater.setECDSAOperatorTable(ecSet, refTs, uint32(block.number), infos, ownerConfig());
        configure(ecSet, taskConfig(IKeyRegistrarTypes.CurveType.ECDSA, 10_000));

        bytes32 taskHash = createTask(ecSet, "payload");
        vm.warp(block.timestamp + 1);
        IECDSACertificateVerifierTypes.ECDSACertificate memory cert =
            ecCert(3, 0x7, refTs, mailbox.getMessageHash(taskHash, "result"));
        vm.prank(aggregator);
        mailbox.submitResult(taskHash, abi.encode(cert), "result");
        assertEq(mailbox.getTaskResult(taskHash), "result", "verified");
    }

    // -- table calculators ---------------------------------------------------------------------

    function test_calculators_skipOperatorsWithoutWeightOrKey() public {
        _joinBN254(0, 5);
        _joinBN254(1, 7);
        _weigh(bnCalculator, bnSet, bnOperator(0), 0); // weight removed
        (address[] memory operators, uint256[][] memory weights) = bnCalculator.getOperatorSetWeights(bnSet);
        assertEq(operators.length, 1, "only weighted operators");
        assertEq(operators[0], bnOperator(1), "operator 1");
        assertEq(weights[0][0], 7, "its weight");
        assertEq(bnCalculator.getOperatorWeights(bnSet, bnOperator(1))[0], 7, "single lookup");
        assertEq(bnCalculator.getOperatorWeights(bnSet, bnOperator(0)).length, 0, "unweighted");
    }

    function test_calculator_treeMatchesMerkleLibrary() public {
        for (uint256 i = 0; i < 3; ++i) {
            _joinBN254(i, 1);
        }
        IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos = bnCalculator.getOperatorInfos(bnSet);
        bytes32[] memory leaves = new bytes32[](3);
        for (uint256 i = 0; i < 3; ++i) {
            leaves[i] = bnCalculator.calculateOperatorInfoLeaf(infos[i]);
        }
        bytes32 root = bnCalculator.calculateOperatorTable(bnSet).operatorInfoTreeRoot;
        for (uint256 i = 0; i < 3; ++i) {
            assertTrue(
                Merkle.verifyInclusionKeccak(Merkle.getProofKeccak(leaves, i), root, leaves[i], i),
                "every operator proves into the root (three leaves, padded to four)"
            );
        }
    }

    function test_calculator_weightsOnlyByOwner() public {
        address[] memory operators = new address[](1);
        vm.expectRevert("Ownable: caller is not the owner");
        bnCalculator.setOperatorWeights(bnSet, operators, new uint256[](1));
        vm.prank(admin);
        vm.expectRevert(OperatorTableCalculatorBase.ArrayLengthMismatch.selector);
        bnCalculator.setOperatorWeights(bnSet, operators, new uint256[](2));
    }

    // -- AllocationManager ---------------------------------------------------------------------

    function test_allocationManager_rules() public {
        IAllocationManagerTypes.CreateSetParams[] memory sets = new IAllocationManagerTypes.CreateSetParams[](1);
        sets[0].operatorSetId = 5;
        address other = address(0x0711);
        vm.prank(other);
        vm.expectRevert(IAllocationManagerErrors.NonexistentAVSMetadata.selector);
        allocationManager.createOperatorSets(other, sets);
        vm.prank(creator);
        vm.expectRevert(IAllocationManagerErrors.InvalidPermissions.selector);
        allocationManager.createOperatorSets(avs, sets);
        sets[0].operatorSetId = bnSet.id;
        vm.prank(avs);
        vm.expectRevert(IAllocationManagerErrors.InvalidOperatorSet.selector);
        allocationManager.createOperatorSets(avs, sets);

        assertEq(allocationManager.getOperatorSetCount(avs), 3, "three sets");
        assertTrue(allocationManager.isOperatorSet(bnSet), "exists");
        assertFalse(allocationManager.isOperatorSet(OperatorSet(avs, 77)), "does not exist");
        assertEq(address(allocationManager.getAVSRegistrar(avs)), address(registrar), "registrar");
        assertEq(address(allocationManager.getAVSRegistrar(other)), other, "defaults to the AVS itself");

        _joinBN254(0, 1);
        uint32[] memory ids = new uint32[](1);
        ids[0] = bnSet.id;
        vm.prank(bnOperator(0));
        vm.expectRevert(IAllocationManagerErrors.AlreadyMemberOfSet.selector);
        allocationManager.registerForOperatorSets(bnOperator(0), IAllocationManagerTypes.RegisterParams(avs, ids, abi.encode("x")));
        ids[0] = 77;
        vm.prank(bnOperator(0));
        vm.expectRevert(IAllocationManagerErrors.InvalidOperatorSet.selector);
        allocationManager.registerForOperatorSets(bnOperator(0), IAllocationManagerTypes.RegisterParams(avs, ids, abi.encode("x")));
        ids[0] = ecSet.id;
        vm.prank(bnOperator(0));
        vm.expectRevert(IAllocationManagerErrors.NotMemberOfSet.selector);
        allocationManager.deregisterFromOperatorSets(IAllocationManagerTypes.DeregisterParams(bnOperator(0), avs, ids));

        ids[0] = bnSet.id;
        vm.prank(avs); // the AVS may remove an operator
        allocationManager.deregisterFromOperatorSets(IAllocationManagerTypes.DeregisterParams(bnOperator(0), avs, ids));
        assertFalse(allocationManager.isMemberOfOperatorSet(bnOperator(0), bnSet), "removed");
        assertEq(allocationManager.getMemberCount(bnSet), 0, "empty");
    }

    function test_allocationManager_registrarMustSupportTheAVS() public {
        vm.prank(creator);
        vm.expectRevert(IAllocationManagerErrors.InvalidAVSRegistrar.selector);
        allocationManager.setAVSRegistrar(creator, IAVSRegistrar(address(registrar)));
    }

    // -- TaskAVSRegistrarBase ------------------------------------------------------------------

    function test_registrar_requiresKeyAndAllocationManager() public {
        uint32[] memory ids = new uint32[](1);
        ids[0] = bnSet.id;
        vm.prank(bnOperator(0)); // no key registered yet
        vm.expectRevert(ITaskAVSRegistrarBaseErrors.KeyNotRegistered.selector);
        allocationManager.registerForOperatorSets(bnOperator(0), IAllocationManagerTypes.RegisterParams(avs, ids, abi.encode("s")));

        vm.expectRevert(ITaskAVSRegistrarBaseErrors.NotAllocationManager.selector);
        registrar.registerOperator(bnOperator(0), avs, ids, abi.encode("s"));
    }

    function test_registrar_socketsAndConfig() public {
        _joinBN254(0, 1);
        vm.prank(creator);
        vm.expectRevert(ITaskAVSRegistrarBaseErrors.CallerNotOperator.selector);
        registrar.updateSocket(bnOperator(0), "evil:1");
        vm.prank(bnOperator(0));
        registrar.updateSocket(bnOperator(0), "10.0.0.1:9000");
        assertEq(registrar.getOperatorSocket(bnOperator(0)), "10.0.0.1:9000", "updated");

        ITaskAVSRegistrarBaseTypes.AvsConfig memory config = registrar.getAvsConfig();
        assertEq(config.aggregatorOperatorSetId, AGGREGATOR_SET, "aggregator set");
        assertEq(config.executorOperatorSetIds.length, 2, "executor sets");

        uint32[] memory ids = new uint32[](2);
        vm.startPrank(avs);
        (ids[0], ids[1]) = (2, 1);
        vm.expectRevert(ITaskAVSRegistrarBaseErrors.DuplicateExecutorOperatorSetId.selector);
        registrar.setAvsConfig(ITaskAVSRegistrarBaseTypes.AvsConfig(0, ids));
        (ids[0], ids[1]) = (0, 1);
        vm.expectRevert(ITaskAVSRegistrarBaseErrors.InvalidAggregatorOperatorSetId.selector);
        registrar.setAvsConfig(ITaskAVSRegistrarBaseTypes.AvsConfig(0, ids));
        vm.expectRevert(ITaskAVSRegistrarBaseErrors.ExecutorOperatorSetIdsEmpty.selector);
        registrar.setAvsConfig(ITaskAVSRegistrarBaseTypes.AvsConfig(0, new uint32[](0)));
        vm.stopPrank();
        vm.prank(creator);
        vm.expectRevert("Ownable: caller is not the owner");
        registrar.setAvsConfig(ITaskAVSRegistrarBaseTypes.AvsConfig(0, ids));
        assertTrue(registrar.supportsAVS(avs) && !registrar.supportsAVS(creator), "supports its AVS only");
    }

    // -- OperatorTableUpdater ------------------------------------------------------------------

    function test_updater_referenceBookkeeping() public {
        IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos = ecInfos(1, 1);
        uint32 ts = uint32(block.timestamp);
        vm.startPrank(admin);
        updater.setECDSAOperatorTable(ecSet, ts, 42, infos, ownerConfig());
        assertEq(updater.getLatestReferenceTimestamp(), ts, "latest timestamp");
        assertEq(updater.getLatestReferenceBlockNumber(), 42, "latest block");
        assertEq(updater.getReferenceBlockNumberByTimestamp(ts), 42, "block by timestamp");
        assertEq(updater.getReferenceTimestampByBlockNumber(42), ts, "timestamp by block");
        assertTrue(updater.isRootValidByTimestamp(ts), "valid");
        assertFalse(updater.isRootValidByTimestamp(ts - 1), "never pushed");
        assertEq(updater.getCertificateVerifier(IKeyRegistrarTypes.CurveType.BN254), address(bn254Verifier), "bn254");
        assertEq(updater.getCertificateVerifier(IKeyRegistrarTypes.CurveType.ECDSA), address(ecdsaVerifier), "ecdsa");

        vm.expectRevert(OperatorTableUpdater.GlobalTableRootInFuture.selector);
        updater.setECDSAOperatorTable(ecSet, ts + 1, 43, infos, ownerConfig());
        vm.expectRevert(OperatorTableUpdater.ReferenceBlockMismatch.selector);
        updater.setECDSAOperatorTable(OperatorSet(avs, 3), ts, 43, infos, ownerConfig());
        vm.warp(ts + 10);
        updater.setECDSAOperatorTable(ecSet, ts + 10, 50, infos, ownerConfig());
        vm.expectRevert(OperatorTableUpdater.GlobalTableRootStale.selector);
        updater.setECDSAOperatorTable(OperatorSet(avs, 3), ts + 5, 45, infos, ownerConfig());
        vm.expectRevert(OperatorTableUpdater.VerifiersAlreadySet.selector);
        updater.setCertificateVerifiers(bn254Verifier, ecdsaVerifier);
        vm.expectRevert(OperatorTableUpdater.InvalidCurveType.selector);
        updater.getCertificateVerifier(IKeyRegistrarTypes.CurveType.NONE);
        vm.stopPrank();

        vm.prank(creator);
        vm.expectRevert("Ownable: caller is not the owner");
        updater.setECDSAOperatorTable(ecSet, ts + 10, 50, infos, ownerConfig());
    }
}
