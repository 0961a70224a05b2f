// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../libraries/OperatorSetLib.sol";
import {BN254} from "../libraries/BN254.sol";

interface IKeyRegistrarErrors {
    error KeyAlreadyRegistered();
    error OperatorAlreadyRegistered();
    error InvalidKeyFormat();
    error ZeroAddress();
    error ZeroPubkey();
    error InvalidCurveType();
    error InvalidKeypair();
    error ConfigurationAlreadySet();
    error OperatorSetNotConfigured();
    error KeyNotFound(OperatorSet operatorSet, address operator);
    error OperatorStillSlashable(OperatorSet operatorSet, address operator);
}

interface IKeyRegistrarTypes {
    /// @notice The signing scheme of an operator set. `NONE` = 0, `ECDSA` = 1, `BN254` = 2.
    enum CurveType {
        NONE,
        ECDSA,
        BN254
    }

    struct KeyInfo {
        bool isRegistered;
        bytes keyData;
    }
}

interface IKeyRegistrarEvents is IKeyRegistrarTypes {
    event KeyRegistered(OperatorSet operatorSet, address indexed operator, CurveType curveType, bytes pubkey);
    event KeyDeregistered(OperatorSet operatorSet, address indexed operator, CurveType curveType);
    event AggregateBN254KeyUpdated(OperatorSet operatorSet, BN254.G1Point newAggregateKey);
    event OperatorSetConfigured(OperatorSet operatorSet, CurveType curveType);
}

/// @title IKeyRegistrar
/// @notice The signing keys operators use for each operator set (EigenLayer's interface).
interface IKeyRegistrar is IKeyRegistrarErrors, IKeyRegistrarEvents {
    function configureOperatorSet(OperatorSet memory operatorSet, CurveType curveType) external;
    function registerKey(address operator, OperatorSet memory operatorSet, bytes calldata pubkey, bytes calldata signature)
        external;
    function deregisterKey(address operator, OperatorSet memory operatorSet) external;
    function isRegistered(OperatorSet memory operatorSet, address operator) external view returns (bool);
    function getOperatorSetCurveType(OperatorSet memory operatorSet) external view returns (CurveType);
    function getBN254Key(OperatorSet memory operatorSet, address operator)
        external
        view
        returns (BN254.G1Point memory g1Point, BN254.G2Point memory g2Point);
    function getECDSAKey(OperatorSet memory operatorSet, address operator) external view returns (bytes memory);
    function getECDSAAddress(OperatorSet memory operatorSet, address operator) external view returns (address);
    function isKeyGloballyRegistered(bytes32 keyHash) external view returns (bool);
    function getKeyHash(OperatorSet memory operatorSet, address operator) external view returns (bytes32);
    function getOperatorFromSigningKey(OperatorSet memory operatorSet, bytes memory keyData)
        external
        view
        returns (address, bool);
    function getECDSAKeyRegistrationMessageHash(address operator, OperatorSet memory operatorSet, address keyAddress)
        external
        view
        returns (bytes32);
    function getBN254KeyRegistrationMessageHash(address operator, OperatorSet memory operatorSet, bytes calldata keyData)
        external
        view
        returns (bytes32);
    function encodeBN254KeyData(BN254.G1Point memory g1Point, BN254.G2Point memory g2Point)
        external
        pure
        returns (bytes memory);
}
