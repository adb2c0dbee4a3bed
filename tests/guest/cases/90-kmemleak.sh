# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh, last.

# A debug kernel's kmemleak must find nothing (a leaked bio, say) after all of it.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	check "kmemleak: no leak reported" sh -c "! grep -q unreferenced /sys/kernel/debug/kmemleak || { head -60 /sys/kernel/debug/kmemleak; exit 1; }"
fi
