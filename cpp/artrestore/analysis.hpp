// The 14 FFT damage features (definitions in docs/features.md).
#pragma once

#include <array>

#include "artrestore/damage_features.hpp"
#include "artrestore/image.hpp"

namespace artrestore {

constexpr int kNumFeatures = 14;
// Every image is area-resampled to this square before analysis, so features do not depend on
// the input's size and a 2048^2 image costs little more than one memory pass.
constexpr int kWorkingSize = 256;

// Fixed order of the feature vector; models are trained on this order.
constexpr std::array<const char*, kNumFeatures> kFeatureNames = {
    "mean",         "std_dev",    "skewness",  "kurtosis",  "low_freq_energy",
    "high_freq_energy", "energy_ratio", "radial_center", "radial_25", "radial_50",
    "radial_75",    "radial_edge", "color_balance_need", "sharpening_need"};

using Features = std::array<float, kNumFeatures>;

// Area-resamples an RGB image to kWorkingSize^2 x 3 floats in [0, 1] (out has 256*256*3 entries).
template <class T>
void resample_to_working(const ImageView<T>& image, float* out);

// Computes the 14 features of an RGB image. Thread-safe; FFTW plans are cached per shape.
template <class T>
Features analyze(const ImageView<T>& image);

// The 14 features and the 13 damage features (damage_features.hpp) from one resampling pass.
struct RoutingFeatures {
    Features base;
    ExtraFeatures extra;
};
template <class T>
RoutingFeatures analyze_routing(const ImageView<T>& image);

}  // namespace artrestore
