"""`make demo`: stage a file to two computer groups of the demo fleet, then run again to show no change.

Starts the emulated BigFix server, exports the BIGFIX_* connection variables, and runs the
demo playbook twice with ansible-playbook.
"""

import os
import subprocess
import sys
from pathlib import Path

from tests.emulator.launcher import Emulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FLEET = REPO / "tests" / "emulator" / "fleets" / "demo.yml"


def main():
    with Emulator(FLEET) as emulator:
        env = dict(os.environ, BIGFIX_URL=emulator.url, BIGFIX_USERNAME="bigfix", BIGFIX_PASSWORD="bigfix-demo-password",
                   BIGFIX_CA_PATH=emulator.ca_path, ANSIBLE_INVENTORY=str(REPO / "tests" / "integration" / "inventory.ini"))
        print("Emulated BigFix server at %s (CA %s)\n" % (emulator.url, emulator.ca_path), flush=True)
        playbook = [str(Path(sys.executable).parent / "ansible-playbook"), str(HERE / "stage.yml")]
        for title in ("First run: the file is uploaded", "Second run: nothing changes"):
            print("=== %s ===" % title, flush=True)
            result = subprocess.run(playbook, env=env, cwd=REPO, check=False)
            if result.returncode != 0:
                return result.returncode
        stats = emulator.stats()["requests"]
        print("Requests the server received over both runs: %s" % ", ".join("%s x%d" % item for item in sorted(stats.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
