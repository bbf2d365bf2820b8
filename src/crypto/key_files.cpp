#include "crypto/key_files.hpp"

#include <fcntl.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace firmo::crypto {
namespace {

Result<void> SyncFolder(const std::filesystem::path& folder) {
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Fail(ErrorCode::kInternal, "cannot open " + folder.string());
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) return Fail(ErrorCode::kInternal, "cannot sync " + folder.string());
    return {};
}

}  // namespace

Result<void> WriteNewFile(const std::filesystem::path& path, std::string_view data, mode_t mode) {
    // O_EXCL: never overwrite a CA key; the mode is set at creation, not after.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) return Fail(ErrorCode::kAlreadyExists, path.string() + " exists");
        return Fail(ErrorCode::kInternal, "cannot create " + path.string());
    }
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n <= 0) {
            ::close(fd);
            return Fail(ErrorCode::kInternal, "cannot write " + path.string());
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        return Fail(ErrorCode::kInternal, "cannot write " + path.string());
    }
    return {};
}

Result<void> PublishFolder(const std::filesystem::path& data_dir, std::string_view folder,
                           const std::vector<NewFile>& files) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return Fail(ErrorCode::kInternal, "cannot create " + data_dir.string());
    std::string staging = (data_dir / ".ca-new-XXXXXX").string();
    if (::mkdtemp(staging.data()) == nullptr) {  // mode 0700
        return Fail(ErrorCode::kInternal, "cannot create a folder in " + data_dir.string());
    }
    const std::filesystem::path staged(staging);
    auto written = [&]() -> Result<void> {
        for (const auto& f : files) FIRMO_CHECK(WriteNewFile(staged / f.name, f.data, f.mode));
        return SyncFolder(staged);
    }();
    const auto target = data_dir / folder;
    if (!written || ::rename(staged.c_str(), target.c_str()) != 0) {
        const int error = errno;
        std::filesystem::remove_all(staged, ec);
        if (!written) return written;
        if (error == ENOTEMPTY || error == EEXIST) {
            return Fail(ErrorCode::kAlreadyExists, "already exists: " + target.string());
        }
        return Fail(ErrorCode::kInternal,
                    "cannot create " + target.string() + ": " + std::strerror(error));
    }
    return SyncFolder(data_dir);
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kNotFound, "cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key, std::string_view passphrase) {
    BioPtr pem(BIO_new(BIO_s_mem()));
    std::string pass(passphrase);
    const int ok =
        !pem ? 0
        : passphrase.empty()
            ? PEM_write_bio_PrivateKey(pem.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
            : PEM_write_bio_PKCS8PrivateKey(pem.get(), key, EVP_aes_256_cbc(), pass.data(),
                                            static_cast<int>(pass.size()), nullptr, nullptr);
    OPENSSL_cleanse(pass.data(), pass.size());
    if (ok != 1) return Fail(OpensslError("cannot write a private key"));
    char* data = nullptr;
    const long len = BIO_get_mem_data(pem.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

Result<PkeyPtr> PrivateKeyFromPem(std::string_view pem, std::string_view passphrase) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::string pass(passphrase);
    // With no callback, OpenSSL reads the passphrase from the user-data argument.
    PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, pass.data()) : nullptr);
    OPENSSL_cleanse(pass.data(), pass.size());
    if (!key) {
        return Fail(OpensslError("cannot read a private key (wrong passphrase?)",
                                 ErrorCode::kUnauthenticated));
    }
    return key;
}

}  // namespace firmo::crypto
