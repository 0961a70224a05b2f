// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../libraries/OperatorSetLib.sol";
import {BN254} from "../libraries/BN254.sol";
import {Merkle} from "../libraries/Merkle.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IKeyRegistrar} from "../interfaces/IKeyRegistrar.sol";
import {LeafCalculatorMixin} from "../multichain/LeafCalculatorMixin.sol";
import {OperatorTableCalculatorBase} from "./OperatorTableCalculatorBase.sol";
import {IOperatorTableCalculator} from "../interfaces/IOperatorTableCalculator.sol";

/// @title BN254TableCalculator (sandbox)
/// @notice Builds a BN254 operator set's table (Merkle root over salted operator-info leaves,
/// operator count, aggregate G1 key, total weights) from owner-set weights and registered keys.
contract BN254TableCalculator is OperatorTableCalculatorBase, LeafCalculatorMixin {
    using BN254 for BN254.G1Point;

    constructor(IAllocationManager _allocationManager, IKeyRegistrar _keyRegistrar, address owner_)
        OperatorTableCalculatorBase(_allocationManager, _keyRegistrar, owner_)
    {}

    /// @notice The operators of the table in index order, with their G1 keys and weights.
    function getOperatorInfos(OperatorSet calldata operatorSet)
        public
        view
        returns (BN254OperatorInfo[] memory infos)
    {
        (address[] memory operators, uint256[][] memory weights) = getOperatorSetWeights(operatorSet);
        infos = new BN254OperatorInfo[](operators.length);
        for (uint256 i = 0; i < operators.length; ++i) {
            (BN254.G1Point memory g1,) = keyRegistrar.getBN254Key(operatorSet, operators[i]);
            infos[i] = BN254OperatorInfo({pubkey: g1, weights: weights[i]});
        }
    }

    /// @notice The table the certificate verifier stores for this set.
    function calculateOperatorTable(OperatorSet calldata operatorSet)
        public
        view
        returns (BN254OperatorSetInfo memory info)
    {
        BN254OperatorInfo[] memory infos = getOperatorInfos(operatorSet);
        info.numOperators = infos.length;
        info.totalWeights = new uint256[](1);
        if (infos.length == 0) return info;

        bytes32[] memory leaves = new bytes32[](infos.length);
        for (uint256 i = 0; i < infos.length; ++i) {
            leaves[i] = calculateOperatorInfoLeaf(infos[i]);
            info.aggregatePubkey = info.aggregatePubkey.plus(infos[i].pubkey);
            info.totalWeights[0] += infos[i].weights[0];
        }
        info.operatorInfoTreeRoot = Merkle.merkleizeKeccak(leaves);
    }

    /// @inheritdoc IOperatorTableCalculator
    function calculateOperatorTableBytes(OperatorSet calldata operatorSet) external view returns (bytes memory) {
        return abi.encode(calculateOperatorTable(operatorSet));
    }
}
