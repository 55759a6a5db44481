// Oriented runs of a binary mask: the core of the scratch and crack detector.
#pragma once

#include <cstdint>

namespace artrestore {

// For every pixel of an H x W binary mask (nonzero = candidate), the length in pixels of the
// run of candidates through it along a digital straight line at `angle_deg` (0 = along a row,
// 90 = down a column); 0 where the mask is 0. One pass over each digital line of the family,
// so the cost is O(H * W) whatever the length.
void directional_runs(const std::uint8_t* mask, int height, int width, double angle_deg, std::uint16_t* out);

// The best "line" evidence per pixel: over `n_angles` directions evenly spaced in [0, 180),
// the longest run through the pixel along an angle whose perpendicular run is shorter than
// `max_across`. A thin line has a long run along itself and a short one across; a blob or dense
// texture has long runs both ways and scores 0.
void oriented_runs(const std::uint8_t* mask, int height, int width, int n_angles, int max_across,
                   std::uint16_t* out);

}  // namespace artrestore
