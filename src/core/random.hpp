#pragma once
// Injectable randomness. Production uses the OS CSPRNG (getrandom); tests use a seeded
// deterministic source. Everything secret (keys, tokens, codes) must come from here.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace firmo {

class Random {
  public:
    virtual ~Random() = default;
    virtual void Fill(std::uint8_t* out, std::size_t n) = 0;

    std::string Bytes(std::size_t n);
    std::uint64_t U64();
};

class SystemRandom final : public Random {
  public:
    void Fill(std::uint8_t* out, std::size_t n) override;
};

// xorshift-based; NOT for production secrets. Thread-safe.
class SeededRandom final : public Random {
  public:
    explicit SeededRandom(std::uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ULL) {}
    void Fill(std::uint8_t* out, std::size_t n) override;

  private:
    std::mutex mu_;
    std::uint64_t state_;
};

}  // namespace firmo
