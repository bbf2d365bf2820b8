#pragma once
// domain::TotpAuthenticator with the OATH Toolkit (liboath: RFC 6238 TOTP, HMAC-SHA-1, 30 s, 6
// digits) and crypto::Seal (AES-256-GCM) under a 32-byte key shared by the nodes. Thread-safe:
// liboath is initialised once per process and its functions keep no state. Cheap; no I/O.

#include <string>

#include "domain/ports/totp_authenticator.hpp"

namespace firmo::crypto {

inline constexpr unsigned kTotpStepSeconds = 30;
inline constexpr unsigned kTotpDigits = 6;

class OathTotp final : public domain::TotpAuthenticator {
  public:
    // `seal_key`: 32 bytes (anything else makes Seal and Open fail).
    explicit OathTotp(std::string seal_key);

    [[nodiscard]] std::optional<std::int64_t> MatchStep(std::string_view secret,
                                                        std::string_view code,
                                                        Timestamp now) const override;
    std::string Base32(std::string_view secret) const override;
    [[nodiscard]] Result<std::string> Seal(std::string_view secret,
                                           std::string_view context) const override;
    [[nodiscard]] Result<std::string> Open(std::string_view sealed,
                                           std::string_view context) const override;

  private:
    std::string seal_key_;
};

// The code of `secret` at `now` (tests, and what an authenticator app would show).
std::string TotpCode(std::string_view secret, Timestamp now);

}  // namespace firmo::crypto
