#include "domain/services/revocation_service.hpp"

#include "domain/services/context.hpp"

namespace firmo::domain {

Result<Revocation> RevocationService::Revoke(const std::string& serial, int reason) {
    if (serial.empty() || serial.find_first_not_of("0123456789ABCDEF") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, "a serial number is upper-case hexadecimal");
    }
    if (reason < 0 || reason > 10 || reason == 7) {
        return Fail(ErrorCode::kInvalidArgument, "not an RFC 5280 revocation reason");
    }
    const Revocation r{.serial = serial, .revoked_at = clock_.Now(), .reason = reason};
    return InWriteTransaction(db_, [&](Transaction& tx) { return tx.revocations().Revoke(r); });
}

Result<std::optional<Revocation>> RevocationService::Find(const std::string& serial) {
    return InReadTransaction(db_, [&](Transaction& tx) { return tx.revocations().Find(serial); });
}

Result<std::vector<Revocation>> RevocationService::List() {
    return InReadTransaction(db_, [&](Transaction& tx) { return tx.revocations().List(); });
}

}  // namespace firmo::domain
