#include "artrestore/analysis.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "artrestore/damage_features.hpp"
#include "artrestore/fft_plan_cache.hpp"

namespace artrestore {
namespace {

constexpr int N = kWorkingSize;
constexpr double kPi = 3.14159265358979323846;

// Spectral bands, in units of the Nyquist frequency (r = 1 at Nyquist along an axis).
constexpr double kLowBandMax = 0.125;
constexpr double kHighBandMin = 0.25;
constexpr double kRadialHalfWidth = 1.0 / 32.0;

// sharpening_need maps the fitted power-law exponent alpha linearly onto [0, 1]: sharp
// photographs and paintings measure alpha ~ 2-3 at the working resolution, a Gaussian blur
// of sigma 1.5 working pixels pushes it past 6.
constexpr double kSharpAlpha = 2.5;
constexpr double kBlurredAlpha = 6.5;
// color_balance_need reaches 1 when the channel means deviate by this fraction of their mean.
constexpr double kFullCastDeviation = 0.5;

// One axis of an area resampler: output i averages the input interval [i*s, (i+1)*s).
struct AreaAxis {
    std::vector<int> first;      // first input index of output i
    std::vector<int> count;      // number of inputs of output i
    std::vector<int> offset;     // index of output i's first weight in weights
    std::vector<float> weights;  // overlap / s, summing to 1 per output

    AreaAxis(int in_size, int out_size) : first(out_size), count(out_size), offset(out_size) {
        const double scale = static_cast<double>(in_size) / out_size;
        for (int i = 0; i < out_size; ++i) {
            const double lo = i * scale, hi = (i + 1) * scale;
            const int start = static_cast<int>(std::floor(lo));
            const int stop = std::min(in_size, static_cast<int>(std::ceil(hi)));
            first[i] = start;
            offset[i] = static_cast<int>(weights.size());
            for (int k = start; k < stop; ++k) {
                const double overlap = std::min<double>(k + 1, hi) - std::max<double>(k, lo);
                if (overlap > 1e-9) weights.push_back(static_cast<float>(overlap / scale));
                else if (k == start) ++first[i];
            }
            count[i] = static_cast<int>(weights.size()) - offset[i];
        }
    }
};

// Thread-local scratch so concurrent calls neither allocate nor share buffers.
struct Scratch {
    std::vector<float> working = std::vector<float>(N * N * kChannels);
    std::vector<float> row_accumulator;
    float* spectrum_in = fftwf_alloc_real(N * N);
    fftwf_complex* spectrum_out = fftwf_alloc_complex(N * (N / 2 + 1));
    std::vector<float> hann = make_hann();

    Scratch() {
        if (spectrum_in == nullptr || spectrum_out == nullptr) throw std::bad_alloc();
    }
    ~Scratch() {
        fftwf_free(spectrum_in);
        fftwf_free(spectrum_out);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

    static std::vector<float> make_hann() {
        std::vector<float> w(N);
        for (int n = 0; n < N; ++n) w[n] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * n / N));
        return w;
    }
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

// Where each half-spectrum bin of the N x N transform falls: radial band (slots 0-4: centre, 25 %,
// 50 %, 75 %, edge) and range (low or high energy band), with its multiplicity (columns
// 1..N/2-1 stand for their mirror images too). DC gets multiplicity 0: it is zero after mean
// removal and excluded from every sum.
struct SpectrumTable {
    static constexpr int kLow = 5, kHigh = 6, kNone = 7, kSlots = 8;
    std::vector<float> multiplicity;
    std::vector<std::uint8_t> band_slot, range_slot;
    double band_bins[5] = {0, 0, 0, 0, 0};
    double total_bins = 0;

    SpectrumTable() {
        constexpr int half = N / 2 + 1;
        multiplicity.resize(N * half);
        band_slot.resize(N * half);
        range_slot.resize(N * half);
        const double centres[5] = {0.0, 0.25, 0.5, 0.75, 1.0};
        for (int ky = 0; ky < N; ++ky) {
            const double fy = ky < N / 2 ? ky : ky - N;
            for (int kx = 0; kx < half; ++kx) {
                const int i = ky * half + kx;
                const double r = std::sqrt(fy * fy + double(kx) * kx) / (N / 2);
                const bool dc = ky == 0 && kx == 0;
                multiplicity[i] = dc ? 0.0f : (kx == 0 || kx == N / 2) ? 1.0f : 2.0f;
                range_slot[i] = dc ? kNone : r <= kLowBandMax ? kLow : r > kHighBandMin ? kHigh : kNone;
                band_slot[i] = kNone;
                for (int b = 0; b < 5 && !dc; ++b) {
                    const bool in_band = b == 0 ? r <= 2 * kRadialHalfWidth
                                       : b == 4 ? (r > 1.0 - 2 * kRadialHalfWidth && r <= 1.0)
                                                : std::abs(r - centres[b]) <= kRadialHalfWidth;
                    if (in_band) band_slot[i] = static_cast<std::uint8_t>(b);
                }
                if (band_slot[i] != kNone) band_bins[band_slot[i]] += multiplicity[i];
                total_bins += multiplicity[i];
            }
        }
    }
};

const SpectrumTable& spectrum_table() {
    static const SpectrumTable table;  // built once; C++11 static init is thread-safe
    return table;
}

template <class T>
void resample_into(const ImageView<T>& image, float* out, std::vector<float>& acc) {
    const AreaAxis rows(image.height, N);
    const AreaAxis cols(image.width, N);
    const int row_len = image.width * kChannels;
    acc.assign(row_len, 0.0f);
    const float to_unit = 1.0f / pixel_max<T>();

    for (int oy = 0; oy < N; ++oy) {
        // Vertical first: every input row is touched once or twice, in contiguous SIMD-friendly loops.
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int k = 0; k < rows.count[oy]; ++k) {
            const float w = rows.weights[rows.offset[oy] + k] * to_unit;
            const T* src = image.row(rows.first[oy] + k);
            float* a = acc.data();
            for (int i = 0; i < row_len; ++i) a[i] += w * static_cast<float>(src[i]);
        }
        float* dst = out + static_cast<size_t>(oy) * N * kChannels;
        for (int ox = 0; ox < N; ++ox) {
            float r = 0.f, g = 0.f, b = 0.f;
            const float* a = acc.data() + static_cast<size_t>(cols.first[ox]) * kChannels;
            const float* w = cols.weights.data() + cols.offset[ox];
            for (int k = 0; k < cols.count[ox]; ++k) {
                r += w[k] * a[3 * k];
                g += w[k] * a[3 * k + 1];
                b += w[k] * a[3 * k + 2];
            }
            dst[3 * ox] = r;
            dst[3 * ox + 1] = g;
            dst[3 * ox + 2] = b;
        }
    }
}

}  // namespace

template <class T>
void resample_to_working(const ImageView<T>& image, float* out) {
    check_image(image, "resample_to_working");
    std::vector<float> acc;
    resample_into(image, out, acc);
}

namespace {

// The 14 features of a working image (N x N x 3 in [0, 1]) held in s.working.
Features features_of_working(Scratch& s) {
    const float* rgb = s.working.data();

    // Luminance (Rec. 601) and channel means.
    double channel_sum[3] = {0, 0, 0};
    float* luma = s.spectrum_in;
    double luma_sum = 0;
    for (int i = 0; i < N * N; ++i) {
        const float r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        channel_sum[0] += r;
        channel_sum[1] += g;
        channel_sum[2] += b;
        const float y = 0.299f * r + 0.587f * g + 0.114f * b;
        luma[i] = y;
        luma_sum += y;
    }
    const double count = static_cast<double>(N) * N;
    const double mean = luma_sum / count;

    // Central moments, then the mean-removed, Hann-windowed luminance for the FFT (in place).
    double m2 = 0, m3 = 0, m4 = 0;
    for (int y = 0; y < N; ++y) {
        const float wy = s.hann[y];
        float* row = luma + y * N;
        for (int x = 0; x < N; ++x) {
            const double d = row[x] - mean;
            const double d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
            row[x] = static_cast<float>(d) * wy * s.hann[x];
        }
    }
    m2 /= count;
    m3 /= count;
    m4 /= count;
    const double std_dev = std::sqrt(m2);
    const bool flat = std_dev < 1e-6;
    const double skewness = flat ? 0.0 : m3 / (m2 * std_dev);
    const double kurtosis = flat ? 0.0 : m4 / (m2 * m2) - 3.0;

    fftwf_execute_dft_r2c(FftPlanCache::instance().r2c(N, N), s.spectrum_in, s.spectrum_out);

    // One pass over the half spectrum with a precomputed bin table (no sqrt or branches per bin).
    const SpectrumTable& table = spectrum_table();
    constexpr int half = N / 2 + 1;
    double sums[SpectrumTable::kSlots] = {};
    double total = 0;
    for (int i = 0; i < N * half; ++i) {
        const double power = table.multiplicity[i] *
                             (double(s.spectrum_out[i][0]) * s.spectrum_out[i][0] +
                              double(s.spectrum_out[i][1]) * s.spectrum_out[i][1]);
        total += power;
        sums[table.band_slot[i]] += power;
        sums[table.range_slot[i]] += power;
    }
    const double low = sums[SpectrumTable::kLow], high = sums[SpectrumTable::kHigh];
    const double* band_power = sums;  // slots 0..4 are the radial bands
    const double* band_bins = table.band_bins;
    const double total_bins = table.total_bins;

    Features f{};
    f[0] = static_cast<float>(mean);
    f[1] = static_cast<float>(std_dev);
    f[2] = static_cast<float>(skewness);
    f[3] = static_cast<float>(kurtosis);
    double radial_db[5] = {0, 0, 0, 0, 0};
    if (total > 0) {
        f[4] = static_cast<float>(low / total);
        f[5] = static_cast<float>(high / total);
        f[6] = static_cast<float>((high / total) / (low / total + 1e-6));
        const double mean_power = total / total_bins;
        // A tiny floor keeps log10 finite for band-limited synthetic images.
        const double floor_power = mean_power * 1e-12;
        for (int b = 0; b < 5; ++b) {
            radial_db[b] = 10.0 * std::log10((band_power[b] / band_bins[b] + floor_power) / mean_power);
            f[7 + b] = static_cast<float>(radial_db[b]);
        }
    }
    const double channel_mean[3] = {channel_sum[0] / count, channel_sum[1] / count, channel_sum[2] / count};
    const double grey = (channel_mean[0] + channel_mean[1] + channel_mean[2]) / 3.0;
    double spread = 0;
    for (double m : channel_mean) spread += (m - grey) * (m - grey);
    const double cast = std::sqrt(spread / 3.0) / std::max(grey, 1.0 / 255.0);
    f[12] = static_cast<float>(std::clamp(cast / kFullCastDeviation, 0.0, 1.0));
    if (total > 0) {
        // Power-law exponent between a quarter and three quarters of Nyquist: P ~ r^-alpha.
        const double alpha = -(radial_db[3] - radial_db[1]) / (10.0 * std::log10(3.0));
        f[13] = static_cast<float>(std::clamp((alpha - kSharpAlpha) / (kBlurredAlpha - kSharpAlpha), 0.0, 1.0));
    }
    return f;
}

}  // namespace

template <class T>
Features analyze(const ImageView<T>& image) {
    check_image(image, "analyze");
    Scratch& s = scratch();
    resample_into(image, s.working.data(), s.row_accumulator);
    return features_of_working(s);
}

template <class T>
RoutingFeatures analyze_routing(const ImageView<T>& image) {
    check_image(image, "analyze_routing");
    Scratch& s = scratch();
    resample_into(image, s.working.data(), s.row_accumulator);
    RoutingFeatures out;
    out.base = features_of_working(s);
    out.extra = analyze_extra(image, s.working.data());
    return out;
}

template void resample_to_working<std::uint8_t>(const ImageView<std::uint8_t>&, float*);
template void resample_to_working<float>(const ImageView<float>&, float*);
template Features analyze<std::uint8_t>(const ImageView<std::uint8_t>&);
template Features analyze<float>(const ImageView<float>&);
template RoutingFeatures analyze_routing<std::uint8_t>(const ImageView<std::uint8_t>&);
template RoutingFeatures analyze_routing<float>(const ImageView<float>&);

}  // namespace artrestore
