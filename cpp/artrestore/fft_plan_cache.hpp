// Cache of single-precision FFTW plans, one per 2-D real-to-complex shape.
#pragma once

#include <fftw3.h>

#include <map>
#include <mutex>
#include <utility>

namespace artrestore {

// FFTW's planner is not thread-safe, but executing a finished plan on new arrays is, so plans
// are created once under a mutex and then shared by every thread. Arrays passed to a plan
// must come from fftwf_alloc_* so they have the alignment the plan was made for.
class FftPlanCache {
public:
    static FftPlanCache& instance();

    // A forward r2c plan for a height x width real array (output height x (width/2+1) complex).
    fftwf_plan r2c(int height, int width);

    FftPlanCache(const FftPlanCache&) = delete;
    FftPlanCache& operator=(const FftPlanCache&) = delete;

private:
    FftPlanCache() = default;
    ~FftPlanCache();

    std::mutex mutex_;
    std::map<std::pair<int, int>, fftwf_plan> plans_;
};

}  // namespace artrestore
