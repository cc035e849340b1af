"""Runs `bncheck check` on a dump for the measurement scripts and returns its verdict."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check(dump):
    """The exit code and the set of "CODE severity" of the findings above information.

    Runs bin/bncheck (built on first use), or the jar BNCHECK_JAR names, so that editing the sources
    during a long measurement does not rebuild it mid-run.
    """
    launcher = (["java", "-jar", os.environ["BNCHECK_JAR"]] if os.environ.get("BNCHECK_JAR")
                else [os.path.join(ROOT, "bin", "bncheck")])
    done = subprocess.run(launcher + ["check", dump, "--format", "json", "-q"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"check {dump}: exit {done.returncode}\n{done.stderr}")
    findings = json.loads(done.stdout)["findings"]
    return done.returncode, {f["code"] + " " + f["severity"] for f in findings if f["severity"] != "info"}
