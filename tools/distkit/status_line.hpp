// The one live line of the demo and the bench, on stderr so that stdout
// stays clean for the results.
#pragma once

#include <string>

namespace distkit::tools {

// On a terminal each show() redraws the same line; in a log or a pipe, where
// carriage returns would pile up, each show() prints a line of its own.
class StatusLine {
 public:
  StatusLine();
  ~StatusLine();  // finish()
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  void show(const std::string& text);
  // Ends the live line so that later output starts on a fresh one.
  void finish();

 private:
  bool terminal_;
  bool open_ = false;  // a live line is on screen and not yet ended
};

// "[#######             ] 3/10" for `done` of `total` steps.
std::string progress_bar(int done, int total);

}  // namespace distkit::tools
