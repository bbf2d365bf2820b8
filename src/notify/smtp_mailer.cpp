#include "notify/smtp_mailer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <mutex>

#include "core/encoding.hpp"

namespace firmo::notify {
namespace {

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using CurlListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

constexpr std::size_t kUniqueBytes = 16;

struct Upload {
    std::string_view data;
    std::size_t offset = 0;
};

std::size_t ReadUpload(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const std::size_t count = std::min(size * n, upload->data.size() - upload->offset);
    std::memcpy(buffer, upload->data.data() + upload->offset, count);
    upload->offset += count;
    return count;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
           });
}

// curl_global_init is not thread-safe in every libcurl build; do it once, up front.
void InitCurlOnce() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::optional<StartTls> ParseStartTls(std::string_view text) {
    if (text == "none") return StartTls::kNone;
    if (text == "opportunistic") return StartTls::kOpportunistic;
    if (text == "required") return StartTls::kRequired;
    return std::nullopt;
}

Result<std::unique_ptr<SmtpMailer>> SmtpMailer::Create(SmtpOptions options, const Clock& clock,
                                                       Random& random) {
    const bool smtp = StartsWithNoCase(options.url, "smtp://");
    const bool smtps = StartsWithNoCase(options.url, "smtps://");
    const std::size_t host_at = smtp ? 7 : 8;
    if ((!smtp && !smtps) || options.url.size() <= host_at ||
        options.url.find_first_of("\r\n ") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the SMTP URL must be smtp://host[:port] or smtps://host[:port]");
    }
    // Credentials in the URL would end up in error messages and logs.
    if (options.url.find('@') != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    "put SMTP credentials in the username and password options, not the URL");
    }
    if (auto ok = CheckAddress(options.from.address); !ok) {
        return Fail(ErrorCode::kInvalidArgument, "sender: " + ok.error().message);
    }
    if (options.from.display_name.find_first_of("\r\n") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, "the sender name must not contain line breaks");
    }
    if (options.timeout <= std::chrono::milliseconds::zero()) {
        return Fail(ErrorCode::kInvalidArgument, "the SMTP timeout must be positive");
    }
    InitCurlOnce();
    return std::unique_ptr<SmtpMailer>(new SmtpMailer(std::move(options), clock, random));
}

SmtpMailer::SmtpMailer(SmtpOptions options, const Clock& clock, Random& random)
    : options_(std::move(options)), clock_(clock), random_(random) {}

Result<void> SmtpMailer::Send(const Mail& mail) {
    FIRMO_TRY(const std::string message, BuildMessage(mail, options_.from, clock_.Now(),
                                                      HexEncode(random_.Bytes(kUniqueBytes))));

    CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
    CurlListPtr recipients(curl_slist_append(nullptr, ("<" + mail.to + ">").c_str()),
                           curl_slist_free_all);
    if (!curl || !recipients) return Fail(ErrorCode::kInternal, "cannot start an SMTP session");
    CURL* c = curl.get();
    const std::string mail_from = "<" + options_.from.address + ">";
    Upload upload{message};
    std::array<char, CURL_ERROR_SIZE> detail{};

    curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail.data());
    long use_ssl = CURLUSESSL_ALL;
    if (StartsWithNoCase(options_.url, "smtp://")) {
        switch (options_.starttls) {
            case StartTls::kNone:
                use_ssl = CURLUSESSL_NONE;
                break;
            case StartTls::kOpportunistic:
                use_ssl = CURLUSESSL_TRY;
                break;
            case StartTls::kRequired:
                use_ssl = CURLUSESSL_ALL;
                break;
        }
    }
    curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_peer ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_peer ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.username.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
    }

    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        long reply = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
        std::string text = "SMTP server " + options_.url + ": " + curl_easy_strerror(rc);
        if (detail[0] != '\0') text.append(" (").append(detail.data()).append(")");
        if (reply != 0) text.append(", last reply ").append(std::to_string(reply));
        return Fail(ErrorCode::kUnavailable, std::move(text));
    }
    return {};
}

}  // namespace firmo::notify
