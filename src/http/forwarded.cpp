#include "http/forwarded.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <optional>

namespace firmo::http {

namespace {

namespace ip = boost::asio::ip;

// 16 bytes for an address (IPv4 mapped into IPv6), or nothing when it is not one.
std::optional<std::array<std::uint8_t, 16>> Bytes(std::string_view text) {
    boost::system::error_code ec;
    const ip::address address = ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    const ip::address_v6 v6 =
        address.is_v4() ? ip::make_address_v6(ip::v4_mapped, address.to_v4()) : address.to_v6();
    if (v6.scope_id() != 0) return std::nullopt;
    std::array<std::uint8_t, 16> out{};
    const auto raw = v6.to_bytes();
    std::copy(raw.begin(), raw.end(), out.begin());
    return out;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// One X-Forwarded-For element: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1" or "[2001:db8::1]:80".
std::string_view Host(std::string_view element) {
    element = Trim(element);
    if (element.starts_with('[')) {
        const auto close = element.find(']');
        return close == std::string_view::npos ? std::string_view() : element.substr(1, close - 1);
    }
    const auto colon = element.find(':');
    if (colon != std::string_view::npos && element.find(':', colon + 1) == std::string_view::npos) {
        return element.substr(0, colon);  // IPv4 with a port
    }
    return element;
}

}  // namespace

Result<AddressList> AddressList::Parse(std::string_view list, std::string_view what) {
    AddressList out;
    std::size_t pos = 0;
    while (pos < list.size()) {
        const auto end = list.find_first_of(", \t", pos);
        const std::string_view item =
            list.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? list.size() : end + 1;
        if (item.empty()) continue;
        const auto slash = item.find('/');
        const std::string_view host = item.substr(0, slash);
        const auto bytes = Bytes(host);
        const bool v4 = host.find(':') == std::string_view::npos;
        if (!bytes) {
            return Fail(ErrorCode::kInvalidArgument, std::string(what) + " '" + std::string(item) +
                                                         "' is not an IP address or network");
        }
        int prefix = v4 ? 32 : 128;
        if (slash != std::string_view::npos) {
            const std::string_view digits = item.substr(slash + 1);
            int bits = -1;
            const auto [p, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), bits);
            if (ec != std::errc() || p != digits.data() + digits.size() || bits < 0 ||
                bits > prefix) {
                return Fail(
                    ErrorCode::kInvalidArgument,
                    std::string(what) + " '" + std::string(item) + "' has a bad prefix length");
            }
            prefix = bits;
        }
        out.networks_.push_back({*bytes, v4 ? prefix + 96 : prefix});
    }
    return out;
}

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
    FIRMO_TRY(auto networks, AddressList::Parse(list, "trusted proxy"));
    TrustedProxies out;
    out.networks_ = std::move(networks);
    return out;
}

bool AddressList::Contains(std::string_view text) const {
    const auto bytes = Bytes(Trim(text));
    return bytes && Contains(*bytes);
}

bool AddressList::Contains(const std::array<std::uint8_t, 16>& bytes) const {
    for (const auto& n : networks_) {
        int bits = n.prefix;
        bool match = true;
        for (std::size_t i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
            const int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            match = (bytes[i] & mask) == (n.bytes[i] & mask);
        }
        if (match) return true;
    }
    return false;
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          std::string_view x_forwarded_for) const {
    std::string client(peer);
    if (!Contains(peer)) return client;
    // From the right: each hop was added by the proxy to its right, trusted so far.
    std::string_view rest = x_forwarded_for;
    while (!Trim(rest).empty()) {
        const auto comma = rest.rfind(',');
        const std::string_view element =
            comma == std::string_view::npos ? rest : rest.substr(comma + 1);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        const std::string_view host = Host(element);
        const auto bytes = Bytes(host);
        if (!bytes) break;  // garbage: keep the last hop we could trust
        client = std::string(host);
        if (!networks_.Contains(*bytes)) break;
    }
    return client;
}

}  // namespace firmo::http
