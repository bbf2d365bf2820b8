#pragma once
// What the issuer and signer APIs accept, each input described once: the JSON body of every
// endpoint that takes one (codec/schema.hpp: members, types, limits, enums, nested objects and
// the C++ value each parses into) and the query parameters of every endpoint. The handlers
// parse with these descriptions, each route refuses query parameters its endpoint does not
// list, and a test compares every description with docs/openapi.yaml, so code, allowed fields
// and spec cannot drift.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "codec/schema.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/event_service.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace firmo::api {

// ---- Bodies whose wire shape is not a domain input as it is --------------------------------

// POST /api/v1/signers.
struct SignerBody {
    std::optional<std::string> fiscal_code;
    std::optional<std::string> national_identity_number;
    std::optional<std::string> country;
    std::optional<std::string> email;
    std::optional<std::string> phone;
    std::optional<std::string> name;
    std::optional<std::string> language;

    domain::NewSigner ToInput() const;
};

// POST /api/v1/signature-requests: `signer_id` is shorthand for one signer of order 0.
struct SignatureRequestBody {
    std::string dossier_id;
    std::optional<std::string> signer_id;
    std::optional<std::vector<domain::NewRequestSigner>> signers;
    std::optional<Timestamp> expires_at;
    std::optional<std::string> reference;
    bool auto_notify = false;
    std::optional<std::vector<domain::DocumentMetadata>> documents_metadata;
    std::optional<domain::RedirectUrls> redirect;
    domain::IdentifierInSignedDocuments identifier_in_signed_documents =
        domain::IdentifierInSignedDocuments::kIdentifierAndName;
    std::optional<std::string> non_sensitive_title;
    std::optional<Timestamp> activates_at;
    std::optional<std::string> polling_queue;

    domain::NewSignatureRequest ToInput() const;
};

// PATCH /api/v1/signature-requests/{id}: what may change on a request that is not final.
struct RequestPatchBody {
    Timestamp expires_at;
};

// The signer API's bodies.
struct SendCodeBody {
    std::string link_token;
};
struct SessionBody {  // link_token and code, or redirect_token
    std::optional<std::string> link_token;
    std::optional<std::string> code;
    std::optional<std::string> redirect_token;
};
struct AcceptedField {
    int document_index = 0;
    int field_index = 0;
};
struct AcceptanceBody {
    std::vector<AcceptedField> accepted;
};
struct ConfirmationBody {
    std::string code;
    bool accept_qtsp_terms = false;  // signing.provider = "csc" with terms: must be true
};
struct RejectionBody {
    std::string reason;
};

const codec::Spec<domain::NewDossier>& DossierBodySpec();
const codec::Spec<SignerBody>& SignerBodySpec();
const codec::Spec<SignatureRequestBody>& SignatureRequestBodySpec();
// PUT .../status: the JSON string "READY" or "CANCELLED", or {"status": "..."}.
const codec::Spec<domain::RequestedStatus>& StatusBodySpec();
const codec::Spec<domain::NewWebhook>& WebhookBodySpec();
const codec::Spec<SendCodeBody>& SendCodeBodySpec();
const codec::Spec<SessionBody>& SessionBodySpec();
const codec::Spec<AcceptanceBody>& AcceptanceBodySpec();
const codec::Spec<ConfirmationBody>& ConfirmationBodySpec();
const codec::Spec<RejectionBody>& RejectionBodySpec();
const codec::Spec<RequestPatchBody>& RequestPatchBodySpec();
// PATCH /api/v1/issuer (issue 16).
const codec::Spec<domain::IssuerIdentityPatch>& IssuerPatchBodySpec();

// The JSON body of `request` parsed with `spec`: 415 for another Content-Type, 400 for bad
// JSON, 422 with every violation for the wrong shape.
template <typename T>
[[nodiscard]] Result<T> ParseBody(const http::HttpRequest& request, const codec::Spec<T>& spec) {
    FIRMO_TRY(auto json, ParseJsonBody(request));
    return codec::ParseWith(spec, json);
}

// ---- Query parameters -----------------------------------------------------------------------

struct QueryParam {
    enum class Type { kString, kInteger };
    std::string name;
    Type type = Type::kString;
    std::optional<std::int64_t> minimum;  // integers
    std::optional<std::int64_t> maximum;
    std::size_t max_length = 0;       // strings; 0: none
    std::vector<std::string> values;  // strings: the closed list, if any
};
using QuerySpec = std::vector<QueryParam>;

// The typed values of a request's query parameters, after ParseQueryParams.
class QueryValues {
  public:
    std::optional<std::string> Text(std::string_view name) const;
    std::optional<int> Integer(std::string_view name) const;

  private:
    friend Result<QueryValues> ParseQueryParams(const QuerySpec&,
                                                const std::multimap<std::string, std::string>&);
    std::map<std::string, std::string, std::less<>> values_;
};

// 422 naming each parameter that is not in `spec`, given twice, or not of its type and limits.
[[nodiscard]] Result<QueryValues> ParseQueryParams(
    const QuerySpec& spec, const std::multimap<std::string, std::string>& query);

// ---- Endpoints ------------------------------------------------------------------------------

struct Endpoint {
    std::string method;
    std::string pattern;
    const codec::Json* body = nullptr;  // the JSON Schema of the JSON body; null: none
    QuerySpec query;
    // multipart/form-data parts that carry JSON, with their schema (validate-document).
    std::map<std::string, const codec::Json*> json_parts;
};

// Every endpoint of the issuer API (API key) and the signer API.
std::span<const Endpoint> Endpoints();
// nullptr when (method, pattern) is not an API endpoint.
const Endpoint* FindEndpoint(std::string_view method, std::string_view pattern);
const QuerySpec& QueryOf(std::string_view method, std::string_view pattern);

// `handler` behind the query check of its endpoint (422 for unknown, repeated or mistyped
// parameters). Throws std::logic_error when (method, pattern) is not in Endpoints(): a route
// without a description is a bug, found when the routes are registered at startup.
template <typename Handler>
Handler WithQueryCheck(std::string_view method, std::string_view pattern, Handler handler) {
    const Endpoint* endpoint = FindEndpoint(method, pattern);
    if (!endpoint) {
        throw std::logic_error("no description of " + std::string(method) + " " +
                               std::string(pattern) + " in api/contract.cpp");
    }
    return [query = &endpoint->query, handler = std::move(handler)](
               http::HttpRequest& request, const auto&... rest) -> http::HttpResponse {
        if (auto ok = ParseQueryParams(*query, request.query); !ok) return Problem(ok.error());
        return handler(request, rest...);
    };
}

// Registers `handler` with `add` (a Register callback) behind WithQueryCheck.
template <typename Add, typename Handler>
void Route(const Add& add, std::string method, std::string pattern, Handler handler) {
    handler = WithQueryCheck(method, pattern, std::move(handler));
    add(std::move(method), std::move(pattern), std::move(handler));
}

}  // namespace firmo::api
