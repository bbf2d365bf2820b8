#pragma once
// Files of the keys a node keeps in its data folder (the CA's, the time-stamp authority's):
// written once, with their mode set at creation, and published as a whole folder so that
// nodes starting together on one data folder never see half of one.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

// Creates `path` with `data` (O_EXCL: never overwrites; kAlreadyExists when there), fsync'ed.
[[nodiscard]] Result<void> WriteNewFile(const std::filesystem::path& path, std::string_view data,
                                        mode_t mode);

struct NewFile {
    std::string name;
    std::string_view data;
    mode_t mode;
};

// Writes `files` into a fresh folder beside DATA_DIR/<folder> and renames that folder into
// place, so it appears whole or not at all. Nodes racing here: one rename wins, the others find
// a folder that is not empty and get kAlreadyExists (and then load the winner's). A folder that
// exists but is empty is replaced.
[[nodiscard]] Result<void> PublishFolder(const std::filesystem::path& data_dir,
                                         std::string_view folder,
                                         const std::vector<NewFile>& files);

// The whole file; kNotFound when it cannot be read.
[[nodiscard]] Result<std::string> ReadWholeFile(const std::filesystem::path& path);

// A private key as PEM: PKCS#8 encrypted with AES-256-CBC under `passphrase`, or unencrypted
// when it is empty; and back (kUnauthenticated for a wrong passphrase).
[[nodiscard]] Result<std::string> PrivateKeyToPem(EVP_PKEY* key, std::string_view passphrase);
[[nodiscard]] Result<PkeyPtr> PrivateKeyFromPem(std::string_view pem, std::string_view passphrase);

}  // namespace firmo::crypto
