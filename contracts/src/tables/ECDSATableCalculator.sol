// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {OperatorSet} from "../libraries/OperatorSetLib.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IKeyRegistrar} from "../interfaces/IKeyRegistrar.sol";
import {OperatorTableCalculatorBase} from "./OperatorTableCalculatorBase.sol";
import {IOperatorTableCalculator} from "../interfaces/IOperatorTableCalculator.sol";

/// @title ECDSATableCalculator (sandbox)
/// @notice Builds an ECDSA operator set's table (signing-key address and weights per operator)
/// from owner-set weights and registered keys.
contract ECDSATableCalculator is OperatorTableCalculatorBase {
    constructor(IAllocationManager _allocationManager, IKeyRegistrar _keyRegistrar, address owner_)
        OperatorTableCalculatorBase(_allocationManager, _keyRegistrar, owner_)
    {}

    /// @notice The operators of the table in index order: signing-key address and weights.
    function getOperatorInfos(OperatorSet calldata operatorSet)
        public
        view
        returns (ECDSAOperatorInfo[] memory infos)
    {
        (address[] memory operators, uint256[][] memory weights) = getOperatorSetWeights(operatorSet);
        infos = new ECDSAOperatorInfo[](operators.length);
        for (uint256 i = 0; i < operators.length; ++i) {
            infos[i] = ECDSAOperatorInfo({
                pubkey: keyRegistrar.getECDSAAddress(operatorSet, operators[i]),
                weights: weights[i]
            });
        }
    }

    /// @notice The table the certificate verifier stores for this set.
    function calculateOperatorTable(OperatorSet calldata operatorSet) external view returns (ECDSAOperatorInfo[] memory) {
        return getOperatorInfos(operatorSet);
    }

    /// @inheritdoc IOperatorTableCalculator
    function calculateOperatorTableBytes(OperatorSet calldata operatorSet) external view returns (bytes memory) {
        return abi.encode(getOperatorInfos(operatorSet));
    }
}
