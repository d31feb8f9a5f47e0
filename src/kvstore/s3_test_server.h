// Test helpers for the S3 store (header-only, included by s3_*_test.cc):
// an s3rver process on loopback (scripts/s3rver.sh), and a fault-injecting
// HTTP proxy in front of it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "stowage/s3.h"

namespace stowage::kvstore::s3_testing {

inline std::filesystem::path RepoRoot() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

// True when CI demands the s3rver tests run (scripts/test.sh sets it).
inline bool S3rverRequired() {
  const char* value = std::getenv("STOWAGE_REQUIRE_S3RVER");
  return value != nullptr && std::string(value) == "1";
}

// s3rver serving a fresh directory with one bucket, killed on destruction.
class S3rver {
 public:
  // Starts s3rver, or returns nullptr with `why_not` set when node or
  // s3rver is missing or it does not start within 30 s.
  static std::unique_ptr<S3rver> Start(const std::string& bucket, std::string* why_not) {
    std::filesystem::path script = RepoRoot() / "scripts" / "s3rver.sh";
    const char* prefix = std::getenv("STOWAGE_S3RVER_PREFIX");
    std::filesystem::path js =
        (prefix ? std::filesystem::path(prefix) : RepoRoot() / "build-deps" / "s3rver") /
        "node_modules" / "s3rver" / "bin" / "s3rver.js";
    if (!std::filesystem::exists(js)) {
      *why_not = "s3rver is not installed (bash scripts/s3rver.sh install)";
      return nullptr;
    }
    if (std::system("command -v node >/dev/null 2>&1") != 0) {
      *why_not = "node is not on PATH";
      return nullptr;
    }
    auto server = std::unique_ptr<S3rver>(new S3rver());
    if (!server->Spawn(script, bucket, why_not)) return nullptr;
    return server;
  }

  ~S3rver() {
    Kill();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // Kills the server at once (SIGKILL), as a crash would.
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (out_ >= 0) close(out_);
    out_ = -1;
  }

  // Starts the server again over the same data (after Kill: a restart
  // after a crash); it may listen on another port. False with `why_not` set
  // when it does not come up.
  bool Restart(std::string* why_not) {
    Kill();
    return Spawn(script_, bucket_, why_not);
  }

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  S3rver() {
    std::string pattern = (std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp");
    pattern += "/stowage-s3rver-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }

  bool Spawn(const std::filesystem::path& script, const std::string& bucket, std::string* why_not) {
    script_ = script;
    bucket_ = bucket;
    int fds[2];
    if (pipe(fds) != 0) return *why_not = "pipe failed", false;
    if (dir_.empty()) return *why_not = "mkdtemp failed", false;
    std::string data = (dir_ / "data").string();
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
      if (getppid() != parent) _exit(1);
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execl("/bin/bash", "bash", script.c_str(), "run", data.c_str(), bucket.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
    return ReadPort(why_not);
  }

  bool ReadPort(std::string* why_not) {
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{out_, POLLIN, 0};
      if (poll(&fd, 1, 200) <= 0) continue;
      char buffer[512];
      ssize_t n = read(out_, buffer, sizeof buffer);
      if (n <= 0) break;
      output.append(buffer, n);
      std::size_t at = output.find("listening on 127.0.0.1:");
      if (at != std::string::npos && output.find('\n', at) != std::string::npos) {
        port_ = std::atoi(output.c_str() + at + std::strlen("listening on 127.0.0.1:"));
        return port_ > 0;
      }
    }
    *why_not = "s3rver did not start: " + output;
    Kill();
    return false;
  }

  std::filesystem::path script_;
  std::string bucket_;
  std::filesystem::path dir_;  // s3rver's data, removed on destruction
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

// Listens on 127.0.0.1 and forwards each HTTP request to `upstream_port`
// (one request per upstream connection), unless told to fail it: the next
// `fail_next` requests get 503 SlowDown, and every request waits `delay_ms`
// first.
class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listen_fd_, 64);
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FaultProxy() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : threads_) thread.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> fail_next{0};
  std::atomic<int> delay_ms{0};
  std::atomic<int> requests{0};
  std::atomic<int> failed{0};

  // Every request forwarded, in order of events: "> METHOD target" when it
  // arrived, "< METHOD target" when its answer had been passed back.
  std::vector<std::string> Log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }

 private:
  static int Connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(n);
    }
    return true;
  }

  void AcceptLoop() {
    while (!stop_) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      if (stop_) {
        close(fd);
        break;
      }
      open_.insert(fd);
      threads_.emplace_back([this, fd] {
        Serve(fd);
        std::lock_guard lock(mutex_);
        open_.erase(fd);
        close(fd);
      });
    }
  }

  // Reads one request: head (up to the blank line) and Content-Length body.
  static bool ReadRequest(int fd, std::string& pending, std::string& request) {
    std::size_t head_end;
    while ((head_end = pending.find("\r\n\r\n")) == std::string::npos) {
      char buffer[65536];
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      pending.append(buffer, n);
    }
    std::string head = pending.substr(0, head_end + 4);
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t body_length = 0;
    if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
      body_length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
    }
    while (pending.size() < head.size() + body_length) {
      char buffer[65536];
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      pending.append(buffer, n);
    }
    request = pending.substr(0, head.size() + body_length);
    pending.erase(0, request.size());
    return true;
  }

  void Serve(int fd) {
    std::string pending, request;
    while (!stop_ && ReadRequest(fd, pending, request)) {
      ++requests;
      for (int waited = 0; waited < delay_ms && !stop_; waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      int remaining = fail_next.load();
      bool fail = false;
      while (remaining > 0 && !(fail = fail_next.compare_exchange_weak(remaining, remaining - 1))) {
      }
      if (fail) {
        ++failed;
        std::string body = "<Error><Code>SlowDown</Code><Message>injected</Message></Error>";
        SendAll(fd,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
                "Content-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
        continue;
      }
      std::string line = request.substr(0, request.find(" HTTP/"));
      AddToLog("> " + line);
      std::string response = Forward(request);
      AddToLog("< " + line);  // before the client can see the answer
      SendAll(fd, response);
      return;  // upstream closed: so does this connection
    }
  }

  void AddToLog(std::string entry) {
    std::lock_guard lock(mutex_);
    log_.push_back(std::move(entry));
  }

  // The upstream server's whole answer to `request` (what arrived before
  // it closed the connection).
  std::string Forward(std::string request) {
    std::string response;
    int upstream = Connect(upstream_port_);
    if (upstream < 0) return response;
    request.insert(request.find("\r\n") + 2, "Connection: close\r\n");
    if (SendAll(upstream, request)) {
      char buffer[65536];
      for (ssize_t n; (n = recv(upstream, buffer, sizeof buffer, 0)) > 0;)
        response.append(buffer, n);
    }
    close(upstream);
    return response;
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::set<int> open_;
  std::vector<std::thread> threads_;
  std::vector<std::string> log_;
};

}  // namespace stowage::kvstore::s3_testing
