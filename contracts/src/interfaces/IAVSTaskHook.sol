// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ITaskMailboxTypes} from "./ITaskMailbox.sol";

/// @title IAVSTaskHook
/// @notice The AVS's say over its tasks: who may create them, what they cost, and what happens
/// around result submission (EigenLayer's interface). The `view` functions run as STATICCALLs.
interface IAVSTaskHook {
    function validatePreTaskCreation(address caller, ITaskMailboxTypes.TaskParams memory taskParams) external view;
    function handlePostTaskCreation(bytes32 taskHash) external;
    function validatePreTaskResultSubmission(address caller, bytes32 taskHash, bytes memory cert, bytes memory result)
        external
        view;
    function handlePostTaskResultSubmission(address caller, bytes32 taskHash) external;
    function calculateTaskFee(ITaskMailboxTypes.TaskParams memory taskParams) external view returns (uint96);
}
