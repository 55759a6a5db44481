#include "artrestore/forest.hpp"

#include <stdexcept>
#include <string>

namespace artrestore {

void validate_forest(const ForestView& f) {
    if (f.n_trees < 1 || f.n_nodes < 1 || f.n_features < 1 || f.n_outputs < 1)
        throw std::invalid_argument("forest: empty forest or bad dimensions");
    for (std::int32_t t = 0; t < f.n_trees; ++t) {
        if (f.tree_roots[t] < 0 || f.tree_roots[t] >= f.n_nodes)
            throw std::invalid_argument("forest: tree root out of range in tree " + std::to_string(t));
    }
    for (std::int64_t n = 0; n < f.n_nodes; ++n) {
        if (f.left[n] < 0) continue;  // leaf
        // Children must come after their parent, which rules out cycles and bounds every walk.
        if (f.left[n] <= n || f.left[n] >= f.n_nodes || f.right[n] <= n || f.right[n] >= f.n_nodes)
            throw std::invalid_argument("forest: child index out of range at node " + std::to_string(n));
        if (f.feature[n] < 0 || f.feature[n] >= f.n_features)
            throw std::invalid_argument("forest: feature index out of range at node " + std::to_string(n));
    }
}

void predict_forest(const ForestView& f, const float* x, std::int64_t n_rows, double* out) {
    for (std::int64_t r = 0; r < n_rows; ++r) {
        const float* row = x + r * f.n_features;
        double* dst = out + r * f.n_outputs;
        for (std::int32_t o = 0; o < f.n_outputs; ++o) dst[o] = 0.0;
        for (std::int32_t t = 0; t < f.n_trees; ++t) {
            std::int64_t node = f.tree_roots[t];
            while (f.left[node] >= 0)
                node = static_cast<double>(row[f.feature[node]]) <= f.threshold[node] ? f.left[node] : f.right[node];
            const double* leaf = f.value + node * f.n_outputs;
            for (std::int32_t o = 0; o < f.n_outputs; ++o) dst[o] += leaf[o];
        }
        for (std::int32_t o = 0; o < f.n_outputs; ++o) dst[o] /= f.n_trees;
    }
}

}  // namespace artrestore
