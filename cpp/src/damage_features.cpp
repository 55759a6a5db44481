#include "artrestore/damage_features.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "artrestore/analysis.hpp"

namespace artrestore {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Gradient histogram: bins of half a level; |dx| + |dy| of central differences is at most 510.
constexpr int kGradBins = 1024;
constexpr float kGradBinsPerLevel = 2.0f;
// A line pixel responds above max(kLineFloor, kLineNoiseFactor * noise_sigma) levels along a run
// of 2 kLineHalfRun + 1 pixels: clear of the noise and of short, faint texture (hair, grass).
constexpr float kLineFloor = 40.0f;
constexpr int kLineHalfRun = 3;
constexpr float kLineNoiseFactor = 3.0f;
// Tone percentiles (working image), histogram resolution.
constexpr int kToneBins = 4096;
constexpr double kBlackPercentile = 0.01, kWhitePercentile = 0.99;
// chroma_unevenness: blocks of the working image.
constexpr int kBlock = 16;

struct Tile {
    int y0, x0, h, w;
};

// Tile corners on multiples of 8, centred on a kSampleGrid^2 grid; one tile per axis when the
// image is too small for tiles of at least 8 pixels.
std::vector<Tile> sample_tiles(int height, int width) {
    auto axis = [](int n) {
        std::vector<std::pair<int, int>> spans;  // (start, length)
        const int t = std::min(kSampleTile, (n / kSampleGrid) / 8 * 8);
        if (t < 8) {
            spans.push_back({0, n});
            return spans;
        }
        for (int i = 0; i < kSampleGrid; ++i) {
            const int centre = static_cast<int>((static_cast<long long>(2 * i + 1) * n) / (2 * kSampleGrid));
            const int start = std::clamp((centre - t / 2) / 8 * 8, 0, (n - t) / 8 * 8);
            spans.push_back({start, t});
        }
        return spans;
    };
    std::vector<Tile> tiles;
    for (auto [y0, h] : axis(height))
        for (auto [x0, w] : axis(width)) tiles.push_back({y0, x0, h, w});
    return tiles;
}

struct Buffers {
    std::vector<float> luma, opp1, opp2, response, line;
};

Buffers& buffers() {
    thread_local Buffers b;
    return b;
}

// Per-gradient-bin sums of the Laplacian-like residual magnitudes, and the other running sums.
struct Accumulator {
    // Float sums are exact enough: the sample holds at most 8^2 x 32^2 pixels in all.
    std::vector<std::int32_t> count = std::vector<std::int32_t>(kGradBins, 0);
    std::vector<float> luma_residual = std::vector<float>(kGradBins, 0.0f);
    std::vector<float> chroma_residual = std::vector<float>(kGradBins, 0.0f);
    double sf1 = 0, sf3 = 0, n1 = 0, n3 = 0;             // structure function at lags 1 and 3
    double edge_diff = 0, edge_n = 0, inner_diff = 0, inner_n = 0;  // blockiness
    std::vector<float> line_response;                   // strongest line response per pixel
};

// |Immerkaer's mask [1 -2 1; -2 4 -2; 1 -2 1] * x| (blind to planes and linear ramps) along one
// row: out[x] for x in [1, w-1) of the row starting at `row` (rows above and below at -w, +w).
// Restrict-qualified so the compiler vectorises it.
inline void row_residual(const float* __restrict row, int w, float* __restrict out) {
    for (int x = 1; x < w - 1; ++x) {
        const float* p = row + x;
        out[x] = std::abs((p[-w - 1] - 2 * p[-w] + p[-w + 1]) - 2 * (p[-1] - 2 * p[0] + p[1]) +
                          (p[w - 1] - 2 * p[w] + p[w + 1]));
    }
}

template <class T>
void measure_tile(const ImageView<T>& image, const Tile& t, Accumulator& acc) {
    Buffers& b = buffers();
    const int h = t.h, w = t.w, n = h * w;
    b.luma.resize(n);
    b.opp1.resize(n);
    b.opp2.resize(n);
    const float scale = 255.0f / pixel_max<T>();
    const float inv_sqrt2 = static_cast<float>(1.0 / std::sqrt(2.0)), inv_sqrt6 = static_cast<float>(1.0 / std::sqrt(6.0));
    for (int y = 0; y < h; ++y) {
        const T* src = image.row(t.y0 + y) + static_cast<std::size_t>(t.x0) * kChannels;
        float* l = b.luma.data() + y * w;
        float* o1 = b.opp1.data() + y * w;
        float* o2 = b.opp2.data() + y * w;
        for (int x = 0; x < w; ++x) {
            const float r = scale * static_cast<float>(src[3 * x]), g = scale * static_cast<float>(src[3 * x + 1]),
                        bl = scale * static_cast<float>(src[3 * x + 2]);
            l[x] = 0.299f * r + 0.587f * g + 0.114f * bl;
            o1[x] = (r - g) * inv_sqrt2;
            o2[x] = (r + g - 2 * bl) * inv_sqrt6;
        }
    }
    const float* L = b.luma.data();

    // Noise: residuals binned by the local gradient (central differences, independent of the
    // residual for Gaussian noise, so the selection does not bias the estimate). Row buffers
    // keep the arithmetic in vectorisable loops; only the binning is scalar.
    if (h >= 3 && w >= 3) {
        b.response.resize(4 * w);
        float* __restrict grad = b.response.data();
        float* __restrict res_luma = grad + w;
        float* __restrict res_o1 = res_luma + w;
        float* __restrict res_o2 = res_o1 + w;
        for (int y = 1; y < h - 1; ++y) {
            const float* __restrict row = L + y * w;
            for (int x = 1; x < w - 1; ++x)
                grad[x] = std::abs(row[x + 1] - row[x - 1]) + std::abs(row[x + w] - row[x - w]);
            row_residual(row, w, res_luma);
            row_residual(b.opp1.data() + y * w, w, res_o1);
            row_residual(b.opp2.data() + y * w, w, res_o2);
            for (int x = 1; x < w - 1; ++x) {
                const int bin = std::min(kGradBins - 1, static_cast<int>(grad[x] * kGradBinsPerLevel));
                acc.count[bin] += 1;
                acc.luma_residual[bin] += res_luma[x];
                acc.chroma_residual[bin] += 0.5f * (res_o1[x] + res_o2[x]);
            }
        }
    }
    // Structure function at lags 1 and 3 (both axes) and block-edge vs inner differences.
    for (int y = 0; y < h; ++y) {
        const float* row = L + y * w;
        float sf1 = 0, sf3 = 0, all_abs = 0, edge_abs = 0;
        for (int x = 0; x + 1 < w; ++x) {
            const float d = row[x + 1] - row[x];
            sf1 += d * d;
            all_abs += std::abs(d);
        }
        int edges = 0;
        for (int x = (7 - t.x0 % 8 + 8) % 8; x + 1 < w; x += 8, ++edges) edge_abs += std::abs(row[x + 1] - row[x]);
        for (int x = 0; x + 3 < w; ++x) {
            const float d = row[x + 3] - row[x];
            sf3 += d * d;
        }
        acc.sf1 += sf1;
        acc.sf3 += sf3;
        acc.n1 += std::max(0, w - 1);
        acc.n3 += std::max(0, w - 3);
        acc.edge_diff += edge_abs;
        acc.edge_n += edges;
        acc.inner_diff += all_abs - edge_abs;
        acc.inner_n += std::max(0, w - 1) - edges;
    }
    for (int y = 0; y + 1 < h; ++y) {
        const bool edge = (t.y0 + y) % 8 == 7;
        const float* row = L + y * w;
        float sf1 = 0, sf3 = 0, abs_sum = 0;
        for (int x = 0; x < w; ++x) {
            const float d = row[x + w] - row[x];
            sf1 += d * d;
            abs_sum += std::abs(d);
        }
        if (y + 3 < h) {
            for (int x = 0; x < w; ++x) {
                const float d = row[x + 3 * w] - row[x];
                sf3 += d * d;
            }
            acc.n3 += w;
        }
        acc.sf1 += sf1;
        acc.sf3 += sf3;
        acc.n1 += w;
        (edge ? acc.edge_diff : acc.inner_diff) += abs_sum;
        (edge ? acc.edge_n : acc.inner_n) += w;
    }

    // Thin lines: a pixel darker (or brighter) than both neighbours at distance 2 or 4 across a
    // direction, 2 kLineHalfRun + 1 pixels in a row along it; the strongest of 4 directions.
    constexpr int kReach = 4, kMargin = kReach + kLineHalfRun;
    if (h <= 2 * kMargin || w <= 2 * kMargin) return;
    const int across[4][2] = {{1, 0}, {0, 1}, {1, 1}, {1, -1}};  // (dy, dx) across the line
    b.response.assign(n, 0.0f);
    b.line.assign(n, 0.0f);
    for (const auto& a : across) {
        const int step = a[0] * w + a[1];
        const int along = a[1] * w - a[0];  // perpendicular: (dx, -dy) as (dy', dx')
        float* resp = b.response.data();
        for (int y = kReach; y < h - kReach; ++y) {
            const float* c = L + y * w;
            float* out = resp + y * w;
            for (int x = kReach; x < w - kReach; ++x) {
                const float p2 = c[x + 2 * step], q2 = c[x - 2 * step], p4 = c[x + 4 * step], q4 = c[x - 4 * step];
                const float r2 = std::max(std::min(p2, q2) - c[x], c[x] - std::max(p2, q2));
                const float r4 = std::max(std::min(p4, q4) - c[x], c[x] - std::max(p4, q4));
                out[x] = std::max(0.0f, std::max(r2, r4));
            }
        }
        for (int y = kMargin; y < h - kMargin; ++y) {
            float* line = b.line.data() + y * w;
            const float* r = resp + y * w;
            for (int x = kMargin; x < w - kMargin; ++x) {
                float run = r[x];
                for (int k = 1; k <= kLineHalfRun; ++k) run = std::min(run, std::min(r[x + k * along], r[x - k * along]));
                line[x] = std::max(line[x], run);
            }
        }
    }
    for (int y = kMargin; y < h - kMargin; ++y)
        acc.line_response.insert(acc.line_response.end(), b.line.data() + y * w + kMargin,
                                 b.line.data() + y * w + w - kMargin);
}

// Value at fraction q of the histogram's mass (bin centre), over [0, 1].
double histogram_percentile(const std::vector<std::int32_t>& hist, double total, double q) {
    const double rank = q * total;
    double cumulative = 0;
    for (int i = 0; i < static_cast<int>(hist.size()); ++i) {
        cumulative += hist[i];
        if (cumulative >= rank) return (i + 0.5) / hist.size();
    }
    return 1.0;
}

}  // namespace

template <class T>
ExtraFeatures analyze_extra(const ImageView<T>& image, const float* rgb) {
    ExtraFeatures f{};
    Accumulator acc;
    acc.line_response.reserve(static_cast<std::size_t>(kSampleGrid) * kSampleGrid * kSampleTile * kSampleTile);
    for (const Tile& t : sample_tiles(image.height, image.width)) measure_tile(image, t, acc);

    // Immerkaer: sigma = sqrt(pi / 2) / 6 * mean |residual| over pixels at or below the median gradient.
    double total = 0;
    for (double c : acc.count) total += c;
    double noise = 0, chroma_noise = 0;
    if (total > 0) {
        double cumulative = 0, n = 0, luma_sum = 0, chroma_sum = 0;
        for (int i = 0; i < kGradBins && cumulative < 0.5 * total; ++i) {
            cumulative += acc.count[i];
            n += acc.count[i];
            luma_sum += acc.luma_residual[i];
            chroma_sum += acc.chroma_residual[i];
        }
        const double k = std::sqrt(kPi / 2) / 6.0;
        noise = k * luma_sum / n;
        chroma_noise = k * chroma_sum / n;
    }
    f[0] = static_cast<float>(noise);
    f[1] = static_cast<float>(chroma_noise);
    if (acc.n1 > 0 && acc.n3 > 0) {
        // White noise adds 2 sigma^2 at every lag; what remains is the picture's own structure.
        const double e1 = acc.sf1 / acc.n1 - 2 * noise * noise, e3 = acc.sf3 / acc.n3 - 2 * noise * noise;
        if (e1 > 1e-3 && e3 > 1e-3) f[2] = static_cast<float>(std::clamp(std::log(e3 / e1) / std::log(3.0), 0.0, 2.0));
    }
    if (acc.edge_n > 0 && acc.inner_n > 0 && acc.inner_diff > 0)
        f[3] = static_cast<float>((acc.edge_diff / acc.edge_n) / (acc.inner_diff / acc.inner_n) - 1.0);
    if (!acc.line_response.empty()) {
        const float threshold = std::max(kLineFloor, kLineNoiseFactor * static_cast<float>(noise));
        std::size_t strong = 0;
        for (float r : acc.line_response) strong += r > threshold;
        f[4] = static_cast<float>(static_cast<double>(strong) / acc.line_response.size());
    }

    // Colour and tone on the working image: opponent axes o1 = (R - G) / sqrt 2, o2 = (R + G - 2B) / sqrt 6.
    constexpr int N = kWorkingSize;
    const double inv_sqrt2 = 1.0 / std::sqrt(2.0), inv_sqrt6 = 1.0 / std::sqrt(6.0);
    double sum1 = 0, sum2 = 0, chroma = 0;
    std::vector<std::int32_t> tone(kToneBins, 0);
    constexpr int nb = N / kBlock;
    std::vector<double> block1(nb * nb, 0.0), block2(nb * nb, 0.0);
    std::vector<float> row1(N), row2(N), row_chroma(N);
    std::vector<int> row_bin(N);
    const float f_sqrt2 = static_cast<float>(inv_sqrt2), f_sqrt6 = static_cast<float>(inv_sqrt6);
    for (int y = 0; y < N; ++y) {
        const float* p = rgb + 3 * y * N;
        for (int x = 0; x < N; ++x) {
            const float r = p[3 * x], g = p[3 * x + 1], bl = p[3 * x + 2];
            row1[x] = (r - g) * f_sqrt2;
            row2[x] = (r + g - 2.0f * bl) * f_sqrt6;
            row_chroma[x] = row1[x] * row1[x] + row2[x] * row2[x];
            const float luma = 0.299f * r + 0.587f * g + 0.114f * bl;
            row_bin[x] = std::clamp(static_cast<int>(luma * kToneBins), 0, kToneBins - 1);
        }
        // sqrt in a loop of its own: no branch for errno, so it vectorises.
        for (int x = 0; x < N; ++x) row_chroma[x] = std::sqrt(std::max(row_chroma[x], 0.0f));
        for (int bx = 0; bx < nb; ++bx) {
            float s1 = 0, s2 = 0, sc = 0;
            for (int k = 0; k < kBlock; ++k) {
                s1 += row1[bx * kBlock + k];
                s2 += row2[bx * kBlock + k];
                sc += row_chroma[bx * kBlock + k];
            }
            block1[(y / kBlock) * nb + bx] += s1;
            block2[(y / kBlock) * nb + bx] += s2;
            chroma += sc;
        }
        for (int x = 0; x < N; ++x) tone[row_bin[x]] += 1;
    }
    for (int i = 0; i < nb * nb; ++i) {
        sum1 += block1[i];
        sum2 += block2[i];
    }
    const double count = static_cast<double>(N) * N;
    const double m1 = sum1 / count, m2 = sum2 / count;
    f[5] = static_cast<float>(std::sqrt(m1 * m1 + m2 * m2));
    f[6] = static_cast<float>(m1);
    f[7] = static_cast<float>(m2);
    f[8] = static_cast<float>(chroma / count);
    double spread = 0;
    const double per_block = static_cast<double>(kBlock) * kBlock;
    for (int i = 0; i < nb * nb; ++i) {
        const double d1 = block1[i] / per_block - m1, d2 = block2[i] / per_block - m2;
        spread += d1 * d1 + d2 * d2;
    }
    f[9] = static_cast<float>(std::sqrt(spread / (nb * nb)));
    const double black = histogram_percentile(tone, count, kBlackPercentile);
    const double white = histogram_percentile(tone, count, kWhitePercentile);
    f[10] = static_cast<float>(black);
    f[11] = static_cast<float>(white);
    f[12] = static_cast<float>(white - black);
    return f;
}

template ExtraFeatures analyze_extra<std::uint8_t>(const ImageView<std::uint8_t>&, const float*);
template ExtraFeatures analyze_extra<float>(const ImageView<float>&, const float*);

}  // namespace artrestore
