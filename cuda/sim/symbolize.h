// Source lines of the code the memory checker saw, for its reports: an access's code address is kept as a 32-bit
// offset into the program, and turned into "ops/reduce.cu:42" only when a report needs it, by binutils' addr2line
// reading the program's line tables (the .cu files of a SIM build are compiled with -g1).
#pragma once
#include <cstdint>
#include <string>

namespace erc::sim {

uint32_t code_site(uintptr_t return_address);  // the address an instrumentation call returns to
std::string source_line(uint32_t site);        // "ops/reduce.cu:42", or why there is none

}  // namespace erc::sim
