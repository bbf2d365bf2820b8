// libFuzzer harness for the issuer API's untrusted inputs other than PDFs: raw HTTP request
// bytes (Beast's parser with our limits), multipart bodies, JSON bodies parsed into dossier
// metadata and checked by the domain, JSON bodies through every API body description, query
// strings, dates and URL tokens. Traps when a multipart part points outside the input.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/contract.hpp"
#include "api/url_signer.hpp"
#include "codec/json.hpp"
#include "core/clock.hpp"
#include "core/encoding.hpp"
#include "domain/services/dossier_service.hpp"
#include "http/message.hpp"
#include "http/multipart.hpp"

namespace {

void FuzzHttpRequest(std::string_view data) {
    namespace bhttp = boost::beast::http;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (used < data.size() && !ec && !parser.is_done()) {
        const std::size_t n =
            parser.put(boost::asio::buffer(data.data() + used, data.size() - used), ec);
        if (n == 0) break;
        used += n;
    }
}

void FuzzMultipart(std::string_view data) {
    const auto parts = firmo::http::ParseMultipart("multipart/form-data; boundary=b", data);
    if (!parts) return;
    for (const auto& part : *parts) {
        if (part.body.data() < data.data() ||
            part.body.data() + part.body.size() > data.data() + data.size()) {
            __builtin_trap();
        }
    }
}

void FuzzJson(std::string_view data) {
    const auto j = firmo::codec::Json::parse(data, nullptr, false);
    if (j.is_discarded()) return;
    std::vector<firmo::Violation> violations;
    firmo::codec::Reader reader(violations);
    if (auto docs = firmo::codec::ParseDocumentsMetadata(j, "documents_metadata", reader)) {
        (void)firmo::domain::CheckDocumentsMetadata(*docs, "documents_metadata");
        // What we parsed must serialise and parse back to the same values.
        std::vector<firmo::Violation> again;
        firmo::codec::Reader reader2(again);
        firmo::codec::Json out = firmo::codec::Json::array();
        for (const auto& d : *docs) out.push_back(firmo::codec::ToJson(d));
        const auto round = firmo::codec::ParseDocumentsMetadata(out, "d", reader2);
        if (!round || *round != *docs) __builtin_trap();
    }
    // Every API body description, on any JSON.
    namespace api = firmo::api;
    (void)firmo::codec::ParseWith(api::DossierBodySpec(), j);
    (void)firmo::codec::ParseWith(api::SignerBodySpec(), j);
    (void)firmo::codec::ParseWith(api::SignatureRequestBodySpec(), j);
    (void)firmo::codec::ParseWith(api::StatusBodySpec(), j);
    (void)firmo::codec::ParseWith(api::WebhookBodySpec(), j);
    (void)firmo::codec::ParseWith(api::SessionBodySpec(), j);
    (void)firmo::codec::ParseWith(api::AcceptanceBodySpec(), j);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view data(reinterpret_cast<const char*>(bytes), size);
    FuzzHttpRequest(data);
    FuzzMultipart(data);
    FuzzJson(data);
    (void)firmo::http::ParseQuery(data);
    (void)firmo::ParseRfc3339(data);
    (void)firmo::Base64UrlDecode(data);
    (void)firmo::PercentDecode(data, true);
    static const firmo::api::UrlSigner signer("fuzz-secret");
    (void)signer.Verify(std::string(data), "upload", firmo::FromUnixMillis(0));
    return 0;
}
