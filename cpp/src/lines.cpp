#include "artrestore/lines.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace artrestore {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The candidates (nonzero mask pixels) in raster order, with where each row's candidates start.
struct Candidates {
    std::vector<std::int32_t> index;     // flat pixel index y * width + x
    std::vector<std::int32_t> xs, ys;    // its coordinates (no division in the passes)
    std::vector<std::int32_t> row_start; // candidates of row y are index[row_start[y] .. row_start[y + 1])
};

Candidates gather(const std::uint8_t* mask, int height, int width) {
    Candidates c;
    c.row_start.resize(static_cast<std::size_t>(height) + 1);
    for (int y = 0; y < height; ++y) {
        c.row_start[y] = static_cast<std::int32_t>(c.index.size());
        const std::uint8_t* row = mask + static_cast<std::size_t>(y) * width;
        for (int x = 0; x < width; ++x)
            if (row[x]) {
                c.index.push_back(y * width + x);
                c.xs.push_back(x);
                c.ys.push_back(y);
            }
    }
    c.row_start[height] = static_cast<std::int32_t>(c.index.size());
    return c;
}

// Run lengths along one direction for every candidate, written to run[k] (k: candidate number).
//
// The digital lines of a direction are the translates of one digital segment: a steep direction
// (|dy| >= |dx|) steps y by 1 and places x = x0 + round(y * dx / dy), a shallow one steps x and
// places y = y0 + round(x * dy / dx); every pixel lies on exactly one line. A forward pass in an
// order where each pixel's predecessor on its line comes first counts the candidates before it
// (fwd), a backward pass those after it (bwd); the run is fwd + bwd - 1. Only candidates are
// visited: O(number of candidates) per direction, on sparse masks a fraction of the frame.
void runs_one_direction(const Candidates& c, int height, int width, double angle_deg, std::vector<std::uint16_t>& fwd,
                        std::vector<std::uint16_t>& bwd, std::uint16_t* run) {
    const double radians = angle_deg * kPi / 180.0;
    const double dx = std::cos(radians), dy = std::sin(radians);
    const bool steep = std::abs(dy) >= std::abs(dx);
    const double slope = steep ? dx / dy : dy / dx;  // in [-1, 1]
    const int n_major = steep ? height : width;
    std::vector<int> off(static_cast<std::size_t>(n_major));
    for (int m = 0; m < n_major; ++m) off[m] = static_cast<int>(std::lround(m * slope));
    const auto n_cand = static_cast<std::int32_t>(c.index.size());
    auto sat = [](int v) { return static_cast<std::uint16_t>(std::min(v, 65535)); };

    if (steep) {
        // Predecessor of (x, y): (x - (off[y] - off[y - 1]), y - 1); successor: (x + off[y + 1] - off[y], y + 1).
        for (std::int32_t k = 0; k < n_cand; ++k) {
            const int p = c.index[k], y = c.ys[k], x = c.xs[k];
            int prev = 0;
            if (y > 0) {
                const int px = x - (off[y] - off[y - 1]);
                if (px >= 0 && px < width) prev = fwd[static_cast<std::size_t>(y - 1) * width + px];
            }
            fwd[p] = sat(prev + 1);
        }
        for (std::int32_t k = n_cand - 1; k >= 0; --k) {
            const int p = c.index[k], y = c.ys[k], x = c.xs[k];
            int next = 0;
            if (y + 1 < height) {
                const int nx = x + (off[y + 1] - off[y]);
                if (nx >= 0 && nx < width) next = bwd[static_cast<std::size_t>(y + 1) * width + nx];
            }
            bwd[p] = sat(next + 1);
            run[k] = sat(fwd[p] + bwd[p] - 1);
        }
        return;
    }
    // Shallow. Rising lines (slope >= 0) are walked rightwards: predecessor (x - 1, y - (off[x] - off[x - 1])),
    // in this row or the one above, so rows go top to bottom and each row left to right. Falling lines are
    // walked leftwards: predecessor (x + 1, y - (off[x] - off[x + 1])), rows top to bottom, right to left.
    const bool rising = slope >= 0;
    for (int y = 0; y < height; ++y) {
        const std::int32_t a = c.row_start[y], b = c.row_start[y + 1];
        for (std::int32_t i = 0; i < b - a; ++i) {
            const std::int32_t k = rising ? a + i : b - 1 - i;
            const int p = c.index[k], x = c.xs[k];
            const int px = rising ? x - 1 : x + 1;
            int prev = 0;
            if (px >= 0 && px < width) {
                const int py = y - (off[x] - off[px]);
                if (py >= 0 && py < height) prev = fwd[static_cast<std::size_t>(py) * width + px];
            }
            fwd[p] = sat(prev + 1);
        }
    }
    for (int y = height - 1; y >= 0; --y) {
        const std::int32_t a = c.row_start[y], b = c.row_start[y + 1];
        for (std::int32_t i = 0; i < b - a; ++i) {
            const std::int32_t k = rising ? b - 1 - i : a + i;
            const int p = c.index[k], x = c.xs[k];
            const int nx = rising ? x + 1 : x - 1;
            int next = 0;
            if (nx >= 0 && nx < width) {
                const int ny = y + (off[nx] - off[x]);
                if (ny >= 0 && ny < height) next = bwd[static_cast<std::size_t>(ny) * width + nx];
            }
            bwd[p] = sat(next + 1);
            run[k] = sat(fwd[p] + bwd[p] - 1);
        }
    }
}

void check(const std::uint8_t* mask, int height, int width) {
    if (mask == nullptr || height < 1 || width < 1)
        throw std::invalid_argument("oriented runs: mask must be a non-empty H x W array, got " +
                                    std::to_string(height) + "x" + std::to_string(width));
}

}  // namespace

void directional_runs(const std::uint8_t* mask, int height, int width, double angle_deg, std::uint16_t* out) {
    check(mask, height, width);
    if (!std::isfinite(angle_deg)) throw std::invalid_argument("oriented runs: angle must be finite");
    const std::size_t n = static_cast<std::size_t>(height) * width;
    const Candidates c = gather(mask, height, width);
    std::vector<std::uint16_t> fwd(n, 0), bwd(n, 0), run(c.index.size());
    runs_one_direction(c, height, width, angle_deg, fwd, bwd, run.data());
    std::fill(out, out + n, std::uint16_t{0});
    for (std::size_t k = 0; k < c.index.size(); ++k) out[c.index[k]] = run[k];
}

void oriented_runs(const std::uint8_t* mask, int height, int width, int n_angles, int max_across,
                   std::uint16_t* out) {
    check(mask, height, width);
    if (n_angles < 2 || n_angles % 2 != 0 || n_angles > 360)
        throw std::invalid_argument("oriented runs: n_angles must be an even number in [2, 360], got " +
                                    std::to_string(n_angles));
    if (max_across < 1) throw std::invalid_argument("oriented runs: max_across must be >= 1");
    const std::size_t n = static_cast<std::size_t>(height) * width;
    std::fill(out, out + n, std::uint16_t{0});
    const Candidates c = gather(mask, height, width);
    const std::size_t m = c.index.size();
    if (m == 0) return;
    // fwd / bwd are written only at candidates, so the other pixels read as 0 in every direction.
    std::vector<std::uint16_t> fwd(n, 0), bwd(n, 0);
    std::vector<std::uint16_t> runs(static_cast<std::size_t>(n_angles) * m);
    for (int i = 0; i < n_angles; ++i)
        runs_one_direction(c, height, width, 180.0 * i / n_angles, fwd, bwd, runs.data() + static_cast<std::size_t>(i) * m);
    const int half = n_angles / 2;
    const auto limit = static_cast<std::uint16_t>(std::min(max_across, 65535));
    for (std::size_t k = 0; k < m; ++k) {
        std::uint16_t best = 0;
        for (int i = 0; i < n_angles; ++i) {
            const std::uint16_t along = runs[static_cast<std::size_t>(i) * m + k];
            const std::uint16_t across = runs[static_cast<std::size_t>((i + half) % n_angles) * m + k];
            if (across < limit) best = std::max(best, along);
        }
        out[c.index[k]] = best;
    }
}

}  // namespace artrestore
