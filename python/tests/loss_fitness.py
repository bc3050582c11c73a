"""A cheap deterministic evaluator for the driver's tests: reads the candidate's .loss (path as
the first argument, else $LOSSC_LOSS) and prints a fitness in [0, 1) derived from its formula
text (a hash: any change of formula changes it). LOSSC_TEST_SLEEP seconds of sleep stand in for
training; LOSSC_TEST_FAIL=TEXT fails (exit 3) candidates whose text contains TEXT."""
import hashlib
import os
import sys
import time

path = sys.argv[1] if len(sys.argv) > 1 else os.environ["LOSSC_LOSS"]
text = open(path).read()
body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
time.sleep(float(os.environ.get("LOSSC_TEST_SLEEP", "0")))
if os.environ.get("LOSSC_TEST_FAIL") and os.environ["LOSSC_TEST_FAIL"] in body:
    sys.exit(3)
print("fitness", int(hashlib.sha256(body.encode()).hexdigest()[:12], 16) / 16.0 ** 12)
