"""A deterministic evaluator for search-params tests: reads `param delta = V` from the
candidate's .loss (first argument, else $LOSSC_LOSS) and prints 1 / (1 + (V - 0.7)^2)."""
import os
import re
import sys

text = open(sys.argv[1] if len(sys.argv) > 1 else os.environ["LOSSC_LOSS"]).read()
delta = float(re.search(r"^param delta = (\S+)", text, re.M).group(1))
print("reward %.17g" % (1 / (1 + (delta - 0.7) ** 2)))
