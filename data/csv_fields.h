// The fields of one line of erc's plain CSV inputs (audio lists, turns): split at commas, surrounding blanks and a
// trailing carriage return trimmed. Quoting is not supported; the readers refuse a line with a '"'.
#pragma once
#include <string>
#include <vector>

namespace erc::data {

std::vector<std::string> csv_fields(const std::string& line);

}  // namespace erc::data
