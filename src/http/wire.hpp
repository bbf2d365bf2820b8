#pragma once
// The HTTP/1.1 wire format as the server uses it: a Beast parser that writes a request
// straight into our HttpRequest (no intermediate Beast message, no header map copied), and the
// response head (status line and headers) written by hand into a reused buffer, for one
// gathered write of head and body. Beast's own serializer cost more CPU than the handler of
// a small GET.

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace firmo::http {

class RequestParser final : public boost::beast::http::basic_parser<true> {
  public:
    // Parses into `request`, which must be Reset() and outlive the parser.
    explicit RequestParser(HttpRequest& request) : request_(request) {}
    // From now on the body goes to `file` (also set as request.body_file), not to memory. A
    // write that fails ends the parse with errc::no_space_on_device.
    void SpillTo(std::shared_ptr<BodyFile> file) {
        request_.body_file = file;
        file_ = std::move(file);
    }

  private:
    using error_code = boost::beast::error_code;
    using string_view = boost::beast::string_view;

    void on_request_impl(boost::beast::http::verb method, string_view method_str,
                         string_view target, int version, error_code& ec) override;
    void on_response_impl(int, string_view, int, error_code& ec) override;
    void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                       error_code& ec) override;
    void on_header_impl(error_code& ec) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                           error_code& ec) override;
    std::size_t on_body_impl(string_view body, error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override;
    std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
    void on_finish_impl(error_code& ec) override;

    std::size_t Store(string_view body, error_code& ec);

    HttpRequest& request_;
    std::shared_ptr<BodyFile> file_;
};

// Whether the request's Transfer-Encoding (if any) is exactly "chunked", the only coding the
// server decodes: anything else (gzip, chunked twice, chunked not last, an empty value) is
// refused with 400 by the parser.
bool AcceptableTransferEncoding(const HttpRequest& request);

// Sets request.path and request.query from request.target.
void SplitTarget(HttpRequest& request);

struct HeadOptions {
    std::string_view request_id;     // echoed as X-Request-Id (omitted when empty)
    bool close = false;              // "Connection: close"
    bool http10_keep_alive = false;  // an HTTP/1.0 client keeps the connection: say so
    bool head_request = false;       // HEAD: no body follows, Content-Length is the GET's
};

// Appends the status line and headers of `response` to `out`: Server, Date, X-Request-Id,
// the handler's headers, Content-Length (none for 1xx, 204 and 304) and Connection. The
// handler's own Content-Length, Transfer-Encoding and Connection are dropped (the server does
// the framing), and so is any header whose name or value could break the head (CR, LF, NUL,
// or a name that is not a token). Returns whether the body is to be sent.
bool AppendResponseHead(std::string& out, const HttpResponse& response, const HeadOptions& options);

// "Tue, 15 Nov 1994 08:12:31 GMT" for now; formatted once per second and thread.
std::string_view HttpDate();

}  // namespace firmo::http
