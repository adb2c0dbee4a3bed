# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh, first: the knob and the counters file.

check "stats file exists" test -r $STATS
check "knob reads 1 by default" sh -c "[ \$(cat $KNOB) = 1 ]"
check "knob rejects 2" sh -c "! echo 2 > $KNOB"
check "knob rejects text" sh -c "! echo on > $KNOB"
check "knob rejects -1" sh -c "! echo -1 > $KNOB"
check "knob accepts 0" sh -c "echo 0 > $KNOB && [ \$(cat $KNOB) = 0 ]"
check "knob accepts 1" sh -c "echo 1 > $KNOB && [ \$(cat $KNOB) = 1 ]"
