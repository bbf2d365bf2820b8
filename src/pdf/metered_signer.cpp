#include "pdf/metered_signer.hpp"

#include <chrono>

namespace firmo::pdf {

namespace {

metrics::Family<metrics::Histogram>& SigningSeconds(metrics::Registry& registry) {
    return registry.AddHistogramFamily(
        "firmo_signing_duration_seconds",
        "Time to sign one document once (the PDF's incremental update and the signature value), "
        "by outcome (signed, failed).",
        {"outcome"});
}

}  // namespace

MeteredSigner::MeteredSigner(const domain::DocumentSigner& inner, metrics::Registry& registry)
    : inner_(inner),
      signed_(SigningSeconds(registry).With({"signed"})),
      failed_(SigningSeconds(registry).With({"failed"})) {}

Result<void> MeteredSigner::SignFile(const std::filesystem::path& in,
                                     const std::filesystem::path& out,
                                     const domain::SignatureField& field,
                                     const domain::SignatureDetails& details,
                                     domain::SigningSession& session) const {
    const auto start = std::chrono::steady_clock::now();
    auto result = inner_.SignFile(in, out, field, details, session);
    (result ? signed_ : failed_)
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return result;
}

}  // namespace firmo::pdf
