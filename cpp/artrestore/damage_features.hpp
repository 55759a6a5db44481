// Routing features that see the damage itself (definitions in docs/features.md, "Damage features").
#pragma once

#include <array>

#include "artrestore/image.hpp"

namespace artrestore {

constexpr int kNumExtraFeatures = 13;

// Fixed order of the extra vector; the decision model is trained on FEATURE_NAMES + these.
constexpr std::array<const char*, kNumExtraFeatures> kExtraFeatureNames = {
    "noise_sigma",  "chroma_noise_sigma", "blur_exponent", "blockiness",   "line_fraction",
    "cast_chroma",  "cast_red_green",     "cast_yellow_blue", "colorfulness", "chroma_unevenness",
    "black_point",  "white_point",        "dynamic_range"};

using ExtraFeatures = std::array<float, kNumExtraFeatures>;

// Native-resolution sample: at most kSampleGrid x kSampleGrid tiles of at most kSampleTile pixels,
// their corners on multiples of 8 (the JPEG grid). A 512^2 image is covered exactly.
constexpr int kSampleGrid = 8;
constexpr int kSampleTile = 32;

// The 13 extra features from the image (native-resolution measures) and its 256 x 256 x 3
// working image in [0, 1] as resample_to_working gives it (colour and tone measures). The image
// must have passed check_image (analyze_routing does both).
template <class T>
ExtraFeatures analyze_extra(const ImageView<T>& image, const float* working_rgb);

}  // namespace artrestore
