#include "artrestore/fft_plan_cache.hpp"

#include <stdexcept>

namespace artrestore {

FftPlanCache& FftPlanCache::instance() {
    static FftPlanCache cache;
    return cache;
}

FftPlanCache::~FftPlanCache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& entry : plans_) fftwf_destroy_plan(entry.second);
    plans_.clear();
}

fftwf_plan FftPlanCache::r2c(int height, int width) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto key = std::make_pair(height, width);
    auto found = plans_.find(key);
    if (found != plans_.end()) return found->second;

    // FFTW_ESTIMATE, not MEASURE: the plan (and so every rounding) must not depend on timings, or
    // features, and the router trained on them, would not be reproducible bit for bit.
    float* in = fftwf_alloc_real(static_cast<size_t>(height) * width);
    fftwf_complex* out = fftwf_alloc_complex(static_cast<size_t>(height) * (width / 2 + 1));
    if (in == nullptr || out == nullptr) {
        fftwf_free(in);
        fftwf_free(out);
        throw std::bad_alloc();
    }
    fftwf_plan plan = fftwf_plan_dft_r2c_2d(height, width, in, out, FFTW_ESTIMATE);
    fftwf_free(in);
    fftwf_free(out);
    if (plan == nullptr) throw std::runtime_error("FFTW could not create a plan");
    plans_.emplace(key, plan);
    return plan;
}

}  // namespace artrestore
