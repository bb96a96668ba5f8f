#!/usr/bin/perl
# A CoAP server over UDP (RFC 7252) that gets block-wise transfers (RFC
# 7959) wrong on purpose, one way per run, to check what a client does.
# Serves a 1000-byte body ("0123456789" repeated) for GET and takes PUT
# bodies in Block1 blocks. Prints "listening on 127.0.0.1:PORT" to stderr.
#
# usage: misbehaving_block_server.pl MODE
#   good          answers rightly (the control)
#   wrong-num     answers the request for block N >= 1 with block N + 1
#   etag          a new ETag in every answer
#   grow          answers block N >= 1 with blocks twice the size asked for
#   no-block2     answers block N >= 1 with a 2.05 without Block2
#   error         answers block N >= 1 with 4.04
#   put-error     answers Block1 block N >= 1 with 4.13
#   put-no-block1 answers Block1 block 0 with 2.31 without Block1
use strict;
use warnings;
use IO::Socket::INET;

my $mode = shift @ARGV or die "usage: $0 MODE\n";
my $body = '0123456789' x 100;
my $sock = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
                                 LocalPort => 0) or die "socket: $!\n";
$| = 1;
print STDERR "misbehaving_block_server: listening on 127.0.0.1:",
  $sock->sockport, "\n";
my $etag = 1;

# Option values as unsigned integers, shortest form.
sub uint_bytes {
  my ($v) = @_;
  my $s = '';
  while ($v > 0) { $s = chr($v & 0xff) . $s; $v >>= 8; }
  return $s;
}

# One option nibble and its extension bytes.
sub nibble {
  my ($n) = @_;
  return ($n, '') if $n < 13;
  return (13, chr($n - 13)) if $n < 269;
  return (14, pack('n', $n - 269));
}

# Header, token, options (a list of [number, bytes]) and payload.
sub encode {
  my ($type, $code, $mid, $token, $opts, $payload) = @_;
  my $m = pack('CCn', 0x40 | ($type << 4) | length($token), $code, $mid) . $token;
  my $last = 0;
  for my $o (sort { $a->[0] <=> $b->[0] } @$opts) {
    my ($dn, $dx) = nibble($o->[0] - $last);
    my ($ln, $lx) = nibble(length $o->[1]);
    $m .= chr(($dn << 4) | $ln) . $dx . $lx . $o->[1];
    $last = $o->[0];
  }
  $m .= "\xff" . $payload if length $payload;
  return $m;
}

# Returns (type, code, mid, token, {number => bytes}, payload).
sub decode {
  my ($d) = @_;
  my ($b0, $code, $mid) = unpack('CCn', $d);
  my $tkl = $b0 & 0x0f;
  my $token = substr($d, 4, $tkl);
  my $i = 4 + $tkl;
  my ($num, %opt) = (0);
  while ($i < length $d) {
    my $b = ord(substr($d, $i++, 1));
    last if $b == 0xff;
    my ($dn, $ln) = ($b >> 4, $b & 0x0f);
    for my $x (\$dn, \$ln) {
      if ($$x == 13) { $$x = 13 + ord(substr($d, $i, 1)); $i += 1; }
      elsif ($$x == 14) { $$x = 269 + unpack('n', substr($d, $i, 2)); $i += 2; }
    }
    $num += $dn;
    $opt{$num} = substr($d, $i, $ln);
    $i += $ln;
  }
  my $payload = $i <= length $d ? substr($d, $i) : '';
  return (($b0 >> 4) & 3, $code, $mid, $token, \%opt, $payload);
}

sub uint_of {
  my ($s) = @_;
  my $v = 0;
  $v = ($v << 8) | ord($_) for split //, ($s // '');
  return $v;
}

# The answer to a GET for block $num of size 2^($szx + 4).
sub block2_answer {
  my ($num, $szx, $with_block2) = @_;
  my $size = 16 << $szx;
  my $part = substr($body, $num * $size, $size);
  my $more = ($num + 1) * $size < length $body ? 1 : 0;
  my @opts = ([4, uint_bytes($etag)], [12, '']);
  push @opts, [23, uint_bytes(($num << 4) | ($more << 3) | $szx)],
    [28, uint_bytes(length $body)]
    if $with_block2;
  return (69, \@opts, $part); # 2.05
}

while (1) {
  my $from = $sock->recv(my $d, 2048);
  next unless defined $from && length $d >= 4;
  my ($type, $code, $mid, $token, $opt, $payload) = decode($d);
  next unless $code >= 1 && $code <= 31;
  my ($rcode, $opts, $out) = (132, [], ''); # 4.04
  if ($code == 1) { # GET
    my $b2 = uint_of($opt->{23});
    my ($num, $szx) = ($b2 >> 4, exists $opt->{23} ? $b2 & 7 : 2);
    $etag++ if $mode eq 'etag';
    if ($num >= 1 && $mode eq 'wrong-num') {
      ($rcode, $opts, $out) = block2_answer($num + 1, $szx, 1);
    } elsif ($num >= 1 && $mode eq 'grow') {
      ($rcode, $opts, $out) = block2_answer($num, $szx + 1, 1);
    } elsif ($num >= 1 && $mode eq 'no-block2') {
      ($rcode, $opts, $out) = block2_answer($num, $szx, 0);
    } elsif ($num >= 1 && $mode eq 'error') {
      ($rcode, $opts, $out) = (132, [], '');
    } else {
      ($rcode, $opts, $out) = block2_answer($num, $szx, 1);
    }
  } elsif ($code == 3 && exists $opt->{27}) { # PUT with Block1
    my $b1 = uint_of($opt->{27});
    my ($num, $more) = ($b1 >> 4, ($b1 >> 3) & 1);
    if ($num >= 1 && $mode eq 'put-error') {
      $rcode = 141; # 4.13
    } elsif ($mode eq 'put-no-block1') {
      $rcode = 95; # 2.31
    } else {
      $rcode = $more ? 95 : 68; # 2.31, then 2.04
      $opts = [[27, $opt->{27}]];
    }
  }
  my $rtype = $type == 0 ? 2 : 1; # ACK for a CON, NON for a NON
  $sock->send(encode($rtype, $rcode, $type == 0 ? $mid : ($mid + 1) & 0xffff,
                     $token, $opts, $out), 0, $from);
}
