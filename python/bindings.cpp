// The only file that knows about Python: NumPy arrays in, spans out, C++ exceptions to ValueError.
// Every heavy call releases the GIL; the caller's array keeps the buffer alive meanwhile.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "artrestore/analysis.hpp"
#include "artrestore/filters.hpp"
#include "artrestore/forest.hpp"
#include "artrestore/line_filter.hpp"
#include "artrestore/lines.hpp"

namespace py = pybind11;
using namespace artrestore;

namespace {

enum class Pixel { u8, f32 };

// Zero-copy view of an H x W x 3 C-contiguous uint8 or float32 array; anything else is refused
// by name (the Python layer converts grayscale, RGBA and strided views before calling here).
Pixel check_rgb(const py::array& a, const char* what) {
    if (a.ndim() != 3 || a.shape(2) != 3)
        throw py::value_error(std::string(what) + ": expected an H x W x 3 RGB array, got ndim=" +
                              std::to_string(a.ndim()));
    if (!(a.flags() & py::array::c_style))
        throw py::value_error(std::string(what) + ": array must be C-contiguous");
    if (a.shape(0) > (1 << 30) / 3 || a.shape(1) > (1 << 30) / 3)
        throw py::value_error(std::string(what) + ": image dimensions too large");
    if (a.dtype().is(py::dtype::of<std::uint8_t>())) return Pixel::u8;
    if (a.dtype().is(py::dtype::of<float>())) return Pixel::f32;
    throw py::type_error(std::string(what) + ": dtype must be uint8 or float32, got " +
                         std::string(py::str(a.dtype())));
}

template <class T>
ImageView<T> view(const py::array& a) {
    return {static_cast<const T*>(a.data()), static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1))};
}

template <class T>
py::array_t<T> like(const py::array& a) {
    return py::array_t<T>({a.shape(0), a.shape(1), a.shape(2)});
}

template <class T>
MutableImageView<T> mutable_view(py::array_t<T>& a) {
    return {a.mutable_data(), static_cast<int>(a.shape(0)), static_cast<int>(a.shape(1))};
}

ColorTransform make_transform(const std::array<float, 3>& gain, const std::array<float, 3>& offset) {
    ColorTransform t;
    t.gain = gain;
    t.offset = offset;
    return t;
}

// Runs fn<T>(view, out) with the GIL released and returns a new array of the input's dtype.
template <class Fn>
py::array map_image(const py::array& image, const char* what, Fn&& fn) {
    if (check_rgb(image, what) == Pixel::u8) {
        auto out = like<std::uint8_t>(image);
        auto in = view<std::uint8_t>(image);
        auto dst = mutable_view(out);
        {
            py::gil_scoped_release release;
            fn(in, dst);
        }
        return out;
    }
    auto out = like<float>(image);
    auto in = view<float>(image);
    auto dst = mutable_view(out);
    {
        py::gil_scoped_release release;
        fn(in, dst);
    }
    return out;
}

// True when the array's memory belongs to a Python bytes object (np.frombuffer on bytes, as the
// model files' loader returns its arrays): nothing can write to it, so it may be kept uncopied.
bool immutable_memory(const py::array& a) {
    py::object base = a.base();
    while (py::isinstance<py::array>(base)) base = py::reinterpret_borrow<py::array>(base).base();
    return base && PyBytes_Check(base.ptr());
}

// A forest over NumPy arrays, validated once: arrays in immutable memory are kept as they are (a
// model file's 15 MB are not copied at start-up), any other array is copied, so no later write by
// the caller can break what validation checked.
class Forest {
public:
    Forest(py::array_t<std::int32_t, py::array::c_style | py::array::forcecast> feature,
           py::array_t<double, py::array::c_style | py::array::forcecast> threshold,
           py::array_t<std::int32_t, py::array::c_style | py::array::forcecast> left,
           py::array_t<std::int32_t, py::array::c_style | py::array::forcecast> right,
           py::array_t<double, py::array::c_style | py::array::forcecast> value,
           py::array_t<std::int32_t, py::array::c_style | py::array::forcecast> tree_roots, int n_features)
        : feature_(keep(feature)), threshold_(keep(threshold)), left_(keep(left)), right_(keep(right)),
          value_(keep(value)), roots_(keep(tree_roots)), n_features_(n_features) {
        const auto n = static_cast<std::int64_t>(feature_.size());
        if (threshold_.size() != feature_.size() || left_.size() != feature_.size() || right_.size() != feature_.size())
            throw py::value_error("forest: node arrays differ in length");
        if (n == 0 || value_.size() % n != 0) throw py::value_error("forest: value array does not match node count");
        n_outputs_ = static_cast<std::int32_t>(value_.size() / n);
        validate_forest(forest_view());
    }

    py::array_t<double> predict(py::array_t<float, py::array::c_style | py::array::forcecast> x) const {
        if (x.ndim() != 2 || x.shape(1) != n_features_)
            throw py::value_error("forest.predict: expected an (n, " + std::to_string(n_features_) + ") array");
        const float* data = x.data();
        const auto rows = static_cast<std::int64_t>(x.shape(0));
        for (std::int64_t i = 0; i < rows * n_features_; ++i)
            if (!std::isfinite(data[i])) throw py::value_error("forest.predict: features contain NaN or infinity");
        py::array_t<double> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(n_outputs_)});
        double* dst = out.mutable_data();
        const ForestView f = forest_view();
        {
            py::gil_scoped_release release;
            predict_forest(f, data, rows, dst);
        }
        return out;
    }

    int n_trees() const { return static_cast<int>(roots_.size()); }
    int n_outputs() const { return n_outputs_; }

private:
    template <class T>
    using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

    template <class T>
    static Array<T> keep(const Array<T>& a) {
        if (immutable_memory(a)) return a;
        return Array<T>(a.size(), a.data());  // no base given: pybind11 copies the data
    }

    ForestView forest_view() const {
        return {feature_.data(), threshold_.data(), left_.data(), right_.data(), value_.data(), roots_.data(),
                static_cast<std::int64_t>(feature_.size()), static_cast<std::int32_t>(roots_.size()), n_features_,
                n_outputs_};
    }

    Array<std::int32_t> feature_;
    Array<double> threshold_;
    Array<std::int32_t> left_, right_;
    Array<double> value_;
    Array<std::int32_t> roots_;
    std::int32_t n_features_;
    std::int32_t n_outputs_ = 0;
};

// An H x W C-contiguous uint8 mask (anything else refused by name) and a uint16 array of its shape.
std::pair<py::array_t<std::uint8_t>, py::array_t<std::uint16_t>> mask_and_runs(const py::array& mask, const char* what) {
    if (mask.ndim() != 2) throw py::value_error(std::string(what) + ": expected an H x W mask, got ndim=" +
                                                std::to_string(mask.ndim()));
    if (!mask.dtype().is(py::dtype::of<std::uint8_t>()))
        throw py::type_error(std::string(what) + ": mask dtype must be uint8, got " + std::string(py::str(mask.dtype())));
    if (!(mask.flags() & py::array::c_style)) throw py::value_error(std::string(what) + ": mask must be C-contiguous");
    if (mask.shape(0) < 1 || mask.shape(1) < 1 || mask.shape(0) > (1 << 20) || mask.shape(1) > (1 << 20))
        throw py::value_error(std::string(what) + ": mask must be between 1x1 and 2^20 x 2^20 pixels");
    return {py::reinterpret_borrow<py::array_t<std::uint8_t>>(mask),
            py::array_t<std::uint16_t>({mask.shape(0), mask.shape(1)})};
}

// An H x W C-contiguous float32 luma (anything else refused by name); returns H.
int check_luma(const py::array& gray, const std::string& what) {
    if (gray.ndim() != 2) throw py::value_error(what + ": expected an H x W luma, got ndim=" + std::to_string(gray.ndim()));
    if (!gray.dtype().is(py::dtype::of<float>()))
        throw py::type_error(what + ": dtype must be float32, got " + std::string(py::str(gray.dtype())));
    if (!(gray.flags() & py::array::c_style)) throw py::value_error(what + ": array must be C-contiguous");
    if (gray.shape(0) < 1 || gray.shape(1) < 1 || gray.shape(0) > (1 << 20) || gray.shape(1) > (1 << 20))
        throw py::value_error(what + ": image must be between 1x1 and 2^20 x 2^20 pixels");
    return static_cast<int>(gray.shape(0));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "artrestore's compiled core: FFT damage features, unsharp mask, colour correction, forest routing.";
    m.attr("WORKING_SIZE") = kWorkingSize;
    m.attr("FEATURE_NAMES") = py::cast(std::vector<std::string>(kFeatureNames.begin(), kFeatureNames.end()));

    m.def("analyze", [](const py::array& image) {
        Features f;
        if (check_rgb(image, "analyze") == Pixel::u8) {
            auto in = view<std::uint8_t>(image);
            py::gil_scoped_release release;
            f = analyze(in);
        } else {
            auto in = view<float>(image);
            py::gil_scoped_release release;
            f = analyze(in);
        }
        py::array_t<float> out(kNumFeatures);
        std::copy(f.begin(), f.end(), out.mutable_data());
        return out;
    }, py::arg("image"), "The 14 damage features of an H x W x 3 uint8/float32 image, in FEATURE_NAMES order.");

    m.attr("EXTRA_FEATURE_NAMES") =
        py::cast(std::vector<std::string>(kExtraFeatureNames.begin(), kExtraFeatureNames.end()));
    m.def("analyze_routing", [](const py::array& image) {
        RoutingFeatures f;
        if (check_rgb(image, "analyze_routing") == Pixel::u8) {
            auto in = view<std::uint8_t>(image);
            py::gil_scoped_release release;
            f = analyze_routing(in);
        } else {
            auto in = view<float>(image);
            py::gil_scoped_release release;
            f = analyze_routing(in);
        }
        py::array_t<float> out(kNumFeatures + kNumExtraFeatures);
        std::copy(f.base.begin(), f.base.end(), out.mutable_data());
        std::copy(f.extra.begin(), f.extra.end(), out.mutable_data() + kNumFeatures);
        return out;
    }, py::arg("image"),
       "The 14 features then the 13 damage features (FEATURE_NAMES + EXTRA_FEATURE_NAMES) from one resampling.");

    m.def("resample_to_working", [](const py::array& image) {
        py::array_t<float> out({kWorkingSize, kWorkingSize, kChannels});
        float* dst = out.mutable_data();
        if (check_rgb(image, "resample_to_working") == Pixel::u8) {
            auto in = view<std::uint8_t>(image);
            py::gil_scoped_release release;
            resample_to_working(in, dst);
        } else {
            auto in = view<float>(image);
            py::gil_scoped_release release;
            resample_to_working(in, dst);
        }
        return out;
    }, py::arg("image"), "Area-resample to the 256 x 256 x 3 float32 [0, 1] working image the features use.");

    m.def("estimate_color_transform", [](const py::array& image, bool white_balance, bool stretch, float clip_percent) {
        ColorParams params{white_balance, stretch, clip_percent};
        ColorTransform t;
        if (check_rgb(image, "estimate_color_transform") == Pixel::u8) {
            auto in = view<std::uint8_t>(image);
            py::gil_scoped_release release;
            t = estimate_color_transform(in, params);
        } else {
            auto in = view<float>(image);
            py::gil_scoped_release release;
            t = estimate_color_transform(in, params);
        }
        return py::make_tuple(t.gain, t.offset);
    }, py::arg("image"), py::arg("white_balance") = true, py::arg("stretch") = true, py::arg("clip_percent") = 0.5f,
       "(gain[3], offset[3]) of grey-world white balance + joint percentile stretch; offsets in image units.");

    m.def("apply_color_transform", [](const py::array& image, std::array<float, 3> gain, std::array<float, 3> offset) {
        const ColorTransform t = make_transform(gain, offset);
        return map_image(image, "apply_color_transform", [&](auto in, auto out) { apply_color_transform(in, t, out); });
    }, py::arg("image"), py::arg("gain"), py::arg("offset"));

    m.def("unsharp_mask", [](const py::array& image, float sigma, float strength, float threshold) {
        const UnsharpParams p{sigma, strength, threshold};
        return map_image(image, "unsharp_mask", [&](auto in, auto out) { unsharp_mask(in, p, out); });
    }, py::arg("image"), py::arg("sigma") = 1.0f, py::arg("strength") = 1.0f, py::arg("threshold") = 0.0f);

    m.def("color_transform_sharpen", [](const py::array& image, std::array<float, 3> gain, std::array<float, 3> offset,
                                        float sigma, float strength, float threshold) {
        const ColorTransform t = make_transform(gain, offset);
        const UnsharpParams p{sigma, strength, threshold};
        return map_image(image, "color_transform_sharpen",
                         [&](auto in, auto out) { color_transform_sharpen(in, t, p, out); });
    }, py::arg("image"), py::arg("gain"), py::arg("offset"), py::arg("sigma"), py::arg("strength"),
       py::arg("threshold") = 0.0f);

    m.def("color_correct_sharpen", [](const py::array& image, bool apply_color, float sigma, float strength,
                                      float threshold, bool white_balance, bool stretch, float clip_percent) {
        const ColorParams cp{white_balance, stretch, clip_percent};
        const UnsharpParams p{sigma, strength, threshold};
        return map_image(image, "color_correct_sharpen", [&](auto in, auto out) {
            const ColorTransform t = apply_color ? estimate_color_transform(in, cp) : ColorTransform{};
            color_transform_sharpen(in, t, p, out);
        });
    }, py::arg("image"), py::arg("apply_color") = true, py::arg("sigma") = 1.0f, py::arg("strength") = 1.0f,
       py::arg("threshold") = 0.0f, py::arg("white_balance") = true, py::arg("stretch") = true,
       py::arg("clip_percent") = 0.5f,
       "Fused: estimate the colour transform (if apply_color), then colour + unsharp mask in one streaming pass.");

    m.def("gaussian_radius", &gaussian_radius, py::arg("sigma"));

    m.def("directional_runs", [](const py::array& mask, double angle_deg) {
        auto [in, out] = mask_and_runs(mask, "directional_runs");
        const int h = static_cast<int>(in.shape(0)), w = static_cast<int>(in.shape(1));
        const std::uint8_t* src = in.data();
        std::uint16_t* dst = out.mutable_data();
        {
            py::gil_scoped_release release;
            directional_runs(src, h, w, angle_deg, dst);
        }
        return out;
    }, py::arg("mask"), py::arg("angle_deg"),
       "Per pixel, the length of the run of nonzero mask pixels through it along a digital line at angle_deg.");
    m.def("oriented_runs", [](const py::array& mask, int n_angles, int max_across) {
        auto [in, out] = mask_and_runs(mask, "oriented_runs");
        const int h = static_cast<int>(in.shape(0)), w = static_cast<int>(in.shape(1));
        const std::uint8_t* src = in.data();
        std::uint16_t* dst = out.mutable_data();
        {
            py::gil_scoped_release release;
            oriented_runs(src, h, w, n_angles, max_across, dst);
        }
        return out;
    }, py::arg("mask"), py::arg("n_angles") = 12, py::arg("max_across") = 8,
       "Per pixel, the longest run along one of n_angles directions whose perpendicular run is < max_across.");

    m.def("line_responses", [](const py::array& gray, int length, int offset, int n_angles) {
        const int h = check_luma(gray, "line_responses"), w = static_cast<int>(gray.shape(1));
        const LineFilterParams p{length, offset, n_angles};
        check_line_filter_params(p);  // before n_angles sizes the output
        py::array_t<float> dark({n_angles, h, w}), light({n_angles, h, w});
        const float* src = static_cast<const float*>(gray.data());
        float* d = dark.mutable_data();
        float* l = light.mutable_data();
        {
            py::gil_scoped_release release;
            line_responses(src, h, w, p, d, l);
        }
        return py::make_tuple(dark, light);
    }, py::arg("gray"), py::arg("length") = 21, py::arg("offset") = 3, py::arg("n_angles") = 16,
       "(dark, light), each n_angles x H x W float32: per direction k * 180 / n_angles degrees, the mean "
       "along a length-px line against the same mean offset px to each side (levels of gray).");

    m.attr("LINE_FLAGS") = py::dict(py::arg("dark_above_threshold") = kDarkAboveThreshold,
                                    py::arg("light_above_threshold") = kLightAboveThreshold,
                                    py::arg("dark_above_floor") = kDarkAboveFloor,
                                    py::arg("light_above_floor") = kLightAboveFloor);
    m.def("line_flags", [](const py::array& gray, int length, int offset, int n_angles, double floor, double threshold) {
        const int h = check_luma(gray, "line_flags"), w = static_cast<int>(gray.shape(1));
        const LineFilterParams p{length, offset, n_angles};
        check_line_filter_params(p);  // before n_angles sizes the output
        py::array_t<std::uint8_t> flags({n_angles, h, w});
        const float* src = static_cast<const float*>(gray.data());
        std::uint8_t* dst = flags.mutable_data();
        {
            py::gil_scoped_release release;
            line_flags(src, h, w, p, floor, threshold, dst);
        }
        return flags;
    }, py::arg("gray"), py::arg("length"), py::arg("offset"), py::arg("n_angles"), py::arg("floor"),
       py::arg("threshold"),
       "n_angles x H x W uint8 bit flags (LINE_FLAGS) of line_responses' dark and light against floor and threshold.");

    py::class_<Forest>(m, "Forest")
        .def(py::init<py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>,
                      py::array_t<double, py::array::c_style | py::array::forcecast>,
                      py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>,
                      py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>,
                      py::array_t<double, py::array::c_style | py::array::forcecast>,
                      py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>, int>(),
             py::arg("feature"), py::arg("threshold"), py::arg("left"), py::arg("right"), py::arg("value"),
             py::arg("tree_roots"), py::arg("n_features"))
        .def("predict", &Forest::predict, py::arg("x"))
        .def_property_readonly("n_trees", &Forest::n_trees)
        .def_property_readonly("n_outputs", &Forest::n_outputs);
}
