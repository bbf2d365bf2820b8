#pragma once
// "Last used" of API keys without a write per call: the authentication path notes each use in
// memory (Note), and a flusher asks what to write (Due): a key's latest use, at most once per
// `interval` per key, so the database sees at most one write a minute per key used, however busy
// the key is. What was noted but not yet written is lost if the process dies (shutdown writes
// everything: Due(now, true)); the recorded time is approximate to `interval`. Thread-safe.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"

namespace firmo::domain {

struct KeyUse {
    std::string key_id;
    Timestamp at;
    std::string ip;
};

class KeyUseLog {
  public:
    explicit KeyUseLog(std::chrono::milliseconds interval) : interval_(interval) {}

    void Note(const std::string& key_id, Timestamp at, const std::string& ip);
    // The uses to write now: of each key with a use not yet handed out, the latest, when the
    // key's previous use was handed out `interval` ago or more (or never); with `all`, every
    // such key. What is handed out is counted as written.
    std::vector<KeyUse> Due(Timestamp now, bool all = false);

  private:
    struct Entry {
        KeyUse latest;
        bool pending = false;
        std::optional<Timestamp> handed_out_at;
    };
    const std::chrono::milliseconds interval_;
    std::mutex mu_;
    std::unordered_map<std::string, Entry> keys_;  // by key id
};

}  // namespace firmo::domain
