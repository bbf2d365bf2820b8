// firmo: the one binary. main only hands the command line to app::Main.

#include <iostream>
#include <string>
#include <vector>

#include "app/cli.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return firmo::app::Main(args, std::cout, std::cerr);
}
