// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {ReentrancyGuardUpgradeable} from "@openzeppelin/contracts-upgradeable/security/ReentrancyGuardUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {OperatorSet, OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {ITaskMailbox} from "../interfaces/ITaskMailbox.sol";
import {IAVSTaskHook} from "../interfaces/IAVSTaskHook.sol";
import {IKeyRegistrarTypes} from "../interfaces/IKeyRegistrar.sol";
import {IBaseCertificateVerifier} from "../interfaces/IBaseCertificateVerifier.sol";
import {IBN254CertificateVerifier, IBN254CertificateVerifierTypes} from "../interfaces/IBN254CertificateVerifier.sol";
import {IECDSACertificateVerifier, IECDSACertificateVerifierTypes} from "../interfaces/IECDSACertificateVerifier.sol";

/// @title TaskMailbox
/// @notice Tasks for an AVS's executor operator set are created here and their results land here
/// with a certificate that the BN254 or ECDSA certificate verifier accepts. Same ABI and rules as
/// EigenLayer's TaskMailbox; deploy it behind a proxy and call `initialize`.
contract TaskMailbox is Initializable, OwnableUpgradeable, ReentrancyGuardUpgradeable, ITaskMailbox {
    using SafeERC20 for IERC20;
    using OperatorSetLib for OperatorSet;

    uint16 internal constant ONE_HUNDRED_IN_BIPS = 10_000;

    /// @inheritdoc ITaskMailbox
    address public immutable BN254_CERTIFICATE_VERIFIER;
    /// @inheritdoc ITaskMailbox
    address public immutable ECDSA_CERTIFICATE_VERIFIER;
    /// @inheritdoc ITaskMailbox
    uint96 public immutable MAX_TASK_SLA;

    uint256 internal _globalTaskCount;
    mapping(bytes32 taskHash => Task) internal _tasks;
    /// @inheritdoc ITaskMailbox
    mapping(bytes32 operatorSetKey => bool) public isExecutorOperatorSetRegistered;
    mapping(bytes32 operatorSetKey => ExecutorOperatorSetTaskConfig) internal _executorOperatorSetTaskConfigs;
    /// @inheritdoc ITaskMailbox
    uint16 public feeSplit;
    /// @inheritdoc ITaskMailbox
    address public feeSplitCollector;

    uint256[45] private __gap;

    constructor(address _bn254CertificateVerifier, address _ecdsaCertificateVerifier, uint96 _maxTaskSLA) {
        BN254_CERTIFICATE_VERIFIER = _bn254CertificateVerifier;
        ECDSA_CERTIFICATE_VERIFIER = _ecdsaCertificateVerifier;
        MAX_TASK_SLA = _maxTaskSLA;
        _disableInitializers();
    }

    /// @inheritdoc ITaskMailbox
    function initialize(address _owner, uint16 _feeSplit, address _feeSplitCollector) external initializer {
        __Ownable_init();
        __ReentrancyGuard_init();
        _transferOwnership(_owner);
        _setFeeSplit(_feeSplit);
        _setFeeSplitCollector(_feeSplitCollector);
    }

    // ----------------------------------------------------------------------------------------
    // Executor operator sets
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc ITaskMailbox
    function setExecutorOperatorSetTaskConfig(OperatorSet memory operatorSet, ExecutorOperatorSetTaskConfig memory config)
        external
    {
        require(_isConfigPopulated(config), ExecutorOperatorSetTaskConfigNotSet());
        require(config.taskSLA <= MAX_TASK_SLA, TaskSLAExceedsMaximum());
        _validateConsensus(config.consensus);
        _checkOperatorSetOwner(operatorSet, config.curveType);

        bytes32 key = operatorSet.key();
        _executorOperatorSetTaskConfigs[key] = config;
        emit ExecutorOperatorSetTaskConfigSet(msg.sender, operatorSet.avs, operatorSet.id, config);

        if (!isExecutorOperatorSetRegistered[key]) {
            _registerExecutorOperatorSet(operatorSet, true);
        }
    }

    /// @inheritdoc ITaskMailbox
    function registerExecutorOperatorSet(OperatorSet memory operatorSet, bool isRegistered) external {
        ExecutorOperatorSetTaskConfig memory config = _executorOperatorSetTaskConfigs[operatorSet.key()];
        require(_isConfigPopulated(config), ExecutorOperatorSetTaskConfigNotSet());
        _checkOperatorSetOwner(operatorSet, config.curveType);
        _registerExecutorOperatorSet(operatorSet, isRegistered);
    }

    // ----------------------------------------------------------------------------------------
    // Tasks
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc ITaskMailbox
    function createTask(TaskParams memory taskParams) external nonReentrant returns (bytes32 taskHash) {
        require(taskParams.payload.length > 0, PayloadIsEmpty());
        bytes32 key = taskParams.executorOperatorSet.key();
        require(isExecutorOperatorSetRegistered[key], ExecutorOperatorSetNotRegistered());
        ExecutorOperatorSetTaskConfig memory config = _executorOperatorSetTaskConfigs[key];
        require(_isConfigPopulated(config), ExecutorOperatorSetTaskConfigNotSet());

        uint32 referenceTimestamp = _pinReferenceTimestamp(taskParams.executorOperatorSet, config);

        config.taskHook.validatePreTaskCreation(msg.sender, taskParams);
        uint96 avsFee = config.taskHook.calculateTaskFee(taskParams);

        taskHash = keccak256(abi.encode(_globalTaskCount, address(this), block.chainid, taskParams));
        _globalTaskCount++;
        _storeTask(taskHash, taskParams, config, referenceTimestamp, avsFee);

        if (address(config.feeToken) != address(0) && avsFee > 0) {
            require(config.feeCollector != address(0) && taskParams.refundCollector != address(0), InvalidFeeReceiver());
            config.feeToken.safeTransferFrom(msg.sender, address(this), avsFee);
        }

        config.taskHook.handlePostTaskCreation(taskHash);

        emit TaskCreated(
            msg.sender,
            taskHash,
            taskParams.executorOperatorSet.avs,
            taskParams.executorOperatorSet.id,
            referenceTimestamp,
            taskParams.refundCollector,
            avsFee,
            block.timestamp + config.taskSLA,
            taskParams.payload
        );
    }

    /// @inheritdoc ITaskMailbox
    function submitResult(bytes32 taskHash, bytes memory executorCert, bytes memory result) external nonReentrant {
        Task storage task = _tasks[taskHash];
        TaskStatus status = _getTaskStatus(task);
        require(status == TaskStatus.CREATED, InvalidTaskStatus(TaskStatus.CREATED, status));
        require(block.timestamp > task.creationTime, TimestampAtCreation());

        ExecutorOperatorSetTaskConfig memory config = task.executorOperatorSetTaskConfig;
        config.taskHook.validatePreTaskResultSubmission(msg.sender, taskHash, executorCert, result);

        OperatorSet memory operatorSet = OperatorSet(task.avs, task.executorOperatorSetId);
        _verifyExecutorCertificate(
            config, operatorSet, task.operatorTableReferenceTimestamp, getMessageHash(taskHash, result), executorCert
        );

        task.status = TaskStatus.VERIFIED;
        task.executorCert = executorCert;
        task.result = result;

        if (address(config.feeToken) != address(0) && task.avsFee > 0) {
            uint256 split = uint256(task.avsFee) * task.feeSplit / ONE_HUNDRED_IN_BIPS;
            if (split > 0) config.feeToken.safeTransfer(feeSplitCollector, split);
            if (task.avsFee - split > 0) config.feeToken.safeTransfer(config.feeCollector, task.avsFee - split);
        }

        config.taskHook.handlePostTaskResultSubmission(msg.sender, taskHash);

        emit TaskVerified(msg.sender, taskHash, task.avs, task.executorOperatorSetId, executorCert, result);
    }

    /// @inheritdoc ITaskMailbox
    function refundFee(bytes32 taskHash) external nonReentrant {
        Task storage task = _tasks[taskHash];
        require(task.refundCollector == msg.sender, OnlyRefundCollector());
        require(!task.isFeeRefunded, FeeAlreadyRefunded());
        TaskStatus status = _getTaskStatus(task);
        require(status == TaskStatus.EXPIRED, InvalidTaskStatus(TaskStatus.EXPIRED, status));

        task.isFeeRefunded = true;
        IERC20 feeToken = task.executorOperatorSetTaskConfig.feeToken;
        if (address(feeToken) != address(0) && task.avsFee > 0) {
            feeToken.safeTransfer(task.refundCollector, task.avsFee);
        }
        emit FeeRefunded(task.refundCollector, taskHash, task.avsFee);
    }

    // ----------------------------------------------------------------------------------------
    // Protocol fees
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc ITaskMailbox
    function setFeeSplit(uint16 _feeSplit) external onlyOwner {
        _setFeeSplit(_feeSplit);
    }

    /// @inheritdoc ITaskMailbox
    function setFeeSplitCollector(address _feeSplitCollector) external onlyOwner {
        _setFeeSplitCollector(_feeSplitCollector);
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc ITaskMailbox
    function getExecutorOperatorSetTaskConfig(OperatorSet memory operatorSet)
        external
        view
        returns (ExecutorOperatorSetTaskConfig memory)
    {
        return _executorOperatorSetTaskConfigs[operatorSet.key()];
    }

    /// @inheritdoc ITaskMailbox
    function getTaskInfo(bytes32 taskHash) external view returns (Task memory task) {
        task = _tasks[taskHash];
        task.status = _getTaskStatus(_tasks[taskHash]);
    }

    /// @inheritdoc ITaskMailbox
    function getTaskStatus(bytes32 taskHash) external view returns (TaskStatus) {
        return _getTaskStatus(_tasks[taskHash]);
    }

    /// @inheritdoc ITaskMailbox
    function getTaskResult(bytes32 taskHash) external view returns (bytes memory) {
        Task storage task = _tasks[taskHash];
        TaskStatus status = _getTaskStatus(task);
        require(status == TaskStatus.VERIFIED, InvalidTaskStatus(TaskStatus.VERIFIED, status));
        return task.result;
    }

    /// @inheritdoc ITaskMailbox
    function getBN254CertificateBytes(IBN254CertificateVerifierTypes.BN254Certificate memory cert)
        external
        pure
        returns (bytes memory)
    {
        return abi.encode(cert);
    }

    /// @inheritdoc ITaskMailbox
    function getECDSACertificateBytes(IECDSACertificateVerifierTypes.ECDSACertificate memory cert)
        external
        pure
        returns (bytes memory)
    {
        return abi.encode(cert);
    }

    /// @inheritdoc ITaskMailbox
    function getMessageHash(bytes32 taskHash, bytes memory result) public pure returns (bytes32) {
        return keccak256(abi.encode(taskHash, result));
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    function _registerExecutorOperatorSet(OperatorSet memory operatorSet, bool isRegistered) internal {
        isExecutorOperatorSetRegistered[operatorSet.key()] = isRegistered;
        emit ExecutorOperatorSetRegistered(msg.sender, operatorSet.avs, operatorSet.id, isRegistered);
    }

    /// @dev Pins the latest operator table of the set and checks it stays fresh for the task's SLA.
    function _pinReferenceTimestamp(OperatorSet memory operatorSet, ExecutorOperatorSetTaskConfig memory config)
        internal
        view
        returns (uint32 referenceTimestamp)
    {
        IBaseCertificateVerifier verifier = IBaseCertificateVerifier(_certificateVerifier(config.curveType));
        referenceTimestamp = verifier.latestReferenceTimestamp(operatorSet);
        uint32 maxStaleness = verifier.maxOperatorTableStaleness(operatorSet);
        require(
            maxStaleness == 0 || block.timestamp + config.taskSLA <= uint256(referenceTimestamp) + maxStaleness,
            CertificateStale()
        );
    }

    function _storeTask(
        bytes32 taskHash,
        TaskParams memory taskParams,
        ExecutorOperatorSetTaskConfig memory config,
        uint32 referenceTimestamp,
        uint96 avsFee
    ) internal {
        Task storage task = _tasks[taskHash];
        task.creator = msg.sender;
        task.creationTime = uint96(block.timestamp);
        task.avs = taskParams.executorOperatorSet.avs;
        task.avsFee = avsFee;
        task.refundCollector = taskParams.refundCollector;
        task.executorOperatorSetId = taskParams.executorOperatorSet.id;
        task.feeSplit = feeSplit;
        task.status = TaskStatus.CREATED;
        task.operatorTableReferenceTimestamp = referenceTimestamp;
        task.executorOperatorSetTaskConfig = config;
        task.payload = taskParams.payload;
    }

    function _verifyExecutorCertificate(
        ExecutorOperatorSetTaskConfig memory config,
        OperatorSet memory operatorSet,
        uint32 referenceTimestamp,
        bytes32 messageHash,
        bytes memory executorCert
    ) internal {
        bool thresholdCheck = config.consensus.consensusType == ConsensusType.STAKE_PROPORTION_THRESHOLD;
        uint16[] memory thresholds = new uint16[](thresholdCheck ? 1 : 0);
        if (thresholdCheck) thresholds[0] = abi.decode(config.consensus.value, (uint16));

        bool passed;
        if (config.curveType == IKeyRegistrarTypes.CurveType.BN254) {
            IBN254CertificateVerifierTypes.BN254Certificate memory cert =
                abi.decode(executorCert, (IBN254CertificateVerifierTypes.BN254Certificate));
            _checkCertificate(cert.referenceTimestamp, cert.messageHash, referenceTimestamp, messageHash);
            require(!(cert.signature.X == 0 && cert.signature.Y == 0), EmptyCertificateSignature());
            IBN254CertificateVerifier verifier = IBN254CertificateVerifier(BN254_CERTIFICATE_VERIFIER);
            if (thresholdCheck) {
                passed = verifier.verifyCertificateProportion(operatorSet, cert, thresholds);
            } else {
                verifier.verifyCertificate(operatorSet, cert);
                passed = true;
            }
        } else if (config.curveType == IKeyRegistrarTypes.CurveType.ECDSA) {
            IECDSACertificateVerifierTypes.ECDSACertificate memory cert =
                abi.decode(executorCert, (IECDSACertificateVerifierTypes.ECDSACertificate));
            _checkCertificate(cert.referenceTimestamp, cert.messageHash, referenceTimestamp, messageHash);
            require(cert.sig.length > 0, EmptyCertificateSignature());
            IECDSACertificateVerifier verifier = IECDSACertificateVerifier(ECDSA_CERTIFICATE_VERIFIER);
            if (thresholdCheck) {
                (passed,) = verifier.verifyCertificateProportion(operatorSet, cert, thresholds);
            } else {
                verifier.verifyCertificate(operatorSet, cert);
                passed = true;
            }
        } else {
            revert InvalidCurveType();
        }
        require(passed, ThresholdNotMet());
    }

    function _checkCertificate(
        uint32 certReferenceTimestamp,
        bytes32 certMessageHash,
        uint32 taskReferenceTimestamp,
        bytes32 messageHash
    ) internal pure {
        require(certReferenceTimestamp == taskReferenceTimestamp, InvalidReferenceTimestamp());
        require(certMessageHash == messageHash, InvalidMessageHash());
    }

    function _checkOperatorSetOwner(OperatorSet memory operatorSet, IKeyRegistrarTypes.CurveType curveType)
        internal
        view
    {
        address verifier = _certificateVerifier(curveType);
        require(IBaseCertificateVerifier(verifier).getOperatorSetOwner(operatorSet) == msg.sender, InvalidOperatorSetOwner());
    }

    function _certificateVerifier(IKeyRegistrarTypes.CurveType curveType) internal view returns (address) {
        if (curveType == IKeyRegistrarTypes.CurveType.BN254) return BN254_CERTIFICATE_VERIFIER;
        if (curveType == IKeyRegistrarTypes.CurveType.ECDSA) return ECDSA_CERTIFICATE_VERIFIER;
        revert InvalidCurveType();
    }

    function _validateConsensus(Consensus memory consensus) internal pure {
        if (consensus.consensusType == ConsensusType.NONE) {
            require(consensus.value.length == 0, InvalidConsensusValue());
        } else if (consensus.consensusType == ConsensusType.STAKE_PROPORTION_THRESHOLD) {
            require(consensus.value.length == 32, InvalidConsensusValue());
            require(abi.decode(consensus.value, (uint256)) <= ONE_HUNDRED_IN_BIPS, InvalidConsensusValue());
        } else {
            revert InvalidConsensusType();
        }
    }

    function _isConfigPopulated(ExecutorOperatorSetTaskConfig memory config) internal pure returns (bool) {
        return config.curveType != IKeyRegistrarTypes.CurveType.NONE && address(config.taskHook) != address(0)
            && config.taskSLA > 0;
    }

    function _getTaskStatus(Task storage task) internal view returns (TaskStatus) {
        if (task.status == TaskStatus.CREATED && block.timestamp > uint256(task.creationTime) + task.executorOperatorSetTaskConfig.taskSLA) {
            return TaskStatus.EXPIRED;
        }
        return task.status;
    }

    function _setFeeSplit(uint16 _feeSplit) internal {
        require(_feeSplit <= ONE_HUNDRED_IN_BIPS, InvalidFeeSplit());
        feeSplit = _feeSplit;
        emit FeeSplitSet(_feeSplit);
    }

    function _setFeeSplitCollector(address _feeSplitCollector) internal {
        require(_feeSplitCollector != address(0), InvalidAddressZero());
        feeSplitCollector = _feeSplitCollector;
        emit FeeSplitCollectorSet(_feeSplitCollector);
    }
}
