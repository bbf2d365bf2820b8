// libFuzzer harness for what an OpenID provider sends (src/oidc): the JWKS document, the compact
// ID token (header, payload, signature), the claim checks and the mapping of claims to an
// identity. The input is a JWKS, a newline, then a token (the whole input is also tried as a
// token); a signature is checked with the key the token names. Built with clang
// (-fsanitize=fuzzer) by tests/fuzz/CMakeLists.txt under FIRMO_FUZZ.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oidc/claims.hpp"
#include "oidc/jwt.hpp"

namespace {

void Claims(const nlohmann::json& payload) {
    using firmo::domain::IdentifierKind;
    firmo::oidc::IdTokenExpectations expect;
    expect.issuer = "https://idp.example";
    expect.client_id = "firmo";
    expect.nonce = "n-0S6_WzA2Mj";
    expect.now = firmo::FromUnixMillis(1'800'000'000'000);
    expect.authenticated_after = expect.now - std::chrono::minutes(1);
    (void)firmo::oidc::ValidateIdTokenClaims(payload, expect);
    (void)firmo::oidc::MapIdentity(payload, "fiscal_number", IdentifierKind::kItFiscalCode);
    (void)firmo::oidc::MapIdentity(payload, "pid", IdentifierKind::kNoNationalId);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string_view jwks = input.substr(0, newline);
    const std::string_view token =
        newline == std::string_view::npos ? input : input.substr(newline + 1);

    auto keys = firmo::oidc::JwkSet::Parse(jwks);
    for (std::string_view compact : {token, input}) {
        auto jws = firmo::oidc::ParseJws(compact);
        if (!jws) continue;
        Claims(jws->payload);
        if (keys) {
            if (const auto* key = keys->Find(jws->kid, jws->alg)) {
                (void)firmo::oidc::VerifyJwsSignature(*jws, key->key.get());
            }
        }
    }
    if (keys) {
        firmo::oidc::IdTokenExpectations expect;
        expect.issuer = "https://idp.example";
        expect.client_id = "firmo";
        expect.nonce = "n-0S6_WzA2Mj";
        expect.now = firmo::FromUnixMillis(1'800'000'000'000);
        auto verified = firmo::oidc::VerifyIdToken(token, *keys, expect);
        // What verifies is the expected issuer's, for the expected client.
        if (verified && verified->claims.value("iss", "") != expect.issuer) __builtin_trap();
    }
    return 0;
}
