// Unsharp mask and colour correction on interleaved RGB images, separately or fused.
#pragma once

#include <array>

#include "artrestore/image.hpp"

namespace artrestore {

struct UnsharpParams {
    float sigma = 1.0f;     // Gaussian sigma in pixels, (0, 50]
    float strength = 1.0f;  // amount of detail added back, [0, 10]
    float threshold = 0.0f; // only sharpen where |pixel - blurred| exceeds this, in 8-bit levels
};

// Per-channel affine map out_c = gain_c * in_c + offset_c (offsets in the image's own units),
// clamped to the pixel range.
struct ColorTransform {
    std::array<float, 3> gain{1.0f, 1.0f, 1.0f};
    std::array<float, 3> offset{0.0f, 0.0f, 0.0f};
};

struct ColorParams {
    bool white_balance = true;   // grey-world gains
    bool stretch = true;         // joint percentile contrast stretch after the gains
    float clip_percent = 0.5f;   // percent of samples clipped at each end by the stretch, [0, 25)
};

// Estimates grey-world white balance followed by a joint contrast stretch from a strided
// sample of at most ~2^18 pixels (statistics, not per-pixel work, so the sample is ample).
template <class T>
ColorTransform estimate_color_transform(const ImageView<T>& image, const ColorParams& params);

template <class T>
void apply_color_transform(const ImageView<T>& image, const ColorTransform& transform, MutableImageView<T> out);

template <class T>
void unsharp_mask(const ImageView<T>& image, const UnsharpParams& params, MutableImageView<T> out);

// Colour transform then unsharp mask in one streaming pass: each input row is read twice from
// cache-resident buffers and each output row written once, with no full-size intermediate.
template <class T>
void color_transform_sharpen(const ImageView<T>& image, const ColorTransform& transform, const UnsharpParams& params,
                             MutableImageView<T> out);

// The Gaussian kernel's radius for a sigma (matches OpenCV's choice for 8-bit images).
int gaussian_radius(float sigma);

}  // namespace artrestore
