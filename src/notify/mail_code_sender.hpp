#pragma once
// CodeSender adapters: MailCodeSender e-mails the code through a Mailer (SMS is not wired to a
// gateway yet); LogCodeSender only logs it, for development without an SMTP server.

#include <memory>

#include "core/clock.hpp"
#include "domain/ports/code_sender.hpp"
#include "notify/smtp_mailer.hpp"

namespace firmo::notify {

// Thread-safe when the mailer is (SmtpMailer is).
class MailCodeSender final : public domain::CodeSender {
  public:
    // `clock` (the "expires in N minutes" text) must outlive the sender.
    MailCodeSender(std::shared_ptr<Mailer> mailer, const Clock& clock);

    // kEmail: the mailer's result (kInvalidArgument for a bad address or code, kUnavailable
    // when the server is down or refuses). kSms: kUnavailable, no gateway configured.
    [[nodiscard]] Result<void> Send(const domain::CodeMessage& message) override;

  private:
    std::shared_ptr<Mailer> mailer_;
    const Clock& clock_;
};

// Development only (notify.code_delivery = log): nothing is sent; one warning line carries the
// masked recipient and the code itself, so never configure it where real signers log in.
class LogCodeSender final : public domain::CodeSender {
  public:
    [[nodiscard]] Result<void> Send(const domain::CodeMessage& message) override;
};

}  // namespace firmo::notify
