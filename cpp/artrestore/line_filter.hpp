// The scratch detector's matched filter: the mean along a short oriented line against the same
// mean a few pixels to either side, for evenly spaced directions.
#pragma once

#include <cstdint>

namespace artrestore {

struct LineFilterParams {
    int length = 21;   // px averaged along the line (odd, >= 3), one bilinear sample per px
    int offset = 3;    // px from the line to where each side mean is read (>= 1)
    int n_angles = 16; // directions k * 180 / n_angles degrees, k = 0 .. n_angles - 1 (>= 1)
};

// Throws std::invalid_argument naming the first parameter out of range (line_responses calls it;
// callers that size the output by n_angles call it first).
void check_line_filter_params(const LineFilterParams& params);

// For an H x W luma `gray` (levels), fills `dark` and `light`, each n_angles x H x W: per direction,
// dark = min(side means) - centre mean and light = centre mean - max(side means). Pixels outside the
// image read their nearest edge pixel. The kernel, its rounding of the side offsets (half to even)
// and its borders are those of the OpenCV filter2D formulation the stage used before
// (tests/reference.py), which the tests compare against. Cost: O(H * W * length * n_angles)
// multiply-adds over contiguous rows.
void line_responses(const float* gray, int height, int width, const LineFilterParams& params, float* dark,
                    float* light);

// The same directions' responses as bit flags, n_angles x H x W: kDarkAboveThreshold where
// dark > threshold, kLightAboveThreshold where light > threshold, kDarkAboveFloor and
// kLightAboveFloor likewise against `floor` (levels). What the scratch detector reads, in an
// eighth of line_responses' memory.
constexpr std::uint8_t kDarkAboveThreshold = 1, kLightAboveThreshold = 2, kDarkAboveFloor = 4, kLightAboveFloor = 8;
void line_flags(const float* gray, int height, int width, const LineFilterParams& params, double floor,
                double threshold, std::uint8_t* flags);

}  // namespace artrestore
