"""Stand-in for the get-pip.py bootstrap ansible-test downloads from its own host.

That host is not reachable here; this does the same job from the package index:
pip from the interpreter's ensurepip, then the pip version ansible-test asked for.
"""

import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *args])
