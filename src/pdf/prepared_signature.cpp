// PreparedSignature's wire form (declared in pdf/pades_signer.hpp): JSON with a version, binary
// fields in base64url, so a stored one can be read by a later release or checked by hand.

#include <nlohmann/json.hpp>

#include "core/encoding.hpp"
#include "pdf/pades_signer.hpp"

namespace firmo::pdf {
namespace {

constexpr int kVersion = 1;

std::string Binary(const nlohmann::json& j, const char* key) {
    auto decoded = Base64UrlDecode(j.at(key).get<std::string>());
    if (!decoded) throw std::invalid_argument(std::string(key) + " is not base64url");
    return *decoded;
}

}  // namespace

std::string PreparedSignature::Serialize() const {
    nlohmann::json chain = nlohmann::json::array();
    for (const auto& der : credential.chain_der) chain.push_back(Base64UrlEncode(der));
    nlohmann::json j = {
        {"version", kVersion},
        {"original_size", original_size},
        {"update", Base64UrlEncode(update)},
        {"contents_at", contents_at},
        {"content_sha256", HexEncode(content_sha256)},
        {"signed_attributes", Base64UrlEncode(signed_attributes)},
        {"certificate", Base64UrlEncode(credential.certificate_der)},
        {"chain", std::move(chain)},
        {"max_signature_bytes", credential.max_signature_bytes},
        {"field_name", outcome.field_name},
        {"byte_range",
         {outcome.byte_range[0], outcome.byte_range[1], outcome.byte_range[2],
          outcome.byte_range[3]}},
        {"reserved_bytes", outcome.reserved_bytes},
        {"xref", outcome.xref_kind == XrefKind::kStream ? "stream" : "table"},
    };
    return j.dump();
}

Result<PreparedSignature> PreparedSignature::Parse(std::string_view text) {
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        if (j.at("version").get<int>() != kVersion) {
            return Fail(ErrorCode::kMalformed, "unknown prepared signature version");
        }
        PreparedSignature p;
        p.original_size = j.at("original_size").get<std::uint64_t>();
        p.update = Binary(j, "update");
        p.contents_at = j.at("contents_at").get<std::size_t>();
        auto digest = HexDecode(j.at("content_sha256").get<std::string>());
        if (!digest || digest->size() != 32) {
            return Fail(ErrorCode::kMalformed, "content_sha256 is not a SHA-256 digest");
        }
        p.content_sha256 = *digest;
        p.signed_attributes = Binary(j, "signed_attributes");
        p.credential.certificate_der = Binary(j, "certificate");
        for (const auto& c : j.at("chain")) {
            auto der = Base64UrlDecode(c.get<std::string>());
            if (!der) return Fail(ErrorCode::kMalformed, "chain is not base64url");
            p.credential.chain_der.push_back(*der);
        }
        p.credential.max_signature_bytes = j.at("max_signature_bytes").get<std::size_t>();
        p.outcome.field_name = j.at("field_name").get<std::string>();
        const auto& range = j.at("byte_range");
        if (!range.is_array() || range.size() != 4) {
            return Fail(ErrorCode::kMalformed, "byte_range has four numbers");
        }
        for (std::size_t i = 0; i < 4; ++i) p.outcome.byte_range[i] = range[i].get<std::uint64_t>();
        p.outcome.reserved_bytes = j.at("reserved_bytes").get<std::size_t>();
        p.outcome.xref_kind =
            j.at("xref").get<std::string>() == "stream" ? XrefKind::kStream : XrefKind::kTable;
        return p;
    } catch (const std::exception& e) {
        return Fail(ErrorCode::kMalformed, std::string("not a prepared signature: ") + e.what());
    }
}

}  // namespace firmo::pdf
