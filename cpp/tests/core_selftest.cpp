// Exercises every core entry point on random shapes and values; built with sanitizers in CI
// (cmake -DARTRESTORE_SANITIZE=ON -DARTRESTORE_BUILD_TESTS=ON) to catch leaks, overflows and UB.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "artrestore/analysis.hpp"
#include "artrestore/filters.hpp"
#include "artrestore/forest.hpp"
#include "artrestore/line_filter.hpp"
#include "artrestore/lines.hpp"

using namespace artrestore;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                        \
        }                                                                        \
    } while (0)

template <class T>
std::vector<T> random_image(std::mt19937& rng, int h, int w) {
    std::vector<T> data(static_cast<size_t>(h) * w * 3);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (auto& v : data) v = std::is_same_v<T, float> ? static_cast<T>(u(rng)) : static_cast<T>(u(rng) * 255.0f);
    return data;
}

template <class T>
void exercise(std::mt19937& rng, int h, int w) {
    auto data = random_image<T>(rng, h, w);
    ImageView<T> in{data.data(), h, w};
    std::vector<T> out(data.size());
    MutableImageView<T> dst{out.data(), h, w};
    Features f = analyze(in);
    for (float v : f) CHECK(std::isfinite(v));
    ColorTransform t = estimate_color_transform(in, ColorParams{});
    apply_color_transform(in, t, dst);
    for (float sigma : {0.3f, 1.0f, 2.0f, 7.5f}) {
        unsharp_mask(in, UnsharpParams{sigma, 1.5f, 0.0f}, dst);
        color_transform_sharpen(in, t, UnsharpParams{sigma, 0.0f, 0.0f}, dst);
        // Strength 0 equals the plain colour transform.
        std::vector<T> colour_only(data.size());
        apply_color_transform(in, t, MutableImageView<T>{colour_only.data(), h, w});
        for (size_t i = 0; i < out.size(); ++i) CHECK(std::abs(float(out[i]) - float(colour_only[i])) <= pixel_max<T>() / 255.0f);
    }
}

int main() {
    std::mt19937 rng(1234);
    const int shapes[][2] = {{2, 2}, {2, 9}, {9, 2}, {3, 1000}, {255, 257}, {256, 256}, {513, 301}, {1024, 17}};
    for (const auto& s : shapes) {
        exercise<std::uint8_t>(rng, s[0], s[1]);
        exercise<float>(rng, s[0], s[1]);
    }
    // Bad input raises instead of crashing.
    std::vector<std::uint8_t> one(3);
    bool threw = false;
    try { analyze(ImageView<std::uint8_t>{one.data(), 1, 1}); } catch (const std::invalid_argument&) { threw = true; }
    CHECK(threw);
    std::vector<float> nan_image(12, 0.0f);
    nan_image[5] = std::nanf("");
    threw = false;
    try { analyze(ImageView<float>{nan_image.data(), 2, 2}); } catch (const std::invalid_argument&) { threw = true; }
    CHECK(threw);

    // A two-tree forest: predictions are the mean of the leaves; a cycle is refused.
    std::vector<std::int32_t> feature{0, 0, 0, 1, 0, 0}, left{1, -1, -1, 4, -1, -1}, right{2, -1, -1, 5, -1, -1};
    std::vector<double> threshold{0.5, 0, 0, 0.0, 0, 0}, value{0, 1, 3, 0, 10, 20};
    std::vector<std::int32_t> roots{0, 3};
    ForestView forest{feature.data(), threshold.data(), left.data(), right.data(), value.data(), roots.data(), 6, 2, 2, 1};
    validate_forest(forest);
    float x[2] = {0.0f, 1.0f};
    double y = 0;
    predict_forest(forest, x, 1, &y);
    CHECK(y == (1.0 + 20.0) / 2.0);
    left[0] = 0;
    threw = false;
    try { validate_forest(forest); } catch (const std::invalid_argument&) { threw = true; }
    CHECK(threw);

    // Oriented runs on random masks of every shape class: runs stay within the mask's extent, an
    // all-ones mask has full-length runs along rows, empty masks give zeros, bad arguments throw.
    for (const auto& s : shapes) {
        const int h = s[0], w = s[1];
        std::vector<std::uint8_t> mask(static_cast<size_t>(h) * w);
        std::bernoulli_distribution coin(0.3);
        for (auto& m : mask) m = coin(rng);
        std::vector<std::uint16_t> runs(mask.size());
        for (double angle : {0.0, 7.5, 45.0, 89.0, 90.0, 135.0, 172.5}) {
            directional_runs(mask.data(), h, w, angle, runs.data());
            for (size_t i = 0; i < mask.size(); ++i) CHECK((runs[i] == 0) == (mask[i] == 0) && runs[i] <= h + w);
        }
        oriented_runs(mask.data(), h, w, 24, 5, runs.data());
        for (size_t i = 0; i < mask.size(); ++i) CHECK(mask[i] || runs[i] == 0);
        std::fill(mask.begin(), mask.end(), std::uint8_t{1});
        directional_runs(mask.data(), h, w, 0.0, runs.data());
        for (auto r : runs) CHECK(r == w);
    }
    threw = false;
    try { oriented_runs(one.data(), 1, 3, 7, 3, nullptr); } catch (const std::invalid_argument&) { threw = true; }
    CHECK(threw);

    // Line responses on every shape class (long kernels on tiny images read only replicated edges):
    // finite everywhere, a flat image responds 0, a dark row responds by its contrast, and the
    // flags agree with the responses; bad parameters throw.
    for (const auto& s : shapes) {
        const int h = s[0], w = s[1];
        std::vector<float> gray(static_cast<size_t>(h) * w);
        std::uniform_real_distribution<float> level(0.0f, 255.0f);
        for (auto& v : gray) v = level(rng);
        const LineFilterParams p{21, 3, 16};
        std::vector<float> dark(gray.size() * 16), light(gray.size() * 16);
        std::vector<std::uint8_t> flags(gray.size() * 16);
        line_responses(gray.data(), h, w, p, dark.data(), light.data());
        line_flags(gray.data(), h, w, p, 10.0, 5.0, flags.data());
        for (size_t i = 0; i < dark.size(); ++i) {
            CHECK(std::isfinite(dark[i]) && std::isfinite(light[i]));
            CHECK(((flags[i] & kDarkAboveThreshold) != 0) == (dark[i] > 5.0));
            CHECK(((flags[i] & kLightAboveFloor) != 0) == (light[i] > 10.0));
        }
        std::fill(gray.begin(), gray.end(), 100.0f);
        if (h > 8) std::fill(gray.begin() + static_cast<size_t>(h / 2) * w, gray.begin() + static_cast<size_t>(h / 2 + 1) * w, 40.0f);
        line_responses(gray.data(), h, w, p, dark.data(), light.data());
        if (h > 8) CHECK(std::abs(dark[static_cast<size_t>(h / 2) * w + w / 2] - 60.0f) < 1e-3f);  // direction 0: along the row
        else for (float v : dark) CHECK(std::abs(v) < 1e-3f);
    }
    for (const LineFilterParams bad : {LineFilterParams{20, 3, 16}, LineFilterParams{21, 0, 16}, LineFilterParams{21, 3, 0}}) {
        threw = false;
        try { check_line_filter_params(bad); } catch (const std::invalid_argument&) { threw = true; }
        CHECK(threw);
    }

    // Plan cache under contention.
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([t] {
            std::mt19937 local(t);
            for (int k = 0; k < 5; ++k) exercise<std::uint8_t>(local, 64 + 31 * t, 200 - 7 * k);
        });
    for (auto& th : threads) th.join();
    std::puts("core selftest: 1 passed, 0 failed");
    return 0;
}
