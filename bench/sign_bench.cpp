// PAdES signing throughput and memory: signatures per second on one core and peak RSS for
// 100 KB, 1 MB and 50 MB documents, beside the crypto limit (SHA-256 of the document plus one
// private-key signature, measured in-process). One line per size; figures go to
// docs/PERFORMANCE.md. bench/sign_compare.sh runs pdfsig and `openssl speed` on the same files.
//
// With --levels, each PAdES baseline level is measured: b-t adds the signature time-stamp,
// b-lt the DSS update (OCSP answered in process), b-lta the document time-stamp; the time-stamp
// authority is the built-in one, in process, so the figures are the server's own CPU cost.
//
//   sign_bench [--key-type ecdsa-p256|rsa-3072] [--seconds S] [--sizes 100k,1m,50m]
//              [--levels b-b,b-lta]
//   sign_bench --write-pdf BYTES FILE      (the benchmark's document, for other tools)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/builtin_tsa.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms.hpp"
#include "crypto/digest.hpp"
#include "pdf/long_term_signer.hpp"
#include "pdf/pades_signer.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A valid PDF of about `bytes`: pages whose content streams are incompressible noise in
// comments, written in 1 MiB pieces so the generator itself stays small in memory.
void WritePdf(const fs::path& path, std::uint64_t bytes) {
    constexpr std::uint64_t kPageData = 4ULL << 20;
    int pages = static_cast<int>(std::max<std::uint64_t>(1, (bytes + kPageData - 1) / kPageData));
    std::uint64_t per_page = bytes / static_cast<std::uint64_t>(pages);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    std::vector<std::uint64_t> offsets;
    std::uint64_t pos = 0;
    auto put = [&](const std::string& s) {
        out.write(s.data(), static_cast<std::streamsize>(s.size()));
        pos += s.size();
    };
    std::mt19937_64 rng(42);
    put("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
    // 1 catalog, 2 pages, then (page, content) pairs.
    offsets.push_back(pos);
    put("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    std::string kids;
    for (int i = 0; i < pages; ++i) kids += std::to_string(3 + 2 * i) + " 0 R ";
    offsets.push_back(pos);
    put("2 0 obj\n<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages) +
        " >>\nendobj\n");
    for (int i = 0; i < pages; ++i) {
        int page = 3 + 2 * i;
        offsets.push_back(pos);
        put(std::to_string(page) +
            " 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
            " /Resources << >> /Contents " +
            std::to_string(page + 1) + " 0 R >>\nendobj\n");
        // Lines of "% <hex noise>\n": valid content, not compressible.
        std::string line;
        std::uint64_t length = 0;
        std::string data;
        data.reserve(1 << 20);
        std::string head = std::to_string(page + 1) + " 0 obj\n<< /Length ";
        constexpr std::uint64_t kLine = 2 + 64 + 1;  // "% " + 64 hex digits + "\n"
        std::uint64_t lines = per_page / kLine + 1;
        length = lines * kLine;
        offsets.push_back(pos);
        put(head + std::to_string(length) + " >>\nstream\n");
        static const char kHex[] = "0123456789abcdef";
        for (std::uint64_t l = 0; l < lines; ++l) {
            data += "% ";
            for (int k = 0; k < 16; ++k) {
                std::uint64_t r = rng();
                for (int n = 0; n < 4; ++n) data += kHex[(r >> (4 * n)) & 0xF];
            }
            data += "\n";
            if (data.size() >= (1 << 20)) {
                put(data);
                data.clear();
            }
        }
        put(data);
        put("\nendstream\nendobj\n");
    }
    std::uint64_t xref = pos;
    put("xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n");
    for (auto off : offsets) {
        char entry[24];
        std::snprintf(entry, sizeof entry, "%010llu 00000 n \n",
                      static_cast<unsigned long long>(off));
        put(entry);
    }
    put("trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
        std::to_string(xref) + "\n%%EOF\n");
}

// User + system CPU seconds of this process: "per core" even when other work shares the
// machine, unlike wall time.
double CpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double PeakRssMb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

struct Options {
    firmo::crypto::KeyType key_type = firmo::crypto::KeyType::kEcdsaP256;
    double seconds = 3;
    std::vector<std::pair<std::string, std::uint64_t>> sizes = {
        {"100KB", 100ULL * 1000}, {"1MB", 1000ULL * 1000}, {"50MB", 50ULL * 1000 * 1000}};
    std::vector<firmo::pdf::SignatureLevel> levels = {firmo::pdf::SignatureLevel::kB};
};

// SHA-256 bytes/s and signatures/s of the key: the most any PAdES signer could do.
std::pair<double, double> CryptoLimit(EVP_PKEY* key) {
    std::string buffer(16 << 20, 'x');
    firmo::crypto::Sha256Stream sha;
    double cpu = CpuSeconds();
    auto start = Clock::now();
    int rounds = 0;
    while (Clock::now() - start < std::chrono::seconds(1)) {
        sha.Update(buffer);
        ++rounds;
    }
    std::string digest = sha.Finish();
    double sha_rate =
        static_cast<double>(rounds) * static_cast<double>(buffer.size()) / (CpuSeconds() - cpu);
    cpu = CpuSeconds();
    start = Clock::now();
    int signatures = 0;
    while (Clock::now() - start < std::chrono::seconds(1)) {
        if (!firmo::crypto::SignSha256(key, digest)) break;
        ++signatures;
    }
    double sign_rate = signatures / (CpuSeconds() - cpu);
    return {sha_rate, sign_rate};
}

// Runs in a child process so that each size reports its own peak RSS.
int BenchOneSize(const Options& options, const std::string& label, const fs::path& dir) {
    fs::path in = dir / ("in-" + label + ".pdf");
    fs::path out = dir / ("out-" + label + ".pdf");
    firmo::SystemClock clock;
    firmo::SystemRandom random;
    firmo::crypto::CaOptions ca_options;
    ca_options.key_type = options.key_type;
    auto ca = firmo::crypto::CertificateAuthority::Create(dir / ("ca-" + label), ca_options, "",
                                                          clock, random);
    if (!ca) {
        std::cerr << ca.error().message << "\n";
        return 1;
    }
    auto shared = std::make_shared<const firmo::crypto::CertificateAuthority>(std::move(*ca));
    firmo::crypto::BuiltinTrustService trust(shared, clock, random);
    firmo::domain::SignerIdentity signer{"Mario Rossi", "Mario", "Rossi", "TINIT-RSSMRA80A01H501U",
                                         "IT",          ""};
    firmo::pdf::PadesSigner engine;
    firmo::domain::SignatureField field{firmo::domain::FieldAtPosition{0, 50, 50, 200, 60},
                                        {"I accept the terms", {}}};
    firmo::domain::SignatureDetails details;
    details.signer_name = signer.full_name;
    double rss_before = PeakRssMb();

    // The server's set-up for the levels above B-B: its own TSA and OCSP, in process.
    auto tsa =
        firmo::crypto::BuiltinTsa::LoadOrCreate(dir / ("tsa-" + label), *shared, "", clock, random);
    if (!tsa) return 1;
    firmo::crypto::ValidationDataOptions validation_options;
    validation_options.local.certificate = shared->certificate();
    validation_options.local.ocsp = [&](std::string_view request) {
        return shared->AnswerOcsp(
            request,
            [](const std::string&) -> firmo::Result<std::optional<firmo::domain::Revocation>> {
                return std::optional<firmo::domain::Revocation>();
            },
            clock.Now(), std::chrono::hours(1));
    };
    validation_options.local.crl = [&] {
        return shared->Crl({}, clock.Now(), std::chrono::hours(24));
    };
    const firmo::crypto::ValidationDataCollector validation(validation_options);

    struct Measured {
        firmo::pdf::SignatureLevel level;
        const char* output;  // "file": a new file per signature; "memory": SignAppending
        double rate, wall_rate, rss;
    };
    std::vector<Measured> measured;
    for (const auto level : options.levels) {
        firmo::pdf::LongTermSigner long_term(engine, level, validation, *tsa, random);
        auto opened = trust.OpenSession(signer);
        if (!opened) return 1;
        std::unique_ptr<firmo::domain::SigningSession> session = std::move(*opened);
        if (level >= firmo::pdf::SignatureLevel::kT) {
            session = std::make_unique<firmo::crypto::TimestampingSession>(std::move(session), *tsa,
                                                                           random);
        }
        const fs::path signed_path =
            level >= firmo::pdf::SignatureLevel::kLt ? dir / "bt.pdf" : out;
        // Each signature goes to a new file, as in production; removing the previous one is
        // kept out of the measured time (ext4 also flushes a file renamed over another).
        int count = 0;
        double cpu_signing = 0;
        auto start = Clock::now();
        double elapsed = 0;
        while (elapsed < options.seconds || count < 3) {
            std::error_code ec;
            fs::remove(out, ec);
            fs::remove(signed_path, ec);
            details.signing_time = clock.Now();
            double cpu_before = CpuSeconds();
            auto outcome = engine.Sign(in, signed_path, field, details, *session);
            if (outcome && level >= firmo::pdf::SignatureLevel::kLt) {
                auto added = long_term.AddLongTermProof(signed_path, out);
                if (!added) {
                    std::cerr << "post-sign failed: " << added.error().message << "\n";
                    return 1;
                }
            }
            cpu_signing += CpuSeconds() - cpu_before;
            if (!outcome) {
                std::cerr << "sign failed: " << outcome.error().message << "\n";
                return 1;
            }
            ++count;
            elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        }
        double wall_rate = count / elapsed;
        double rate = count / cpu_signing;
        // Before the crypto-limit run allocates its buffer.
        measured.push_back({level, "file", rate, wall_rate, PeakRssMb()});

        if (level != firmo::pdf::SignatureLevel::kB) continue;
        // B-B in memory: the document's bytes at hand (as a blob store's Get hands them over),
        // the update appended to them (SignAppending), then cut off again for the next round;
        // no file is created.
        std::string document;
        {
            std::ifstream file(in, std::ios::binary);
            document.assign(std::istreambuf_iterator<char>(file), {});
        }
        const std::size_t original_size = document.size();
        document.reserve(original_size + 2 * session->MaxSignatureSize() + 64 * 1024);
        count = 0;
        cpu_signing = 0;
        start = Clock::now();
        elapsed = 0;
        while (elapsed < options.seconds || count < 3) {
            details.signing_time = clock.Now();
            double cpu_before = CpuSeconds();
            auto outcome = engine.SignAppending(document, field, details, *session);
            cpu_signing += CpuSeconds() - cpu_before;
            document.resize(original_size);
            if (!outcome) {
                std::cerr << "sign failed: " << outcome.error().message << "\n";
                return 1;
            }
            ++count;
            elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        }
        measured.push_back({level, "memory", count / cpu_signing, count / elapsed, PeakRssMb()});
    }

    // The same key type, for the crypto limit.
    auto key = firmo::crypto::GenerateKey(options.key_type);
    auto [sha_rate, sign_rate] = CryptoLimit(key->get());
    double limit = 1.0 / (static_cast<double>(fs::file_size(in)) / sha_rate + 1.0 / sign_rate);

    for (const auto& m : measured) {
        std::printf(
            "sign_bench size=%s level=%s output=%s bytes=%llu key=%s sigs_per_s_per_core=%.1f "
            "cpu_ms_per_sig=%.2f wall_sigs_per_s=%.1f peak_rss_mb=%.1f "
            "rss_before_signing_mb=%.1f crypto_limit_sigs_per_s=%.1f ratio_to_limit=%.2f "
            "sha256_mb_per_s=%.0f key_signs_per_s=%.0f\n",
            label.c_str(), std::string(firmo::pdf::ToString(m.level)).c_str(), m.output,
            static_cast<unsigned long long>(fs::file_size(in)),
            std::string(firmo::crypto::ToString(options.key_type)).c_str(), m.rate, 1000.0 / m.rate,
            m.wall_rate, m.rss, rss_before, limit, limit / m.rate, sha_rate / 1e6, sign_rate);
    }
    std::fflush(stdout);
    return 0;
}

std::uint64_t ParseSize(std::string text) {
    std::uint64_t unit = 1;
    if (!text.empty()) {
        char last = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
        if (last == 'k') unit = 1000;
        if (last == 'm') unit = 1000 * 1000;
        if (unit != 1) text.pop_back();
    }
    return std::stoull(text) * unit;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 3 && args[0] == "--write-pdf") {
        WritePdf(args[2], ParseSize(args[1]));
        return 0;
    }
    Options options;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--key-type") {
            auto type = firmo::crypto::ParseKeyType(args[i + 1]);
            if (!type) return 2;
            options.key_type = *type;
        } else if (args[i] == "--levels") {
            options.levels.clear();
            std::string list = args[i + 1];
            for (std::size_t at = 0; at <= list.size();) {
                auto comma = std::min(list.find(',', at), list.size());
                auto level = firmo::pdf::ParseSignatureLevel(list.substr(at, comma - at));
                if (!level) return 2;
                options.levels.push_back(*level);
                at = comma + 1;
            }
        } else if (args[i] == "--seconds") {
            options.seconds = std::stod(args[i + 1]);
        } else if (args[i] == "--sizes") {
            options.sizes.clear();
            std::string list = args[i + 1];
            for (std::size_t at = 0; at <= list.size();) {
                auto comma = std::min(list.find(',', at), list.size());
                std::string item = list.substr(at, comma - at);
                std::string label = item;
                for (auto& c : label)
                    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                options.sizes.push_back({label + "B", ParseSize(item)});
                at = comma + 1;
            }
        } else {
            std::cerr << "usage: sign_bench [--key-type T] [--seconds S] [--sizes 100k,1m,50m] "
                         "[--levels b-b,b-lta]\n";
            return 2;
        }
    }
    std::string templ = (fs::temp_directory_path() / "firmo-bench-XXXXXX").string();
    fs::path dir = mkdtemp(templ.data());
    int status_all = 0;
    for (const auto& [label, bytes] : options.sizes) {
        WritePdf(dir / ("in-" + label + ".pdf"), bytes);
        pid_t child = fork();
        if (child == 0) _exit(BenchOneSize(options, label, dir));
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) status_all = 1;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return status_all;
}
