#pragma once
// Fakes of the ports the domain services' tests do not run for real: a validator that accepts
// every PDF, a code sender that keeps the codes, a trust service and a document signer that
// need no keys or PDF engine.

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "domain/ports/code_sender.hpp"
#include "domain/ports/document_signer.hpp"
#include "domain/ports/document_validator.hpp"
#include "domain/ports/trust_service.hpp"

namespace firmo::domain::fixtures {

class AcceptingValidator final : public DocumentValidator {
  public:
    ValidationReport ValidateFile(const std::filesystem::path&,
                                  const std::vector<SignatureField>&) const override {
        return {true, 1, {}};
    }
    ValidationReport ValidateBytes(std::string_view,
                                   const std::vector<SignatureField>&) const override {
        return {true, 1, {}};
    }
};

// Keeps every code it is asked to send.
class CapturingCodeSender final : public CodeSender {
  public:
    Result<void> Send(const CodeMessage& message) override {
        if (fail) return Fail(ErrorCode::kUnavailable, "sender down");
        sent.push_back(message);
        return {};
    }
    const CodeMessage& last() const { return sent.back(); }

    std::vector<CodeMessage> sent;
    bool fail = false;
};

class FakeSigningSession final : public SigningSession {
  public:
    Result<std::string> SignDigest(std::string_view sha256) override {
        return "CMS(" + std::string(sha256) + ")";
    }
    std::size_t MaxSignatureSize() const override { return 64; }
    std::string CertificateDer() const override { return "CERT"; }
};

class FakeTrustService final : public TrustService {
  public:
    Result<std::unique_ptr<SigningSession>> OpenSession(const SignerIdentity& signer) override {
        std::lock_guard lock(mu_);
        if (fail) return Fail(ErrorCode::kUnavailable, "trust service down");
        identities.push_back(signer);
        return std::unique_ptr<SigningSession>(new FakeSigningSession);
    }

    std::vector<SignerIdentity> identities;
    bool fail = false;

  private:
    std::mutex mu_;
};

// "Signs" by copying the input and appending one marker line, so no PDF engine is needed.
class MarkerDocumentSigner final : public DocumentSigner {
  public:
    struct Call {
        SignatureField field;
        SignatureDetails details;
    };

    Result<void> SignFile(const std::filesystem::path& in, const std::filesystem::path& out,
                          const SignatureField& field, const SignatureDetails& details,
                          SigningSession& session) const override {
        if (in == out) return Fail(ErrorCode::kInternal, "in == out");
        if (before_sign) before_sign();
        std::ifstream src(in, std::ios::binary);
        std::string bytes(std::istreambuf_iterator<char>(src), {});
        FIRMO_TRY(auto cms, session.SignDigest("digest"));
        bytes += "%signed by " + details.signer_name + " for '" + field.clause.title + "'" +
                 (details.visible ? "" : " invisibly") + "\n";
        std::ofstream dst(out, std::ios::binary);
        dst << bytes;
        if (!dst) return Fail(ErrorCode::kInternal, "cannot write");
        calls.push_back({field, details});
        return {};
    }

    mutable std::vector<Call> calls;
    std::function<void()> before_sign;  // runs inside SignFile (to race a concurrent signer)
};

}  // namespace firmo::domain::fixtures
