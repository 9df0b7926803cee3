"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity virtual environment without pip and then runs a downloaded
get-pip script in it. This stand-in installs pip from the interpreter's bundled ensurepip
and then the pinned pip from the configured package index, so no other host is contacted.
"""

import subprocess
import sys

# ensurepip runs in a subprocess: in-process it sets PIP_CONFIG_FILE=/dev/null, which drops the
# machine's pip configuration (its CA bundle among it).
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
ARGS = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + ARGS))
