// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {OperatorSet} from "../libraries/OperatorSetLib.sol";
import {IOperatorTableUpdater} from "../interfaces/IOperatorTableUpdater.sol";
import {IKeyRegistrarTypes} from "../interfaces/IKeyRegistrar.sol";
import {ICrossChainRegistryTypes} from "../interfaces/IBaseCertificateVerifier.sol";
import {IBN254CertificateVerifier} from "../interfaces/IBN254CertificateVerifier.sol";
import {IECDSACertificateVerifier} from "../interfaces/IECDSACertificateVerifier.sol";
import {IOperatorTableCalculatorTypes} from "../interfaces/IOperatorTableCalculator.sol";

/// @title OperatorTableUpdater (sandbox)
/// @notice Pushes operator tables into the certificate verifiers of a chain that has no
/// EigenLayer multichain deployment (a devnet, or a chain where the AVS runs its own stack).
/// Its owner, the table transporter, pushes each table with the reference timestamp and the L1
/// block it was computed at. Verifiers and the runtime read it through the same functions as
/// EigenLayer's OperatorTableUpdater.
contract OperatorTableUpdater is Ownable, IOperatorTableUpdater {
    /// @notice Thrown when the verifiers are set a second time.
    error VerifiersAlreadySet();
    /// @notice Thrown when a table is pushed before the verifiers are set.
    error VerifiersNotSet();
    /// @notice Thrown when a reference timestamp is zero or later than the current block.
    error GlobalTableRootInFuture();
    /// @notice Thrown when a reference timestamp is older than the latest one pushed.
    error GlobalTableRootStale();
    /// @notice Thrown when a reference timestamp was already given another reference block.
    error ReferenceBlockMismatch();
    /// @notice Thrown when a curve type has no verifier.
    error InvalidCurveType();

    event VerifiersSet(address bn254CertificateVerifier, address ecdsaCertificateVerifier);
    event ReferenceTimestampDisabled(uint32 indexed referenceTimestamp);
    event OperatorTablePushed(OperatorSet operatorSet, uint32 indexed referenceTimestamp, uint32 referenceBlockNumber);

    /// @notice The BN254 certificate verifier this updater feeds.
    IBN254CertificateVerifier public bn254CertificateVerifier;
    /// @notice The ECDSA certificate verifier this updater feeds.
    IECDSACertificateVerifier public ecdsaCertificateVerifier;

    uint32 internal _latestReferenceTimestamp;
    mapping(uint32 referenceTimestamp => uint32 referenceBlockNumber) internal _referenceBlockNumbers;
    mapping(uint32 referenceBlockNumber => uint32 referenceTimestamp) internal _referenceTimestamps;
    mapping(uint32 referenceTimestamp => bool) internal _disabled;

    constructor(address owner_) {
        _transferOwnership(owner_);
    }

    /// @notice Sets the verifiers once; they are deployed after this contract because they name
    /// it as their table updater.
    function setCertificateVerifiers(IBN254CertificateVerifier bn254, IECDSACertificateVerifier ecdsa)
        external
        onlyOwner
    {
        require(address(bn254CertificateVerifier) == address(0), VerifiersAlreadySet());
        bn254CertificateVerifier = bn254;
        ecdsaCertificateVerifier = ecdsa;
        emit VerifiersSet(address(bn254), address(ecdsa));
    }

    /// @notice Pushes a BN254 operator table.
    function setBN254OperatorTable(
        OperatorSet calldata operatorSet,
        uint32 referenceTimestamp,
        uint32 referenceBlockNumber,
        IOperatorTableCalculatorTypes.BN254OperatorSetInfo calldata operatorSetInfo,
        ICrossChainRegistryTypes.OperatorSetConfig calldata config
    ) external onlyOwner {
        _recordReference(referenceTimestamp, referenceBlockNumber);
        require(address(bn254CertificateVerifier) != address(0), VerifiersNotSet());
        bn254CertificateVerifier.updateOperatorTable(operatorSet, referenceTimestamp, operatorSetInfo, config);
        emit OperatorTablePushed(operatorSet, referenceTimestamp, referenceBlockNumber);
    }

    /// @notice Pushes an ECDSA operator table.
    function setECDSAOperatorTable(
        OperatorSet calldata operatorSet,
        uint32 referenceTimestamp,
        uint32 referenceBlockNumber,
        IOperatorTableCalculatorTypes.ECDSAOperatorInfo[] calldata operatorInfos,
        ICrossChainRegistryTypes.OperatorSetConfig calldata config
    ) external onlyOwner {
        _recordReference(referenceTimestamp, referenceBlockNumber);
        require(address(ecdsaCertificateVerifier) != address(0), VerifiersNotSet());
        ecdsaCertificateVerifier.updateOperatorTable(operatorSet, referenceTimestamp, operatorInfos, config);
        emit OperatorTablePushed(operatorSet, referenceTimestamp, referenceBlockNumber);
    }

    /// @notice Makes every certificate at `referenceTimestamp` fail with `RootDisabled`.
    function disableReferenceTimestamp(uint32 referenceTimestamp) external onlyOwner {
        _disabled[referenceTimestamp] = true;
        emit ReferenceTimestampDisabled(referenceTimestamp);
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @inheritdoc IOperatorTableUpdater
    function getCertificateVerifier(IKeyRegistrarTypes.CurveType curveType) external view returns (address) {
        if (curveType == IKeyRegistrarTypes.CurveType.BN254) return address(bn254CertificateVerifier);
        if (curveType == IKeyRegistrarTypes.CurveType.ECDSA) return address(ecdsaCertificateVerifier);
        revert InvalidCurveType();
    }

    /// @inheritdoc IOperatorTableUpdater
    function getLatestReferenceTimestamp() external view returns (uint32) {
        return _latestReferenceTimestamp;
    }

    /// @inheritdoc IOperatorTableUpdater
    function getLatestReferenceBlockNumber() external view returns (uint32) {
        return _referenceBlockNumbers[_latestReferenceTimestamp];
    }

    /// @inheritdoc IOperatorTableUpdater
    function getReferenceBlockNumberByTimestamp(uint32 referenceTimestamp) external view returns (uint32) {
        return _referenceBlockNumbers[referenceTimestamp];
    }

    /// @inheritdoc IOperatorTableUpdater
    function getReferenceTimestampByBlockNumber(uint32 referenceBlockNumber) external view returns (uint32) {
        return _referenceTimestamps[referenceBlockNumber];
    }

    /// @inheritdoc IOperatorTableUpdater
    function isRootValidByTimestamp(uint32 referenceTimestamp) external view returns (bool) {
        return _referenceBlockNumbers[referenceTimestamp] != 0 && !_disabled[referenceTimestamp];
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    /// @dev Reference timestamps never go back, never lie in the future, and keep the reference
    /// block they were first pushed with (several sets may share one timestamp).
    function _recordReference(uint32 referenceTimestamp, uint32 referenceBlockNumber) internal {
        require(referenceTimestamp != 0 && referenceTimestamp <= block.timestamp, GlobalTableRootInFuture());
        require(referenceTimestamp >= _latestReferenceTimestamp, GlobalTableRootStale());
        uint32 known = _referenceBlockNumbers[referenceTimestamp];
        require(known == 0 || known == referenceBlockNumber, ReferenceBlockMismatch());
        require(referenceBlockNumber != 0, ReferenceBlockMismatch());
        _latestReferenceTimestamp = referenceTimestamp;
        _referenceBlockNumbers[referenceTimestamp] = referenceBlockNumber;
        _referenceTimestamps[referenceBlockNumber] = referenceTimestamp;
    }
}
