#include "pdf/qpdf_support.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <qpdf/Pipeline.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFLogger.hh>
#include <qpdf/QPDFXRefEntry.hh>
#include <set>
#include <system_error>

namespace firmo::pdf::internal {
namespace {

// Enough to find "startxref <offset> %%EOF" even after trailing garbage some writers add.
constexpr std::size_t kTailBytes = 2048;
constexpr std::size_t kHeaderBytes = 1024;

class CappedStringPipeline final : public Pipeline {
  public:
    explicit CappedStringPipeline(std::size_t cap) : Pipeline("firmo-string", nullptr), cap_(cap) {}
    void write(unsigned char const* data, size_t len) override {
        if (out_.size() + len > cap_) {
            exceeded_ = true;
            throw std::length_error("decoded stream over limit");
        }
        out_.append(reinterpret_cast<const char*>(data), len);
    }
    void finish() override {}
    bool exceeded() const { return exceeded_; }
    std::string& out() { return out_; }

  private:
    std::size_t cap_;
    std::string out_;
    bool exceeded_ = false;
};

Error ErrorFromQpdf(const QPDFExc& e) {
    if (e.getErrorCode() == qpdf_e_password) {
        return Error{ErrorCode::kUnsupportedMediaType, std::string(kReasonEncrypted)};
    }
    return Error{ErrorCode::kMalformed, std::string(kReasonDamaged)};
}

bool IsPdfSpace(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

// Some qpdf helpers warn through the process-wide logger (e.g. about direct objects met while
// walking a form), bypassing setSuppressWarnings; a server must not print what untrusted
// files say, so those messages are discarded.
void SilenceQpdfLogger() {
    static std::once_flag once;
    std::call_once(once, [] {
        auto logger = QPDFLogger::defaultLogger();
        logger->setInfo(logger->discard());
        logger->setWarn(logger->discard());
    });
}

template <typename Open>
Result<std::unique_ptr<QPDF>> OpenWith(Open&& open) {
    try {
        SilenceQpdfLogger();
        auto qpdf = std::make_unique<QPDF>();
        qpdf->setSuppressWarnings(true);
        open(*qpdf);
        if (qpdf->isEncrypted()) {
            return Fail(ErrorCode::kUnsupportedMediaType, std::string(kReasonEncrypted));
        }
        return qpdf;
    } catch (const QPDFExc& e) {
        return Fail(ErrorFromQpdf(e));
    } catch (const std::bad_alloc&) {
        return Fail(ErrorCode::kPayloadTooLarge, std::string(kReasonBomb));
    } catch (const std::exception&) {
        return Fail(ErrorCode::kMalformed, std::string(kReasonDamaged));
    }
}

}  // namespace

Result<std::string> MemorySource::ReadAt(std::uint64_t offset, std::size_t n) const {
    if (offset >= bytes_.size()) return std::string();
    return std::string(bytes_.substr(static_cast<std::size_t>(offset), n));
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::filesystem::path& p) {
    std::error_code ec;
    auto size = std::filesystem::file_size(p, ec);
    if (ec) return Fail(ErrorCode::kNotFound, "cannot open " + p.string() + ": " + ec.message());
    return std::unique_ptr<FileSource>(new FileSource(p, size));
}

Result<std::string> FileSource::ReadAt(std::uint64_t offset, std::size_t n) const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return Fail(ErrorCode::kInternal, "cannot read " + path_.string());
    if (offset >= size_) return std::string();
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - offset));
    std::string out(n, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(out.data(), static_cast<std::streamsize>(n));
    out.resize(static_cast<std::size_t>(in.gcount()));
    return out;
}

Result<void> CheckHeader(const ByteSource& source) {
    FIRMO_TRY(std::string head, source.ReadAt(0, kHeaderBytes));
    if (head.find("%PDF-") == std::string::npos) {
        return Fail(ErrorCode::kMalformed, std::string(kReasonNotPdf));
    }
    return {};
}

std::string HeaderVersion(const ByteSource& source) {
    auto head = source.ReadAt(0, kHeaderBytes);
    if (!head) return {};
    auto pos = head->find("%PDF-");
    if (pos == std::string::npos) return {};
    std::string version;
    for (std::size_t i = pos + 5; i < head->size() && version.size() < 4; ++i) {
        char c = (*head)[i];
        if ((c >= '0' && c <= '9') || c == '.') {
            version.push_back(c);
        } else {
            break;
        }
    }
    return version;
}

Result<std::uint64_t> LastStartXref(const ByteSource& source) {
    std::uint64_t size = source.Size();
    std::uint64_t from = size > kTailBytes ? size - kTailBytes : 0;
    FIRMO_TRY(std::string tail, source.ReadAt(from, kTailBytes));
    auto pos = tail.rfind("startxref");
    if (pos == std::string::npos) {
        return Fail(ErrorCode::kMalformed, "no startxref at the end of the file");
    }
    pos += 9;
    while (pos < tail.size() && IsPdfSpace(tail[pos])) ++pos;
    std::uint64_t offset = 0;
    auto [end, ec] = std::from_chars(tail.data() + pos, tail.data() + tail.size(), offset);
    if (ec != std::errc() || end == tail.data() + pos || offset >= size) {
        return Fail(ErrorCode::kMalformed, "bad startxref offset");
    }
    return offset;
}

Result<XrefKind> LastXrefKind(const ByteSource& source) {
    FIRMO_TRY(std::uint64_t offset, LastStartXref(source));
    FIRMO_TRY(std::string at, source.ReadAt(offset, 64));
    std::size_t i = 0;
    while (i < at.size() && IsPdfSpace(at[i])) ++i;
    if (at.compare(i, 4, "xref") == 0) return XrefKind::kTable;
    // "<num> <gen> obj" starts an xref stream object.
    auto digits = [&](std::size_t& k) {
        std::size_t start = k;
        while (k < at.size() && at[k] >= '0' && at[k] <= '9') ++k;
        return k > start;
    };
    if (!digits(i)) return Fail(ErrorCode::kMalformed, "startxref points at no xref section");
    while (i < at.size() && IsPdfSpace(at[i])) ++i;
    if (!digits(i)) return Fail(ErrorCode::kMalformed, "startxref points at no xref section");
    while (i < at.size() && IsPdfSpace(at[i])) ++i;
    if (at.compare(i, 3, "obj") == 0) return XrefKind::kStream;
    return Fail(ErrorCode::kMalformed, "startxref points at no xref section");
}

Result<std::unique_ptr<QPDF>> OpenMemory(std::string_view bytes) {
    return OpenWith([&](QPDF& q) { q.processMemoryFile("document", bytes.data(), bytes.size()); });
}

Result<std::unique_ptr<MappedFile>> MappedFile::Open(const std::filesystem::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail(ErrorCode::kNotFound, "cannot open " + p.string());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return Fail(ErrorCode::kInternal, "cannot read " + p.string());
    }
    auto size = static_cast<std::size_t>(st.st_size);
    void* data = nullptr;
    if (size > 0) {
        data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (data == MAP_FAILED) {
            ::close(fd);
            return Fail(ErrorCode::kInternal, "cannot map " + p.string());
        }
    }
    ::close(fd);
    return std::unique_ptr<MappedFile>(new MappedFile(data, size));
}

void MappedFile::Release(std::size_t offset, std::size_t n) const {
    static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::size_t from = (offset + page - 1) / page * page;  // whole pages inside the range only
    std::size_t to = std::min(offset + n, size_) / page * page;
    if (data_ == nullptr || to <= from) return;
    ::madvise(static_cast<char*>(data_) + from, to - from, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
}

std::optional<std::string> ReadStreamCapped(QPDFObjectHandle stream, std::size_t max_bytes) {
    if (!stream.isStream()) return std::nullopt;
    CappedStringPipeline sink(max_bytes);
    bool ok = stream.pipeStreamData(&sink, nullptr, 0, qpdf_dl_specialized, true);
    if (!ok || sink.exceeded()) return std::nullopt;
    return std::move(sink.out());
}

std::optional<Rect> ToRect(QPDFObjectHandle array) {
    if (!array.isArray() || array.getArrayNItems() != 4) return std::nullopt;
    double v[4];
    for (int i = 0; i < 4; ++i) {
        auto item = array.getArrayItem(i);
        if (!item.isNumber()) return std::nullopt;
        v[i] = item.getNumericValue();
    }
    return Rect{std::min(v[0], v[2]), std::min(v[1], v[3]), std::max(v[0], v[2]),
                std::max(v[1], v[3])};
}

std::vector<std::string> TakeWarnings(QPDF& qpdf) {
    std::vector<std::string> out;
    for (const auto& w : qpdf.getWarnings()) out.push_back(w.what());
    return out;
}

}  // namespace firmo::pdf::internal
