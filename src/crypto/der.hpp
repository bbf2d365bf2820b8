#pragma once
// A minimal DER writer for the few ASN.1 structures Firmo builds itself (the CMS SignedData of
// a PAdES signature), because OpenSSL's CMS API insists on hashing the content and adding a
// signing-time attribute, and a PAdES baseline signature must have neither.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace firmo::crypto::der {

inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kNull = 0x05;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kSequence = 0x30;
inline constexpr std::uint8_t kSet = 0x31;

// tag + definite length + content.
std::string Tlv(std::uint8_t tag, std::string_view content);
std::string Sequence(const std::vector<std::string>& items);
// A SET OF: DER wants the elements sorted by their encodings.
std::string SetOf(std::vector<std::string> items);
// "1.2.840.113549.1.7.2" -> encoded OBJECT IDENTIFIER.
std::string Oid(std::string_view dotted);
std::string SmallInteger(unsigned value);
std::string OctetString(std::string_view bytes);
std::string Null();
// [n] EXPLICIT and [n] IMPLICIT constructed (context-specific) wrappers.
std::string ContextConstructed(unsigned n, std::string_view content);

// Splits one TLV at the start of `der`: returns the header length and content length, or
// false when malformed. Used to re-tag an encoded SET as [0] IMPLICIT.
bool ReadHeader(std::string_view der, std::size_t* header_len, std::size_t* content_len);

}  // namespace firmo::crypto::der
