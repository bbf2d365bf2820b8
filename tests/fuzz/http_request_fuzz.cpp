// libFuzzer harness for the bytes a client sends before any handler runs: the server's own
// request parser (http/wire.hpp: Beast's basic_parser writing into our HttpRequest, with the
// Transfer-Encoding rule), fed in pieces split where the input says, as a socket would deliver
// them; then the multipart parser on the parsed body with the request's own Content-Type; the
// query string; and the response head written from the parsed headers. Traps when:
// - a request is accepted with a Transfer-Encoding other than exactly "chunked";
// - a multipart part points outside the body;
// - the response head could be split by a header (a CR or LF inside a line), or its end is
//   not the one blank line.

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "http/multipart.hpp"
#include "http/wire.hpp"

namespace {

using firmo::http::HttpRequest;

void CheckHead(const HttpRequest& request) {
    firmo::http::HttpResponse response;
    response.status = 200;
    // The request's headers echoed as response headers: whatever a client sent must not
    // break the head (the writer drops unsafe names and values).
    for (const auto& [name, value] : request.headers) response.Set(name, value);
    response.body = request.body.substr(0, 16);
    std::string head;
    firmo::http::AppendResponseHead(head, response,
                                    {.request_id = "fuzz", .close = !request.keep_alive});
    const auto end = head.find("\r\n\r\n");
    if (end == std::string::npos || end + 4 != head.size()) __builtin_trap();
    for (std::size_t i = 0; i < end; ++i) {
        const char c = head[i];
        // Every CR is followed by LF and every LF preceded by CR: no bare line breaks.
        if (c == '\r' && head[i + 1] != '\n') __builtin_trap();
        if (c == '\n' && head[i - 1] != '\r') __builtin_trap();
        if (c == '\0') __builtin_trap();
    }
}

void CheckMultipart(const HttpRequest& request) {
    const auto type = request.Header("Content-Type");
    if (!type) return;
    const auto parts = firmo::http::ParseMultipart(*type, request.body);
    if (!parts) return;
    const char* begin = request.body.data();
    const char* end = begin + request.body.size();
    for (const auto& part : *parts) {
        if (part.body.data() < begin || part.body.data() + part.body.size() > end) {
            __builtin_trap();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size < 1) return 0;
    // The first byte picks where the stream is cut, as TCP segments would cut it.
    const std::size_t step = 1 + bytes[0] % 64;
    const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);

    HttpRequest request;
    firmo::http::RequestParser parser(request);
    parser.header_limit(16 * 1024);
    parser.body_limit(256 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    std::string pending;  // what the parser has not consumed yet, as Beast's buffer keeps it
    std::size_t fed = 0;
    while (!parser.is_done() && !ec) {
        if (fed < data.size()) {
            const std::size_t n = std::min(step, data.size() - fed);
            pending.append(data.substr(fed, n));
            fed += n;
        } else if (pending.empty()) {
            parser.put_eof(ec);
            break;
        }
        const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
        if (ec == boost::beast::http::error::need_more) {
            ec = {};
            if (fed >= data.size()) break;  // the input ended in the middle of a message
            pending.erase(0, used);
            continue;
        }
        pending.erase(0, used);
    }
    if (!parser.is_header_done()) return 0;
    // The Transfer-Encoding rule holds for everything the parser let through.
    if (!ec && !firmo::http::AcceptableTransferEncoding(request)) __builtin_trap();
    CheckHead(request);
    if (ec || !parser.is_done()) return 0;
    CheckMultipart(request);
    (void)firmo::http::ParseQuery(request.target);
    return 0;
}
