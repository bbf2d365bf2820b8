#include "store/filesystem/shared_counter.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>

#include "core/testing/temp_dir.hpp"

namespace firmo::store {
namespace {

// Runs `act` on a mapping of `path` opened in a child process, then waits for the child to end
// (as `firmo apikey revoke` would, or a node that dies after `act`); whether it ran.
template <class Act>
bool InAnotherProcess(const std::filesystem::path& path, Act act) {
    const pid_t child = ::fork();
    if (child < 0) return false;
    if (child == 0) {
        auto c = SharedFileCounter::Open(path);
        if (!c) ::_exit(1);
        act(**c);
        ::_exit(0);
    }
    int status = 0;
    return ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

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
    ASSERT_TRUE(InAnotherProcess(path, [](SharedFileCounter& c) { c.Announce(); }));
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

TEST(SharedFileCounter, AMarkedChangeIsUnknownEverywhereUntilAnnounced) {
    testing::TempDir dir;
    const auto path = dir.path() / "requests.generation";
    auto a = SharedFileCounter::Open(path);
    auto b = SharedFileCounter::Open(path);
    ASSERT_TRUE(a && b);
    (*a)->WillChange();
    (*a)->WillChange();  // two changes on their way (two processes' transactions)
    EXPECT_EQ((*b)->Current(), domain::ChangeSignal::kUnknown);
    (*a)->Announce();
    EXPECT_EQ((*b)->Current(), domain::ChangeSignal::kUnknown);  // one still on its way
    (*b)->Announce();
    EXPECT_EQ((*a)->Current(), 2u);
    EXPECT_EQ((*b)->Current(), 2u);
    (*b)->Announce();  // one without a mark: moves the generation, never below no marks
    EXPECT_EQ((*a)->Current(), 3u);
}

TEST(SharedFileCounter, AChangerThatDiedIsAnnouncedForOnceItsMarkIsStale) {
    testing::TempDir dir;
    const auto path = dir.path() / "requests.generation";
    auto patient = SharedFileCounter::Open(path);  // the default: 30 s
    ASSERT_TRUE(patient);
    EXPECT_EQ((*patient)->Current(), 0u);
    // A process marks its change, commits it and dies before it announces it.
    ASSERT_TRUE(InAnotherProcess(path, [](SharedFileCounter& c) { c.WillChange(); }));
    // Its mark is fresh: nobody may trust a copy.
    EXPECT_EQ((*patient)->Current(), domain::ChangeSignal::kUnknown);
    // A reader for which the mark is stale announces for the dead process: the generation
    // moves for everyone, so copies filled before the change are dropped.
    auto hasty = SharedFileCounter::Open(path, std::chrono::nanoseconds(0));
    ASSERT_TRUE(hasty);
    EXPECT_EQ((*hasty)->Current(), 1u);
    EXPECT_EQ((*patient)->Current(), 1u);
}

TEST(SharedFileCounter, AFileOfTheFormerLayoutIsGrownAndMovedOn) {
    testing::TempDir dir;
    const auto path = dir.path() / "api-keys.generation";
    {
        // The 8-byte layout: a bare generation, here with low bits that read as marks.
        std::ofstream old(path, std::ios::binary);
        const std::uint64_t value = (std::uint64_t{4} << 16) | 3;
        old.write(reinterpret_cast<const char*>(&value), sizeof value);
    }
    auto counter = SharedFileCounter::Open(path, std::chrono::nanoseconds(1));
    ASSERT_TRUE(counter) << counter.error().message;
    EXPECT_EQ(std::filesystem::file_size(path), 16u);
    // Its marks carry no time: cleared at once, with the generation moved past the old value.
    EXPECT_EQ((*counter)->Current(), 5u);
}

}  // namespace
}  // namespace firmo::store
