// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IKeyRegistrar} from "../interfaces/IKeyRegistrar.sol";
import {TaskAVSRegistrarBase} from "./TaskAVSRegistrarBase.sol";

/// @title TaskAVSRegistrar
/// @notice `TaskAVSRegistrarBase` as it is: every operator with a registered key may join. AVSs
/// that gate registration (an allowlist, a bond) extend the base instead.
contract TaskAVSRegistrar is TaskAVSRegistrarBase {
    constructor(
        address avs_,
        IAllocationManager allocationManager_,
        IKeyRegistrar keyRegistrar_,
        address owner_,
        AvsConfig memory initialConfig
    ) TaskAVSRegistrarBase(avs_, allocationManager_, keyRegistrar_, owner_, initialConfig) {}
}
