#pragma once
// Helpers shared by the ceremony's translation units (ceremony_service.cpp, ceremony_qtsp.cpp):
// not part of any interface.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "domain/services/ceremony_service.hpp"

namespace firmo::domain::ceremony_internal {

namespace fs = std::filesystem;

// The fields of a document this signer will sign, given what they accepted.
inline std::vector<int> FieldsToSign(const Document& doc, const SignatureRequest& request,
                                     std::size_t position, const std::vector<FieldRef>& accepted) {
    std::vector<int> out;
    const auto& fields = doc.metadata.signature_fields;
    for (std::size_t j = 0; j < fields.size(); ++j) {
        if (FieldSignerPosition(fields[j], request) != position) continue;
        const FieldRef ref{doc.index, static_cast<int>(j)};
        const bool ticked = std::find(accepted.begin(), accepted.end(), ref) != accepted.end();
        if (fields[j].clause.type != ClauseType::kOptional || ticked) {
            out.push_back(static_cast<int>(j));
        }
    }
    return out;
}

// The field of a signer's signature on a document with no field of theirs (their consent covers
// every document of the request): invisible, on the first page. 1 x 1 point, as the PDF signer
// refuses a field without width or height (the document time-stamp's field is the same).
inline SignatureField InvisibleField() {
    return SignatureField{FieldAtPosition{.page = 0, .x = 0, .y = 0, .w = 1, .h = 1},
                          Clause{"", ClauseType::kRequired}, std::nullopt};
}

inline Result<std::string> ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kInternal, "cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace firmo::domain::ceremony_internal
