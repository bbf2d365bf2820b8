#include "core/fault.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace firmo::fault {
namespace {

// Each case runs in a child process (death tests): FIRMO_FAULT is read once per process.
TEST(FaultDeathTest, TheConfiguredPointEndsTheProcessAtOnce) {
    EXPECT_EXIT(
        {
            ::setenv("FIRMO_FAULT", "idempotency.after_change", 1);
            Point("idempotency.after_claim");  // another point: nothing
            Point("idempotency.after_change");
            std::exit(0);
        },
        ::testing::ExitedWithCode(kFaultExitCode), "fault injected at idempotency.after_change");
}

TEST(FaultDeathTest, WithoutTheVariableNoPointFires) {
    EXPECT_EXIT(
        {
            ::unsetenv("FIRMO_FAULT");
            Point("idempotency.after_change");
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace firmo::fault
