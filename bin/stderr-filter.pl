#!/usr/bin/env perl
# Copies bncheck's stderr through, dropping the two start-up lines TensorFlow's native runtime
# prints whatever its log level. It passes everything else on as soon as it arrives: a progress
# update ends in a carriage return, not a newline, so a line-buffered filter (grep) would hold
# it until the run ends. Only text that may still become one of the dropped lines waits.
use strict;
use warnings;

my $absl = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR";
my $mlir = qr/mlir_graph_optimization_pass\.cc:\d+\] MLIR V1 optimization pass is not enabled$/;
$| = 1;
binmode STDIN;
binmode STDOUT;
my $pending = "";
while (sysread(STDIN, my $chunk, 65536)) {
  $pending .= $chunk;
  while ($pending =~ s/\A([^\n]*)\n//) {
    my $line = $1;
    print "$line\n" unless $line eq $absl || $line =~ $mlir;
  }
  my $may_be_dropped = $pending eq substr($absl, 0, length $pending) || $pending =~ /\AI\d/ || $pending eq "I";
  if ($pending ne "" && !$may_be_dropped) {
    print $pending;
    $pending = "";
  }
}
print $pending;
