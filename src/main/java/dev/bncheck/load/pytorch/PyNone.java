package dev.bncheck.load.pytorch;

/** Python's None in a pickle (a Java null would read as "missing"). */
enum PyNone {
  NONE
}
