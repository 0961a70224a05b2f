// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

// Compiles OpenZeppelin's proxy contracts into the artifacts, so the devkit deploys the
// TaskMailbox behind the same TransparentUpgradeableProxy + ProxyAdmin pair EigenLayer uses.
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {ProxyAdmin} from "@openzeppelin/contracts/proxy/transparent/ProxyAdmin.sol";
