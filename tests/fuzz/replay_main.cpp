// SPDX-License-Identifier: GPL-2.0-only
// Replays a harness's corpus without libFuzzer, in the normal (g++) build:
// every file of the directories given runs through LLVMFuzzerTestOneInput
// once. `make test` runs it for each committed corpus, so every crash
// `make fuzz` found (its input committed there) stays a regression case.
// A crash aborts the run; the summary line is in doctest's form so
// tests/run-all.sh counts the files.
#include <dirent.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  size_t files = 0;
  for (int i = 1; i < argc; i++) {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(argv[i])) {
      while (dirent* entry = ::readdir(dir))
        if (entry->d_name[0] != '.') names.push_back(std::string(argv[i]) + "/" + entry->d_name);
      ::closedir(dir);
    } else {
      names.push_back(argv[i]);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::ifstream in(name, std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      std::string data = bytes.str();
      std::fprintf(stderr, "replay %s (%zu bytes)\n", name.c_str(), data.size());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
      files++;
    }
  }
  std::printf("[doctest] test cases: %zu | %zu passed | 0 failed | 0 skipped\n", files, files);
  return 0;
}
