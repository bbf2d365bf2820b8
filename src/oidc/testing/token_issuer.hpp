#pragma once
// Test support: keys generated on the spot, JWKs for them, ID tokens signed with them (or
// forged: alg none, HMAC), and a scripted HttpFetcher, so the relying party is exercised
// without a network. Header-only; for tests only.

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/encoding.hpp"
#include "crypto/openssl_util.hpp"
#include "oidc/http_fetcher.hpp"
#include "oidc/jwt.hpp"

namespace firmo::oidc::testing {

struct TestKey {
    crypto::PkeyPtr key;
    std::string kid;
    JwsAlgorithm alg = JwsAlgorithm::kRs256;
    nlohmann::json jwk;  // public part
};

inline std::string BignumBytes(EVP_PKEY* key, const char* param, int pad = 0) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) return {};
    crypto::BignumPtr owned(bn);
    std::string out(static_cast<std::size_t>(pad > 0 ? pad : BN_num_bytes(bn)), '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    if (pad > 0) {
        BN_bn2binpad(bn, p, pad);
    } else {
        BN_bn2bin(bn, p);
    }
    return out;
}

inline TestKey MakeRsaKey(std::string kid, JwsAlgorithm alg = JwsAlgorithm::kRs256,
                          unsigned bits = 2048) {
    TestKey k;
    k.key.reset(EVP_RSA_gen(bits));
    k.kid = std::move(kid);
    k.alg = alg;
    k.jwk = {{"kty", "RSA"},
             {"use", "sig"},
             {"n", Base64UrlEncode(BignumBytes(k.key.get(), OSSL_PKEY_PARAM_RSA_N))},
             {"e", Base64UrlEncode(BignumBytes(k.key.get(), OSSL_PKEY_PARAM_RSA_E))}};
    if (!k.kid.empty()) k.jwk["kid"] = k.kid;
    return k;
}

inline TestKey MakeEcKey(std::string kid) {
    TestKey k;
    k.key.reset(EVP_EC_gen("P-256"));
    k.kid = std::move(kid);
    k.alg = JwsAlgorithm::kEs256;
    k.jwk = {{"kty", "EC"},
             {"crv", "P-256"},
             {"x", Base64UrlEncode(BignumBytes(k.key.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
             {"y", Base64UrlEncode(BignumBytes(k.key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
    if (!k.kid.empty()) k.jwk["kid"] = k.kid;
    return k;
}

inline std::string Jwks(const std::vector<const TestKey*>& keys) {
    nlohmann::json set = {{"keys", nlohmann::json::array()}};
    for (const TestKey* k : keys) set["keys"].push_back(k->jwk);
    return set.dump();
}

inline std::string EncodeSegment(const nlohmann::json& value) {
    return Base64UrlEncode(value.dump());
}

// A compact JWS over `payload` with `header` (alg and kid filled in from the key unless set).
inline std::string SignToken(const TestKey& k, const nlohmann::json& payload,
                             nlohmann::json header = nlohmann::json::object()) {
    if (!header.contains("alg")) header["alg"] = std::string(ToString(k.alg));
    if (!header.contains("kid") && !k.kid.empty()) header["kid"] = k.kid;
    const std::string input = EncodeSegment(header) + "." + EncodeSegment(payload);
    crypto::OpensslPtr<EVP_MD_CTX, EVP_MD_CTX_free> md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!md || EVP_DigestSignInit(md.get(), &pctx, EVP_sha256(), nullptr, k.key.get()) != 1) {
        return {};
    }
    if (k.alg == JwsAlgorithm::kPs256) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    std::size_t len = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    if (EVP_DigestSign(md.get(), nullptr, &len, data, input.size()) != 1) return {};
    std::string sig(len, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                       input.size()) != 1) {
        return {};
    }
    sig.resize(len);
    if (k.alg == JwsAlgorithm::kEs256) {  // DER -> r || s
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        crypto::OpensslPtr<ECDSA_SIG, ECDSA_SIG_free> ecdsa(
            d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
        if (!ecdsa) return {};
        std::string raw(64, '\0');
        auto* out = reinterpret_cast<unsigned char*>(raw.data());
        BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), out, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), out + 32, 32);
        sig = raw;
    }
    return input + "." + Base64UrlEncode(sig);
}

// A token with any header and signature bytes, e.g. {"alg":"none"}.
inline std::string RawToken(const nlohmann::json& header, const nlohmann::json& payload,
                            const std::string& signature) {
    return EncodeSegment(header) + "." + EncodeSegment(payload) + "." + Base64UrlEncode(signature);
}

// HS256 with `secret` as the HMAC key (the algorithm-confusion attack uses the public key).
inline std::string HmacToken(const nlohmann::json& header, const nlohmann::json& payload,
                             const std::string& secret) {
    const std::string input = EncodeSegment(header) + "." + EncodeSegment(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
    return input + "." + Base64UrlEncode(std::string(reinterpret_cast<const char*>(mac), mac_len));
}

// Answers each URL from a handler; records every call. Thread-safe.
class FakeHttp final : public HttpFetcher {
  public:
    using Handler = std::function<Result<HttpReply>(const HttpCall&)>;

    void On(const std::string& url, Handler handler) {
        std::lock_guard lock(mu_);
        handlers_[url] = std::move(handler);
    }
    void OnJson(const std::string& url, std::string body, long status = 200) {
        On(url, [body = std::move(body), status](const HttpCall&) -> Result<HttpReply> {
            return HttpReply{status, "application/json; charset=utf-8", body};
        });
    }
    Result<HttpReply> Fetch(const HttpCall& call) override {
        Handler handler;
        {
            std::lock_guard lock(mu_);
            calls_.push_back(call);
            auto it = handlers_.find(call.url);
            if (it == handlers_.end()) return HttpReply{404, "text/plain", "not found"};
            handler = it->second;
        }
        return handler(call);
    }
    std::vector<HttpCall> Calls() {
        std::lock_guard lock(mu_);
        return calls_;
    }
    int CallsTo(const std::string& url) {
        std::lock_guard lock(mu_);
        int n = 0;
        for (const HttpCall& c : calls_) n += c.url == url ? 1 : 0;
        return n;
    }

  private:
    std::mutex mu_;
    std::map<std::string, Handler> handlers_;
    std::vector<HttpCall> calls_;
};

}  // namespace firmo::oidc::testing
