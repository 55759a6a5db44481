#include "artrestore/filters.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace artrestore {
namespace {

constexpr float kMaxSigma = 50.0f;
constexpr float kMaxStrength = 10.0f;
// About 2^18 sampled pixels pin percentiles to well under one 8-bit level.
constexpr double kStatSamples = 262144.0;
// Guards against amplifying noise on nearly flat or extreme-cast images.
constexpr float kMinGain = 1.0f / 3.0f, kMaxGain = 3.0f;
constexpr float kMaxStretch = 8.0f;

void check_unsharp(const UnsharpParams& p) {
    if (!(p.sigma > 0.0f && p.sigma <= kMaxSigma))
        throw std::invalid_argument("sharpen sigma must be in (0, 50] pixels, got " + std::to_string(p.sigma));
    if (!(p.strength >= 0.0f && p.strength <= kMaxStrength))
        throw std::invalid_argument("sharpen strength must be in [0, 10], got " + std::to_string(p.strength));
    if (!(p.threshold >= 0.0f && p.threshold <= 255.0f))
        throw std::invalid_argument("sharpen threshold must be in [0, 255] levels, got " + std::to_string(p.threshold));
}

void check_transform(const ColorTransform& t) {
    for (int c = 0; c < 3; ++c) {
        if (!std::isfinite(t.gain[c]) || !std::isfinite(t.offset[c]))
            throw std::invalid_argument("colour transform gains and offsets must be finite");
    }
}

template <class T>
void check_output(const ImageView<T>& in, const MutableImageView<T>& out) {
    if (out.data == nullptr || out.height != in.height || out.width != in.width)
        throw std::invalid_argument("output image must have the input's shape");
}

std::vector<float> gaussian_kernel_half(float sigma, int radius) {
    std::vector<float> k(radius + 1);
    double sum = 0;
    for (int j = 0; j <= radius; ++j) {
        const double v = std::exp(-(double(j) * j) / (2.0 * double(sigma) * sigma));
        k[j] = static_cast<float>(v);
        sum += j == 0 ? v : 2 * v;
    }
    for (float& v : k) v = static_cast<float>(v / sum);
    return k;
}

template <class T>
inline T to_pixel(float v) {
    if constexpr (std::is_same_v<T, std::uint8_t>) {
        v = std::min(std::max(v, 0.0f), 255.0f);
        return static_cast<std::uint8_t>(static_cast<int>(v + 0.5f));
    } else {
        return std::min(std::max(v, 0.0f), 1.0f);
    }
}

// The transform repeated per pixel along a row, so per-element loops vectorise without a modulo.
struct RowPattern {
    std::vector<float> gain, offset;
    RowPattern(const ColorTransform& t, int width) : gain(width * kChannels), offset(width * kChannels) {
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < kChannels; ++c) {
                gain[x * kChannels + c] = t.gain[c];
                offset[x * kChannels + c] = t.offset[c];
            }
    }
};

}  // namespace

int gaussian_radius(float sigma) {
    const long ksize = std::lrint(sigma * 3.0 * 2.0 + 1.0) | 1;
    return static_cast<int>(std::max<long>(1, (ksize - 1) / 2));
}

template <class T>
ColorTransform estimate_color_transform(const ImageView<T>& image, const ColorParams& params) {
    check_image(image, "estimate_color_transform");
    if (!(params.clip_percent >= 0.0f && params.clip_percent < 25.0f))
        throw std::invalid_argument("clip_percent must be in [0, 25), got " + std::to_string(params.clip_percent));

    const double pixels = double(image.height) * image.width;
    const int step = std::max(1, static_cast<int>(std::ceil(std::sqrt(pixels / kStatSamples))));
    std::vector<double> hist(3 * 256, 0.0);
    for (int y = 0; y < image.height; y += step) {
        const T* row = image.row(y);
        for (int x = 0; x < image.width; x += step) {
            for (int c = 0; c < 3; ++c) {
                int level;
                if constexpr (std::is_same_v<T, std::uint8_t>) level = row[3 * x + c];
                else level = static_cast<int>(std::lrint(std::min(std::max(row[3 * x + c], 0.0f), 1.0f) * 255.0f));
                hist[c * 256 + level] += 1.0;
            }
        }
    }

    double channel_mean[3], samples = 0;
    for (int c = 0; c < 3; ++c) {
        double sum = 0, n = 0;
        for (int v = 0; v < 256; ++v) {
            sum += v * hist[c * 256 + v];
            n += hist[c * 256 + v];
        }
        channel_mean[c] = sum / n;
        samples = n;
    }
    const double grey = (channel_mean[0] + channel_mean[1] + channel_mean[2]) / 3.0;

    ColorTransform t;
    for (int c = 0; c < 3; ++c) {
        float gain = 1.0f;
        if (params.white_balance && channel_mean[c] >= 1.0) gain = static_cast<float>(grey / channel_mean[c]);
        t.gain[c] = std::clamp(gain, kMinGain, kMaxGain);
    }

    if (params.stretch) {
        // Percentiles of the pooled, white-balanced samples of all three channels.
        std::vector<std::pair<float, double>> pooled;
        pooled.reserve(768);
        for (int c = 0; c < 3; ++c)
            for (int v = 0; v < 256; ++v)
                if (hist[c * 256 + v] > 0) pooled.emplace_back(std::min(255.0f, t.gain[c] * v), hist[c * 256 + v]);
        std::sort(pooled.begin(), pooled.end());
        const double total = 3.0 * samples;
        const double lo_rank = total * params.clip_percent / 100.0;
        const double hi_rank = total * (1.0 - params.clip_percent / 100.0);
        float lo = pooled.front().first, hi = pooled.back().first;
        double cumulative = 0;
        bool lo_set = false;
        for (const auto& [value, n] : pooled) {
            cumulative += n;
            if (!lo_set && cumulative > lo_rank) {
                lo = value;
                lo_set = true;
            }
            if (cumulative >= hi_rank) {
                hi = value;
                break;
            }
        }
        if (hi - lo >= 1.0f) {
            const float scale = std::min(255.0f / (hi - lo), kMaxStretch);
            for (int c = 0; c < 3; ++c) {
                t.gain[c] *= scale;
                t.offset[c] = -lo * scale;
            }
        }
    }
    if constexpr (std::is_same_v<T, float>) {
        for (float& o : t.offset) o /= 255.0f;
    }
    return t;
}

template <class T>
void apply_color_transform(const ImageView<T>& image, const ColorTransform& transform, MutableImageView<T> out) {
    check_image(image, "apply_color_transform");
    check_output(image, out);
    check_transform(transform);
    const int row_len = image.width * kChannels;
    const RowPattern pattern(transform, image.width);
    const float* __restrict gain = pattern.gain.data();
    const float* __restrict offset = pattern.offset.data();
    for (int y = 0; y < image.height; ++y) {
        const T* __restrict src = image.row(y);
        T* __restrict dst = out.data + static_cast<size_t>(y) * row_len;
        for (int i = 0; i < row_len; ++i) dst[i] = to_pixel<T>(gain[i] * static_cast<float>(src[i]) + offset[i]);
    }
}

// Horizontal pass over one padded interleaved row; Radius is a compile-time constant for the
// common sigmas so the tap loop unrolls and the pixel loop vectorises in a single pass.
template <int Radius>
void blur_row(const float* __restrict p, float* __restrict dst, int n, const float* __restrict k, int radius) {
    const int r = Radius > 0 ? Radius : radius;
    for (int i = 0; i < n; ++i) {
        float acc = k[0] * p[i];
        for (int j = 1; j <= r; ++j) acc += k[j] * (p[i - j * kChannels] + p[i + j * kChannels]);
        dst[i] = acc;
    }
}

// Vertical pass fused with the colour map of the centre row and the unsharp-mask output.
// Row pointers and taps are copied to locals first: the uint8 output may alias anything, so
// without them the compiler reloads every pointer per pixel and gives up vectorising.
template <int Radius, class T>
void blur_column_and_emit(const float* const* rows, const T* __restrict src, const float* __restrict gain,
                          const float* __restrict offset, T* __restrict dst, int n, const float* k_in, int radius,
                          float strength, float threshold, float max_value) {
    constexpr int kMaxTaps = Radius > 0 ? 2 * Radius + 1 : 1;
    if constexpr (Radius > 0) {
        const float* row[kMaxTaps];
        float k[Radius + 1];
        for (int j = 0; j < kMaxTaps; ++j) row[j] = rows[j];
        for (int j = 0; j <= Radius; ++j) k[j] = k_in[j];
        for (int i = 0; i < n; ++i) {
            float blurred = k[0] * row[Radius][i];
#pragma GCC unroll 16
            for (int j = 1; j <= Radius; ++j) blurred += k[j] * (row[Radius - j][i] + row[Radius + j][i]);
            const float centre = std::min(std::max(gain[i] * static_cast<float>(src[i]) + offset[i], 0.0f), max_value);
            const float detail = centre - blurred;
            const float added = std::abs(detail) > threshold ? strength * detail : 0.0f;
            dst[i] = to_pixel<T>(centre + added);
        }
    } else {
        for (int i = 0; i < n; ++i) {
            float blurred = k_in[0] * rows[radius][i];
            for (int j = 1; j <= radius; ++j) blurred += k_in[j] * (rows[radius - j][i] + rows[radius + j][i]);
            const float centre = std::min(std::max(gain[i] * static_cast<float>(src[i]) + offset[i], 0.0f), max_value);
            const float detail = centre - blurred;
            const float added = std::abs(detail) > threshold ? strength * detail : 0.0f;
            dst[i] = to_pixel<T>(centre + added);
        }
    }
}

template <int Radius, class T>
void stream_sharpen(const ImageView<T>& image, const RowPattern& pattern, const std::vector<float>& kernel,
                    int radius, float strength, float threshold, MutableImageView<T> out) {
    const int height = image.height, width = image.width;
    const int row_len = width * kChannels;
    const int taps = 2 * radius + 1;
    const float max_value = pixel_max<T>();

    // Ring of horizontally blurred rows for virtual rows y-radius .. y+radius (reflected at the edges).
    std::vector<float> ring(static_cast<size_t>(taps) * row_len);
    std::vector<float> padded(static_cast<size_t>(width + 2 * radius) * kChannels);
    std::vector<const float*> window(taps);
    const float* gain = pattern.gain.data();
    const float* offset = pattern.offset.data();

    auto slot_of = [&](int virtual_row) { return ((virtual_row % taps) + taps) % taps; };
    auto blur_into_ring = [&](int virtual_row) {
        float* __restrict p = padded.data() + radius * kChannels;
        const T* __restrict src = image.row(reflect101(virtual_row, height));
        for (int i = 0; i < row_len; ++i)
            p[i] = std::min(std::max(gain[i] * static_cast<float>(src[i]) + offset[i], 0.0f), max_value);
        for (int x = 1; x <= radius; ++x) {
            const int left = reflect101(-x, width), right = reflect101(width - 1 + x, width);
            for (int c = 0; c < kChannels; ++c) {
                p[-x * kChannels + c] = p[left * kChannels + c];
                p[(width - 1 + x) * kChannels + c] = p[right * kChannels + c];
            }
        }
        blur_row<Radius>(p, ring.data() + static_cast<size_t>(slot_of(virtual_row)) * row_len, row_len,
                         kernel.data(), radius);
    };

    for (int v = -radius; v < radius; ++v) blur_into_ring(v);
    for (int y = 0; y < height; ++y) {
        blur_into_ring(y + radius);
        for (int j = 0; j < taps; ++j) window[j] = ring.data() + static_cast<size_t>(slot_of(y - radius + j)) * row_len;
        blur_column_and_emit<Radius, T>(window.data(), image.row(y), gain, offset,
                                        out.data + static_cast<size_t>(y) * row_len, row_len, kernel.data(), radius,
                                        strength, threshold, max_value);
    }
}

template <class T>
void color_transform_sharpen(const ImageView<T>& image, const ColorTransform& transform, const UnsharpParams& params,
                             MutableImageView<T> out) {
    check_image(image, "color_transform_sharpen");
    check_output(image, out);
    check_transform(transform);
    check_unsharp(params);

    const int radius = gaussian_radius(params.sigma);
    const std::vector<float> kernel = gaussian_kernel_half(params.sigma, radius);
    const float threshold = params.threshold * (pixel_max<T>() / 255.0f);
    const RowPattern pattern(transform, image.width);
    switch (radius) {
#define ARTRESTORE_RADIUS(R) \
    case R: return stream_sharpen<R, T>(image, pattern, kernel, radius, params.strength, threshold, out);
        ARTRESTORE_RADIUS(1) ARTRESTORE_RADIUS(2) ARTRESTORE_RADIUS(3) ARTRESTORE_RADIUS(4)
        ARTRESTORE_RADIUS(5) ARTRESTORE_RADIUS(6) ARTRESTORE_RADIUS(7) ARTRESTORE_RADIUS(8)
#undef ARTRESTORE_RADIUS
        default: return stream_sharpen<0, T>(image, pattern, kernel, radius, params.strength, threshold, out);
    }
}

template <class T>
void unsharp_mask(const ImageView<T>& image, const UnsharpParams& params, MutableImageView<T> out) {
    color_transform_sharpen(image, ColorTransform{}, params, out);
}

#define ARTRESTORE_INSTANTIATE(T)                                                                             \
    template ColorTransform estimate_color_transform<T>(const ImageView<T>&, const ColorParams&);           \
    template void apply_color_transform<T>(const ImageView<T>&, const ColorTransform&, MutableImageView<T>); \
    template void unsharp_mask<T>(const ImageView<T>&, const UnsharpParams&, MutableImageView<T>);           \
    template void color_transform_sharpen<T>(const ImageView<T>&, const ColorTransform&, const UnsharpParams&, \
                                             MutableImageView<T>);
ARTRESTORE_INSTANTIATE(std::uint8_t)
ARTRESTORE_INSTANTIATE(float)
#undef ARTRESTORE_INSTANTIATE

}  // namespace artrestore
