#pragma once
// Use case: a signer authorizes their signatures at a QTSP (CSC API v2 section 8.4.2, OAuth 2.0
// authorization code with scope=credential), and the provider's redirect comes back.
//
// Begin() stores a pending authorization (the state's hash, the hashes, the sealed PKCE
// verifier, an expiry) and returns the provider URL for the signer's browser. Callback()
// matches the state, refuses a replay (an authorization finishes once, on any node), hands a
// denial (or a late answer for an expired authorization) to the continuation, which gives the
// signer their turn back, and otherwise hands the code to the continuation (the signing job
// exchanges it and calls signHash). Every outcome is in the request's audit log; no secret is.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/ports/qtsp.hpp"
#include "domain/services/context.hpp"

namespace firmo::domain {

// The query of GET /qtsp/callback.
struct QtspCallback {
    std::string state;
    std::optional<std::string> code;
    std::optional<std::string> error;              // e.g. "access_denied"
    std::optional<std::string> error_description;  // the provider's words, for the audit log
};

struct QtspBegun {
    std::string url;         // for the signer's browser
    std::string state_hash;  // names the stored authorization
};

struct QtspCallbackOutcome {
    std::string request_id;
    std::string signer_id;
    bool authorized = false;  // false: the signer denied (or the provider refused) at the QTSP
};

class QtspService {
  public:
    // `continuation` may be null until the signing pipeline is wired: Callback() then refuses
    // before it spends the authorization.
    QtspService(ServiceContext& ctx, QtspGateway& gateway, QtspContinuation* continuation,
                std::chrono::seconds ttl = std::chrono::minutes(15));

    // The URL the signer's browser opens. `digests`: raw SHA-256 digests, in signing order.
    [[nodiscard]] Result<QtspBegun> Begin(const std::string& request_id,
                                          const std::string& signer_id,
                                          const std::string& credential_id,
                                          const std::vector<std::string>& digests);
    // The stored authorization of `state_hash`, if any (the sweep deletes old ones).
    [[nodiscard]] Result<std::optional<QtspAuthorization>> Find(const std::string& state_hash);
    // The periodic sweep: deletes the authorizations that expired more than `keep` ago
    // (pending or finished; a signing job has had its attempts by then), and forgets the
    // credential tokens the provider no longer honours. Returns how many rows it deleted.
    [[nodiscard]] Result<std::int64_t> Sweep(std::chrono::seconds keep = std::chrono::hours(1));
    std::chrono::seconds ttl() const { return ttl_; }
    // kNotFound: no such state; kGone: finished already (a replay) or expired; kUnavailable:
    // no continuation is wired.
    [[nodiscard]] Result<QtspCallbackOutcome> Callback(const QtspCallback& callback);

  private:
    // `then` runs in the claiming transaction (may be null).
    [[nodiscard]] Result<QtspAuthorization> Claim(
        const std::string& state_hash, const std::string& outcome, const std::string& detail,
        const std::function<Result<void>(Transaction&, const QtspAuthorization&)>& then);

    ServiceContext& ctx_;
    QtspGateway& gateway_;
    QtspContinuation* continuation_;
    std::chrono::seconds ttl_;
};

}  // namespace firmo::domain
