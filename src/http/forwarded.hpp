#pragma once
// The client's address behind reverse proxies. A node behind a load balancer sees the proxy as
// its peer; the proxy names the client in X-Forwarded-For. That header is believed only when
// the peer is one of the configured trusted proxies (`server.trusted_proxies`), and then only
// up to the first address that is not itself a trusted proxy, reading from the right (the
// part a client could forge is on the left).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace firmo::http {

// A set of IP addresses and networks (trusted proxies, the clients allowed to read /metrics).
class AddressList {
  public:
    AddressList() = default;
    // "10.0.0.0/8, 192.168.1.7, ::1, fd00::/8": addresses or CIDR networks, IPv4 or IPv6,
    // separated by commas or spaces. Empty: nobody. `what` names an item in errors.
    static Result<AddressList> Parse(std::string_view list, std::string_view what = "address");

    bool empty() const { return networks_.empty(); }
    bool Contains(std::string_view ip) const;
    bool Contains(const std::array<std::uint8_t, 16>& bytes) const;

  private:
    struct Network {
        std::array<std::uint8_t, 16> bytes;  // IPv4 as IPv4-mapped IPv6
        int prefix;                          // in bits of the 128
    };
    std::vector<Network> networks_;
};

class TrustedProxies {
  public:
    TrustedProxies() = default;
    // As AddressList::Parse. Empty: trust nobody.
    static Result<TrustedProxies> Parse(std::string_view list);

    bool empty() const { return networks_.empty(); }
    bool Contains(std::string_view ip) const { return networks_.Contains(ip); }
    // The address to record for a request from `peer` carrying `x_forwarded_for` (may be
    // empty): the peer itself unless it is a trusted proxy.
    std::string ClientAddress(std::string_view peer, std::string_view x_forwarded_for) const;

  private:
    AddressList networks_;
};

}  // namespace firmo::http
