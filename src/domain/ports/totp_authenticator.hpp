#pragma once
// Port: the sender portal's optional second factor, a TOTP code (RFC 6238: HMAC-SHA-1, 30 s
// steps, 6 digits: what authenticator apps accept), and the sealing of its shared secret at rest
// (a stolen database alone does not give the codes). Implemented in src/crypto (OATH Toolkit for
// the arithmetic, AES-GCM for the seal). Thread-safe and cheap (no I/O).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::domain {

class TotpAuthenticator {
  public:
    virtual ~TotpAuthenticator() = default;
    TotpAuthenticator() = default;
    TotpAuthenticator(const TotpAuthenticator&) = delete;
    TotpAuthenticator& operator=(const TotpAuthenticator&) = delete;

    // The time step a 6-digit `code` belongs to, if it is the secret's code of the step of `now`
    // or of one step before or after (clocks drift; a code typed at a step's end): the caller
    // refuses a step it accepted before (a code is good once). nullopt for any other code.
    [[nodiscard]] virtual std::optional<std::int64_t> MatchStep(std::string_view secret,
                                                                std::string_view code,
                                                                Timestamp now) const = 0;
    // RFC 4648 base32 without padding, as typed into an app or put in an otpauth:// URI.
    virtual std::string Base32(std::string_view secret) const = 0;
    // The stored form of `secret`, bound to `context` (the account): opening it under another
    // context fails.
    [[nodiscard]] virtual Result<std::string> Seal(std::string_view secret,
                                                   std::string_view context) const = 0;
    [[nodiscard]] virtual Result<std::string> Open(std::string_view sealed,
                                                   std::string_view context) const = 0;
};

}  // namespace firmo::domain
