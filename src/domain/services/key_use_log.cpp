#include "domain/services/key_use_log.hpp"

namespace firmo::domain {

void KeyUseLog::Note(const std::string& key_id, Timestamp at, const std::string& ip) {
    const std::lock_guard lock(mu_);
    Entry& e = keys_[key_id];
    if (e.pending && e.latest.at > at) return;
    e.latest = KeyUse{key_id, at, ip};
    e.pending = true;
}

std::vector<KeyUse> KeyUseLog::Due(Timestamp now, bool all) {
    std::vector<KeyUse> due;
    const std::lock_guard lock(mu_);
    for (auto it = keys_.begin(); it != keys_.end();) {
        Entry& e = it->second;
        const bool rested = !e.handed_out_at || now - *e.handed_out_at >= interval_;
        if (e.pending && (all || rested)) {
            due.push_back(e.latest);
            e.pending = false;
            e.handed_out_at = now;
        } else if (!e.pending && rested) {
            // Quiet for a whole interval: forget it (its next use may be written at once).
            it = keys_.erase(it);
            continue;
        }
        ++it;
    }
    return due;
}

}  // namespace firmo::domain
