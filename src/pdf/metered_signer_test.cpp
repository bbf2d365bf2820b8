#include "pdf/metered_signer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace firmo::pdf {
namespace {

struct ScriptedSigner final : domain::DocumentSigner {
    mutable Result<void> next;
    mutable int calls = 0;
    Result<void> SignFile(const std::filesystem::path&, const std::filesystem::path&,
                          const domain::SignatureField&, const domain::SignatureDetails&,
                          domain::SigningSession&) const override {
        ++calls;
        return next;
    }
};

struct NoSession final : domain::SigningSession {
    Result<std::string> SignDigest(std::string_view) override { return std::string(); }
    std::size_t MaxSignatureSize() const override { return 0; }
    std::string CertificateDer() const override { return {}; }
};

TEST(MeteredSigner, TimesEachSignatureByOutcomeAndPassesTheResultOn) {
    metrics::Registry registry;
    ScriptedSigner inner;
    MeteredSigner signer(inner, registry);
    NoSession session;
    const domain::SignatureField field{.attrs = domain::FieldByName{"Signature1"}};
    EXPECT_TRUE(signer.SignFile("in.pdf", "out.pdf", field, {}, session));
    EXPECT_TRUE(signer.SignFile("in.pdf", "out.pdf", field, {}, session));
    inner.next = Fail(ErrorCode::kMalformed, "broken xref");
    auto failed = signer.SignFile("in.pdf", "out.pdf", field, {}, session);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().message, "broken xref");
    EXPECT_EQ(inner.calls, 3);

    const std::string text = registry.Render();
    EXPECT_NE(text.find("# TYPE firmo_signing_duration_seconds histogram\n"), std::string::npos);
    EXPECT_NE(text.find("firmo_signing_duration_seconds_count{outcome=\"signed\"} 2\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("firmo_signing_duration_seconds_count{outcome=\"failed\"} 1\n"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace firmo::pdf
