#include "store/filesystem/shared_counter.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/testing/temp_dir.hpp"

namespace firmo::store {
namespace {

TEST(SharedFileCounter, AnnouncementsReachEveryMappingAndOtherProcesses) {
    testing::TempDir dir;
    const auto path = dir.path() / "api-keys.generation";
    auto a = SharedFileCounter::Open(path);
    ASSERT_TRUE(a) << a.error().message;
    auto b = SharedFileCounter::Open(path);
    ASSERT_TRUE(b);
    EXPECT_EQ((*a)->Current(), 0u);
    (*a)->Announce();
    EXPECT_EQ((*b)->Current(), 1u);  // another mapping of the same file sees it at once

    // Another process (as `firmo apikey revoke` is) announces through its own mapping.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto c = SharedFileCounter::Open(path);
        if (!c) ::_exit(1);
        (*c)->Announce();
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ((*a)->Current(), 2u);

    // Opening again keeps the value; the file is the owner's only.
    auto again = SharedFileCounter::Open(path);
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)->Current(), 2u);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(SharedFileCounter::Open(dir.path() / "missing" / "x"));
}

}  // namespace
}  // namespace firmo::store
