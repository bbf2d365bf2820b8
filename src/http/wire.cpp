#include "http/wire.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <chrono>
#include <ctime>

#include "http/server.hpp"

namespace firmo::http {

namespace bhttp = boost::beast::http;

namespace {

std::string_view Std(boost::beast::string_view s) { return {s.data(), s.size()}; }

// A body starts with at most this much memory, then grows as it arrives: a client that
// announces 10 MB and sends nothing does not get 10 MB reserved.
constexpr std::uint64_t kInitialBodyReserve = 64 * 1024;

bool IsTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

bool SafeName(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!IsTokenChar(c)) return false;
    }
    return true;
}

bool SafeValue(std::string_view value) {
    for (char c : value) {
        if (c == '\r' || c == '\n' || c == '\0') return false;
    }
    return true;
}

void AppendDecimal(std::string& out, std::uint64_t n) {
    char buf[24];
    char* end = buf + sizeof buf;
    char* p = end;
    do {
        *--p = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    out.append(p, static_cast<std::size_t>(end - p));
}

}  // namespace

void RequestParser::on_request_impl(bhttp::verb, string_view method_str, string_view target,
                                    int version, error_code&) {
    request_.method.assign(method_str.data(), method_str.size());
    request_.target.assign(target.data(), target.size());
    request_.version = version;
}

void RequestParser::on_response_impl(int, string_view, int, error_code& ec) {
    ec = bhttp::error::bad_version;  // never called for a request parser
}

void RequestParser::on_field_impl(bhttp::field, string_view name_string, string_view value,
                                  error_code&) {
    request_.headers.Add(Std(name_string), Std(value));
}

void RequestParser::on_header_impl(error_code& ec) {
    request_.keep_alive = keep_alive();
    SplitTarget(request_);
    if (!AcceptableTransferEncoding(request_)) ec = bhttp::error::bad_transfer_encoding;
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      error_code&) {
    if (content_length && !file_) {
        request_.body.reserve(
            static_cast<std::size_t>(std::min(*content_length, kInitialBodyReserve)));
    }
}

std::size_t RequestParser::Store(string_view body, error_code& ec) {
    if (!file_) {
        request_.body.append(body.data(), body.size());
    } else if (!file_->Append(Std(body))) {
        ec = make_error_code(boost::system::errc::no_space_on_device);
        return 0;
    }
    return body.size();
}

std::size_t RequestParser::on_body_impl(string_view body, error_code& ec) {
    return Store(body, ec);
}

void RequestParser::on_chunk_header_impl(std::uint64_t, string_view, error_code&) {}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
    return Store(body, ec);
}

void RequestParser::on_finish_impl(error_code&) {
    // Known only now for a message whose end is its connection's end (never for requests,
    // but cheap to keep right).
    request_.keep_alive = keep_alive();
}

bool AcceptableTransferEncoding(const HttpRequest& request) {
    // RFC 9112 6.1 and 6.3: a request whose Transfer-Encoding is not "chunked" last has no
    // reliable end, and codings other than chunked are not implemented: both are errors. Read
    // as "no body", the bytes that follow would be parsed as another request (smuggling).
    int codings = 0;
    bool seen = false;
    for (const auto& [name, value] : request.headers) {
        if (!EqualsIgnoreCase(name, "Transfer-Encoding")) continue;
        seen = true;
        std::string_view rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            std::string_view coding = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
                coding.remove_prefix(1);
            }
            while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
                coding.remove_suffix(1);
            }
            if (coding.empty()) continue;  // "chunked," and ", chunked" are allowed list forms
            if (!EqualsIgnoreCase(coding, "chunked")) return false;
            ++codings;
        }
    }
    return !seen || codings == 1;
}

void SplitTarget(HttpRequest& request) {
    const auto q = request.target.find('?');
    if (q == std::string::npos) {
        request.path.assign(request.target);
        return;
    }
    request.path.assign(request.target, 0, q);
    request.query = ParseQuery(std::string_view(request.target).substr(q + 1));
}

std::string_view HttpDate() {
    thread_local std::time_t cached_second = -1;
    thread_local char cached[32];
    thread_local std::size_t length = 0;
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    if (now != cached_second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        length = std::strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_second = now;
    }
    return {cached, length};
}

bool AppendResponseHead(std::string& out, const HttpResponse& response,
                        const HeadOptions& options) {
    const int status = response.status;
    out.append("HTTP/1.1 ");
    AppendDecimal(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    const auto reason =
        boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
    out.append(reason.data(), reason.size());
    out.append("\r\nServer: firmo\r\nDate: ");
    out.append(HttpDate());
    out.append("\r\n");
    if (!options.request_id.empty()) {
        out.append("X-Request-Id: ").append(options.request_id).append("\r\n");
    }
    for (const auto& [name, value] : response.headers) {
        if (!SafeName(name) || !SafeValue(value) || EqualsIgnoreCase(name, "Content-Length") ||
            EqualsIgnoreCase(name, "Transfer-Encoding") || EqualsIgnoreCase(name, "Connection")) {
            continue;
        }
        out.append(name).append(": ").append(value).append("\r\n");
    }
    // RFC 9110 6.4.1: no content for 1xx, 204 and 304 (and no Content-Length for 1xx, 204).
    const bool no_content = status < 200 || status == 204 || status == 304;
    if (!no_content) {
        out.append("Content-Length: ");
        AppendDecimal(out, response.body.size());
        out.append("\r\n");
    }
    if (options.close) {
        out.append("Connection: close\r\n");
    } else if (options.http10_keep_alive) {
        out.append("Connection: keep-alive\r\n");
    }
    out.append("\r\n");
    return !no_content && !options.head_request;
}

}  // namespace firmo::http
