#!/usr/bin/env perl
# Copies bncheck's stderr through. bncheck starts every line and carriage-return segment it
# writes with the mark the launcher gave it (BNCHECK_STDERR_MARK, random per run); those pass on
# without the mark, as soon as they arrive (a progress update ends in a carriage return, not a
# newline, and a line-buffered filter would hold it until the run ends). Everything else comes from
# TensorFlow's native runtime or the JVM, and may carry text from the model (TensorFlow logs a
# function's name or a regular expression raw): such a line is indented, so that it can pose
# neither as bncheck's nor as a CI command such as "::error::", and its control characters are
# shown escaped. TensorFlow's two start-up lines, printed whatever its log level, the JVM's
# notice that the launcher added the Vector API's incubator module, its count of the compiler
# directives the launcher gives for TensorFlow models, and its notice that it took options from
# the environment (JAVA_TOOL_OPTIONS, which some CI images set for every JVM) are dropped. The
# filter ends with status 3 when the JVM said it could not start, else 0.
use strict;
use warnings;

my $mark = $ENV{BNCHECK_STDERR_MARK} // "";
my $absl = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR";
my $mlir = qr/mlir_graph_optimization_pass\.cc:\d+\] MLIR V1 optimization pass is not enabled$/;
my $incubator = "WARNING: Using incubator modules: jdk.incubator.vector";
my $directives = qr/^\d+ compiler directives added$/;
my $picked_up = qr/^(?:NOTE: )?Picked up (?:JAVA_TOOL_OPTIONS|JDK_JAVA_OPTIONS|_JAVA_OPTIONS): /;
# The JVM's line when it cannot start; the filter then ends with status 3, for the launcher.
my $no_jvm = "Error: Could not create the Java Virtual Machine.";
my $jvm_refused = 0;
$| = 1;
binmode STDIN;
binmode STDOUT;

sub escaped {
  my ($text) = @_;
  $text =~ s/([\x00-\x08\x0b-\x1f\x7f])/sprintf("\\x%02x", ord $1)/ge;
  # C1 controls, line and paragraph separators and bidirectional controls, as UTF-8
  $text =~ s/(\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9])/join("", map { sprintf("\\x%02x", ord) } split(\/\/, $1))/ge;
  return $text;
}

# Text of the current segment (since the last newline or carriage return), and whether it is
# bncheck's own, passed on as it comes.
my $segment = "";
my $own = 0;

sub foreign_line {
  my ($line, $end) = @_;
  $jvm_refused = 1 if $line eq $no_jvm;
  return if $end eq "\n" && ($line eq $absl || $line =~ $mlir || $line eq $incubator || $line =~ $directives
    || $line =~ $picked_up);
  print $line =~ /\A\s*\z/ ? $line . $end : "  " . escaped($line) . $end;
}

while (sysread(STDIN, my $chunk, 65536)) {
  for my $c (split //, $chunk) {
    if ($own) {
      print $c;
      $own = 0 if $c eq "\n" || $c eq "\r";
      next;
    }
    if ($c eq "\n" || $c eq "\r") {
      foreign_line($segment, $c);
      $segment = "";
      next;
    }
    $segment .= $c;
    # a segment that does not start with the mark is held until its line ends
    if ($mark ne "" && $segment eq $mark) {
      $segment = "";
      $own = 1;
    }
  }
}
foreign_line($segment, "") if $segment ne "";
exit($jvm_refused ? 3 : 0);
