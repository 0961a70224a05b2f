// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/// @title IAVSRegistrar
/// @notice Called by the AllocationManager when operators join or leave an AVS's operator sets.
interface IAVSRegistrar {
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data)
        external;
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds) external;
    function supportsAVS(address avs) external view returns (bool);
}
