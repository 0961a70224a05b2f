// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {IAVSTaskHook} from "../../src/interfaces/IAVSTaskHook.sol";
import {ITaskMailboxTypes} from "../../src/interfaces/ITaskMailbox.sol";
import {IAllocationManager} from "../../src/interfaces/IAllocationManager.sol";
import {IKeyRegistrar} from "../../src/interfaces/IKeyRegistrar.sol";
import {TaskAVSRegistrarBase} from "../../src/avs/TaskAVSRegistrarBase.sol";

/// @notice A task hook whose fee and refusals tests set, and which counts the calls it gets.
contract MockTaskHook is IAVSTaskHook {
    error CreationRefused();
    error SubmissionRefused();

    uint96 public fee;
    bool public refuseCreation;
    bool public refuseSubmission;
    uint256 public postCreationCalls;
    uint256 public postSubmissionCalls;
    bytes32 public lastTaskHash;
    address public lastAggregator;

    function setFee(uint96 fee_) external {
        fee = fee_;
    }

    function setRefusals(bool creation, bool submission) external {
        refuseCreation = creation;
        refuseSubmission = submission;
    }

    function validatePreTaskCreation(address, ITaskMailboxTypes.TaskParams memory) external view {
        require(!refuseCreation, CreationRefused());
    }

    function handlePostTaskCreation(bytes32 taskHash) external {
        postCreationCalls++;
        lastTaskHash = taskHash;
    }

    function validatePreTaskResultSubmission(address, bytes32, bytes memory, bytes memory) external view {
        require(!refuseSubmission, SubmissionRefused());
    }

    function handlePostTaskResultSubmission(address caller, bytes32 taskHash) external {
        postSubmissionCalls++;
        lastAggregator = caller;
        lastTaskHash = taskHash;
    }

    function calculateTaskFee(ITaskMailboxTypes.TaskParams memory) external view returns (uint96) {
        return fee;
    }
}

/// @notice A mintable ERC20 for fee tests.
contract MockToken is ERC20 {
    constructor() ERC20("Fee", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice The smallest AVS registrar: TaskAVSRegistrarBase as it is.
contract TestAVSRegistrar is TaskAVSRegistrarBase {
    constructor(
        address avs_,
        IAllocationManager allocationManager_,
        IKeyRegistrar keyRegistrar_,
        address owner_,
        AvsConfig memory config
    ) TaskAVSRegistrarBase(avs_, allocationManager_, keyRegistrar_, owner_, config) {}
}
