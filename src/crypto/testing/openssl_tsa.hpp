#pragma once
// Test-only: a time-stamp authority run by the openssl command line (`openssl ts -reply`) with
// its own self-signed certificate, an implementation independent of Firmo's client.

#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "crypto/timestamp.hpp"

namespace firmo::crypto::testing {

namespace fs = std::filesystem;

inline int Shell(const std::string& command) {
    int status = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string Slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A TSA on the openssl command line (`openssl ts -reply`), with its own self-signed
// certificate: an implementation independent of ours.
class OpensslTsa final : public TimestampAuthority {
  public:
    explicit OpensslTsa(fs::path dir) : dir_(std::move(dir)) {
        ok_ = Shell(
                  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                  "-keyout " +
                  (dir_ / "tsa.key").string() + " -out " + (dir_ / "tsa.pem").string() +
                  " -days 2 -subj '/CN=Test TSA' -addext "
                  "'extendedKeyUsage=critical,timeStamping' -addext "
                  "'keyUsage=critical,digitalSignature'") == 0;
        std::ofstream(dir_ / "serial") << "01\n";
        std::ofstream(dir_ / "ts.cnf")
            << "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = " << (dir_ / "serial").string()
            << "\nsigner_cert = " << (dir_ / "tsa.pem").string()
            << "\nsigner_key = " << (dir_ / "tsa.key").string()
            << "\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\n"
               "accuracy = secs:1\ness_cert_id_alg = sha256\n";
    }
    bool ok() const { return ok_; }
    fs::path certificate() const { return dir_ / "tsa.pem"; }
    int calls = 0;
    bool broken = false;

    Result<std::string> Exchange(std::string_view request) override {
        ++calls;
        if (broken) return std::string("not a response");
        std::ofstream(dir_ / "q.tsq", std::ios::binary)
            .write(request.data(), static_cast<std::streamsize>(request.size()));
        if (Shell("openssl ts -reply -config " + (dir_ / "ts.cnf").string() + " -queryfile " +
                  (dir_ / "q.tsq").string() + " -out " + (dir_ / "r.tsr").string()) != 0) {
            return Fail(ErrorCode::kUnavailable, "openssl ts -reply failed");
        }
        return Slurp(dir_ / "r.tsr");
    }

  private:
    fs::path dir_;
    bool ok_ = false;
};

}  // namespace firmo::crypto::testing
