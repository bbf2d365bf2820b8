#pragma once
// Wire shapes of the issuer API (names follow Firma con IO's issuer API where it has them),
// written straight as JSON text: a request's answer is the hottest path of the API, and a tree
// of values built only to be serialised cost half of its time (docs/PERFORMANCE.md).

#include <string>
#include <string_view>
#include <vector>

#include "codec/json_writer.hpp"
#include "domain/model.hpp"

namespace firmo::api {

// The links of a request's answer, made by the API (which holds the URL signer and the public
// URL). Each list is empty or has one entry per signer / document, in the request's order.
struct RequestLinks {
    std::string signing_url;
    std::string qr_code_url;                 // the SVG; the PNG's URL is the same with .png
    std::vector<std::string> portal_urls;    // while the request is not final
    std::vector<std::string> redirect_urls;  // on create in the direct flow (shown once)
    std::vector<std::string> document_urls;  // when SIGNED
};

void WriteDossier(codec::JsonWriter& w, const domain::Dossier& dossier);
void WriteSigner(codec::JsonWriter& w, const domain::Signer& signer);
void WriteRequest(codec::JsonWriter& w, const domain::SignatureRequest& request,
                  const RequestLinks& links);
// `url`: where the signed document downloads from (empty: no member).
void WriteDocument(codec::JsonWriter& w, const domain::Document& document,
                   std::string_view url = {});
void WriteEvent(codec::JsonWriter& w, const domain::AuditEvent& event);

// One value as a whole body, e.g. `ViewText(dossier, WriteDossier)`.
template <typename T, typename Write>
std::string ViewText(const T& value, Write write) {
    std::string out;
    out.reserve(1024);
    codec::JsonWriter w(out);
    write(w, value);
    return out;
}

}  // namespace firmo::api
