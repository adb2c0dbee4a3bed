# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh, first: the knob and the counters file.

check "stats file exists" test -r $STATS
check "knob reads $KNOB_ON by default" sh -c "[ \$(cat $KNOB) = $KNOB_ON ]"
check "knob rejects 2" sh -c "! echo 2 > $KNOB"
check "knob rejects text" sh -c "! echo on > $KNOB"
check "knob rejects -1" sh -c "! echo -1 > $KNOB"
check "knob accepts 0" sh -c "echo 0 > $KNOB && [ \$(cat $KNOB) = 0 ]"
check "knob accepts 1" sh -c "echo 1 > $KNOB && [ \$(cat $KNOB) = $KNOB_ON ]"
check "knob accepts rust" sh -c "echo 0 > $KNOB && echo rust > $KNOB && [ \$(cat $KNOB) = $KNOB_ON ]"
if [ $OPT_IN = 1 ]; then
	check "knob accepts c" sh -c "echo c > $KNOB && [ \$(cat $KNOB) = c ]"
	echo rust >$KNOB
else
	check "knob rejects c (no C path)" sh -c "! echo c > $KNOB && [ \$(cat $KNOB) = 1 ]"
fi
