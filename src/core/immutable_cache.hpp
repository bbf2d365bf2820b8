#pragma once

// ImmutableCache: values read from rows that never change once written (a dossier; a signer's
// identifier kind; a request aggregate at one version, checked against the row's current
// version on every read: store/sql/request_cache.hpp), kept per process so that a hot path can
// skip the database read. Never for anything an update or a delete can change under the same
// key: there is no invalidation. Holds at most
// `capacity` entries; when full it starts over (the next reads fill it again), which bounds
// memory without bookkeeping per entry. Thread-safe.

#include <cstddef>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace firmo {

template <typename V>
class ImmutableCache {
  public:
    explicit ImmutableCache(std::size_t capacity) : capacity_(capacity) {}
    ImmutableCache(const ImmutableCache&) = delete;
    ImmutableCache& operator=(const ImmutableCache&) = delete;

    std::optional<V> Find(const std::string& key) const {
        std::shared_lock lock(mu_);
        const auto it = map_.find(key);
        if (it == map_.end()) return std::nullopt;
        return it->second;
    }

    void Put(const std::string& key, V value) {
        if (capacity_ == 0) return;
        std::unique_lock lock(mu_);
        if (map_.size() >= capacity_ && !map_.contains(key)) map_.clear();
        map_.insert_or_assign(key, std::move(value));
    }

    std::size_t size() const {
        std::shared_lock lock(mu_);
        return map_.size();
    }

  private:
    const std::size_t capacity_;
    mutable std::shared_mutex mu_;
    std::unordered_map<std::string, V> map_;
};

}  // namespace firmo
