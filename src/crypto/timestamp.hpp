#pragma once
// RFC 3161 time-stamps for PAdES B-T: a time-stamp token over the signature value, added to the
// CMS as the unsigned attribute signature-time-stamp (id-aa-signatureTimeStampToken), so the
// signing time is proven by a TSA instead of claimed. The TSA is reached through a small
// interface: HTTP (RFC 3161 section 3.4) in production, a local stand-in in tests.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/random.hpp"
#include "domain/ports/trust_service.hpp"

namespace firmo::crypto {

class TimestampAuthority {
  public:
    virtual ~TimestampAuthority() = default;
    TimestampAuthority() = default;
    TimestampAuthority(const TimestampAuthority&) = delete;
    TimestampAuthority& operator=(const TimestampAuthority&) = delete;
    // Sends a DER TimeStampReq, returns the DER TimeStampResp. Thread-safe; blocking.
    [[nodiscard]] virtual Result<std::string> Exchange(std::string_view request) = 0;
};

// POSTs application/timestamp-query to `url` (libcurl).
class HttpTimestampAuthority final : public TimestampAuthority {
  public:
    explicit HttpTimestampAuthority(std::string url,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
    [[nodiscard]] Result<std::string> Exchange(std::string_view request) override;

  private:
    std::string url_;
    std::chrono::milliseconds timeout_;
};

// A time-stamp token (DER ContentInfo) over `sha256`, checked against the request (status,
// imprint, nonce). kUnavailable when the TSA cannot be reached or refuses.
[[nodiscard]] Result<std::string> RequestTimestampToken(TimestampAuthority& tsa,
                                                        std::string_view sha256, Random& random);

// `cms` (DER SignedData, one signer) with a signature time-stamp added.
[[nodiscard]] Result<std::string> AddSignatureTimestamp(std::string_view cms,
                                                        TimestampAuthority& tsa, Random& random);

// Wraps a signing session so that every signature it makes is time-stamped (B-B -> B-T).
class TimestampingSession final : public domain::SigningSession {
  public:
    // `token_reserve`: room for the token in the PDF (TSA certificates included).
    TimestampingSession(std::unique_ptr<domain::SigningSession> inner,
                        std::shared_ptr<TimestampAuthority> tsa, Random& random,
                        std::size_t token_reserve = 8192);
    [[nodiscard]] Result<std::string> SignDigest(std::string_view sha256) override;
    std::size_t MaxSignatureSize() const override;
    std::string CertificateDer() const override { return inner_->CertificateDer(); }

  private:
    std::unique_ptr<domain::SigningSession> inner_;
    std::shared_ptr<TimestampAuthority> tsa_;
    Random& random_;
    std::size_t token_reserve_;
};

// A "session" whose signature is an RFC 3161 token over the digest itself: what a document
// time-stamp (/SubFilter /ETSI.RFC3161) holds in /Contents.
class DocumentTimestampSession final : public domain::SigningSession {
  public:
    // `reserve`: room for the token in the PDF (TSA certificates included).
    DocumentTimestampSession(TimestampAuthority& tsa, Random& random, std::size_t reserve = 16384)
        : tsa_(tsa), random_(random), reserve_(reserve) {}
    [[nodiscard]] Result<std::string> SignDigest(std::string_view sha256) override {
        return RequestTimestampToken(tsa_, sha256, random_);
    }
    std::size_t MaxSignatureSize() const override { return reserve_; }
    std::string CertificateDer() const override { return {}; }

  private:
    TimestampAuthority& tsa_;
    Random& random_;
    std::size_t reserve_;
};

}  // namespace firmo::crypto
