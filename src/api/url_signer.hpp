#pragma once
// Short-lived capability URLs (upload now; download later): an HMAC-SHA256 over what the URL
// grants and until when, under a secret shared by every node (kept in the database). Tokens
// are opaque, URL-safe, and checked in constant time.

#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::api {

struct Grant {
    std::string purpose;  // "upload" | "download"
    std::string issuer_id;
    std::string request_id;
    std::string document_id;
    Timestamp expires_at;
};

class UrlSigner {
  public:
    explicit UrlSigner(std::string secret) : secret_(std::move(secret)) {}

    std::string Sign(const Grant& grant) const;
    // kForbidden for a forged or malformed token, kGone for an expired one.
    [[nodiscard]] Result<Grant> Verify(const std::string& token, const std::string& purpose,
                                       Timestamp now) const;
    // The same without the expiry check (VerifySignerLink).
    [[nodiscard]] Result<Grant> VerifyIgnoringTime(const std::string& token,
                                                   const std::string& purpose) const;

  private:
    std::string secret_;
};

// The signer's own link into the portal ("/l/<token>"): unique per request and signer, valid
// until the request expires. The grant's document_id carries the signer id.
std::string SignerLinkPath(const UrlSigner& urls, const std::string& issuer_id,
                           const std::string& request_id, const std::string& signer_id,
                           Timestamp expires_at);
// A signer link's grant, checked for forgery and purpose but not for the time it carries:
// the request's deadline may have moved since the link was sent (PATCH expires_at), so the
// request's current expires_at closes the link (the signer-side services check it).
[[nodiscard]] Result<Grant> VerifySignerLink(const UrlSigner& urls, const std::string& token);

}  // namespace firmo::api
