// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../libraries/OperatorSetLib.sol";
import {BN254} from "../libraries/BN254.sol";

/// @notice The operator tables that certificate verifiers store.
interface IOperatorTableCalculatorTypes {
    /// @notice One BN254 operator: its G1 key and its weight per stake type.
    struct BN254OperatorInfo {
        BN254.G1Point pubkey;
        uint256[] weights;
    }

    /// @notice A BN254 operator set: Merkle root over salted operator-info leaves, operator count,
    /// aggregate G1 key and total weight per stake type.
    struct BN254OperatorSetInfo {
        bytes32 operatorInfoTreeRoot;
        uint256 numOperators;
        BN254.G1Point aggregatePubkey;
        uint256[] totalWeights;
    }

    /// @notice One ECDSA operator: the address of its signing key and its weight per stake type.
    struct ECDSAOperatorInfo {
        address pubkey;
        uint256[] weights;
    }
}

/// @title IOperatorTableCalculator
/// @notice Computes an operator set's table from source-chain state (EigenLayer's interface).
interface IOperatorTableCalculator is IOperatorTableCalculatorTypes {
    function calculateOperatorTableBytes(OperatorSet calldata operatorSet)
        external
        view
        returns (bytes memory operatorTableBytes);
    function getOperatorSetWeights(OperatorSet calldata operatorSet)
        external
        view
        returns (address[] memory operators, uint256[][] memory weights);
    function getOperatorWeights(OperatorSet calldata operatorSet, address operator)
        external
        view
        returns (uint256[] memory weights);
}
