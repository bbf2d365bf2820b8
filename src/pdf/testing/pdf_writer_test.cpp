// Named *_test.cpp so the build links it into test binaries only (see cmake/firmo.cmake).
#include "pdf/testing/pdf_writer.hpp"

#include <cstdio>
#include <qpdf/QPDF.hh>
#include <stdexcept>

namespace firmo::pdf::testing {
namespace {

constexpr std::string_view kByteRangeToken = "@BYTERANGE@";
constexpr std::string_view kContentsToken = "@CONTENTS@";
constexpr std::size_t kByteRangeWidth = 4 * 11 + 2;

bool IsStream(const std::string& body) { return body.find("stream") != std::string::npos; }

void Replace(std::string& s, std::string_view token, const std::string& with) {
    auto at = s.find(token);
    if (at == std::string::npos) throw std::logic_error("no " + std::string(token));
    s.replace(at, token.size(), with);
}

void Big(std::string& out, std::uint64_t v, int width) {
    for (int b = width - 1; b >= 0; --b) out += static_cast<char>((v >> (8 * b)) & 0xFF);
}

}  // namespace

std::string ToString(XrefForm form) {
    switch (form) {
        case XrefForm::kTable:
            return "table";
        case XrefForm::kStream:
            return "xref-stream";
        case XrefForm::kObjectStream:
            return "object-stream";
    }
    return "?";
}

std::string Hex(std::string_view bytes) {
    static const char* kDigits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

PdfWriter::PdfWriter() : out_("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n") {}

PdfWriter PdfWriter::Continue(std::string existing) {
    PdfWriter w;
    QPDF q;
    q.setSuppressWarnings(true);
    q.processMemoryFile("existing", existing.data(), existing.size());
    QPDFObjectHandle trailer = q.getTrailer();
    for (const char* key : {"/Root", "/Info", "/ID"}) {
        if (trailer.hasKey(key)) w.trailer_[key] = trailer.getKey(key).unparse();
    }
    long long size =
        trailer.getKey("/Size").isInteger() ? trailer.getKey("/Size").getIntValue() : 1;
    for (const auto& [og, entry] : q.getXRefTable())
        size = std::max<long long>(size, og.getObj() + 1);
    w.next_ = static_cast<int>(size);
    auto at = existing.rfind("startxref");
    w.prev_ = std::stoull(existing.substr(at + 9));
    w.out_ = std::move(existing);
    if (w.out_.back() != '\n') w.out_ += '\n';
    return w;
}

void PdfWriter::Set(int number, std::string body) {
    pending_[number] = std::move(body);
    next_ = std::max(next_, number + 1);
}

void PdfWriter::Free(int number) { entries_[number] = Entry{0, 0, 0}; }

void PdfWriter::PointAt(int number, std::uint64_t offset, int generation) {
    entries_[number] = Entry{1, offset, generation};
    next_ = std::max(next_, number + 1);
}

void PdfWriter::PointInStream(int number, int stream, int index) {
    entries_[number] = Entry{2, static_cast<std::uint64_t>(stream), index};
    next_ = std::max(next_, number + 1);
}

std::uint64_t PdfWriter::AppendRaw(const std::string& bytes) {
    std::uint64_t at = out_.size();
    out_ += bytes;
    return at;
}

void PdfWriter::SetTrailer(const std::string& key, const std::string& value) {
    if (value.empty()) {
        trailer_.erase(key);
    } else {
        trailer_[key] = value;
    }
}

std::optional<std::uint64_t> PdfWriter::OffsetOf(int number) const {
    auto it = offsets_.find(number);
    return it == offsets_.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
}

std::optional<std::pair<int, int>> PdfWriter::StreamSlotOf(int number) const {
    auto it = slots_.find(number);
    return it == slots_.end() ? std::nullopt : std::optional<std::pair<int, int>>(it->second);
}

void PdfWriter::Commit(XrefForm form) { CommitSigned(form, 0, 0, nullptr); }

void PdfWriter::CommitSigned(XrefForm form, int signature, std::size_t reserve,
                             const std::function<std::string(std::string_view)>& sign) {
    if (signature != 0) {
        std::string& body = pending_.at(signature);
        Replace(body, kByteRangeToken, "[" + std::string(kByteRangeWidth - 2, ' ') + "]");
        Replace(body, kContentsToken, "<" + std::string(2 * reserve, '0') + ">");
    }
    // Objects packed into an object stream, when asked (streams and the signature stay out:
    // the signature's /Contents must be plain bytes in the file).
    std::map<int, std::string> packed;
    if (form == XrefForm::kObjectStream) {
        for (auto it = pending_.begin(); it != pending_.end();) {
            if (!IsStream(it->second) && it->first != signature) {
                packed.insert(*it);
                it = pending_.erase(it);
            } else {
                ++it;
            }
        }
        if (!packed.empty()) {
            std::string header;
            std::string data;
            int index = 0;
            int stream = next_++;
            for (const auto& [n, body] : packed) {
                header += std::to_string(n) + " " + std::to_string(data.size()) + " ";
                data += body + "\n";
                entries_[n] = Entry{2, static_cast<std::uint64_t>(stream), index};
                slots_[n] = {stream, index++};
            }
            pending_[stream] = "<< /Type /ObjStm /N " + std::to_string(packed.size()) + " /First " +
                               std::to_string(header.size()) + " /Length " +
                               std::to_string(header.size() + data.size()) + " >>\nstream\n" +
                               header + data + "\nendstream";
        }
    }
    for (const auto& [n, body] : pending_) {
        offsets_[n] = out_.size();
        entries_[n] = Entry{1, out_.size(), 0};
        out_ += std::to_string(n) + " 0 obj\n" + body + "\nendobj\n";
    }
    pending_.clear();

    std::string trailer_keys;
    for (const auto& [k, v] : trailer_) trailer_keys += " " + k + " " + v;
    if (prev_) trailer_keys += " /Prev " + std::to_string(*prev_);
    if (!prev_ && entries_.count(0) == 0) entries_[0] = Entry{0, 0, 65535};
    std::uint64_t xref_at = out_.size();
    auto runs = [&](auto&& f) {
        std::vector<int> run;
        for (const auto& [n, e] : entries_) {
            if (!run.empty() && n != run.back() + 1) {
                f(run);
                run.clear();
            }
            run.push_back(n);
        }
        if (!run.empty()) f(run);
    };
    if (form == XrefForm::kTable) {
        out_ += "xref\n";
        runs([&](const std::vector<int>& run) {
            out_ += std::to_string(run.front()) + " " + std::to_string(run.size()) + "\n";
            for (int n : run) {
                const Entry& e = entries_[n];
                char line[32];
                std::snprintf(line, sizeof line, "%010llu %05d %c \n",
                              static_cast<unsigned long long>(e.field2), e.field3,
                              e.type == 0 ? 'f' : 'n');
                out_ += line;
            }
        });
        out_ += "trailer\n<< /Size " + std::to_string(next_) + trailer_keys + " >>\n";
    } else {
        int self = next_++;
        entries_[self] = Entry{1, xref_at, 0};
        std::string index;
        std::string data;
        runs([&](const std::vector<int>& run) {
            index += std::to_string(run.front()) + " " + std::to_string(run.size()) + " ";
            for (int n : run) {
                const Entry& e = entries_[n];
                data += static_cast<char>(e.type);
                Big(data, e.field2, 4);
                Big(data, static_cast<std::uint64_t>(e.field3), 2);
            }
        });
        out_ += std::to_string(self) + " 0 obj\n<< /Type /XRef /Size " + std::to_string(next_) +
                " /W [1 4 2] /Index [" + index + "]" + trailer_keys + " /Length " +
                std::to_string(data.size()) + " >>\nstream\n" + data + "\nendstream\nendobj\n";
    }
    out_ += "startxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
    prev_ = xref_at;
    entries_.clear();

    if (signature == 0) return;
    std::size_t sig_at = static_cast<std::size_t>(offsets_.at(signature));
    std::size_t range_at = out_.find("/ByteRange [", sig_at) + 11;
    std::size_t lt = out_.find("/Contents <", sig_at) + 10;
    std::size_t gt = lt + 1 + 2 * reserve;
    std::string range = "[0 " + std::to_string(lt) + " " + std::to_string(gt + 1) + " " +
                        std::to_string(out_.size() - gt - 1);
    range += std::string(kByteRangeWidth - range.size() - 1, ' ') + "]";
    out_.replace(range_at, kByteRangeWidth, range);
    std::string content = out_.substr(0, lt) + out_.substr(gt + 1);
    std::string hex = Hex(sign(content));
    if (hex.size() > 2 * reserve) throw std::length_error("signature larger than reserved");
    out_.replace(lt + 1, hex.size(), hex);
}

}  // namespace firmo::pdf::testing
