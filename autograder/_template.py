"""Entry point of the sandbox template process: ``python -m autograder._template CONFIG_JSON``."""

import json
import os
import sys

from autograder.sandbox import serve

if __name__ == "__main__":
    serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
    # served: end without the interpreter's teardown of torch and the preloaded libraries (seconds that the grader
    # waits for in Sandbox.close); the template has nothing to flush but stderr, and its wardens end with it
    sys.stderr.flush()
    os._exit(0)
