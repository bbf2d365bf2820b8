#pragma once
// Work tried on an I/O thread before it is handed to a pool thread. Most reads of a busy API are
// answered from memory (a cached API key, a request copy a change signal vouches for); handing
// each to a pool thread and back costs two wake-ups and more CPU than the read itself. Inside a
// no_wait::Scope the code runs as usual, and whatever would wait (a database statement, a
// connection to open, a writer's lock) returns Refuse()'s error instead of waiting and marks the
// scope; the caller then drops what the attempt produced and runs the work again where waiting
// is allowed. So code on such a path must leave no effect behind before it could be refused, or
// undo it (RateLimitService gives its token back).

#include <string_view>

#include "core/error.hpp"

namespace firmo::no_wait {

// Marks this thread as one that must not wait, for the scope's life. Not nested.
class Scope {
  public:
    Scope();
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    // Whether something in the scope would have waited (and was refused).
    bool refused() const;
};

// Inside a Scope on this thread.
bool Active();
// Whether this thread's Scope refused a wait (false outside one).
bool Refused();
// Where work would wait inside a Scope: marks it, and gives the error to return instead.
tl::unexpected<Error> Refuse(std::string_view what);

}  // namespace firmo::no_wait
