// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {OperatorSet, OperatorSetLib} from "../src/libraries/OperatorSetLib.sol";
import {BN254} from "../src/libraries/BN254.sol";
import {TaskMailbox} from "../src/core/TaskMailbox.sol";
import {ITaskMailboxErrors, ITaskMailboxEvents, ITaskMailboxTypes} from "../src/interfaces/ITaskMailbox.sol";
import {IKeyRegistrarTypes} from "../src/interfaces/IKeyRegistrar.sol";
import {IBaseCertificateVerifierErrors, ICrossChainRegistryTypes} from "../src/interfaces/IBaseCertificateVerifier.sol";
import {IBN254CertificateVerifierTypes} from "../src/interfaces/IBN254CertificateVerifier.sol";
import {IECDSACertificateVerifierTypes} from "../src/interfaces/IECDSACertificateVerifier.sol";
import {IOperatorTableCalculatorTypes} from "../src/interfaces/IOperatorTableCalculator.sol";

import {StackTest} from "./utils/Stack.sol";
import {MockTaskHook, MockToken} from "./utils/Mocks.sol";

contract TaskMailboxTest is StackTest, ITaskMailboxEvents {
    using OperatorSetLib for OperatorSet;
    using BN254 for BN254.G1Point;

    bytes internal constant PAYLOAD = "compute 6 * 7";
    bytes internal constant RESULT = "42";

    IOperatorTableCalculatorTypes.BN254OperatorInfo[] internal _bnInfos;
    uint32 internal bnRefTs;
    uint32 internal ecRefTs;

    function setUp() public override {
        super.setUp();
        IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory infos = bnInfos(4, 100);
        for (uint256 i = 0; i < infos.length; ++i) {
            _bnInfos.push(infos[i]);
        }
        bnRefTs = pushBN254Table(bnSet, infos);
        ecRefTs = pushECDSATable(ecSet, ecInfos(4, 100));
        configure(bnSet, taskConfig(IKeyRegistrarTypes.CurveType.BN254, 7000));
        configure(ecSet, taskConfig(IKeyRegistrarTypes.CurveType.ECDSA, 7000));
    }

    function bnTable() internal view returns (IOperatorTableCalculatorTypes.BN254OperatorInfo[] memory) {
        return _bnInfos;
    }

    /// @dev Advances one second, as the next block on a real chain would.
    function nextBlock() internal {
        vm.warp(block.timestamp + 1);
        vm.roll(block.number + 1);
    }

    function bnCertFor(bytes32 taskHash, bytes memory result, uint256 nonSignerMask)
        internal
        view
        returns (bytes memory)
    {
        return abi.encode(bnCert(bnTable(), nonSignerMask, bnRefTs, mailbox.getMessageHash(taskHash, result)));
    }

    function ecCertFor(bytes32 taskHash, bytes memory result, uint256 signerMask) internal view returns (bytes memory) {
        return abi.encode(ecCert(4, signerMask, ecRefTs, mailbox.getMessageHash(taskHash, result)));
    }

    function submit(bytes32 taskHash, bytes memory cert, bytes memory result) internal {
        vm.prank(aggregator);
        mailbox.submitResult(taskHash, cert, result);
    }

    // -- initialization ------------------------------------------------------------------------

    function test_initialize_setsOwnerAndFees_once() public {
        assertEq(mailbox.owner(), admin, "owner");
        assertEq(mailbox.feeSplitCollector(), admin, "collector");
        assertEq(mailbox.feeSplit(), 0, "split");
        assertEq(mailbox.BN254_CERTIFICATE_VERIFIER(), address(bn254Verifier), "bn254 verifier");
        assertEq(mailbox.ECDSA_CERTIFICATE_VERIFIER(), address(ecdsaVerifier), "ecdsa verifier");
        assertEq(mailbox.MAX_TASK_SLA(), MAX_TASK_SLA, "max sla");
        vm.expectRevert("Initializable: contract is already initialized");
        mailbox.initialize(creator, 0, creator);

        TaskMailbox implementation = new TaskMailbox(address(1), address(2), 1);
        vm.expectRevert("Initializable: contract is already initialized");
        implementation.initialize(creator, 0, creator);
    }

    // -- executor operator-set config ----------------------------------------------------------

    function test_setConfig_storesAndRegisters() public view {
        assertTrue(mailbox.isExecutorOperatorSetRegistered(bnSet.key()), "registered on first config");
        ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config = mailbox.getExecutorOperatorSetTaskConfig(bnSet);
        assertEq(address(config.taskHook), address(hook), "hook");
        assertEq(config.taskSLA, TASK_SLA, "sla");
        assertEq(uint256(config.curveType), 2, "curve");
        assertEq(config.consensus.value, abi.encode(uint16(7000)), "threshold");
    }

    function test_setConfig_emitsEvents() public {
        OperatorSet memory fresh = OperatorSet(avs, 11);
        pushECDSATable(fresh, ecInfos(1, 1));
        ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config =
            taskConfig(IKeyRegistrarTypes.CurveType.ECDSA, 10_000);
        vm.expectEmit(address(mailbox));
        emit ExecutorOperatorSetTaskConfigSet(avs, avs, 11, config);
        vm.expectEmit(address(mailbox));
        emit ExecutorOperatorSetRegistered(avs, avs, 11, true);
        configure(fresh, config);
    }

    function test_setConfig_rejectsIncompleteConfig() public {
        ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config =
            taskConfig(IKeyRegistrarTypes.CurveType.BN254, 7000);
        config.curveType = IKeyRegistrarTypes.CurveType.NONE;
        _expectConfigRevert(config, ITaskMailboxErrors.ExecutorOperatorSetTaskConfigNotSet.selector);
        config = taskConfig(IKeyRegistrarTypes.CurveType.BN254, 7000);
        config.taskSLA = 0;
        _expectConfigRevert(config, ITaskMailboxErrors.ExecutorOperatorSetTaskConfigNotSet.selector);
        config = taskConfig(IKeyRegistrarTypes.CurveType.BN254, 7000);
        config.taskHook = MockTaskHook(address(0));
        _expectConfigRevert(config, ITaskMailboxErrors.ExecutorOperatorSetTaskConfigNotSet.selector);
        config = taskConfig(IKeyRegistrarTypes.CurveType.BN254, 7000);
        config.taskSLA = MAX_TASK_SLA + 1;
        _expectConfigRevert(config, ITaskMailboxErrors.TaskSLAExceedsMaximum.selector);
    }

    function test_setConfig_validatesConsensus() public {
        ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config =
            taskConfig(IKeyRegistrarTypes.CurveType.BN254, 10_001);
        _expectConfigRevert(config, ITaskMailboxErrors.InvalidConsensusValue.selector);
        config.consensus.value = abi.encodePacked(uint16(7000));
        _expectConfigRevert(config, ITaskMailboxErrors.InvalidConsensusValue.selector);
        config.consensus = ITaskMailboxTypes.Consensus(ITaskMailboxTypes.ConsensusType.NONE, abi.encode(1));
        _expectConfigRevert(config, ITaskMailboxErrors.InvalidConsensusValue.selector);
    }

    function test_setConfig_onlyTheOperatorSetOwnerFromTheVerifier() public {
        ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config =
            taskConfig(IKeyRegistrarTypes.CurveType.BN254, 7000);
        vm.prank(creator);
        vm.expectRevert(ITaskMailboxErrors.InvalidOperatorSetOwner.selector);
        mailbox.setExecutorOperatorSetTaskConfig(bnSet, config);
        // A set whose table never reached the BN254 verifier has no owner there.
        vm.prank(avs);
        vm.expectRevert(ITaskMailboxErrors.InvalidOperatorSetOwner.selector);
        mailbox.setExecutorOperatorSetTaskConfig(ecSet, config);
    }

    function test_registerExecutorOperatorSet_toggles() public {
        vm.prank(avs);
        mailbox.registerExecutorOperatorSet(bnSet, false);
        assertFalse(mailbox.isExecutorOperatorSetRegistered(bnSet.key()), "deregistered");
        vm.expectRevert(ITaskMailboxErrors.ExecutorOperatorSetNotRegistered.selector);
        createTask(bnSet, PAYLOAD);

        vm.prank(creator);
        vm.expectRevert(ITaskMailboxErrors.InvalidOperatorSetOwner.selector);
        mailbox.registerExecutorOperatorSet(bnSet, true);

        vm.prank(avs);
        mailbox.registerExecutorOperatorSet(bnSet, true);
        createTask(bnSet, PAYLOAD);

        vm.prank(avs);
        vm.expectRevert(ITaskMailboxErrors.ExecutorOperatorSetTaskConfigNotSet.selector);
        mailbox.registerExecutorOperatorSet(OperatorSet(avs, 42), true);
    }

    // -- createTask ----------------------------------------------------------------------------

    function test_createTask_hashPinAndEvent() public {
        ITaskMailboxTypes.TaskParams memory params =
            ITaskMailboxTypes.TaskParams({refundCollector: creator, executorOperatorSet: bnSet, payload: PAYLOAD});
        bytes32 expected = keccak256(abi.encode(uint256(0), address(mailbox), block.chainid, params));

        vm.expectEmit(address(mailbox));
        emit TaskCreated(creator, expected, avs, bnSet.id, bnRefTs, creator, 0, block.timestamp + TASK_SLA, PAYLOAD);
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        assertEq(taskHash, expected, "task hash = keccak256(abi.encode(count, mailbox, chainid, params))");

        ITaskMailboxTypes.Task memory task = mailbox.getTaskInfo(taskHash);
        assertEq(task.creator, creator, "creator");
        assertEq(task.creationTime, block.timestamp, "creation time");
        assertEq(task.avs, avs, "avs");
        assertEq(task.executorOperatorSetId, bnSet.id, "set");
        assertEq(task.operatorTableReferenceTimestamp, bnRefTs, "pinned reference timestamp");
        assertEq(task.payload, PAYLOAD, "payload");
        assertEq(uint256(task.status), uint256(ITaskMailboxTypes.TaskStatus.CREATED), "created");
        assertEq(hook.postCreationCalls(), 1, "hook told");
        assertEq(hook.lastTaskHash(), taskHash, "hook got the hash");

        bytes32 second = createTask(bnSet, PAYLOAD);
        assertTrue(second != taskHash, "the task count makes each hash unique");
    }

    function test_createTask_rejectsEmptyPayload() public {
        vm.expectRevert(ITaskMailboxErrors.PayloadIsEmpty.selector);
        createTask(bnSet, "");
    }

    function test_createTask_rejectsUnregisteredSet() public {
        vm.expectRevert(ITaskMailboxErrors.ExecutorOperatorSetNotRegistered.selector);
        createTask(OperatorSet(avs, 99), PAYLOAD);
    }

    function test_createTask_rejectsStaleTable() public {
        OperatorSet memory staleSet = OperatorSet(avs, 12);
        IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] memory infos = ecInfos(1, 1);
        vm.prank(admin);
        updater.setECDSAOperatorTable(
            staleSet,
            uint32(block.timestamp),
            uint32(block.number),
            infos,
            ICrossChainRegistryTypes.OperatorSetConfig(avs, uint32(TASK_SLA) + 10)
        );
        configure(staleSet, taskConfig(IKeyRegistrarTypes.CurveType.ECDSA, 10_000));
        createTask(staleSet, PAYLOAD); // the table outlives the task
        vm.warp(block.timestamp + 11);
        vm.expectRevert(ITaskMailboxErrors.CertificateStale.selector);
        createTask(staleSet, PAYLOAD);
    }

    function test_createTask_hookMayRefuse() public {
        hook.setRefusals(true, false);
        vm.expectRevert(MockTaskHook.CreationRefused.selector);
        createTask(bnSet, PAYLOAD);
    }

    // -- submitResult: BN254 -------------------------------------------------------------------

    function test_submitResult_bn254_withNonSigner() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        bytes memory cert = bnCertFor(taskHash, RESULT, 1 << 3);

        vm.expectEmit(address(mailbox));
        emit TaskVerified(aggregator, taskHash, avs, bnSet.id, cert, RESULT);
        submit(taskHash, cert, RESULT);

        assertEq(uint256(mailbox.getTaskStatus(taskHash)), uint256(ITaskMailboxTypes.TaskStatus.VERIFIED), "verified");
        assertEq(mailbox.getTaskResult(taskHash), RESULT, "result");
        assertEq(mailbox.getTaskInfo(taskHash).executorCert, cert, "certificate stored");
        assertEq(hook.postSubmissionCalls(), 1, "hook told");
        assertEq(hook.lastAggregator(), aggregator, "hook got the submitter");
    }

    function test_submitResult_bn254_thresholdNotMet() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        // Operators 2 and 3 (205 of 406) do not sign: 49.5% < 70%.
        bytes memory cert = bnCertFor(taskHash, RESULT, (1 << 2) | (1 << 3));
        vm.expectRevert(ITaskMailboxErrors.ThresholdNotMet.selector);
        submit(taskHash, cert, RESULT);
    }

    function test_submitResult_bn254_badSignature() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        IBN254CertificateVerifierTypes.BN254Certificate memory cert =
            bnCert(bnTable(), 0, bnRefTs, mailbox.getMessageHash(taskHash, RESULT));
        cert.signature = cert.signature.plus(BN254.generatorG1());
        vm.expectRevert(IBaseCertificateVerifierErrors.VerificationFailed.selector);
        submit(taskHash, abi.encode(cert), RESULT);
    }

    function test_submitResult_bn254_emptySignature() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        IBN254CertificateVerifierTypes.BN254Certificate memory cert =
            bnCert(bnTable(), 0, bnRefTs, mailbox.getMessageHash(taskHash, RESULT));
        cert.signature = BN254.G1Point(0, 0);
        vm.expectRevert(ITaskMailboxErrors.EmptyCertificateSignature.selector);
        submit(taskHash, abi.encode(cert), RESULT);
    }

    function test_submitResult_wrongMessageHash() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        bytes memory cert = bnCertFor(taskHash, "41", 0);
        vm.expectRevert(ITaskMailboxErrors.InvalidMessageHash.selector);
        submit(taskHash, cert, RESULT);
    }

    function test_submitResult_certificateOfAnotherTaskIsRefused() public {
        bytes32 first = createTask(bnSet, PAYLOAD);
        bytes32 second = createTask(bnSet, PAYLOAD);
        nextBlock();
        bytes memory cert = bnCertFor(first, RESULT, 0);
        vm.expectRevert(ITaskMailboxErrors.InvalidMessageHash.selector);
        submit(second, cert, RESULT);
    }

    function test_submitResult_wrongReferenceTimestamp() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        // A newer table does not move the task's pinned reference timestamp.
        uint32 newer = pushBN254Table(bnSet, bnTable());
        assertEq(mailbox.getTaskInfo(taskHash).operatorTableReferenceTimestamp, bnRefTs, "still pinned");
        bytes memory cert =
            abi.encode(bnCert(bnTable(), 0, newer, mailbox.getMessageHash(taskHash, RESULT)));
        vm.expectRevert(ITaskMailboxErrors.InvalidReferenceTimestamp.selector);
        submit(taskHash, cert, RESULT);
    }

    function test_submitResult_sameTimestampAsCreation() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        bytes memory cert = bnCertFor(taskHash, RESULT, 0);
        vm.roll(block.number + 1); // a new block with the same timestamp
        vm.expectRevert(ITaskMailboxErrors.TimestampAtCreation.selector);
        submit(taskHash, cert, RESULT);
    }

    function test_submitResult_statusRules() public {
        bytes32 unknown = keccak256("no such task");
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMailboxErrors.InvalidTaskStatus.selector,
                ITaskMailboxTypes.TaskStatus.CREATED,
                ITaskMailboxTypes.TaskStatus.NONE
            )
        );
        submit(unknown, "", RESULT);

        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        bytes memory cert = bnCertFor(taskHash, RESULT, 0);
        submit(taskHash, cert, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMailboxErrors.InvalidTaskStatus.selector,
                ITaskMailboxTypes.TaskStatus.CREATED,
                ITaskMailboxTypes.TaskStatus.VERIFIED
            )
        );
        submit(taskHash, cert, RESULT);
    }

    function test_submitResult_expired() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        bytes memory cert = bnCertFor(taskHash, RESULT, 0);
        vm.warp(block.timestamp + TASK_SLA);
        assertEq(uint256(mailbox.getTaskStatus(taskHash)), uint256(ITaskMailboxTypes.TaskStatus.CREATED), "at the SLA");
        vm.warp(block.timestamp + 1);
        assertEq(uint256(mailbox.getTaskStatus(taskHash)), uint256(ITaskMailboxTypes.TaskStatus.EXPIRED), "past it");
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMailboxErrors.InvalidTaskStatus.selector,
                ITaskMailboxTypes.TaskStatus.CREATED,
                ITaskMailboxTypes.TaskStatus.EXPIRED
            )
        );
        submit(taskHash, cert, RESULT);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMailboxErrors.InvalidTaskStatus.selector,
                ITaskMailboxTypes.TaskStatus.VERIFIED,
                ITaskMailboxTypes.TaskStatus.EXPIRED
            )
        );
        mailbox.getTaskResult(taskHash);
    }

    function test_submitResult_hookMayRefuse() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        bytes memory cert = bnCertFor(taskHash, RESULT, 0);
        hook.setRefusals(false, true);
        vm.expectRevert(MockTaskHook.SubmissionRefused.selector);
        submit(taskHash, cert, RESULT);
    }

    function test_submitResult_consensusNone_acceptsAnyValidCertificate() public {
        ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config =
            taskConfig(IKeyRegistrarTypes.CurveType.BN254, 0);
        config.consensus = ITaskMailboxTypes.Consensus(ITaskMailboxTypes.ConsensusType.NONE, "");
        configure(bnSet, config);
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        nextBlock();
        submit(taskHash, bnCertFor(taskHash, RESULT, 0xE), RESULT); // one signer of four
        assertEq(uint256(mailbox.getTaskStatus(taskHash)), uint256(ITaskMailboxTypes.TaskStatus.VERIFIED), "verified");
    }

    function test_configChangeDoesNotTouchExistingTasks() public {
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        configure(bnSet, taskConfig(IKeyRegistrarTypes.CurveType.BN254, 10_000));
        nextBlock();
        submit(taskHash, bnCertFor(taskHash, RESULT, 1 << 3), RESULT); // 74.6% meets the task's 70%
        bytes32 later = createTask(bnSet, PAYLOAD);
        nextBlock();
        bytes memory cert = bnCertFor(later, RESULT, 1 << 3);
        vm.expectRevert(ITaskMailboxErrors.ThresholdNotMet.selector);
        submit(later, cert, RESULT);
    }

    // -- submitResult: ECDSA -------------------------------------------------------------------

    function test_submitResult_ecdsa() public {
        bytes32 taskHash = createTask(ecSet, PAYLOAD);
        nextBlock();
        submit(taskHash, ecCertFor(taskHash, RESULT, 0x7), RESULT);
        assertEq(mailbox.getTaskResult(taskHash), RESULT, "result");
    }

    function test_submitResult_ecdsa_thresholdNotMet() public {
        bytes32 taskHash = createTask(ecSet, PAYLOAD);
        nextBlock();
        bytes memory cert = ecCertFor(taskHash, RESULT, 0x3);
        vm.expectRevert(ITaskMailboxErrors.ThresholdNotMet.selector);
        submit(taskHash, cert, RESULT);
    }

    function test_submitResult_ecdsa_emptySignature() public {
        bytes32 taskHash = createTask(ecSet, PAYLOAD);
        nextBlock();
        bytes memory cert = abi.encode(
            IECDSACertificateVerifierTypes.ECDSACertificate(ecRefTs, mailbox.getMessageHash(taskHash, RESULT), "")
        );
        vm.expectRevert(ITaskMailboxErrors.EmptyCertificateSignature.selector);
        submit(taskHash, cert, RESULT);
    }

    // -- fees ----------------------------------------------------------------------------------

    function test_fees_splitOnVerification() public {
        MockToken token = _feeSetup(bnSet, IKeyRegistrarTypes.CurveType.BN254);
        vm.prank(admin);
        mailbox.setFeeSplit(2500);
        bytes32 taskHash = createTask(bnSet, PAYLOAD);
        assertEq(token.balanceOf(address(mailbox)), 1000, "fee held");
        assertEq(mailbox.getTaskInfo(taskHash).feeSplit, 2500, "split snapshot");
        nextBlock();
        submit(taskHash, bnCertFor(taskHash, RESULT, 0), RESULT);
        assertEq(token.balanceOf(admin), 250, "protocol share");
        assertEq(token.balanceOf(address(0xFEE)), 750, "AVS share");
        assertEq(token.balanceOf(address(mailbox)), 0, "nothing left");
    }

    function test_fees_refundAfterExpiry() public {
        MockToken token = _feeSetup(ecSet, IKeyRegistrarTypes.CurveType.ECDSA);
        bytes32 taskHash = createTask(ecSet, PAYLOAD);

        vm.prank(creator);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITaskMailboxErrors.InvalidTaskStatus.selector,
                ITaskMailboxTypes.TaskStatus.EXPIRED,
                ITaskMailboxTypes.TaskStatus.CREATED
            )
        );
        mailbox.refundFee(taskHash);

        vm.warp(block.timestamp + TASK_SLA + 1);
        vm.prank(aggregator);
        vm.expectRevert(ITaskMailboxErrors.OnlyRefundCollector.selector);
        mailbox.refundFee(taskHash);

        vm.expectEmit(address(mailbox));
        emit FeeRefunded(creator, taskHash, 1000);
        vm.prank(creator);
        mailbox.refundFee(taskHash);
        assertEq(token.balanceOf(creator), 1000, "refunded in full");
        assertTrue(mailbox.getTaskInfo(taskHash).isFeeRefunded, "marked");

        vm.prank(creator);
        vm.expectRevert(ITaskMailboxErrors.FeeAlreadyRefunded.selector);
        mailbox.refundFee(taskHash);
    }

    function test_fees_needReceivers() public {
        _feeSetup(bnSet, IKeyRegistrarTypes.CurveType.BN254);
        vm.prank(creator);
        vm.expectRevert(ITaskMailboxErrors.InvalidFeeReceiver.selector);
        mailbox.createTask(ITaskMailboxTypes.TaskParams(address(0), bnSet, PAYLOAD));
    }

    function test_feeSplitSettings() public {
        vm.startPrank(admin);
        vm.expectRevert(ITaskMailboxErrors.InvalidFeeSplit.selector);
        mailbox.setFeeSplit(10_001);
        vm.expectRevert(ITaskMailboxErrors.InvalidAddressZero.selector);
        mailbox.setFeeSplitCollector(address(0));
        vm.expectEmit(address(mailbox));
        emit FeeSplitCollectorSet(creator);
        mailbox.setFeeSplitCollector(creator);
        vm.stopPrank();
        vm.prank(creator);
        vm.expectRevert("Ownable: caller is not the owner");
        mailbox.setFeeSplit(1);
    }

    // -- pure views ----------------------------------------------------------------------------

    function test_getMessageHash_matchesReferenceVector() public view {
        bytes32 taskHash = keccak256("example-task");
        assertEq(taskHash, 0x24c43b0c66feb087dfb5fb8d731db16cd620f76475ed68b81c1aba9de302a646, "task hash");
        assertEq(
            mailbox.getMessageHash(taskHash, "hello"),
            0xf6529792f49abacfc666a7d8ee420c36b48b92701cdb8007cc346ef260d7549d,
            "keccak256(abi.encode(taskHash, result))"
        );
    }

    function test_certificateBytes_areAbiEncodedStructs() public view {
        IBN254CertificateVerifierTypes.BN254Certificate memory bn = bnCert(bnTable(), 1 << 2, bnRefTs, keccak256("m"));
        assertEq(mailbox.getBN254CertificateBytes(bn), abi.encode(bn), "BN254 bytes");
        IECDSACertificateVerifierTypes.ECDSACertificate memory ec = ecCert(4, 0xF, ecRefTs, keccak256("m"));
        assertEq(mailbox.getECDSACertificateBytes(ec), abi.encode(ec), "ECDSA bytes");
    }

    // -- helpers -------------------------------------------------------------------------------

    function _feeSetup(OperatorSet memory operatorSet, IKeyRegistrarTypes.CurveType curveType)
        internal
        returns (MockToken token)
    {
        token = new MockToken();
        ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config = taskConfig(curveType, 7000);
        config.feeToken = IERC20(address(token));
        config.feeCollector = address(0xFEE);
        configure(operatorSet, config);
        hook.setFee(1000);
        token.mint(creator, 1000);
        vm.prank(creator);
        token.approve(address(mailbox), 1000);
    }

    function _expectConfigRevert(ITaskMailboxTypes.ExecutorOperatorSetTaskConfig memory config, bytes4 selector)
        internal
    {
        vm.prank(avs);
        vm.expectRevert(selector);
        mailbox.setExecutorOperatorSetTaskConfig(bnSet, config);
    }
}
