#include "http/message.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/encoding.hpp"

namespace firmo::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        // ASCII only: header names are tokens.
        const auto x = static_cast<unsigned char>(a[i]);
        const auto y = static_cast<unsigned char>(b[i]);
        if (x == y) continue;
        const auto lower = static_cast<unsigned char>(x | 0x20);
        if (lower != (y | 0x20) || lower < 'a' || lower > 'z') return false;
    }
    return true;
}

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
    const std::string* value = headers.Find(name);
    if (!value) return std::nullopt;
    return std::string_view(*value);
}

void HttpRequest::Reset() {
    method.clear();
    target.clear();
    path.clear();
    query.clear();
    headers.clear();
    body_file.reset();
    // A large upload's buffer is not kept for the connection's next requests.
    if (body.capacity() > 64 * 1024) {
        std::string().swap(body);
    } else {
        body.clear();
    }
    remote_ip.clear();
    path_params.clear();
    route.clear();
    request_id.clear();
    version = 11;
    keep_alive = true;
}

std::string HttpRequest::MediaType() const {
    const auto type = Header("Content-Type");
    if (!type) return {};
    std::string out;
    for (char c : type->substr(0, type->find(';'))) {
        if (c != ' ' && c != '\t')
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

std::optional<std::string> HttpRequest::Query(const std::string& name) const {
    const auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

std::string_view HttpRequest::Param(std::string_view name) const {
    const std::string* value = path_params.Find(name);
    if (!value) return {};
    return *value;
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string type) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers.reserve(4);  // the type, the front door's two, one more: no reallocation
    r.Set("Content-Type", std::move(type));
    return r;
}

HttpResponse ProblemResponse(const Error& error) {
    return HttpResponse::Text(HttpStatusOf(error.code), ProblemJson(error),
                              "application/problem+json");
}

std::multimap<std::string, std::string> ParseQuery(std::string_view query) {
    std::multimap<std::string, std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        const std::string_view k = pair.substr(0, eq);
        const std::string_view v =
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        auto dk = PercentDecode(k, true);
        auto dv = PercentDecode(v, true);
        out.emplace(dk ? *dk : std::string(k), dv ? *dv : std::string(v));
    }
    return out;
}

BodyFile::~BodyFile() {
    if (fd_ >= 0) ::close(fd_);
}

bool BodyFile::Append(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
        size_ += static_cast<std::size_t>(n);
    }
    return true;
}

Result<std::string> BodyFile::ReadAll() const {
    std::string out(size_, '\0');
    std::size_t done = 0;
    while (done < size_) {
        const auto n = ::pread(fd_, out.data() + done, size_ - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Fail(ErrorCode::kUnavailable, "could not read the request body back");
        done += static_cast<std::size_t>(n);
    }
    return out;
}

Result<std::shared_ptr<BodyFile>> OpenBodyFile(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);  // an error shows in open() below
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        // A file system without O_TMPFILE: a named file, unlinked at once.
        std::string name = (dir / "body-XXXXXX").string();
        fd = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd >= 0) ::unlink(name.c_str());
    }
    if (fd < 0) {
        return Fail(ErrorCode::kUnavailable, "cannot create a temporary file in " + dir.string() +
                                                 ": " + std::strerror(errno));
    }
    return std::make_shared<BodyFile>(fd);
}

Result<void> LoadSpilledBody(HttpRequest& request) {
    if (!request.body_file) return {};
    FIRMO_TRY(request.body, request.body_file->ReadAll());
    request.body_file.reset();
    return {};
}

}  // namespace firmo::http
