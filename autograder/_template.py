"""Entry point of the sandbox template process: ``python -m autograder._template CONFIG_JSON``."""

import json
import sys

from autograder.sandbox import serve

if __name__ == "__main__":
    serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
