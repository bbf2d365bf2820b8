#pragma once
// AWS Signature Version 4 (header and query-string signing), written over OpenSSL's SHA-256 and
// HMAC (crypto/digest.hpp). Pure functions, so the unit tests can replay AWS's published
// examples step by step: canonical request -> string to sign -> signature.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace firmo::store::s3 {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct SigV4Credentials {
    std::string access_key;
    std::string secret_key;
    std::string region = "us-east-1";
    std::string service = "s3";
};

struct SigV4Request {
    std::string method;         // "GET", "PUT", ...
    std::string canonical_uri;  // the path, already URI-encoded (UriEncodePath), e.g. "/b/k.pdf"
    Pairs query;                // raw (not encoded) names and values
    Pairs headers;              // raw names and values; must include "host"
    std::string payload_hash;   // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper hex);
// '/' is kept when `keep_slash` (object key paths), encoded otherwise (query values).
std::string UriEncode(std::string_view s, bool keep_slash = false);
// "20130524T000000Z" and "20130524" for a point in time (UTC).
std::string AmzDate(std::chrono::system_clock::time_point t);
std::string SigV4Scope(std::string_view date8, const SigV4Credentials& creds);

std::string CanonicalQueryString(const Pairs& query);
// Lower-cased, trimmed, sorted "name:value\n" lines; `signed_headers` receives "a;b;c".
std::string CanonicalHeaders(const Pairs& headers, std::string* signed_headers);
std::string CanonicalRequest(const SigV4Request& request);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
std::string SigningKey(std::string_view secret, std::string_view date8, std::string_view region,
                       std::string_view service);
// Hex signature of a request signed at `amz_date` (which must be the request's x-amz-date).
std::string Signature(const SigV4Request& request, const SigV4Credentials& creds,
                      std::string_view amz_date);
// The value of the Authorization header for `request` (its headers must hold x-amz-date).
std::string AuthorizationHeader(const SigV4Request& request, const SigV4Credentials& creds,
                                std::string_view amz_date);
// Query-string signing (presigned URLs): adds the X-Amz-* parameters to `request.query`, signs
// with payload "UNSIGNED-PAYLOAD" and returns the final query string (with X-Amz-Signature).
std::string PresignQuery(SigV4Request request, const SigV4Credentials& creds,
                         std::string_view amz_date, long expires_seconds);

}  // namespace firmo::store::s3
