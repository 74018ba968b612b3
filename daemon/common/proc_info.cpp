// SPDX-License-Identifier: GPL-2.0-only
#include "proc_info.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace netacct {
namespace {

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::vector<std::string> directory(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* dir = ::opendir(path.c_str())) {
    while (dirent* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
    ::closedir(dir);
  }
  return names;
}

// Socket inodes listening on `port` (state 0A) in /proc/net/tcp and tcp6.
std::vector<std::string> listening_inodes(uint16_t port) {
  std::vector<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) inodes.push_back(inode);
    }
  }
  return inodes;
}

std::vector<std::string> command_line(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/cmdline");
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

std::string describe_process(const std::string& pid) {
  std::vector<std::string> args = command_line(pid);
  std::string name = args.empty() ? "?" : args[0].substr(args[0].rfind('/') + 1);
  std::string tag;
  for (size_t i = 0; i < args.size(); i++) {
    if ((args[i] == "--tag" || args[i] == "-t") && i + 1 < args.size()) tag = args[i + 1];
    if (args[i].rfind("--tag=", 0) == 0) tag = args[i].substr(6);
  }
  if (!tag.empty()) return name + " (tag " + tag + ", pid " + pid + ")";
  return name + " (pid " + pid + ")";
}

}  // namespace

std::string describe_own_netns() {
  ino_t own = inode_of("/proc/self/ns/net");
  if (own != 0 && own == inode_of("/proc/1/ns/net")) return "the host network namespace";
  for (const std::string& name : directory("/var/run/netns"))
    if (inode_of("/var/run/netns/" + name) == own) return "network namespace " + name;
  return "network namespace net:[" + std::to_string(own) + "]";
}

std::string describe_listener(uint16_t port) {
  std::vector<std::string> inodes = listening_inodes(port);
  if (inodes.empty()) return "";
  for (const std::string& pid : directory("/proc")) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string fd_dir = "/proc/" + pid + "/fd";
    for (const std::string& fd : directory(fd_dir)) {
      char target[64];
      ssize_t n = ::readlink((fd_dir + "/" + fd).c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      for (const std::string& inode : inodes)
        if (std::string(target) == "socket:[" + inode + "]") return describe_process(pid);
    }
  }
  return "another process";
}

}  // namespace netacct
