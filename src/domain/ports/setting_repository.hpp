#pragma once
// Port: node-wide settings (e.g. the URL-signing secret), shared by every node.

#include <optional>
#include <string>

#include "core/error.hpp"

namespace firmo::domain {

class SettingRepository {
  public:
    virtual ~SettingRepository() = default;
    SettingRepository() = default;
    SettingRepository(const SettingRepository&) = delete;
    SettingRepository& operator=(const SettingRepository&) = delete;

    [[nodiscard]] virtual Result<std::optional<std::string>> Get(const std::string& key) = 0;
    // Inserts unless present; returns the value now stored (the first writer's).
    [[nodiscard]] virtual Result<std::string> PutIfAbsent(const std::string& key,
                                                          const std::string& value) = 0;
};

}  // namespace firmo::domain
