#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/clock.hpp"
#include "core/encoding.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/immutable_cache.hpp"
#include "core/no_wait.hpp"
#include "core/scratch_dir.hpp"

namespace firmo {
namespace {

TEST(Rfc3339, FormatsAndParsesRoundTrip) {
    const auto t = FromUnixMillis(1'795'000'000'123);
    EXPECT_EQ(FormatRfc3339(t), "2026-11-18T11:06:40.123Z");
    EXPECT_EQ(ParseRfc3339("2026-11-18T11:06:40.123Z"), t);
    EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00Z");
}

TEST(Rfc3339, HonoursOffsetsAndFractions) {
    EXPECT_EQ(ParseRfc3339("2026-11-17T10:26:40+02:00"), ParseRfc3339("2026-11-17T08:26:40Z"));
    EXPECT_EQ(ParseRfc3339("2026-11-17T08:26:40.5Z"), ParseRfc3339("2026-11-17T08:26:40.500Z"));
    EXPECT_EQ(ParseRfc3339("2026-11-17T08:26:40.123456Z"),
              ParseRfc3339("2026-11-17T08:26:40.123Z"));
}

TEST(Rfc3339, RejectsMalformed) {
    for (const char* bad : {"", "2026-11-17", "2026-11-17T08:26:40", "2026-13-01T00:00:00Z",
                            "2026-02-30T00:00:00Z", "2026-11-17T24:00:00Z", "2026-11-17T08:26:40.Z",
                            "2026-11-17T08:26:40Zjunk", "2026-11-17T08:26:40+2:00", "tomorrow"}) {
        EXPECT_FALSE(ParseRfc3339(bad)) << bad;
    }
}

TEST(Ulid, IsSortableUniqueAndWellFormed) {
    SeededRandom random(1);
    std::set<std::string> seen;
    std::string previous;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = NewUlid(FromUnixMillis(1'795'000'000'000 + i), random);
        EXPECT_TRUE(IsUlid(id)) << id;
        EXPECT_GT(id, previous);
        previous = id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
    EXPECT_FALSE(IsUlid("01J0000000000000000000000"));   // 25 characters
    EXPECT_FALSE(IsUlid("01J0000000000000000000000U"));  // U is not Crockford
    EXPECT_FALSE(IsUlid("81J00000000000000000000000"));  // overflows 128 bits
}

TEST(Encoding, HexAndBase64UrlRoundTrip) {
    const std::string bytes("\x00\xff\x10 hello\xfe", 10);
    EXPECT_EQ(HexDecode(HexEncode(bytes)), bytes);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes.substr(0, n))), bytes.substr(0, n));
    }
    EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
    EXPECT_FALSE(HexDecode("abc"));
    EXPECT_FALSE(HexDecode("zz"));
    EXPECT_FALSE(Base64UrlDecode("a"));
    EXPECT_FALSE(Base64UrlDecode("ab+/"));
}

TEST(Encoding, PercentDecoding) {
    EXPECT_EQ(PercentDecode("a%20b+c", true), std::string("a b c"));
    EXPECT_EQ(PercentDecode("a%20b+c", false), std::string("a b+c"));
    EXPECT_FALSE(PercentDecode("%2", false));
    EXPECT_FALSE(PercentDecode("%zz", false));
    EXPECT_EQ(PercentEncode("a b/é"), "a%20b%2F%C3%A9");
}

TEST(Errors, SlugsAreStableAndDistinct) {
    std::set<std::string_view> slugs;
    for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
        slugs.insert(ErrorSlug(static_cast<ErrorCode>(c)));
    }
    EXPECT_EQ(slugs.size(), static_cast<std::size_t>(ErrorCode::kInternal) + 1);
    EXPECT_EQ(ErrorSlug(ErrorCode::kInvalidArgument), "validation-error");
}

TEST(Errors, TryPropagates) {
    const auto inner = [](bool ok) -> Result<int> {
        if (!ok) return Fail(ErrorCode::kNotFound, "nope");
        return 7;
    };
    const auto outer = [&](bool ok) -> Result<int> {
        FIRMO_TRY(int v, inner(ok));
        return v + 1;
    };
    EXPECT_EQ(outer(true), 8);
    EXPECT_EQ(outer(false).error().code, ErrorCode::kNotFound);
}

TEST(Encoding, JsonQuoteEscapesEveryByteWhereverItFallsInAWord) {
    // The quoting looks at 8 bytes at a time: every byte value at every offset of strings of
    // 0-40 bytes, against a byte-by-byte reference.
    const auto reference = [](std::string_view text) {
        static constexpr char kHexDigits[] = "0123456789abcdef";
        std::string out = "\"";
        for (const char c : text) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += "\\n";
            } else if (c == '\r') {
                out += "\\r";
            } else if (c == '\t') {
                out += "\\t";
            } else if (u < 0x20 || u == 0x7F) {
                out += "\\u00";
                out += kHexDigits[u >> 4];
                out += kHexDigits[u & 0xf];
            } else {
                out += c;
            }
        }
        return out + "\"";
    };
    for (std::size_t size = 0; size <= 40; size += 3) {
        for (std::size_t at = 0; at < size; ++at) {
            for (int byte = 0; byte < 256; ++byte) {
                std::string text(size, 'a');
                text[at] = static_cast<char>(byte);
                ASSERT_EQ(JsonQuote(text), reference(text)) << size << " " << at << " " << byte;
                ASSERT_EQ(IsAscii(text), byte < 0x80) << size << " " << at << " " << byte;
            }
        }
    }
    EXPECT_EQ(JsonQuote(""), "\"\"");
    EXPECT_TRUE(IsAscii(""));
}

TEST(Encoding, EscapeMarkupEscapesTheFiveSpecialCharacters) {
    EXPECT_EQ(EscapeMarkup(R"(<a href="x">Tom & 'Jerry'</a>)"),
              "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    EXPECT_EQ(EscapeMarkup("Comune di Forlì"), "Comune di Forlì");
    EXPECT_EQ(EscapeMarkup(""), "");
}

// The error table, row by row, written out here independently of error.cpp: a change of
// status, type or title is a change of the API and must show up in this test.
TEST(ErrorTable, EveryCodeHasItsStatusTypeAndTitle) {
    struct Row {
        ErrorCode code;
        int status;
        const char* slug;
        const char* title;
    };
    const Row expected[] = {
        {ErrorCode::kInvalidArgument, 422, "validation-error", "Unprocessable Entity"},
        {ErrorCode::kMalformed, 400, "malformed-request", "Bad Request"},
        {ErrorCode::kUnauthenticated, 401, "unauthenticated", "Unauthorized"},
        {ErrorCode::kForbidden, 403, "forbidden", "Forbidden"},
        {ErrorCode::kNotFound, 404, "not-found", "Not Found"},
        {ErrorCode::kConflict, 409, "conflict", "Conflict"},
        {ErrorCode::kAlreadyExists, 409, "already-exists", "Conflict"},
        {ErrorCode::kPayloadTooLarge, 413, "payload-too-large", "Payload Too Large"},
        {ErrorCode::kHeadersTooLarge, 431, "headers-too-large", "Request Header Fields Too Large"},
        {ErrorCode::kUnsupportedMediaType, 415, "unsupported-media-type", "Unsupported Media Type"},
        {ErrorCode::kMethodNotAllowed, 405, "method-not-allowed", "Method Not Allowed"},
        {ErrorCode::kRateLimited, 429, "rate-limited", "Too Many Requests"},
        {ErrorCode::kGone, 410, "gone", "Gone"},
        {ErrorCode::kUnavailable, 503, "unavailable", "Service Unavailable"},
        {ErrorCode::kAuthenticationRequired, 403, "authentication-required", "Forbidden"},
        {ErrorCode::kNotYetActive, 409, "not-yet-active", "Conflict"},
        {ErrorCode::kDocumentsDeleted, 410, "documents-deleted", "Gone"},
        {ErrorCode::kNotFinal, 409, "request-not-final", "Conflict"},
        {ErrorCode::kAddressNotAllowed, 403, "address-not-allowed", "Forbidden"},
        {ErrorCode::kInternal, 500, "internal-error", "Internal Server Error"},
    };
    ASSERT_EQ(AllErrorKinds().size(), std::size(expected));
    std::set<std::string_view> slugs;
    for (const Row& row : expected) {
        SCOPED_TRACE(row.slug);
        const ErrorKind& kind = KindOf(row.code);
        EXPECT_EQ(kind.code, row.code);
        EXPECT_EQ(kind.http_status, row.status);
        EXPECT_EQ(HttpStatusOf(row.code), row.status);
        EXPECT_EQ(kind.slug, row.slug);
        EXPECT_EQ(ErrorSlug(row.code), row.slug);
        EXPECT_EQ(ProblemType(row.code), std::string("urn:firmo:problem:") + row.slug);
        EXPECT_EQ(kind.title, row.title);
        EXPECT_FALSE(kind.when.empty());
        EXPECT_TRUE(slugs.insert(kind.slug).second) << "two kinds share a slug";
    }
}

TEST(ErrorTable, ProblemJsonCarriesTheRowAndTheViolations) {
    EXPECT_EQ(ProblemJson(Error{ErrorCode::kHeadersTooLarge, "too big"}),
              "{\"type\":\"urn:firmo:problem:headers-too-large\",\"title\":\"Request Header "
              "Fields Too Large\",\"status\":431,\"detail\":\"too big\"}");
    EXPECT_EQ(ProblemJson(Error{ErrorCode::kInvalidArgument, "a: b", {{"a", "b \"q\""}}}),
              "{\"type\":\"urn:firmo:problem:validation-error\",\"title\":\"Unprocessable "
              "Entity\",\"status\":422,\"detail\":\"a: b\",\"violations\":[{\"field\":\"a\","
              "\"reason\":\"b \\\"q\\\"\"}]}");
    EXPECT_EQ(ProblemJson(Error{ErrorCode::kInternal, "secret"}),
              "{\"type\":\"urn:firmo:problem:internal-error\",\"title\":\"Internal Server "
              "Error\",\"status\":500,\"detail\":\"an internal error occurred\"}");
}

TEST(Encoding, ToValidUtf8ReplacesWhatIsNotUtf8) {
    EXPECT_EQ(ToValidUtf8("plain \xc3\xa8 \xf0\x9f\x98\x80"), "plain \xc3\xa8 \xf0\x9f\x98\x80");
    EXPECT_EQ(ToValidUtf8("a\xff"
                          "b"),
              "a\xef\xbf\xbd"
              "b");
    EXPECT_EQ(ToValidUtf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");                  // overlong
    EXPECT_EQ(ToValidUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
    EXPECT_EQ(ToValidUtf8("end\xe2\x82"), "end\xef\xbf\xbd\xef\xbf\xbd");            // truncated
}

}  // namespace
TEST(ImmutableCache, FindsWhatWasPutAndStartsOverWhenFull) {
    ImmutableCache<int> cache(2);
    EXPECT_FALSE(cache.Find("a"));
    cache.Put("a", 1);
    cache.Put("b", 2);
    EXPECT_EQ(cache.Find("a"), 1);
    cache.Put("b", 3);  // a known key: no room needed
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.Find("b"), 3);
    cache.Put("c", 4);  // full: starts over with c alone
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_FALSE(cache.Find("a"));
    EXPECT_EQ(cache.Find("c"), 4);
    ImmutableCache<int> none(0);
    none.Put("a", 1);
    EXPECT_FALSE(none.Find("a"));
}

TEST(NoWait, AScopeMarksTheThreadAndRecordsARefusedWait) {
    EXPECT_FALSE(no_wait::Active());
    EXPECT_FALSE(no_wait::Refused());
    {
        const no_wait::Scope scope;
        EXPECT_TRUE(no_wait::Active());
        EXPECT_FALSE(scope.refused());
        const auto refused = no_wait::Refuse("a database statement");
        EXPECT_EQ(refused.value().code, ErrorCode::kUnavailable);
        EXPECT_NE(refused.value().message.find("a database statement"), std::string::npos);
        EXPECT_TRUE(scope.refused());
        EXPECT_TRUE(no_wait::Refused());
        // Another thread is not in the scope.
        std::thread([] { EXPECT_FALSE(no_wait::Active()); }).join();
    }
    EXPECT_FALSE(no_wait::Active());
    EXPECT_FALSE(no_wait::Refused());
    const no_wait::Scope again;
    EXPECT_FALSE(again.refused());  // a new scope starts clean
}

// Two pieces of work with the same name prefix at the same instant (as two test processes with one
// seed were, and removed each other's files) each get a folder of their own, private, and gone
// with its contents once done.
TEST(ScratchDir, EachIsNewPrivateAndRemovedWithItsContents) {
    std::filesystem::path first_path;
    {
        auto first = ScratchDir::Create("firmo-scratch-test");
        auto second = ScratchDir::Create("firmo-scratch-test");
        ASSERT_TRUE(first && second);
        EXPECT_NE(first->path(), second->path());
        first_path = first->path();
        EXPECT_EQ(std::filesystem::status(first_path).permissions(),
                  std::filesystem::perms::owner_all);
        std::ofstream(first_path / "work.pdf") << "%PDF";
        auto moved = std::move(*first);  // the moved-from one removes nothing
        EXPECT_TRUE(std::filesystem::exists(first_path / "work.pdf"));
    }
    EXPECT_FALSE(std::filesystem::exists(first_path));
}

}  // namespace firmo
