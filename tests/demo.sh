#!/bin/sh
# demo.sh - "make demo". The end-to-end demo (a receiving Exim daemon, a
# sending Exim that is greylisted and retries) is not written yet.
echo "make demo: not yet - the end-to-end demo is still to come (see NEWS)." >&2
echo "make demo: 'make check' runs the module through the real Exim today." >&2
exit 1
