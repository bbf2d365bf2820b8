#include "core/no_wait.hpp"

#include <string>

namespace firmo::no_wait {

namespace {
thread_local bool t_active = false;
thread_local bool t_refused = false;
}  // namespace

Scope::Scope() {
    t_active = true;
    t_refused = false;
}

Scope::~Scope() {
    t_active = false;
    t_refused = false;
}

bool Scope::refused() const { return t_refused; }

bool Active() { return t_active; }

bool Refused() { return t_active && t_refused; }

tl::unexpected<Error> Refuse(std::string_view what) {
    t_refused = true;
    return Fail(ErrorCode::kUnavailable, std::string(what) + " would wait on an I/O thread");
}

}  // namespace firmo::no_wait
