// Evaluation of a fitted regression forest stored as flat arrays (no code, no pickles).
#pragma once

#include <cstdint>
#include <vector>

namespace artrestore {

// All trees' nodes back to back; tree t's root is node tree_roots[t]. A node is a leaf when
// left[node] < 0. Child indices are absolute. value holds n_outputs numbers per node.
struct ForestView {
    const std::int32_t* feature;
    const double* threshold;
    const std::int32_t* left;
    const std::int32_t* right;
    const double* value;
    const std::int32_t* tree_roots;
    std::int64_t n_nodes;
    std::int32_t n_trees;
    std::int32_t n_features;
    std::int32_t n_outputs;
};

// Checks every index so that a corrupt file raises instead of reading out of bounds or looping.
void validate_forest(const ForestView& forest);

// Mean of the trees' leaf values for each row of x (n_rows x n_features, float32 as scikit-learn
// compares), written to out (n_rows x n_outputs).
void predict_forest(const ForestView& forest, const float* x, std::int64_t n_rows, double* out);

}  // namespace artrestore
