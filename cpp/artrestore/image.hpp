// Plain views of interleaved RGB images shared by the core's modules.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace artrestore {

constexpr int kChannels = 3;

// A read-only H x W x 3 interleaved image; T is std::uint8_t (0..255) or float (0..1).
template <class T>
struct ImageView {
    const T* data;
    int height;
    int width;

    std::size_t size() const { return static_cast<std::size_t>(height) * width * kChannels; }
    const T* row(int y) const { return data + static_cast<std::size_t>(y) * width * kChannels; }
};

// A writable H x W x 3 image of the same shape as its input.
template <class T>
struct MutableImageView {
    T* data;
    int height;
    int width;
};

// Value range of a pixel type: 255 for uint8, 1 for float.
template <class T> constexpr float pixel_max();
template <> constexpr float pixel_max<std::uint8_t>() { return 255.0f; }
template <> constexpr float pixel_max<float>() { return 1.0f; }

// Throws std::invalid_argument (ValueError in Python) for shapes the core cannot process.
template <class T>
void check_image(const ImageView<T>& image, const char* what) {
    if (image.data == nullptr) throw std::invalid_argument(std::string(what) + ": image has no data");
    if (image.height < 2 || image.width < 2) {
        throw std::invalid_argument(std::string(what) + ": image must be at least 2x2 pixels, got " +
                                    std::to_string(image.height) + "x" + std::to_string(image.width));
    }
    if constexpr (std::is_same_v<T, float>) {
        const std::size_t n = image.size();
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isfinite(image.data[i])) {
                throw std::invalid_argument(std::string(what) + ": float image contains NaN or infinity at flat index " +
                                            std::to_string(i));
            }
        }
    }
}

// Mirror index into [0, n) without repeating the edge sample (OpenCV's BORDER_REFLECT_101),
// valid for any offset, including kernels wider than the image.
inline int reflect101(int i, int n) {
    if (n == 1) return 0;
    const int period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

}  // namespace artrestore
