"""``python -m bench [options]``: the ``qa bench`` table, from the root of the checkout."""

import sys

from bench.harness import main

sys.exit(main(sys.argv[1:]))
