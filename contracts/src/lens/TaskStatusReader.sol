// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ITaskMailbox} from "../interfaces/ITaskMailbox.sol";

/// @title TaskStatusReader
/// @notice Reads the statuses of many tasks in one `eth_call`, without ever being deployed: the
/// call runs this creation code, whose constructor returns the statuses (an ABI-encoded
/// `uint8[]`, in the order of `tasks`) as the call's output. The aggregator checks every task
/// it is about to submit this way, so a burst of submissions costs one status read, not one
/// each.
contract TaskStatusReader {
    constructor(ITaskMailbox mailbox, bytes32[] memory tasks) {
        uint8[] memory statuses = new uint8[](tasks.length);
        for (uint256 i = 0; i < tasks.length; i++) {
            statuses[i] = uint8(mailbox.getTaskStatus(tasks[i]));
        }
        bytes memory encoded = abi.encode(statuses);
        assembly {
            return(add(encoded, 32), mload(encoded))
        }
    }
}
