#include "artrestore/line_filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace artrestore {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kBlock = 16;  // outputs per register block: one 512-bit register

struct Tap {
    std::ptrdiff_t offset;  // from the kernel's top-left corner, in elements of a padded row
    float weight;
};

// The nonzero taps of a (length + 2)^2 kernel that averages `length` bilinear samples, 1 px apart,
// along `angle` through its centre (weights sum to 1). Only ~2.5 * length of its taps are nonzero,
// which is what makes the direct filter cheaper than a dense or FFT convolution.
std::vector<Tap> line_kernel(int length, double angle, int row_stride) {
    const int size = length + 2, c = size / 2;
    std::vector<float> k(static_cast<std::size_t>(size) * size, 0.0f);
    const double dx = std::cos(angle), dy = std::sin(angle);
    for (int i = 0; i < length; ++i) {
        const double t = -(length - 1) / 2.0 + i;
        const double x = c + t * dx, y = c + t * dy;
        const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
        const double fx = x - x0, fy = y - y0;
        k[static_cast<std::size_t>(y0) * size + x0] += static_cast<float>((1 - fx) * (1 - fy));
        k[static_cast<std::size_t>(y0) * size + x0 + 1] += static_cast<float>(fx * (1 - fy));
        k[static_cast<std::size_t>(y0 + 1) * size + x0] += static_cast<float>((1 - fx) * fy);
        k[static_cast<std::size_t>(y0 + 1) * size + x0 + 1] += static_cast<float>(fx * fy);
    }
    double sum = 0;
    for (float v : k) sum += v;
    std::vector<Tap> taps;
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
            if (const float v = k[static_cast<std::size_t>(y) * size + x]; v != 0.0f)
                taps.push_back({static_cast<std::ptrdiff_t>(y) * row_stride + x, static_cast<float>(v / sum)});
    return taps;
}

}  // namespace

void check_line_filter_params(const LineFilterParams& p) {
    if (p.length < 3 || p.length % 2 == 0 || p.length > 1001)
        throw std::invalid_argument("line_responses: length must be odd and in [3, 1001], got " + std::to_string(p.length));
    if (p.offset < 1 || p.offset > 1000)
        throw std::invalid_argument("line_responses: offset must be in [1, 1000], got " + std::to_string(p.offset));
    if (p.n_angles < 1 || p.n_angles > 360)
        throw std::invalid_argument("line_responses: n_angles must be in [1, 360], got " + std::to_string(p.n_angles));
}

namespace {

// Computes each direction's line means and calls emit(k, y, centre, a, b) for every image row y of
// direction k, with the row's centre means and its two side means (width values each).
template <class Emit>
void for_each_direction(const float* gray, int height, int width, const LineFilterParams& p, Emit&& emit) {
    if (height < 1 || width < 1) throw std::invalid_argument("line_responses: empty image");
    check_line_filter_params(p);

    // The means are needed `offset` px beyond the image (the side means of edge pixels), and each
    // reads up to c px further: pad by offset + c with the nearest edge pixel.
    const int c = (p.length + 2) / 2, pad = p.offset + c;
    const int pw = width + 2 * pad, ph = height + 2 * pad;
    std::vector<float> padded(static_cast<std::size_t>(pw) * ph);
    for (int y = 0; y < ph; ++y) {
        const float* src = gray + static_cast<std::size_t>(std::clamp(y - pad, 0, height - 1)) * width;
        float* dst = padded.data() + static_cast<std::size_t>(y) * pw;
        for (int x = 0; x < pw; ++x) dst[x] = src[std::clamp(x - pad, 0, width - 1)];
    }
    // mean[Y][X]: the line mean at image position (Y - offset, X - offset).
    const int mw = width + 2 * p.offset, mh = height + 2 * p.offset;
    std::vector<float> mean(static_cast<std::size_t>(mw) * mh);
    for (int k = 0; k < p.n_angles; ++k) {
        const double angle = k * kPi / p.n_angles;
        const std::vector<Tap> taps = line_kernel(p.length, angle, pw);
        // Offsets and weights as two arrays: the block loop reads one weight per tap.
        std::vector<std::ptrdiff_t> offsets;
        std::vector<float> weights;
        for (const Tap& t : taps) {
            offsets.push_back(t.offset);
            weights.push_back(t.weight);
        }
        const int n_taps = static_cast<int>(taps.size());
        // Blocks of kBlock outputs stay in a register over all taps: one load and one multiply-add
        // per tap and output, one store per block. This file is built with -fopenmp-simd
        // -fno-tree-loop-vectorize (CMakeLists.txt): only the loops marked simd are vectorised,
        // since GCC 12 otherwise vectorises across taps with gathers (3x slower). Measured and not
        // faster: column strips (for the L1 cache), four rows at once, blocks of 32 and 64.
        for (int y = 0; y < mh; ++y) {
            float* row = mean.data() + static_cast<std::size_t>(y) * mw;
            const float* top = padded.data() + static_cast<std::size_t>(y) * pw;
            int x0 = 0;
            for (; x0 + kBlock <= mw; x0 += kBlock) {
                float acc[kBlock] = {};
                for (int j = 0; j < n_taps; ++j) {
                    const float* src = top + offsets[j] + x0;
                    const float w = weights[j];
#pragma omp simd
                    for (int i = 0; i < kBlock; ++i) acc[i] += w * src[i];
                }
                std::copy(acc, acc + kBlock, row + x0);
            }
            for (int x = x0; x < mw; ++x) {
                float acc = 0.0f;
                for (int j = 0; j < n_taps; ++j) acc += weights[j] * top[offsets[j] + x];
                row[x] = acc;
            }
        }
        // Python's round() (half to even), which the default rounding mode of nearbyint matches.
        const int nx = static_cast<int>(std::nearbyint(-std::sin(angle) * p.offset));
        const int ny = static_cast<int>(std::nearbyint(std::cos(angle) * p.offset));
        for (int y = 0; y < height; ++y) {
            const float* centre = mean.data() + static_cast<std::size_t>(y + p.offset) * mw + p.offset;
            emit(k, y, centre, centre + static_cast<std::ptrdiff_t>(ny) * mw + nx,
                 centre - static_cast<std::ptrdiff_t>(ny) * mw - nx);
        }
    }
}

// For a float v and a double t, v > t exactly when v > the largest float <= t (NaN stays NaN):
// the flags compare in float, as fast as the responses, and mean what a double comparison means.
float largest_float_at_most(double t) {
    float f = static_cast<float>(t);
    if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
    return f;
}

}  // namespace

void line_responses(const float* gray, int height, int width, const LineFilterParams& p, float* dark, float* light) {
    const std::size_t plane = static_cast<std::size_t>(height) * width;
    for_each_direction(gray, height, width, p, [&](int k, int y, const float* centre, const float* a, const float* b) {
        float* drow = dark + k * plane + static_cast<std::size_t>(y) * width;
        float* lrow = light + k * plane + static_cast<std::size_t>(y) * width;
#pragma omp simd
        for (int x = 0; x < width; ++x) {
            drow[x] = std::min(a[x], b[x]) - centre[x];
            lrow[x] = centre[x] - std::max(a[x], b[x]);
        }
    });
}

void line_flags(const float* gray, int height, int width, const LineFilterParams& p, double floor, double threshold,
                std::uint8_t* flags) {
    const std::size_t plane = static_cast<std::size_t>(height) * width;
    const float floor_f = largest_float_at_most(floor), threshold_f = largest_float_at_most(threshold);
    for_each_direction(gray, height, width, p, [&](int k, int y, const float* centre, const float* a, const float* b) {
        std::uint8_t* row = flags + k * plane + static_cast<std::size_t>(y) * width;
#pragma omp simd
        for (int x = 0; x < width; ++x) {
            const float dark = std::min(a[x], b[x]) - centre[x];
            const float light = centre[x] - std::max(a[x], b[x]);
            row[x] = static_cast<std::uint8_t>((dark > threshold_f) * kDarkAboveThreshold +
                                               (light > threshold_f) * kLightAboveThreshold +
                                               (dark > floor_f) * kDarkAboveFloor + (light > floor_f) * kLightAboveFloor);
        }
    });
}

}  // namespace artrestore
