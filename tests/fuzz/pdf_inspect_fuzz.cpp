// libFuzzer harness for the PDF engine's untrusted-input paths: inspection, validation against
// signature fields, and signature verification (which re-opens every signed revision).
// Built with clang (-fsanitize=fuzzer) by tests/fuzz/CMakeLists.txt under FIRMO_FUZZ.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/cms_verify.hpp"
#include "pdf/inspect.hpp"
#include "pdf/qpdf_validator.hpp"
#include "pdf/verify.hpp"

namespace {

// Smaller than production limits so one input cannot stall a fuzzing run.
firmo::pdf::PdfLimits FuzzLimits() {
    firmo::pdf::PdfLimits limits;
    limits.max_file_bytes = 4 << 20;
    limits.max_pages = 500;
    limits.max_decoded_stream_bytes = 8 << 20;
    limits.max_decoded_total_bytes = 32 << 20;
    return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const firmo::pdf::QpdfValidator validator(FuzzLimits());
    static const firmo::crypto::TrustAnchors anchors;
    static const std::vector<firmo::domain::SignatureField> fields = {
        {firmo::domain::FieldByName{"Signature1"}, {"clause", {}}},
        {firmo::domain::FieldAtPosition{0, 10, 10, 100, 50}, {"clause", {}}},
    };
    std::string_view pdf(reinterpret_cast<const char*>(data), size);

    auto report = validator.ValidateBytes(pdf, fields);
    // The report's contract: valid exactly when there is no violation.
    if (report.is_valid != report.violations.empty()) __builtin_trap();

    auto info = firmo::pdf::InspectPdfBytes(pdf, FuzzLimits());
    if (info) {
        for (const auto& page : info->pages) {
            (void)firmo::pdf::PlaceOnPage(page, 10, 10, 100, 50);
        }
    }
    firmo::pdf::VerifyOptions options;
    options.limits = FuzzLimits();
    (void)firmo::pdf::VerifyPdfBytes(pdf, anchors, options);
    return 0;
}
