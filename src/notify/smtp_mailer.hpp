#pragma once
// Sending one e-mail: the Mailer port, and SmtpMailer, which submits over SMTP with libcurl
// (plain, STARTTLS or implicit TLS; optional AUTH). Blocking (network, up to the timeout):
// never call it on an I/O thread. Thread-safe: every Send uses its own connection.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "notify/mime.hpp"

namespace firmo::notify {

class Mailer {
  public:
    virtual ~Mailer() = default;
    Mailer() = default;
    Mailer(const Mailer&) = delete;
    Mailer& operator=(const Mailer&) = delete;

    // kInvalidArgument for a message that cannot be sent as given (bad address, line break in
    // the subject); kUnavailable when the server cannot be reached or refuses the message.
    [[nodiscard]] virtual Result<void> Send(const Mail& mail) = 0;
};

// What to do about STARTTLS on an smtp:// URL (an smtps:// URL is TLS from the start).
enum class StartTls {
    kNone,           // never upgrade: only for a relay on loopback or a trusted network
    kOpportunistic,  // upgrade when the server offers it, else continue in clear text
    kRequired,       // upgrade or fail
};
// "none" | "opportunistic" | "required"; nullopt otherwise.
std::optional<StartTls> ParseStartTls(std::string_view text);

struct SmtpOptions {
    std::string url;  // "smtp://host:587" (STARTTLS per `starttls`), "smtps://host:465"
    StartTls starttls = StartTls::kRequired;
    std::string username;  // AUTH only when non-empty
    std::string password;
    MailAddress from;                           // envelope sender and From header
    std::chrono::milliseconds timeout{30'000};  // the whole exchange, connect included
    std::string ca_file;                        // PEM bundle; empty: the system's trust store
    bool verify_peer = true;  // certificate chain and host name; off only for testing
};

class SmtpMailer final : public Mailer {
  public:
    // kInvalidArgument for a URL that is not smtp:// or smtps://, a bad sender address or a
    // non-positive timeout. `clock` (Date header) and `random` (Message-ID) must outlive it.
    [[nodiscard]] static Result<std::unique_ptr<SmtpMailer>> Create(SmtpOptions options,
                                                                    const Clock& clock,
                                                                    Random& random);

    [[nodiscard]] Result<void> Send(const Mail& mail) override;

  private:
    SmtpMailer(SmtpOptions options, const Clock& clock, Random& random);

    const SmtpOptions options_;
    const Clock& clock_;
    Random& random_;
};

}  // namespace firmo::notify
