#include "data/csv_fields.h"

#include <sstream>

namespace erc::data {

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  for (std::string& f : fields) {  // surrounding blanks are not part of a value
    f.erase(0, f.find_first_not_of(" \t"));
    f.erase(f.find_last_not_of(" \t\r") + 1);
  }
  return fields;
}

}  // namespace erc::data
