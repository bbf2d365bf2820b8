#include "api/pki_api.hpp"

#include "api/problem.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"

namespace firmo::api {
namespace {

http::HttpResponse Binary(std::string body, std::string type) {
    http::HttpResponse response;
    response.body = std::move(body);
    response.Set("Content-Type", std::move(type));
    return response;
}

// Standard base64 (RFC 4648 section 4, padded), as an OCSP GET carries it.
std::optional<std::string> Base64Decode(std::string_view text) {
    if (text.find_first_of("-_") != std::string_view::npos) return std::nullopt;
    std::string url;
    url.reserve(text.size());
    for (char c : text) {
        if (c != '=') url += c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return Base64UrlDecode(url);
}

}  // namespace

PkiApi::PkiApi(std::shared_ptr<const crypto::CertificateAuthority> ca,
               std::shared_ptr<crypto::BuiltinTsa> tsa, domain::RevocationService& revocations,
               const Clock& clock, metrics::Registry& metrics, PkiApiOptions options)
    : ca_(std::move(ca)),
      tsa_(std::move(tsa)),
      revocations_(revocations),
      clock_(clock),
      options_(options) {
    auto& family = metrics.AddCounterFamily(
        "firmo_pki_responses_total",
        "answers of the built-in PKI's public endpoints, by service (ca, crl, ocsp, tsa) and "
        "outcome (ok, refused: the client's input, error: ours)",
        {"service", "outcome"});
    constexpr std::array<std::string_view, kServices> kServiceNames = {"ca", "crl", "ocsp", "tsa"};
    constexpr std::array<std::string_view, 3> kOutcomes = {"ok", "refused", "error"};
    for (std::size_t s = 0; s < kServiceNames.size(); ++s) {
        for (std::size_t o = 0; o < kOutcomes.size(); ++o) {
            responses_[s][o] = &family.With({kServiceNames[s], kOutcomes[o]});
        }
    }
}

void PkiApi::Register(
    const std::function<void(std::string, std::string, http::Handler, http::Lane)>& add) {
    add(
        "GET", "/pki/ca.crt", [this](http::HttpRequest& r) { return CaCertificate(r); },
        http::Lane::kInline);
    add(
        "GET", "/pki/ca.crl", [this](http::HttpRequest& r) { return Crl(r); },
        http::Lane::kDatabase);
    add(
        "POST", "/pki/ocsp", [this](http::HttpRequest& r) { return Ocsp(r); },
        http::Lane::kDatabase);
    add(
        "GET", "/pki/ocsp/{request}", [this](http::HttpRequest& r) { return OcspGet(r); },
        http::Lane::kDatabase);
    if (tsa_) {
        add(
            "POST", "/pki/tsa", [this](http::HttpRequest& r) { return Tsa(r); },
            http::Lane::kInline);
    }
}

http::HttpResponse PkiApi::Counted(Service service, http::HttpResponse response) {
    const std::size_t outcome = response.status < 400 ? 0 : response.status < 500 ? 1 : 2;
    responses_[static_cast<std::size_t>(service)][outcome]->Inc();
    return response;
}

http::HttpResponse PkiApi::CaCertificate(http::HttpRequest& /*req*/) {
    auto der = crypto::CertificateToDer(ca_->certificate());
    if (!der) return Counted(kCa, Problem(der.error()));
    auto response = Binary(std::move(*der), "application/pkix-cert");
    response.Set("Cache-Control", "public, max-age=86400");
    return Counted(kCa, std::move(response));
}

http::HttpResponse PkiApi::Crl(http::HttpRequest& /*req*/) {
    auto revoked = revocations_.List();
    if (!revoked) return Counted(kCrl, Problem(revoked.error()));
    auto crl = ca_->Crl(*revoked, clock_.Now(), options_.crl_validity);
    if (!crl) {
        log::Error("crl_failed", {{"error", crl.error().message}});
        return Counted(kCrl, Problem(crl.error()));
    }
    auto response = Binary(std::move(*crl), "application/pkix-crl");
    // A revocation must show soon: caches may keep it a few minutes only.
    response.Set("Cache-Control", "public, max-age=300");
    return Counted(kCrl, std::move(response));
}

http::HttpResponse PkiApi::AnswerOcsp(std::string_view request) {
    auto answer = ca_->AnswerOcsp(
        request, [this](const std::string& serial) { return revocations_.Find(serial); },
        clock_.Now(), options_.ocsp_validity);
    if (!answer) {
        if (answer.error().code == ErrorCode::kInternal) {
            log::Error("ocsp_failed", {{"error", answer.error().message}});
        }
        return Counted(kOcsp, Problem(answer.error()));
    }
    return Counted(kOcsp, Binary(std::move(*answer), "application/ocsp-response"));
}

http::HttpResponse PkiApi::Ocsp(http::HttpRequest& req) {
    if (req.MediaType() != "application/ocsp-request") {
        return Counted(kOcsp, Problem(ErrorCode::kUnsupportedMediaType,
                                      "send Content-Type: application/ocsp-request"));
    }
    return AnswerOcsp(req.body);
}

http::HttpResponse PkiApi::OcspGet(http::HttpRequest& req) {
    auto request = Base64Decode(req.Param("request"));
    if (!request) {
        return Counted(kOcsp, Problem(ErrorCode::kMalformed,
                                      "the path does not end in a base64 OCSP request"));
    }
    return AnswerOcsp(*request);
}

http::HttpResponse PkiApi::Tsa(http::HttpRequest& req) {
    if (req.MediaType() != "application/timestamp-query") {
        return Counted(kTsa, Problem(ErrorCode::kUnsupportedMediaType,
                                     "send Content-Type: application/timestamp-query"));
    }
    auto reply = tsa_->Respond(req.body);
    if (!reply) {
        if (reply.error().code == ErrorCode::kInternal) {
            log::Error("tsa_failed", {{"error", reply.error().message}});
        }
        return Counted(kTsa, Problem(reply.error()));
    }
    return Counted(kTsa, Binary(std::move(*reply), "application/timestamp-reply"));
}

}  // namespace firmo::api
