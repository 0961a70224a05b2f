//! Integration tests of ponos-crypto against the contracts on a real anvil.

mod onchain;
