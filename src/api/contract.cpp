#include "api/contract.hpp"

#include <algorithm>
#include <charconv>

#include "domain/services/ceremony_service.hpp"
#include "domain/text.hpp"

namespace firmo::api {

using codec::ArrayOf;
using codec::Boolean;
using codec::By;
using codec::DateTime;
using codec::Enum;
using codec::Integer;
using codec::Json;
using codec::Object;
using codec::Reader;
using codec::Spec;
using codec::String;
using codec::StringEnum;
using namespace firmo::domain;

// ---- Bodies ---------------------------------------------------------------------------------

const Spec<NewDossier>& DossierBodySpec() {
    static const Spec<NewDossier> spec =
        Object<NewDossier>()
            .Required("title", &NewDossier::title,
                      String({.min_length = kDossierTitleMin,
                              .max_length = kDossierTitleMax,
                              .by = By::kDomain}))
            .Optional("support_email", &NewDossier::support_email,
                      String({.by = By::kDomain, .format = "email"}))
            .Required("documents_metadata", &NewDossier::documents, codec::DocumentsMetadataSpec())
            .Optional(
                "non_sensitive_title", &NewDossier::non_sensitive_title,
                String({.min_length = 1, .max_length = kNonSensitiveTitleMax, .by = By::kDomain}));
    return spec;
}

const Spec<SignerBody>& SignerBodySpec() {
    static const Spec<SignerBody> spec =
        Object<SignerBody>()
            .Optional("fiscal_code", &SignerBody::fiscal_code,
                      String({.min_length = 16, .max_length = 16, .by = By::kDomain}))
            .Optional("national_identity_number", &SignerBody::national_identity_number, String())
            .Optional("country", &SignerBody::country, StringEnum({"IT", "NO"}))
            .Optional("email", &SignerBody::email, String({.by = By::kDomain, .format = "email"}))
            .Optional("phone", &SignerBody::phone, String())
            .Optional("name", &SignerBody::name,
                      String({.min_length = 1, .max_length = kFullNameMax, .by = By::kDomain}))
            .Optional("language", &SignerBody::language, StringEnum({"it", "en", "nb"}))
            .Rule(
                "fiscal_code, or national_identity_number with country NO, or an email or "
                "phone alone",
                [](const SignerBody& b, const std::string&, Reader& r) {
                    if (b.fiscal_code && b.national_identity_number) {
                        r.Add("fiscal_code",
                              "give either fiscal_code or national_identity_number, not both");
                    } else if (b.fiscal_code) {
                        if (b.country && *b.country != "IT") {
                            r.Add("country", "a fiscal code is Italian: use IT or omit");
                        }
                    } else if (b.national_identity_number) {
                        if (b.country != "NO") {
                            r.Add("country", "must be \"NO\" with a national_identity_number");
                        }
                    } else if (!b.email && !b.phone) {
                        r.Add("fiscal_code",
                              "is required (or national_identity_number with country \"NO\", "
                              "or only an email or phone for a signer reached by link and "
                              "one-time code)");
                    }
                });
    return spec;
}

NewSigner SignerBody::ToInput() const {
    NewSigner input;
    input.email = email;
    input.phone = phone;
    input.full_name = name;
    input.language = language;
    if (fiscal_code) {
        input.kind = IdentifierKind::kItFiscalCode;
        input.identifier = *fiscal_code;
    } else if (national_identity_number) {
        input.kind = IdentifierKind::kNoNationalId;
        input.identifier = *national_identity_number;
    } else if (email) {
        // Reached by a link and a one-time code: the address is the identifier.
        input.kind = IdentifierKind::kEmail;
    } else {
        input.kind = IdentifierKind::kPhone;
    }
    return input;
}

const Spec<SignatureRequestBody>& SignatureRequestBodySpec() {
    static const Spec<SignatureRequestBody> spec = [] {
        const Spec<std::string> url =
            String({.max_length = kRedirectUrlMax, .by = By::kDomain, .format = "uri"});
        const Spec<RedirectUrls> redirect =
            Object<RedirectUrls>()
                .Required("completion_url", &RedirectUrls::completion_url, url)
                .Required("rejection_url", &RedirectUrls::rejection_url, url)
                .Required("error_url", &RedirectUrls::error_url, url);
        const Spec<NewRequestSigner> signer =
            Object<NewRequestSigner>()
                .Required("signer_id", &NewRequestSigner::signer_id, String())
                .Optional("order", &NewRequestSigner::order,
                          Integer({.minimum = 0, .maximum = kMaxSignerOrder, .by = By::kDomain}))
                .Optional("authentication", &NewRequestSigner::authentication,
                          Enum<AuthLevel>({{"eid_high", AuthLevel::kEidHigh},
                                           {"eid_substantial", AuthLevel::kEidSubstantial},
                                           {"code", AuthLevel::kCode}}))
                .Optional(
                    "on_behalf_of", &NewRequestSigner::on_behalf_of,
                    Enum<OnBehalfOf>({{"self", OnBehalfOf::kSelf}, {"other", OnBehalfOf::kOther}}));
        using B = SignatureRequestBody;
        return Spec<B>(
            Object<B>()
                .Required("dossier_id", &B::dossier_id, String())
                .Optional("signer_id", &B::signer_id, String())
                .Optional(
                    "signers", &B::signers,
                    ArrayOf(signer, {.min_items = 1,
                                     .max_items = static_cast<std::size_t>(Limits{}.max_signers),
                                     .by = By::kDomain}))
                .Optional("expires_at", &B::expires_at, DateTime())
                .Optional("reference", &B::reference,
                          String({.min_length = 1, .max_length = kReferenceMax, .by = By::kDomain}))
                .Optional("auto_notify", &B::auto_notify, Boolean())
                .Optional("documents_metadata", &B::documents_metadata,
                          codec::DocumentsMetadataSpec())
                .Optional("redirect", &B::redirect, redirect)
                .Optional(
                    "identifier_in_signed_documents", &B::identifier_in_signed_documents,
                    Enum<IdentifierInSignedDocuments>(
                        {{"identifier_and_name", IdentifierInSignedDocuments::kIdentifierAndName},
                         {"name", IdentifierInSignedDocuments::kName}}))
                .Optional(
                    "non_sensitive_title", &B::non_sensitive_title,
                    String(
                        {.min_length = 1, .max_length = kNonSensitiveTitleMax, .by = By::kDomain}))
                .Optional("activates_at", &B::activates_at, DateTime())
                .Optional("polling_queue", &B::polling_queue,
                          String({.min_length = 1,
                                  .max_length = kPollingQueueMax,
                                  .by = By::kDomain,
                                  .pattern = kPollingQueuePattern}))
                .Rule("signer_id or signers, not both",
                      [](const B& b, const std::string&, Reader& r) {
                          if (b.signer_id && b.signers) {
                              r.Add("signers", "give either signer_id or signers, not both");
                          } else if (!b.signer_id && !b.signers) {
                              r.Add("signer_id", "is required (or signers)");
                          }
                      }));
    }();
    return spec;
}

NewSignatureRequest SignatureRequestBody::ToInput() const {
    NewSignatureRequest input;
    input.dossier_id = dossier_id;
    if (signer_id) {
        input.signers.push_back({*signer_id, 0, std::nullopt});
    } else if (signers) {
        input.signers = *signers;
    }
    input.expires_at = expires_at;
    input.reference = reference;
    input.auto_notify = auto_notify;
    input.documents = documents_metadata;
    input.redirect = redirect;
    input.identifier_in_signed_documents = identifier_in_signed_documents;
    input.non_sensitive_title = non_sensitive_title;
    input.activates_at = activates_at;
    input.polling_queue = polling_queue;
    return input;
}

const Spec<RequestedStatus>& StatusBodySpec() {
    static const Spec<RequestedStatus> spec = [] {
        const Spec<RequestedStatus> value = Enum<RequestedStatus>(
            {{"READY", RequestedStatus::kReady}, {"CANCELLED", RequestedStatus::kCancelled}});
        struct Wrapped {
            RequestedStatus status = RequestedStatus::kReady;
        };
        const Spec<Wrapped> wrapped = Object<Wrapped>().Required("status", &Wrapped::status, value);
        Json schema = {{"oneOf", {value.schema(), wrapped.schema()}}};
        return Spec<RequestedStatus>(
            std::move(schema),
            [value, wrapped](const Json& j, const std::string& path,
                             Reader& r) -> std::optional<RequestedStatus> {
                // Either shape; a violation names `status` whatever was wrong.
                std::vector<Violation> ignored;
                Reader quiet(ignored);
                if (j.is_string()) {
                    if (auto v = value.Parse(j, path, quiet)) return v;
                } else if (auto w = wrapped.Parse(j, path, quiet)) {
                    return w->status;
                }
                r.Add("status", "must be the JSON string \"READY\" or \"CANCELLED\"");
                return std::nullopt;
            });
    }();
    return spec;
}

const Spec<NewWebhook>& WebhookBodySpec() {
    static const Spec<NewWebhook> spec = [] {
        std::vector<std::string> types(std::begin(kEventTypes), std::end(kEventTypes));
        return Spec<NewWebhook>(
            Object<NewWebhook>()
                .Required("url", &NewWebhook::url,
                          String({.max_length = 2000, .by = By::kDomain, .format = "uri"}))
                .Optional("events", &NewWebhook::events,
                          ArrayOf(StringEnum(std::move(types), By::kDomain))));
    }();
    return spec;
}

const Spec<SendCodeBody>& SendCodeBodySpec() {
    static const Spec<SendCodeBody> spec =
        Object<SendCodeBody>().Required("link_token", &SendCodeBody::link_token, String());
    return spec;
}

namespace {
// A one-time code as typed: any other text is a wrong code (401), not a malformed body.
const Spec<std::string> kCode = String({.by = By::kDomain, .pattern = "^[0-9]{6}$"});
}  // namespace

const Spec<SessionBody>& SessionBodySpec() {
    static const Spec<SessionBody> spec =
        Object<SessionBody>()
            .Optional("link_token", &SessionBody::link_token, String())
            .Optional("code", &SessionBody::code, kCode)
            .Optional("redirect_token", &SessionBody::redirect_token, String())
            .Rule("link_token and code, or redirect_token", [](const SessionBody& b,
                                                               const std::string&, Reader& r) {
                if (b.redirect_token && (b.link_token || b.code)) {
                    r.Add("redirect_token", "give either redirect_token, or link_token and code");
                } else if (!b.redirect_token && (!b.link_token || !b.code)) {
                    r.Add("code", "give link_token and code (or a redirect_token)");
                }
            });
    return spec;
}

const Spec<AcceptanceBody>& AcceptanceBodySpec() {
    static const Spec<AcceptanceBody> spec = [] {
        const Spec<int> index = Integer({.minimum = 0, .by = By::kDomain});
        const Spec<AcceptedField> field =
            Object<AcceptedField>()
                .Required("document_index", &AcceptedField::document_index, index)
                .Required("field_index", &AcceptedField::field_index, index);
        return Spec<AcceptanceBody>(Object<AcceptanceBody>().Required(
            "accepted", &AcceptanceBody::accepted,
            ArrayOf(field, {.max_items = kMaxDocumentsPerDossier * kMaxFieldsPerDocument})));
    }();
    return spec;
}

const Spec<ConfirmationBody>& ConfirmationBodySpec() {
    static const Spec<ConfirmationBody> spec =
        Object<ConfirmationBody>()
            .Required("code", &ConfirmationBody::code, kCode)
            .Optional("accept_qtsp_terms", &ConfirmationBody::accept_qtsp_terms, Boolean());
    return spec;
}

const Spec<RejectionBody>& RejectionBodySpec() {
    static const Spec<RejectionBody> spec = Object<RejectionBody>().Required(
        "reason", &RejectionBody::reason,
        String({.min_length = 1, .max_length = kRejectReasonMax, .by = By::kDomain}));
    return spec;
}

const Spec<RequestPatchBody>& RequestPatchBodySpec() {
    static const Spec<RequestPatchBody> kSpec = Object<RequestPatchBody>().Required(
        "expires_at", &RequestPatchBody::expires_at, DateTime());
    return kSpec;
}

const Spec<domain::IssuerIdentityPatch>& IssuerPatchBodySpec() {
    using domain::IssuerIdentityPatch;
    static const Spec<IssuerIdentityPatch> kSpec =
        Object<IssuerIdentityPatch>()
            .Optional("display_name", &IssuerIdentityPatch::display_name,
                      String({.min_length = 1, .max_length = 200, .by = By::kDomain}))
            .Optional("support_email", &IssuerIdentityPatch::support_email,
                      String({.by = By::kDomain, .format = "email"}))
            .Optional("support_url", &IssuerIdentityPatch::support_url,
                      String({.max_length = 2000, .by = By::kDomain}))
            .Optional("brand_color", &IssuerIdentityPatch::brand_color,
                      String({.by = By::kDomain, .pattern = "^(#[0-9a-fA-F]{6})?$"}));
    return kSpec;
}

// ---- Query parameters -----------------------------------------------------------------------

std::optional<std::string> QueryValues::Text(std::string_view name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::optional<int> QueryValues::Integer(std::string_view name) const {
    const auto text = Text(name);
    if (!text) return std::nullopt;
    int v = 0;
    std::from_chars(text->data(), text->data() + text->size(), v);  // checked by the parse
    return v;
}

Result<QueryValues> ParseQueryParams(const QuerySpec& spec,
                                     const std::multimap<std::string, std::string>& query) {
    std::vector<Violation> violations;
    QueryValues out;
    for (auto it = query.begin(); it != query.end(); it = query.upper_bound(it->first)) {
        const std::string& name = it->first;
        const std::string& text = it->second;
        const auto param = std::find_if(spec.begin(), spec.end(),
                                        [&](const QueryParam& p) { return p.name == name; });
        if (param == spec.end()) {
            violations.push_back({name, "is not a known query parameter"});
            continue;
        }
        if (query.count(name) > 1) {
            violations.push_back({name, "is given more than once"});
            continue;
        }
        if (param->type == QueryParam::Type::kInteger) {
            std::int64_t v = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            const bool ok = ec == std::errc() && end == text.data() + text.size() &&
                            (!param->minimum || v >= *param->minimum) &&
                            (!param->maximum || v <= *param->maximum) && v >= INT32_MIN &&
                            v <= INT32_MAX;
            if (!ok) {
                std::string reason = "must be an integer";
                if (param->minimum && param->maximum) {
                    reason += " from " + std::to_string(*param->minimum) + " to " +
                              std::to_string(*param->maximum);
                } else if (param->minimum) {
                    reason += " of at least " + std::to_string(*param->minimum);
                }
                violations.push_back({name, std::move(reason)});
                continue;
            }
        } else if (!param->values.empty()) {
            if (std::find(param->values.begin(), param->values.end(), text) ==
                param->values.end()) {
                violations.push_back({name, "must be " + codec::OneOfText(param->values)});
                continue;
            }
        } else if (param->max_length > 0 && text.size() > param->max_length) {
            violations.push_back(
                {name, "must be at most " + std::to_string(param->max_length) + " characters"});
            continue;
        }
        out.values_.emplace(name, text);
    }
    if (!violations.empty()) return FailValidation(std::move(violations));
    return out;
}

// ---- Endpoints ------------------------------------------------------------------------------

namespace {

// Tokens and ids this API hands out are far shorter; the bound keeps junk out of the logs.
constexpr std::size_t kTokenMax = 512;

QuerySpec PageParams() {
    return {
        {.name = "limit", .type = QueryParam::Type::kInteger, .minimum = 1, .maximum = 100},
        {.name = "continuation_token", .max_length = kTokenMax},
        // Firma con IO's spelling; continuation_token wins when both are given.
        {.name = "continuationToken", .max_length = kTokenMax},
    };
}

QuerySpec RequestListParams() {
    QuerySpec q = PageParams();
    std::vector<std::string> statuses;
    for (const auto s : kAllRequestStatuses) statuses.emplace_back(ToString(s));
    q.push_back({.name = "status", .values = std::move(statuses)});
    return q;
}

QuerySpec NotificationDeliveryParams() {
    QuerySpec q = {{.name = "channel", .values = {"email", "sms"}}};
    for (auto& p : PageParams()) q.push_back(std::move(p));
    return q;
}

std::vector<Endpoint> MakeEndpoints() {
    const auto body = [](const auto& spec) { return &spec.schema(); };
    const QuerySpec none;
    std::vector<Endpoint> e = {
        // Issuer API.
        {"POST", "/api/v1/dossiers", body(DossierBodySpec()), none, {}},
        {"GET", "/api/v1/dossiers", nullptr, PageParams(), {}},
        {"GET", "/api/v1/dossiers/{id}", nullptr, none, {}},
        {"GET", "/api/v1/dossiers/{id}/signature-requests", nullptr, RequestListParams(), {}},
        {"POST", "/api/v1/signers", body(SignerBodySpec()), none, {}},
        {"GET", "/api/v1/signers/{id}", nullptr, none, {}},
        {"POST", "/api/v1/signature-requests", body(SignatureRequestBodySpec()), none, {}},
        {"GET", "/api/v1/signature-requests", nullptr, RequestListParams(), {}},
        {"GET",
         "/api/v1/signature-requests/{id}",
         nullptr,
         {{.name = "status_query_token", .max_length = kTokenMax}},
         {}},
        {"GET", "/api/v1/signature-requests/{id}/events", nullptr, none, {}},
        {"GET", "/api/v1/signature-requests/{id}/documents/{doc_id}/upload_url", nullptr, none, {}},
        {"PUT", "/api/v1/signature-requests/{id}/status", body(StatusBodySpec()), none, {}},
        {"PATCH", "/api/v1/signature-requests/{id}", body(RequestPatchBodySpec()), none, {}},
        {"DELETE", "/api/v1/signature-requests/{id}/documents", nullptr, none, {}},
        {"GET", "/api/v1/signature-requests/{id}/evidence", nullptr, none, {}},
        {"PUT", "/api/v1/signature-requests/{id}/notification", nullptr, none, {}},
        {"POST",
         "/api/v1/signature-requests/{id}/signers/{signer_id}/redirect-url",
         nullptr,
         none,
         {}},
        {"POST",
         "/api/v1/validate-document",
         nullptr,
         {{.name = "dossier_id", .max_length = kTokenMax},
          {.name = "document_index", .type = QueryParam::Type::kInteger, .minimum = 0}},
         {{"signature_fields", &codec::SignatureFieldsSpec().schema()}}},
        {"POST", "/api/v1/verify", nullptr, {{.name = "at", .max_length = 64}}, {}},
        {"POST", "/api/v1/webhooks", body(WebhookBodySpec()), none, {}},
        {"GET", "/api/v1/webhooks", nullptr, none, {}},
        {"DELETE", "/api/v1/webhooks/{id}", nullptr, none, {}},
        {"GET", "/api/v1/webhooks/deliveries", nullptr, PageParams(), {}},
        {"POST", "/api/v1/webhooks/deliveries/{id}/redeliver", nullptr, none, {}},
        {"GET", "/api/v1/notifications/deliveries", nullptr, NotificationDeliveryParams(), {}},
        {"GET", "/api/v1/issuer", nullptr, none, {}},
        {"PATCH", "/api/v1/issuer", body(IssuerPatchBodySpec()), none, {}},
        {"PUT", "/api/v1/issuer/logo", nullptr, none, {}},
        {"GET", "/issuers/{id}/logo", nullptr, {{.name = "v", .max_length = 64}}, {}},
        {"GET", "/issuers/{id}/theme.css", nullptr, {{.name = "v", .max_length = 64}}, {}},
        {"GET",
         "/api/v1/status-changes",
         nullptr,
         {{.name = "polling_queue", .max_length = domain::kPollingQueueMax}},
         {}},
        {"POST", "/api/v1/status-changes/{id}/confirm", nullptr, none, {}},
        // Signer API.
        {"POST", "/api/v1/signer/codes", body(SendCodeBodySpec()), none, {}},
        {"POST", "/api/v1/signer/sessions", body(SessionBodySpec()), none, {}},
        {"DELETE", "/api/v1/signer/session", nullptr, none, {}},
        {"GET", "/api/v1/signer/inbox", nullptr, none, {}},
        {"GET", "/api/v1/signer/signature-requests/{id}", nullptr, none, {}},
        {"GET",
         "/api/v1/signer/signature-requests/{id}/documents/{doc_id}/content",
         nullptr,
         none,
         {}},
        {"POST",
         "/api/v1/signer/signature-requests/{id}/acceptance",
         body(AcceptanceBodySpec()),
         none,
         {}},
        {"POST",
         "/api/v1/signer/signature-requests/{id}/confirmation",
         body(ConfirmationBodySpec()),
         none,
         {}},
        {"POST",
         "/api/v1/signer/signature-requests/{id}/rejection",
         body(RejectionBodySpec()),
         none,
         {}},
        {"GET", "/api/v1/signer/requests/{id}/documents/{doc_id}/content", nullptr, none, {}},
    };
    return e;
}

}  // namespace

std::span<const Endpoint> Endpoints() {
    static const std::vector<Endpoint> endpoints = MakeEndpoints();
    return endpoints;
}

const Endpoint* FindEndpoint(std::string_view method, std::string_view pattern) {
    for (const auto& e : Endpoints()) {
        if (e.method == method && e.pattern == pattern) return &e;
    }
    return nullptr;
}

const QuerySpec& QueryOf(std::string_view method, std::string_view pattern) {
    const Endpoint* e = FindEndpoint(method, pattern);
    if (!e) throw std::logic_error("no description of " + std::string(pattern));
    return e->query;
}

}  // namespace firmo::api
