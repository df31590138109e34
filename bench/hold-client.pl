#!/usr/bin/perl
# maxconn saturation for bench/reliability.sh: open HOLD connections to PATH and keep
# them; then open EXTRA more, which must get no answer while the first are held; then
# release the first and expect every one of HOLD+EXTRA echoed. Prints the counts.
use strict;
use warnings;
use IO::Socket::UNIX;
use IO::Select;
use Socket qw(SOCK_STREAM);

my ($path, $hold, $extra) = @ARGV;
my (@held, @more);
for my $i (1 .. $hold) {
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path) or die "connect $i: $!";
    print $s "h$i\n"; $s->flush;
    push @held, $s;
}
# Wait until every held connection has its handler (its echo came back).
my $served = 0;
for my $s (@held) { my $l = <$s>; $served++ if defined $l }
for my $i (1 .. $extra) {
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path) or die "connect extra $i: $!";
    print $s "e$i\n"; $s->flush;
    push @more, $s;
}
my $sel = IO::Select->new(@more);
my @early = $sel->can_read(2);
print "held $served/$hold, extra answered early: ", scalar(@early), "\n";
shutdown($_, 1) for @held;
close $_ for @held;
my $ok = 0;
for my $i (0 .. $#more) {
    my $s = $more[$i];
    shutdown($s, 1);
    my $got = do { local $/; <$s> };
    $ok++ if defined $got && $got eq "e" . ($i + 1) . "\n";
}
print "extra served after release $ok/$extra\n";
