#include "store/s3/sigv4.hpp"

#include <algorithm>
#include <ctime>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"

namespace firmo::store::s3 {

std::string UriEncode(std::string_view s, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                                c == '~';
        if (unreserved || (keep_slash && c == '/')) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0F]);
        }
    }
    return out;
}

std::string AmzDate(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string SigV4Scope(std::string_view date8, const SigV4Credentials& creds) {
    std::string scope(date8);
    scope += '/' + creds.region + '/' + creds.service + "/aws4_request";
    return scope;
}

std::string CanonicalQueryString(const Pairs& query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto& [name, value] : query) encoded.emplace_back(UriEncode(name), UriEncode(value));
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) out += '&';
        out += name;
        out += '=';
        out += value;
    }
    return out;
}

namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Trims and collapses runs of spaces to one, as SigV4 asks of header values.
std::string TrimAll(std::string_view v) {
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

}  // namespace

std::string CanonicalHeaders(const Pairs& headers, std::string* signed_headers) {
    std::vector<std::pair<std::string, std::string>> lowered;
    lowered.reserve(headers.size());
    for (const auto& [name, value] : headers) lowered.emplace_back(Lower(name), TrimAll(value));
    std::stable_sort(lowered.begin(), lowered.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    std::string names;
    for (std::size_t i = 0; i < lowered.size(); ++i) {
        // Repeated headers are joined with commas, in order.
        if (i > 0 && lowered[i].first == lowered[i - 1].first) {
            out.back() = ',';
            out += lowered[i].second + '\n';
            continue;
        }
        out += lowered[i].first + ':' + lowered[i].second + '\n';
        if (!names.empty()) names += ';';
        names += lowered[i].first;
    }
    if (signed_headers != nullptr) *signed_headers = names;
    return out;
}

std::string CanonicalRequest(const SigV4Request& request) {
    std::string signed_headers;
    const std::string headers = CanonicalHeaders(request.headers, &signed_headers);
    return request.method + '\n' + request.canonical_uri + '\n' +
           CanonicalQueryString(request.query) + '\n' + headers + '\n' + signed_headers + '\n' +
           request.payload_hash;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
    std::string out = "AWS4-HMAC-SHA256\n";
    out += amz_date;
    out += '\n';
    out += scope;
    out += '\n';
    out += HexEncode(crypto::Sha256(canonical_request));
    return out;
}

std::string SigningKey(std::string_view secret, std::string_view date8, std::string_view region,
                       std::string_view service) {
    const std::string k_date = crypto::HmacSha256("AWS4" + std::string(secret), date8);
    const std::string k_region = crypto::HmacSha256(k_date, region);
    const std::string k_service = crypto::HmacSha256(k_region, service);
    return crypto::HmacSha256(k_service, "aws4_request");
}

std::string Signature(const SigV4Request& request, const SigV4Credentials& creds,
                      std::string_view amz_date) {
    const std::string_view date8 = amz_date.substr(0, 8);
    const std::string sts =
        StringToSign(amz_date, SigV4Scope(date8, creds), CanonicalRequest(request));
    const std::string key = SigningKey(creds.secret_key, date8, creds.region, creds.service);
    return HexEncode(crypto::HmacSha256(key, sts));
}

std::string AuthorizationHeader(const SigV4Request& request, const SigV4Credentials& creds,
                                std::string_view amz_date) {
    std::string signed_headers;
    CanonicalHeaders(request.headers, &signed_headers);
    return "AWS4-HMAC-SHA256 Credential=" + creds.access_key + '/' +
           SigV4Scope(amz_date.substr(0, 8), creds) + ", SignedHeaders=" + signed_headers +
           ", Signature=" + Signature(request, creds, amz_date);
}

std::string PresignQuery(SigV4Request request, const SigV4Credentials& creds,
                         std::string_view amz_date, long expires_seconds) {
    std::string signed_headers;
    CanonicalHeaders(request.headers, &signed_headers);
    request.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    request.query.emplace_back("X-Amz-Credential",
                               creds.access_key + '/' + SigV4Scope(amz_date.substr(0, 8), creds));
    request.query.emplace_back("X-Amz-Date", std::string(amz_date));
    request.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
    request.query.emplace_back("X-Amz-SignedHeaders", signed_headers);
    request.payload_hash = "UNSIGNED-PAYLOAD";
    const std::string signature = Signature(request, creds, amz_date);
    return CanonicalQueryString(request.query) + "&X-Amz-Signature=" + signature;
}

}  // namespace firmo::store::s3
