#include "crypto/totp.hpp"

#include <liboath/oath.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "crypto/seal.hpp"

namespace firmo::crypto {
namespace {

bool OathReady() {
    static const bool kReady = oath_init() == OATH_OK;
    return kReady;
}

time_t UnixSeconds(Timestamp t) {
    return static_cast<time_t>(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

struct FreeDeleter {
    // liboath allocates with malloc.
    void operator()(char* p) const {
        std::free(p);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
    }
};

}  // namespace

OathTotp::OathTotp(std::string seal_key) : seal_key_(std::move(seal_key)) {}

std::optional<std::int64_t> OathTotp::MatchStep(std::string_view secret, std::string_view code,
                                                Timestamp now) const {
    if (!OathReady() || secret.empty() || code.size() != kTotpDigits ||
        !std::all_of(code.begin(), code.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
        return std::nullopt;
    }
    const std::string otp(code);
    int position = 0;
    std::uint64_t step = 0;
    const int rc =
        oath_totp_validate3(secret.data(), secret.size(), UnixSeconds(now), kTotpStepSeconds, 0,
                            /*window=*/1, &position, &step, otp.c_str());
    if (rc < 0) return std::nullopt;
    return static_cast<std::int64_t>(step);
}

std::string OathTotp::Base32(std::string_view secret) const {
    if (!OathReady()) return {};
    char* out = nullptr;
    std::size_t length = 0;
    if (oath_base32_encode(secret.data(), secret.size(), &out, &length) != OATH_OK) return {};
    const std::unique_ptr<char, FreeDeleter> owned(out);
    std::string text(out, length);
    while (!text.empty() && text.back() == '=') text.pop_back();
    return text;
}

Result<std::string> OathTotp::Seal(std::string_view secret, std::string_view context) const {
    return crypto::Seal(seal_key_, secret, context);
}

Result<std::string> OathTotp::Open(std::string_view sealed, std::string_view context) const {
    return crypto::Open(seal_key_, sealed, context);
}

std::string TotpCode(std::string_view secret, Timestamp now) {
    if (!OathReady()) return {};
    char otp[kTotpDigits + 1] = {};
    if (oath_totp_generate(secret.data(), secret.size(), UnixSeconds(now), kTotpStepSeconds, 0,
                           kTotpDigits, otp) != OATH_OK) {
        return {};
    }
    return std::string(otp, kTotpDigits);
}

}  // namespace firmo::crypto
