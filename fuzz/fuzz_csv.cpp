// The CSV reader (io/csv.h) every CSV of erc goes through: any input is read or refused with an erc::Error; and each
// record it reads, written back field by field with csv_field, reads back as the same fields.
#include <sstream>

#include "fuzz_input.h"
#include "io/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  erc::fuzz::accept_or_refuse([&] {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    erc::CsvReader csv(in, "input.csv");
    erc::CsvRecord record;
    while (csv.next(record)) {
      if (record.fields.size() == 1 && record.fields[0].empty()) continue;  // written back: a blank line, no record
      std::string line;
      for (size_t i = 0; i < record.fields.size(); ++i) line += (i ? "," : "") + erc::csv_field(record.fields[i]);
      std::istringstream again(line + "\n");
      erc::CsvReader reread(again, "written.csv");
      erc::CsvRecord back;
      if (!reread.next(back) || back.fields != record.fields) std::abort();  // csv_field and CsvReader disagree
    }
  });
  return 0;
}
