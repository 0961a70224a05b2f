//! Positional keccak256 Merkle trees exactly as the contracts' `Merkle` library builds them:
//! leaves in index order padded with zero leaves to a power of two, parent = keccak256(left ++
//! right), proofs as concatenated siblings from the leaf up. A one-leaf tree's root is the leaf.

use alloy_primitives::{B256, keccak256};

fn hash_pair(left: &B256, right: &B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left.as_slice());
    buf[32..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// A tree with every level kept, so proofs cost no hashing.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// levels[0] are the padded leaves; the last level is the root alone.
    levels: Vec<Vec<B256>>,
    leaves: usize,
}

impl MerkleTree {
    /// Builds the tree; `None` for no leaves.
    pub fn new(leaves: &[B256]) -> Option<Self> {
        if leaves.is_empty() {
            return None;
        }
        let mut level = leaves.to_vec();
        level.resize(leaves.len().next_power_of_two(), B256::ZERO);
        let mut levels = vec![level];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("checked above");
            levels.push(
                below
                    .chunks_exact(2)
                    .map(|pair| hash_pair(&pair[0], &pair[1]))
                    .collect(),
            );
        }
        Some(Self {
            levels,
            leaves: leaves.len(),
        })
    }

    /// The root.
    pub fn root(&self) -> B256 {
        self.levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or_default()
    }

    /// The proof of the leaf at `index`, or `None` past the last leaf.
    pub fn proof(&self, index: usize) -> Option<Vec<u8>> {
        if index >= self.leaves {
            return None;
        }
        let mut proof = Vec::with_capacity(32 * (self.levels.len() - 1));
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            proof.extend_from_slice(level[i ^ 1].as_slice());
            i /= 2;
        }
        Some(proof)
    }
}

/// Whether `proof` leads from `leaf` at `index` to `root` (`Merkle.verifyInclusionKeccak`).
pub fn verify(proof: &[u8], root: B256, leaf: B256, index: usize) -> bool {
    if root.is_zero() || !proof.len().is_multiple_of(32) {
        return false;
    }
    let mut computed = leaf;
    let mut i = index;
    for sibling in proof.chunks_exact(32) {
        let sibling = B256::from_slice(sibling);
        computed = if i.is_multiple_of(2) {
            hash_pair(&computed, &sibling)
        } else {
            hash_pair(&sibling, &computed)
        };
        i /= 2;
    }
    i == 0 && computed == root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_leaves_pad_to_four() {
        let leaves = [keccak256("a"), keccak256("b"), keccak256("c")];
        let tree = MerkleTree::new(&leaves).unwrap();
        let left = hash_pair(&leaves[0], &leaves[1]);
        let right = hash_pair(&leaves[2], &B256::ZERO);
        assert_eq!(tree.root(), hash_pair(&left, &right));
        let proof = tree.proof(2).unwrap();
        assert_eq!(proof, [B256::ZERO.as_slice(), left.as_slice()].concat());
        for (i, leaf) in leaves.iter().enumerate() {
            assert!(verify(&tree.proof(i).unwrap(), tree.root(), *leaf, i));
        }
        assert!(!verify(&proof, tree.root(), leaves[2], 3));
        assert!(tree.proof(3).is_none());
    }

    #[test]
    fn one_leaf_is_its_own_root() {
        let leaf = keccak256("only");
        let tree = MerkleTree::new(&[leaf]).unwrap();
        assert_eq!(tree.root(), leaf);
        assert!(tree.proof(0).unwrap().is_empty());
        assert!(verify(&[], leaf, leaf, 0));
        assert!(MerkleTree::new(&[]).is_none());
    }
}
