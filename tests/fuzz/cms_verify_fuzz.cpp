// libFuzzer harness for the CMS a PDF signature carries (/Contents): parsing, digesting and
// verification with its time-stamp token, against an empty and a self-made trust store.
// Built with clang (-fsanitize=fuzzer) by tests/fuzz/CMakeLists.txt under FIRMO_FUZZ.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/cms_verify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const firmo::crypto::TrustAnchors anchors;
    std::string_view der(reinterpret_cast<const char*>(data), size);
    auto cms = firmo::crypto::DetachedCms::Parse(der);
    if (!cms) return 0;
    (void)cms->DigestName();
    auto digest = cms->DigestOf({"signed", " ranges"});
    if (!digest) return 0;
    auto check = cms->Verify(*digest, anchors, firmo::Timestamp{});
    // Nothing is trusted without anchors.
    if (check.chain_trusted || check.timestamp_valid) __builtin_trap();
    return 0;
}
