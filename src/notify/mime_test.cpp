#include "notify/mime.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace firmo::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& crlf_text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (auto pos = crlf_text.find("\r\n"); pos != std::string::npos;
         pos = crlf_text.find("\r\n", start)) {
        lines.push_back(crlf_text.substr(start, pos - start));
        start = pos + 2;
    }
    lines.push_back(crlf_text.substr(start));
    return lines;
}

// A straightforward decoder, to check the encoder round-trips.
std::string DecodeQp(const std::string& qp) {
    std::string out;
    for (std::size_t i = 0; i < qp.size(); ++i) {
        if (qp[i] != '=') {
            out.push_back(qp[i]);
        } else if (qp.compare(i + 1, 2, "\r\n") == 0) {
            i += 2;
        } else {
            out.push_back(static_cast<char>(std::stoi(qp.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        }
    }
    return out;
}

std::string DecodeB64(const std::string& s) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned bits = 0;
    int n = 0;
    for (char c : s) {
        if (c == '=') break;
        bits = (bits << 6) | static_cast<unsigned>(alphabet.find(c));
        n += 6;
        if (n >= 8) {
            n -= 8;
            out.push_back(static_cast<char>((bits >> n) & 0xFF));
        }
    }
    return out;
}

// Decodes a header value made of RFC 2047 words folded with CRLF SP.
std::string DecodeWords(const std::string& value) {
    std::string out;
    for (const auto& line : Lines(value)) {
        std::string word = line.front() == ' ' ? line.substr(1) : line;
        EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u) << word;
        EXPECT_LE(word.size(), 75u);
        out += DecodeB64(word.substr(10, word.size() - 12));
    }
    return out;
}

const Timestamp kDate = FromUnixMillis(1795428930000);  // 2026-11-23T10:15:30Z, a Monday

Mail SampleMail() {
    return {"mario.rossi@example.org", "Your Firmo code", "Code: 123456\nBye.\n",
            "<p>Code: <b>123456</b></p>"};
}
const MailAddress kFrom{"noreply@firmo.example", "Firmo"};

TEST(MimeTest, MailDateIsRfc5322InUtc) {
    EXPECT_EQ(FormatMailDate(kDate), "Mon, 23 Nov 2026 10:15:30 +0000");
    EXPECT_EQ(FormatMailDate(FromUnixMillis(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(MimeTest, QuotedPrintableRoundTripsAndKeepsLinesShort) {
    const std::vector<std::string> samples = {
        "plain ascii",
        "Il codice scade tra 10 minuti. Né il mittente né Firmo te lo chiederanno mai.",
        "Koden utløper om 5 minutter, kl. 10:15 UTC. Del aldri denne koden med noen. " +
            std::string(200, 'x') + " æøå ÆØÅ",
        "a=b 100% <html attr=\"v\">",
        std::string(80, '=') + "\n" + std::string(3, '\xC3'),
    };
    for (const auto& s : samples) {
        const std::string qp = EncodeQuotedPrintable(s);
        for (const auto& line : Lines(qp)) {
            EXPECT_LE(line.size(), 76u) << line;
            for (char c : line) {
                EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "non-printable byte in " << line;
            }
        }
        std::string expected = s;
        std::size_t pos;
        while ((pos = expected.find('\n')) != std::string::npos &&
               (pos == 0 || expected[pos - 1] != '\r')) {
            expected.replace(pos, 1, "\r\n");
        }
        EXPECT_EQ(DecodeQp(qp), expected);
    }
}

TEST(MimeTest, QuotedPrintableProtectsTrailingSpaceLeadingDotAndNormalisesLineBreaks) {
    EXPECT_EQ(EncodeQuotedPrintable("end \nnext\t"), "end=20\r\nnext=09");
    EXPECT_EQ(EncodeQuotedPrintable(".\n.x"), "=2E\r\n=2Ex");
    EXPECT_EQ(EncodeQuotedPrintable("a\r\nb\rc\n"), "a\r\nb\r\nc\r\n");
    EXPECT_EQ(EncodeQuotedPrintable("a=b"), "a=3Db");
    EXPECT_EQ(EncodeQuotedPrintable("é"), "=C3=A9");
}

TEST(MimeTest, HeaderTextStaysAsciiAsIsAndEncodesTheRest) {
    EXPECT_EQ(EncodeHeaderText("Your Firmo code", 9), "Your Firmo code");
    // Looks like an encoded word: must be encoded so that readers show it literally.
    EXPECT_EQ(DecodeWords(EncodeHeaderText("=?UTF-8?B?QQ==?=", 9)), "=?UTF-8?B?QQ==?=");
    const std::string nb = "Din Firmo-kode for å bekrefte signeringen";
    EXPECT_EQ(DecodeWords(EncodeHeaderText(nb, 9)), nb);
}

TEST(MimeTest, LongHeaderTextIsFoldedWithoutSplittingCharacters) {
    std::string long_text;
    for (int i = 0; i < 40; ++i) long_text += "ø€😀";  // 2-, 3- and 4-byte sequences
    const std::string encoded = EncodeHeaderText(long_text, 9);
    const auto lines = Lines(encoded);
    ASSERT_GT(lines.size(), 3u);
    EXPECT_LE(lines[0].size() + 9, 76u);
    for (std::size_t i = 1; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i][0], ' ');
        EXPECT_LE(lines[i].size(), 76u);
    }
    // Every word decodes to whole characters on its own.
    for (const auto& line : lines) {
        const std::string word = line.front() == ' ' ? line.substr(1) : line;
        EXPECT_TRUE(IsValidUtf8(DecodeB64(word.substr(10, word.size() - 12)))) << word;
    }
    EXPECT_EQ(DecodeWords(encoded), long_text);
}

TEST(MimeTest, Base64MatchesRfc4648Vectors) {
    EXPECT_EQ(Base64Encode(""), "");
    EXPECT_EQ(Base64Encode("f"), "Zg==");
    EXPECT_EQ(Base64Encode("fo"), "Zm8=");
    EXPECT_EQ(Base64Encode("foo"), "Zm9v");
    EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(Base64Encode("\xff\xfe"), "//4=");
}

TEST(MimeTest, Utf8Validation) {
    EXPECT_TRUE(IsValidUtf8("ascii æøå € 😀"));
    EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
    EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(IsValidUtf8("latin-1 \xE6"));
}

TEST(MimeTest, MessageHasTheHeadersAndBothParts) {
    auto message = BuildMessage(SampleMail(), kFrom, kDate, "0123abcd");
    ASSERT_TRUE(message) << message.error().message;
    const std::string& m = *message;
    const auto end_of_headers = m.find("\r\n\r\n");
    ASSERT_NE(end_of_headers, std::string::npos);
    const std::string headers = m.substr(0, end_of_headers + 2);
    EXPECT_THAT(headers, HasSubstr("Date: Mon, 23 Nov 2026 10:15:30 +0000\r\n"));
    EXPECT_THAT(headers, HasSubstr("From: \"Firmo\" <noreply@firmo.example>\r\n"));
    EXPECT_THAT(headers, HasSubstr("To: <mario.rossi@example.org>\r\n"));
    EXPECT_THAT(headers, HasSubstr("Subject: Your Firmo code\r\n"));
    EXPECT_THAT(headers, HasSubstr("Message-ID: <0123abcd@firmo.example>\r\n"));
    EXPECT_THAT(headers, HasSubstr("MIME-Version: 1.0\r\n"));
    EXPECT_THAT(headers, HasSubstr("Auto-Submitted: auto-generated\r\n"));
    EXPECT_THAT(headers, HasSubstr("Content-Type: multipart/alternative; "
                                   "boundary=\"=_firmo_0123abcd\"\r\n"));

    const std::string body = m.substr(end_of_headers + 4);
    const std::string plain_part =
        "--=_firmo_0123abcd\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nCode: 123456\r\nBye.\r\n";
    const std::string html_part =
        "--=_firmo_0123abcd\r\nContent-Type: text/html; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>Code: <b>123456</b></p>\r\n";
    EXPECT_EQ(body, plain_part + "\r\n" + html_part + "--=_firmo_0123abcd--\r\n");

    // CRLF only, and no line longer than RFC 5322's 78.
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') {
            EXPECT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
        }
        if (m[i] == '\r') {
            EXPECT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
        }
    }
    for (const auto& line : Lines(m)) EXPECT_LE(line.size(), 78u) << line;
}

TEST(MimeTest, WithoutHtmlTheMessageIsPlainText) {
    Mail mail = SampleMail();
    mail.html.clear();
    auto message = BuildMessage(mail, kFrom, kDate, "u1");
    ASSERT_TRUE(message);
    EXPECT_THAT(*message, HasSubstr("Content-Type: text/plain; charset=UTF-8\r\n"
                                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                                    "Code: 123456\r\n"));
    EXPECT_THAT(*message, Not(HasSubstr("multipart")));
}

TEST(MimeTest, NonAsciiSubjectAndSenderNameAreEncodedWords) {
    Mail mail = SampleMail();
    mail.subject = "Din Firmo-kode";  // ASCII: as is
    auto plain = BuildMessage(mail, {"noreply@firmo.example", "Kommune \"Oslo\""}, kDate, "u");
    ASSERT_TRUE(plain);
    EXPECT_THAT(*plain, HasSubstr("From: \"Kommune \\\"Oslo\\\"\" <noreply@firmo.example>\r\n"));

    mail.subject = "Din Firmo-kode for å bekrefte signeringen";
    auto encoded = BuildMessage(mail, {"noreply@firmo.example", "Bærum kommune"}, kDate, "u");
    ASSERT_TRUE(encoded);
    EXPECT_THAT(*encoded, HasSubstr("Subject: =?UTF-8?B?"));
    EXPECT_THAT(*encoded, HasSubstr("From: =?UTF-8?B?"));
    EXPECT_THAT(*encoded, Not(HasSubstr("å")));
    // Everything above the body is 7-bit.
    const std::string headers = encoded->substr(0, encoded->find("\r\n\r\n"));
    for (char c : headers) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
}

// Issue 16: the institution is the sender's name; the address stays the configured one.
TEST(MimeTest, TheMailsFromNameReplacesTheConfiguredOneAtTheSameAddress) {
    Mail mail = SampleMail();
    mail.from_name = "Città di Bologna";
    auto message = BuildMessage(mail, kFrom, kDate, "u");
    ASSERT_TRUE(message) << message.error().message;
    // RFC 2047: "=?UTF-8?B?" + base64("Città di Bologna") + "?=".
    EXPECT_THAT(*message, HasSubstr("From: =?UTF-8?B?" + Base64Encode("Città di Bologna") +
                                    "?= <noreply@firmo.example>\r\n"));
    mail.from_name = "Comune di Bologna";
    message = BuildMessage(mail, kFrom, kDate, "u");
    ASSERT_TRUE(message);
    EXPECT_THAT(*message, HasSubstr("From: \"Comune di Bologna\" <noreply@firmo.example>\r\n"));
    mail.from_name = "Comune\r\nBcc: victim@example.org";
    message = BuildMessage(mail, kFrom, kDate, "u");
    ASSERT_FALSE(message);
    EXPECT_EQ(message.error().code, ErrorCode::kInvalidArgument);
}

TEST(MimeTest, LineBreaksInHeaderFieldsAreRefused) {
    const std::vector<std::string> bad_addresses = {
        "mario@example.org\r\nBcc: victim@example.org",
        "mario@example.org\nBcc: victim@example.org",
        "mario@example.org\r",
    };
    for (const auto& to : bad_addresses) {
        Mail mail = SampleMail();
        mail.to = to;
        auto m = BuildMessage(mail, kFrom, kDate, "u");
        ASSERT_FALSE(m) << to;
        EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
        EXPECT_THAT(m.error().message, HasSubstr("line break"));
        auto from = BuildMessage(SampleMail(), {to, "Firmo"}, kDate, "u");
        ASSERT_FALSE(from);
        EXPECT_EQ(from.error().code, ErrorCode::kInvalidArgument);
    }
    for (const std::string subject : {"Code\r\nBcc: victim@example.org", "Code\nX: y", "a\rb"}) {
        Mail mail = SampleMail();
        mail.subject = subject;
        auto m = BuildMessage(mail, kFrom, kDate, "u");
        ASSERT_FALSE(m) << subject;
        EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
    }
    auto name =
        BuildMessage(SampleMail(), {"noreply@firmo.example", "Firmo\r\nBcc: x@y.z"}, kDate, "u");
    ASSERT_FALSE(name);
    EXPECT_EQ(name.error().code, ErrorCode::kInvalidArgument);
}

TEST(MimeTest, AddressesAreChecked) {
    EXPECT_TRUE(CheckAddress("mario.rossi+firmo@example.org"));
    EXPECT_TRUE(CheckAddress("a@b"));
    for (const std::string& bad : std::vector<std::string>{
             "", "no-at-sign", "@example.org", "mario@", "a@b@c", "mario rossi@example.org",
             "<mario@example.org>", "mario@example.org, other@example.org", "\"m\"@example.org",
             "mæriø@example.org", std::string(250, 'a') + "@example.org"}) {
        auto r = CheckAddress(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
        }
    }
}

TEST(MimeTest, InvalidUtf8IsRefused) {
    Mail mail = SampleMail();
    mail.text = "latin-1 \xE6";
    auto m = BuildMessage(mail, kFrom, kDate, "u");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace firmo::notify
