#!/usr/bin/perl
# Load for bench/reliability.sh: WORKERS processes, each making PER connections to the
# Unix socket PATH, one after the other. Each sends a line, holds the connection LONGMS
# milliseconds for LONGPCT percent of them, half-closes, and expects its line echoed.
# Prints "connections N errors E"; core perl only.
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(usleep);

my ($path, $workers, $per, $longpct, $longms) = @ARGV;
# A handler that dies first must show up as an error, not kill the worker.
$SIG{PIPE} = 'IGNORE';
for my $w (1 .. $workers) {
    defined(my $pid = fork) or die "fork: $!";
    next if $pid;
    srand($$);
    my $err = 0;
    for my $i (1 .. $per) {
        my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path);
        if (!$s) { $err++; next }
        my $msg = "w$w-$i\n";
        print $s $msg;
        $s->flush;
        usleep($longms * 1000) if rand(100) < $longpct;
        shutdown($s, 1);
        my $got = do { local $/; <$s> };
        $err++ unless defined $got && $got eq $msg;
        close $s;
    }
    exit($err > 255 ? 255 : $err);
}
my $errs = 0;
while ((my $p = wait) > 0) { $errs += ($? & 127) ? $per : $? >> 8 }
print "connections ", $workers * $per, " errors $errs\n";
