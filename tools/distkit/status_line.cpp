#include "status_line.hpp"

#include <unistd.h>

#include <iostream>

namespace distkit::tools {

StatusLine::StatusLine() : terminal_(isatty(STDERR_FILENO) == 1) {}

StatusLine::~StatusLine() {
  finish();
}

void StatusLine::show(const std::string& text) {
  if (terminal_) {
    // Carriage return, the text, then erase what a longer previous text left.
    std::cerr << '\r' << text << "\x1b[K" << std::flush;
    open_ = true;
  } else {
    std::cerr << text << std::endl;
  }
}

void StatusLine::finish() {
  if (!open_) return;
  std::cerr << std::endl;
  open_ = false;
}

std::string progress_bar(int done, int total) {
  constexpr int width = 24;
  const int filled = total > 0 ? done * width / total : width;
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), ' ') + "] " + std::to_string(done) +
         "/" + std::to_string(total);
}

}  // namespace distkit::tools
