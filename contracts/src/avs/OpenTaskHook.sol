// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IAVSTaskHook} from "../interfaces/IAVSTaskHook.sol";
import {ITaskMailboxTypes} from "../interfaces/ITaskMailbox.sol";

/// @title OpenTaskHook
/// @notice A task hook that accepts every task and every result and charges no fee. Devnets and
/// runtime tests use it for AVSs that bring no hook of their own; production AVSs write a hook
/// that checks their payloads and prices their tasks.
contract OpenTaskHook is IAVSTaskHook {
    /// @inheritdoc IAVSTaskHook
    function validatePreTaskCreation(address, ITaskMailboxTypes.TaskParams memory) external pure {}

    /// @inheritdoc IAVSTaskHook
    function handlePostTaskCreation(bytes32) external {}

    /// @inheritdoc IAVSTaskHook
    function validatePreTaskResultSubmission(address, bytes32, bytes memory, bytes memory) external pure {}

    /// @inheritdoc IAVSTaskHook
    function handlePostTaskResultSubmission(address, bytes32) external {}

    /// @inheritdoc IAVSTaskHook
    function calculateTaskFee(ITaskMailboxTypes.TaskParams memory) external pure returns (uint96) {
        return 0;
    }
}
